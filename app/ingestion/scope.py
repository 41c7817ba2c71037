"""Which transactions an agency may write to by tracking number: only those it takes part in.

A tracking number is printed on the citizen's receipt, so knowing one proves nothing. An event
that names a tracking number is accepted only when the sending agency already takes part in that
transaction: its holder, its origin, an agency with a reference on it, or one it was referred to
(a claimed handover proves nothing until the sender's referral is recorded, see handover.py).
Otherwise the answer is the same ``unknown_tracking_number`` as for a number that does not exist,
so nothing about foreign files leaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ingestion.validation import ItemError, NormalizedEvent
from app.models import StatusEvent, Transaction, TransactionReference

Prepared = list[tuple[int, NormalizedEvent]]


async def parties_by_tracking_number(session: AsyncSession, numbers: set[str]) -> dict[str, set[str]]:
    """Tracking number → the agencies that take part in that transaction (three queries in all)."""
    rows = (
        await session.execute(
            select(
                Transaction.id, Transaction.tracking_number, Transaction.holder_agency, Transaction.origin_agency
            ).where(Transaction.tracking_number.in_(numbers))
        )
    ).all()
    parties: dict[int, set[str]] = defaultdict(set)
    number_of: dict[int, str] = {}
    for tid, number, holder, origin in rows:
        number_of[tid] = number
        parties[tid] |= {holder, origin}
    if number_of:
        for tid, agency in await session.execute(
            select(TransactionReference.transaction_id, TransactionReference.agency_code).where(
                TransactionReference.transaction_id.in_(number_of)
            )
        ):
            parties[tid].add(agency)
        for tid, receiver in await session.execute(
            select(StatusEvent.transaction_id, StatusEvent.to_agency).where(
                StatusEvent.transaction_id.in_(number_of), StatusEvent.to_agency.is_not(None)
            )
        ):
            if receiver is not None:
                parties[tid].add(receiver)
    return {number: parties[tid] for tid, number in number_of.items()}


async def split_foreign_tracking(
    session: AsyncSession, prepared: Sequence[tuple[int, NormalizedEvent]], *, agency_code: str
) -> tuple[Prepared, list[tuple[int, ItemError]]]:
    """Keep the events the agency may apply; refuse those naming a transaction it takes no part in."""
    numbers = {e.tracking_number.upper() for _, e in prepared if e.tracking_number}
    if not numbers:
        return list(prepared), []
    parties = await parties_by_tracking_number(session, numbers)
    keep: Prepared = []
    refused: list[tuple[int, ItemError]] = []
    for index, event in prepared:
        party = parties.get(event.tracking_number.upper()) if event.tracking_number else None
        if party is not None and agency_code not in party:
            refused.append(
                (index, ItemError("unknown_tracking_number", "tracking_number: no such transaction", "tracking_number"))
            )
            continue
        keep.append((index, event))
    return keep, refused
