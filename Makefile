# Unified Inquiry — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
RUNTIME := $(VENV)/.installed-runtime
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_TRANSACTIONS ?= 20000
PYTEST_ARGS ?=

.PHONY: demo test venv install services services-down lint typecheck migrate serve bench bench-full test-faults clean

# The demo needs only the runtime; the tests add the dev tools (pytest, Playwright, schemathesis, linters).
$(RUNTIME): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $(RUNTIME)

$(STAMP): $(RUNTIME)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv install: $(STAMP)

## Run the product: embedded SQLite, no external services, demo data, http://$(HOST):$(PORT)
demo: $(RUNTIME)
	@mkdir -p var
	$(VENV)/bin/inquiry migrate
	$(VENV)/bin/inquiry agencies load
	$(VENV)/bin/inquiry demo load --if-empty --transactions $(DEMO_TRANSACTIONS)
	$(VENV)/bin/inquiry index drain
	$(VENV)/bin/inquiry demo users
	@echo ""
	@echo "  Unified Inquiry is starting:"
	@echo "    citizen lookup   http://$(HOST):$(PORT)/"
	@echo "    staff search     http://$(HOST):$(PORT)/staff"
	@echo "    call center      http://$(HOST):$(PORT)/callcenter"
	@echo "    dashboard        http://$(HOST):$(PORT)/dashboard"
	@echo "    API docs         http://$(HOST):$(PORT)/docs"
	@echo "    demo tokens      var/demo-credentials.txt"
	@echo ""
	$(VENV)/bin/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log

serve: $(RUNTIME)
	$(VENV)/bin/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log

## Start PostgreSQL, Redis and Elasticsearch (installed when missing)
services:
	scripts/services up

services-down:
	scripts/services down

## The whole test suite against the real services
test: $(STAMP) services
	scripts/install-browser
	scripts/test $(PYTEST_ARGS)

test-faults: $(STAMP) services
	scripts/test -m faults $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy app indexers bench

bench: $(STAMP) services
	$(PY) -m bench.run --transactions 100000

bench-full: $(STAMP) services
	$(PY) -m bench.run --transactions 1000000

clean:
	rm -rf var artifacts .pytest_cache .mypy_cache .ruff_cache
