"""A database that is restarting answers 503 (retry later), never 500: the classification behind it."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from app.errors import database_unavailable


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
