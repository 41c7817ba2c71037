"""Handovers must be confirmed by the sender: a claim alone never joins another agency's file.

An agency that says it received a transaction from agency A (``from_agency`` + ``from_reference``)
is linked to A's transaction only once A has referred that transaction to it (an event of A with
``to_agency`` naming it). Until then the claim stays on the receiver's own transaction; when A's
referral arrives, in whatever order, the two are merged. So delivery order still does not matter,
and no agency can read or write another's files by naming them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StatusEvent


async def referrals(session: AsyncSession, transaction_ids: Collection[int]) -> set[tuple[int, str, str]]:
    """(transaction id, sender, receiver) of every referral recorded on these transactions."""
    if not transaction_ids:
        return set()
    rows = await session.execute(
        select(StatusEvent.transaction_id, StatusEvent.agency_code, StatusEvent.to_agency).where(
            StatusEvent.transaction_id.in_(transaction_ids), StatusEvent.to_agency.is_not(None)
        )
    )
    return {(tid, sender, receiver) for tid, sender, receiver in rows.all() if receiver is not None}


async def pending_claims(
    session: AsyncSession, *, sender_references: Collection[tuple[str, str]], receivers: Collection[str]
) -> list[tuple[int, str, str, str]]:
    """(transaction id, receiver, sender, sender's reference key) of the handovers ``receivers`` claimed
    under one of ``sender_references`` ((sender, reference key) pairs); an indexed, exact lookup."""
    if not receivers or not sender_references:
        return []
    rows = await session.execute(
        select(
            StatusEvent.transaction_id, StatusEvent.agency_code, StatusEvent.from_agency, StatusEvent.from_reference_key
        )
        .where(
            tuple_(StatusEvent.from_agency, StatusEvent.from_reference_key).in_(list(sender_references)),
            StatusEvent.agency_code.in_(receivers),
        )
        .distinct()
    )
    return [(tid, receiver, sender, key) for tid, receiver, sender, key in rows.all() if sender and key]
