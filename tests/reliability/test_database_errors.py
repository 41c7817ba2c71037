"""A database that is restarting, or writes that keep conflicting, answer 503 (retry later), never 500."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.errors import database_unavailable, sqlstate


class _Orig(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("x")
        self.sqlstate = self.pgcode = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57P03", True),  # the database system is starting up / shutting down (seen while connecting)
        ("57P01", True),  # admin shutdown: the server is stopping
        ("08006", True),  # connection failure
        ("53300", True),  # too many connections
        ("23505", False),  # a unique violation is a bug or a race, not an outage
        ("42P01", False),
        (None, False),
    ],
)
def test_restart_errors_are_unavailable(sqlstate: str | None, unavailable: bool) -> None:
    error = DBAPIError("SELECT 1", None, _Orig(sqlstate))
    assert database_unavailable(error) is unavailable


async def _deadlock_from_postgresql(engine: AsyncEngine) -> DBAPIError:
    """Two transactions that each hold the advisory lock the other asks for: PostgreSQL aborts one."""

    async def take(connection: AsyncConnection, key: int) -> DBAPIError | None:
        try:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        except DBAPIError as exc:
            await connection.rollback()  # frees the survivor
            return exc
        return None

    async with engine.connect() as first, engine.connect() as second:
        await first.execute(text("SELECT pg_advisory_xact_lock(7001)"))
        await second.execute(text("SELECT pg_advisory_xact_lock(7002)"))
        outcomes = await asyncio.wait_for(asyncio.gather(take(first, 7002), take(second, 7001)), timeout=30)
    errors = [outcome for outcome in outcomes if outcome is not None]
    assert len(errors) == 1
    return errors[0]


async def test_a_deadlock_that_outlives_the_retries_answers_503_busy(
    app: FastAPI, client: httpx.AsyncClient, db_engine: AsyncEngine
) -> None:
    """Nothing was committed, so the client may retry: a 503 with Retry-After, not a 500."""
    deadlock = await _deadlock_from_postgresql(db_engine)
    assert sqlstate(deadlock) == "40P01"

    async def conflicted() -> None:
        raise deadlock

    app.add_api_route("/test/conflicted", conflicted)
    response = await client.get("/test/conflicted")
    assert response.status_code == 503
    assert response.json()["error"] == "busy"
    assert response.headers["Retry-After"] == "1"
