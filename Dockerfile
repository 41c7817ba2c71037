# Unified Inquiry — one image for the API (uvicorn) and the arq worker.
# Build: docker build -t unified-inquiry .
# API:    docker run -p 8000:8000 --env-file config/.env unified-inquiry
# Worker: docker run --env-file config/.env unified-inquiry arq app.worker.WorkerSettings

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY app ./app
COPY indexers ./indexers
RUN pip install --upgrade pip && pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    INQUIRY_CONFIG_DIR=/app/config
RUN groupadd --system inquiry && useradd --system --gid inquiry --home /app --shell /usr/sbin/nologin inquiry
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY config ./config
COPY app ./app
COPY indexers ./indexers
RUN mkdir -p /app/var && chown -R inquiry:inquiry /app/var
USER inquiry
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# Several workers per container; scale containers for more.
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--proxy-headers", "--no-access-log"]
