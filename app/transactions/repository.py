"""Every query on transactions, their references and events lives here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import StatusEvent, Transaction, TransactionReference


async def by_reference(session: AsyncSession, *, agency_code: str, reference_key: str) -> Transaction | None:
    return await session.scalar(
        select(Transaction)
        .join(TransactionReference, TransactionReference.transaction_id == Transaction.id)
        .where(
            TransactionReference.agency_code == agency_code,
            TransactionReference.reference_key == reference_key,
        )
    )


async def by_tracking_number(session: AsyncSession, tracking_number: str) -> Transaction | None:
    return await session.scalar(select(Transaction).where(Transaction.tracking_number == tracking_number))


async def lock(session: AsyncSession, transaction_id: int) -> Transaction:
    """Re-read the row under a write lock, so concurrent events on one transaction apply in turn."""
    row = await session.scalar(
        select(Transaction)
        .where(Transaction.id == transaction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def events_of(session: AsyncSession, transaction_id: int) -> Sequence[StatusEvent]:
    result = await session.scalars(
        select(StatusEvent).where(StatusEvent.transaction_id == transaction_id).order_by(StatusEvent.id)
    )
    return result.all()


async def references_of(session: AsyncSession, transaction_id: int) -> Sequence[TransactionReference]:
    result = await session.scalars(
        select(TransactionReference)
        .where(TransactionReference.transaction_id == transaction_id)
        .order_by(TransactionReference.id)
    )
    return result.all()


async def event_by_id(session: AsyncSession, *, agency_code: str, event_id: str) -> StatusEvent | None:
    return await session.scalar(
        select(StatusEvent).where(StatusEvent.agency_code == agency_code, StatusEvent.event_id == event_id)
    )
