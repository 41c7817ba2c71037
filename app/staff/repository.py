"""The staff endpoints' queries: loading result rows in hit order and one transaction within scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StatusEvent, Transaction
from app.models.tables import REFERENCES, TRANSACTIONS
from app.search.database import scope_clause
from app.search.types import AccessScope


# Result pages are read as plain rows (attribute access like the models, no ORM instances):
# building instances was a large part of a staff search's CPU.
async def transactions_in_order(session: AsyncSession, ids: Sequence[int]) -> list[Any]:
    """The rows of ``ids`` in that order (those still there)."""
    if not ids:
        return []
    rows = {t.id: t for t in await session.execute(select(TRANSACTIONS).where(TRANSACTIONS.c.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


async def references_by_transaction(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    if ids:
        for ref in await session.execute(
            select(REFERENCES).where(REFERENCES.c.transaction_id.in_(ids)).order_by(REFERENCES.c.id)
        ):
            found[ref.transaction_id].append(ref)
    return found


async def public_notes_by_transaction(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(StatusEvent.transaction_id, StatusEvent.note)
            .where(
                StatusEvent.transaction_id.in_(ids),
                StatusEvent.note.is_not(None),
                StatusEvent.note_visibility == "public",
            )
            .order_by(StatusEvent.occurred_at, StatusEvent.id)
        )
        for tid, note in rows:
            found[tid].append(note or "")
    return found


async def visible_by_tracking_number(
    session: AsyncSession, *, tracking_number: str, scope: AccessScope
) -> Transaction | None:
    """The transaction, only if the scope may see it (the same rule the search backends apply)."""
    return await session.scalar(
        select(Transaction).where(Transaction.tracking_number == tracking_number, scope_clause(scope))
    )


async def events_of(session: AsyncSession, transaction_id: int) -> list[StatusEvent]:
    rows = await session.scalars(select(StatusEvent).where(StatusEvent.transaction_id == transaction_id))
    return list(rows)
