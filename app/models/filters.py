"""Membership tests whose SQL text does not depend on how many values they test.

``column IN (:v1, ..., :vN)`` is a new statement for every N: for each batch asyncpg prepares it
again (a round trip) and PostgreSQL parses and plans it again. On PostgreSQL the values travel as
arrays instead (``= ANY(:values)``, ``IN (SELECT ... FROM unnest(:firsts, :seconds))``), so each
query is prepared once per connection; other databases (SQLite) keep the plain ``IN``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement


class Membership:
    """Builds ``IN`` tests for one session's database."""

    def __init__(self, session: AsyncSession) -> None:
        self.arrays = session.get_bind().dialect.name == "postgresql"

    def one_of(self, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
        """``column`` is one of ``values``."""
        if not self.arrays:
            return column.in_(values)
        return column == any_(_array(column, values))

    def pair_in(self, first: Any, second: Any, pairs: Collection[tuple[Any, Any]]) -> ColumnElement[bool]:
        """``(first, second)`` is one of ``pairs``."""
        if not self.arrays:
            return tuple_(first, second).in_(list(pairs))
        firsts, seconds = zip(*pairs, strict=True) if pairs else ((), ())
        rows = func.unnest(_array(first, firsts), _array(second, seconds)).table_valued("a", "b").render_derived()
        return tuple_(first, second).in_(select(rows.c.a, rows.c.b))


def _array(column: Any, values: Collection[Any]) -> Any:
    return bindparam(None, list(values), type_=ARRAY(column.type))
