"""Dead letters: documents the index refused for good, listed for an operator and replayed after a fix."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DeadLetter, OutboxEntry
from app.models.base import utcnow


async def list_dead_letters(
    session: AsyncSession, *, include_replayed: bool = False, limit: int = 100
) -> Sequence[DeadLetter]:
    """Newest first; replayed ones only when asked for."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if not include_replayed:
        query = query.where(DeadLetter.replayed_at.is_(None))
    return (await session.scalars(query)).all()


async def replay(session: AsyncSession, ids: Sequence[int] | None = None) -> int:
    """Put the transactions of unreplayed dead letters (all, or ``ids``) back in the outbox; flushes only.

    The document is rebuilt from the database when drained, so a fix in the builder or the mapping
    takes effect; a transaction with several letters is queued once.
    """
    query = select(DeadLetter).where(DeadLetter.replayed_at.is_(None)).with_for_update()
    if ids is not None:
        query = query.where(DeadLetter.id.in_(ids))
    letters = (await session.scalars(query)).all()
    now = utcnow()
    for tid in sorted({letter.transaction_id for letter in letters}):
        session.add(OutboxEntry(transaction_id=tid))
    for letter in letters:
        letter.replayed_at = now
    await session.flush()
    return len(letters)
