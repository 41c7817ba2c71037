"""Handovers must be confirmed by the sender: a claim alone never joins another agency's file.

An agency that says it received a transaction from agency A (``from_agency`` + ``from_reference``)
is linked to A's transaction only once A has referred that transaction to it (an event of A with
``to_agency`` naming it). Until then the claim stays on the receiver's own transaction; when A's
referral arrives, in whatever order, the two are merged. So delivery order still does not matter,
and no agency can read or write another's files by naming them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.ingestion.validation import NormalizedEvent
from app.models import StatusEvent
from app.models.filters import Membership


def handover_keys(events: Iterable[NormalizedEvent]) -> set[tuple[str, str]]:
    """The (sender, sender's reference key) each referral or claim among ``events`` is about."""
    keys: set[tuple[str, str]] = set()
    for event in events:
        if event.to_agency:
            keys.add((event.agency_code, event.reference_key))
        if event.from_agency and event.from_reference_key:
            keys.add((event.from_agency, event.from_reference_key))
    return keys


def _lock_id(sender: str, key: str) -> int:
    digest = hashlib.blake2b(f"handover:{sender}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_handovers(session: AsyncSession, keys: Collection[tuple[str, str]]) -> None:
    """Serialize the referrals and claims of one handover until commit.

    Without it a referral and its claim committed at the same moment miss each other (each reads
    before the other's rows are visible) and the two files are never merged. Both sides take
    PostgreSQL transaction-level advisory locks, in one sorted order (no deadlock between batches),
    before they read; SQLite already runs one writer at a time.
    """
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted({_lock_id(sender, key) for sender, key in keys})
    await session.execute(
        text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:ids AS bigint[])) AS k"), {"ids": ids}
    )


async def referrals(session: AsyncSession, transaction_ids: Collection[int]) -> set[tuple[int, str, str]]:
    """(transaction id, sender, receiver) of every referral recorded on these transactions."""
    if not transaction_ids:
        return set()
    among = Membership(session)
    rows = await session.execute(
        select(StatusEvent.transaction_id, StatusEvent.agency_code, StatusEvent.to_agency).where(
            among.one_of(StatusEvent.transaction_id, transaction_ids), StatusEvent.to_agency.is_not(None)
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
    among = Membership(session)
    rows = await session.execute(
        select(
            StatusEvent.transaction_id, StatusEvent.agency_code, StatusEvent.from_agency, StatusEvent.from_reference_key
        )
        .where(
            among.pair_in(StatusEvent.from_agency, StatusEvent.from_reference_key, sender_references),
            among.one_of(StatusEvent.agency_code, receivers),
        )
        .distinct()
    )
    return [(tid, receiver, sender, key) for tid, receiver, sender, key in rows.all() if sender and key]
