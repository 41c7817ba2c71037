"""Applies validated events: link to a transaction, store once, refold its state, queue index work.

Each item runs in its own savepoint, so one bad or conflicting record never rejects the
others; the request boundary commits once, and only then answers (a durable acknowledgement).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.loader import Catalog
from app.ingestion.schemas import ItemResult
from app.ingestion.validation import ItemError, NormalizedEvent, validate_event
from app.normalization.arabic import name_key
from app.models import IngestIssue, OutboxEntry, StatusEvent, Transaction, TransactionReference
from app.transactions import repository
from app.transactions.search_text import build_search_text
from app.transactions.state import chronological, fold
from app.transactions.tracking import new_tracking_number

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = {"23505", "40P01", "40001"}
MAX_ATTEMPTS = 4


@dataclass(slots=True)
class IngestSummary:
    """What a batch did; the router answers it, the caller enqueues index work after commit."""

    results: list[ItemResult] = field(default_factory=list)
    touched_transactions: set[int] = field(default_factory=set)

    @property
    def has_errors(self) -> bool:
        return any(r.outcome in ("error", "conflict") for r in self.results)


class _Duplicate(Exception):
    def __init__(self, tracking_number: str) -> None:
        self.tracking_number = tracking_number


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state in RETRYABLE_SQLSTATES


async def ingest_items(
    session: AsyncSession,
    *,
    items: Sequence[Any],
    agency_code: str,
    catalog: Catalog,
    secret: str,
    source: str = "api",
    now: datetime | None = None,
) -> IngestSummary:
    """Validate and apply every item for ``agency_code``; flushes, never commits."""
    summary = IngestSummary()
    for index, item in enumerate(items):
        event_id = item.get("event_id") if isinstance(item, dict) else None
        result = ItemResult(index=index, outcome="error", event_id=event_id if isinstance(event_id, str) else None)
        try:
            event = validate_event(item, agency_code=agency_code, catalog=catalog, secret=secret, now=now)
            transaction = await _apply_with_retries(session, event, source=source)
            result.outcome = "created"
            result.tracking_number = transaction.tracking_number
            summary.touched_transactions.add(transaction.id)
        except _Duplicate as dup:
            result.outcome = "duplicate"
            result.tracking_number = dup.tracking_number
        except ItemError as err:
            result.outcome = "conflict" if err.code == "conflict" else "error"
            result.error, result.field, result.message = err.code, err.field, err.message
            result.known_codes = err.known_codes
        if result.outcome != "created":
            session.add(
                IngestIssue(
                    agency_code=agency_code,
                    kind="rejected" if result.outcome == "error" else result.outcome,
                    error_code=result.error or "",
                    field=result.field or "",
                    message=(result.message or "")[:500],
                )
            )
        summary.results.append(result)
    await session.flush()
    return summary


async def _apply_with_retries(session: AsyncSession, event: NormalizedEvent, *, source: str) -> Transaction:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with session.begin_nested():
                return await _apply(session, event, source=source)
        except DBAPIError as exc:
            if not _retryable(exc) or attempt == MAX_ATTEMPTS:
                raise
            logger.info("retrying event after a concurrent write (attempt %d)", attempt)
    raise AssertionError("unreachable")


async def _apply(session: AsyncSession, event: NormalizedEvent, *, source: str) -> Transaction:
    existing = await repository.event_by_id(session, agency_code=event.agency_code, event_id=event.event_id)
    if existing is not None:
        transaction = await session.get_one(Transaction, existing.transaction_id)
        if existing.payload_hash == event.payload_hash:
            raise _Duplicate(transaction.tracking_number)
        raise ItemError(
            "conflict",
            f"event_id: {event.event_id!r} was already received with different content",
            "event_id",
        )
    transaction = await _find_or_open(session, event)
    transaction = await repository.lock(session, transaction.id)
    await _ensure_references(session, transaction, event)

    events = list(await repository.events_of(session, transaction.id))
    stored = StatusEvent(
        transaction_id=transaction.id,
        agency_code=event.agency_code,
        event_id=event.event_id,
        reference_key=event.reference_key,
        raw_status_code=event.raw_status_code,
        raw_status_text=event.raw_status_text,
        status=event.status,
        reopen=event.reopen,
        occurred_at=event.occurred_at,
        received_at=datetime.now(UTC),
        sequence=event.sequence,
        from_agency=event.from_agency,
        from_reference=event.from_reference_display,
        to_agency=event.to_agency,
        note=event.note,
        note_visibility=event.note_visibility,
        due_at=event.due_at,
        out_of_order=any(e.occurred_at > event.occurred_at for e in events),
        payload_hash=event.payload_hash,
        source=source,
        transaction_type=event.transaction_type,
        title=event.title,
        applicant_name=event.applicant_name,
        national_id_hash=event.national_id_hash,
        national_id_last4=event.national_id_last4,
        mobile_hash=event.mobile_hash,
        mobile_last4=event.mobile_last4,
    )
    session.add(stored)
    await session.flush()
    events.append(stored)
    apply_state(transaction, events)
    session.add(OutboxEntry(transaction_id=transaction.id))
    await session.flush()
    return transaction


def apply_state(transaction: Transaction, events: Sequence[StatusEvent]) -> None:
    """Copy the fold of all events onto the row and bump its version."""
    state = fold(events)
    transaction.status = state.status
    transaction.holder_agency = state.holder_agency
    transaction.origin_agency = state.origin_agency
    transaction.created_at = state.created_at
    transaction.updated_at = state.updated_at
    transaction.completed_at = state.completed_at
    transaction.due_at = state.due_at
    transaction.transaction_type = state.transaction_type
    transaction.title = state.title
    transaction.applicant_name = state.applicant_name
    transaction.applicant_name_key = name_key(state.applicant_name) if state.applicant_name else None
    transaction.national_id_hash = state.national_id_hash
    transaction.national_id_last4 = state.national_id_last4
    transaction.mobile_hash = state.mobile_hash
    transaction.mobile_last4 = state.mobile_last4
    transaction.search_text = build_search_text(
        state.title, [e.note for e in chronological(events) if e.note and e.note_visibility == "public"]
    )
    transaction.last_received_at = max(e.received_at for e in events)
    transaction.version = (transaction.version or 0) + 1


async def _find_or_open(session: AsyncSession, event: NormalizedEvent) -> Transaction:
    if event.tracking_number is not None:
        found = await repository.by_tracking_number(session, event.tracking_number.upper())
        if found is None:
            raise ItemError("unknown_tracking_number", "tracking_number: no such transaction", "tracking_number")
        return found
    found = await repository.by_reference(
        session, agency_code=event.agency_code, reference_key=event.reference_key
    )
    if found is None and event.from_agency and event.from_reference_key:
        found = await repository.by_reference(
            session, agency_code=event.from_agency, reference_key=event.from_reference_key
        )
    if found is not None:
        return found
    transaction = Transaction(
        tracking_number=new_tracking_number(event.occurred_at.year),
        status=event.status,
        holder_agency=event.agency_code,
        origin_agency=event.from_agency or event.agency_code,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        last_received_at=datetime.now(UTC),
        version=0,
        search_text="",
    )
    session.add(transaction)
    await session.flush()
    return transaction


async def _ensure_references(session: AsyncSession, transaction: Transaction, event: NormalizedEvent) -> None:
    """Record the agency's own reference, and the sender's for a handover, on this transaction."""
    wanted = [(event.agency_code, event.reference_key, event.reference_display)]
    if event.from_agency and event.from_reference_key and event.from_reference_display:
        wanted.append((event.from_agency, event.from_reference_key, event.from_reference_display))
    for agency_code, key, display in wanted:
        owner = await repository.by_reference(session, agency_code=agency_code, reference_key=key)
        if owner is None:
            session.add(
                TransactionReference(
                    transaction_id=transaction.id,
                    agency_code=agency_code,
                    reference_key=key,
                    reference_display=display,
                )
            )
        elif owner.id != transaction.id:
            raise ItemError(
                "reference_conflict",
                f"reference: {display!r} of {agency_code} belongs to another transaction "
                f"({owner.tracking_number})",
                "reference",
            )
    await session.flush()
