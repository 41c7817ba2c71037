"""Fault tests get their own PostgreSQL, Redis and Elasticsearch (``SERVICES_INSTANCE=faults``).

Stopping the shared instances would break every other run on this machine, so the fault tests
start a named instance on other ports, stop and restart its services one by one, and take it
down at the end.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from app.settings import REPO_ROOT

FAULT_ENV = {"SERVICES_INSTANCE": "faults", "PGPORT": "5442", "REDIS_PORT": "6389", "ES_PORT": "9210"}
FAULT_PG_SERVER = "postgresql+asyncpg://inquiry:inquiry@127.0.0.1:5442"
FAULT_ES_URL = "http://127.0.0.1:9210"
FAULT_REDIS_URL = "redis://127.0.0.1:6389/0"


def services(command: str, timeout: float = 300) -> None:
    """``scripts/services <command>`` on the fault instance; fails the test with its output on error."""
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "services"), command],
        env={**os.environ, **FAULT_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/services {command} failed ({done.returncode}):\n{done.stderr[-3000:]}")


@pytest.fixture(scope="session")
def fault_services() -> Iterator[dict[str, str]]:
    """The isolated service instance, up for the session and down afterwards."""
    services("up")
    try:
        yield FAULT_ENV
    finally:
        services("down")
