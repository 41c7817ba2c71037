"""The fast path: a whole batch of validated events applied with a handful of queries.

Existing events, references and transactions are fetched in bulk, new rows are inserted in
bulk, and each touched transaction is refolded once. A concurrent writer can still win a
race on a unique key; the caller then rolls this savepoint back and replays the batch item
by item (the slow path), so correctness never depends on this path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.ingestion.handover import pending_claims, referrals
from app.ingestion.schemas import ItemResult
from app.ingestion.validation import ItemError, NormalizedEvent
from app.models import OutboxEntry, StatusEvent, Transaction, TransactionReference
from app.transactions.state import StoredEventLike
from app.transactions.tracking import new_tracking_number


@dataclass(slots=True)
class BatchOutcome:
    """What the fast path did: the transactions to refold (kept referenced, so the session's weak
    identity map cannot drop them and force a reload), their prior events, and the events left
    for the slow path (handovers that merge two transactions)."""

    transactions: dict[int, Transaction]
    histories: dict[int, list[StoredEventLike]]
    deferred: list[tuple[int, NormalizedEvent]]


@dataclass(slots=True)
class _Pending:
    transaction: Transaction
    events: list[EventRecord] = field(default_factory=list)


def new_transaction(event: NormalizedEvent) -> Transaction:
    """A transaction opened by its first-arriving event; the fold fills in the real state."""
    return Transaction(
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


@dataclass(slots=True)
class EventRecord:
    """A status event about to be inserted: a plain object for the fold, a dict for one bulk INSERT.

    The fast path skips the ORM unit of work for events (the hot path of ingestion); ``id`` is a
    provisional arrival order above every stored id, so ties in the fold break the same way.
    """

    transaction_id: int | None
    agency_code: str
    event_id: str
    reference_key: str
    raw_status_code: str
    raw_status_text: str | None
    status: str
    reopen: bool
    occurred_at: datetime
    received_at: datetime
    sequence: int | None
    from_agency: str | None
    from_reference: str | None
    to_agency: str | None
    note: str | None
    note_visibility: str
    due_at: datetime | None
    out_of_order: bool
    payload_hash: str
    source: str
    transaction_type: str | None
    title: str | None
    applicant_name: str | None
    national_id_hash: str | None
    national_id_last4: str | None
    mobile_hash: str | None
    mobile_last4: str | None
    id: int = 0

    def row(self) -> dict[str, Any]:
        """The column values to insert (the database assigns the real id)."""
        return {name: getattr(self, name) for name in EVENT_COLUMNS}


EVENT_COLUMNS = tuple(f.name for f in fields(EventRecord) if f.name != "id")
PROVISIONAL_ID_BASE = 2**62
# Core tables for the bulk INSERTs: the ORM's bulk path costs more than the whole rest of the batch.
EVENTS_TABLE = cast(Table, StatusEvent.__table__)
OUTBOX_TABLE = cast(Table, OutboxEntry.__table__)
REFERENCES_TABLE = cast(Table, TransactionReference.__table__)


def event_record(event: NormalizedEvent, *, transaction_id: int | None, source: str, arrival: int = 0) -> EventRecord:
    return EventRecord(
        transaction_id=transaction_id,
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
        out_of_order=False,
        payload_hash=event.payload_hash,
        source=source,
        transaction_type=event.transaction_type,
        title=event.title,
        applicant_name=event.applicant_name,
        national_id_hash=event.national_id_hash,
        national_id_last4=event.national_id_last4,
        mobile_hash=event.mobile_hash,
        mobile_last4=event.mobile_last4,
        id=PROVISIONAL_ID_BASE + arrival,
    )


def new_status_event(event: NormalizedEvent, *, transaction_id: int | None, source: str) -> StatusEvent:
    """The ORM row, for the slow path that applies one event at a time."""
    return StatusEvent(**event_record(event, transaction_id=transaction_id, source=source).row())


def looked_up_references(event: NormalizedEvent) -> list[tuple[str, str]]:
    """The (agency, key) references that find an event's transaction: its own, and the sender's of a handover."""
    found = [(event.agency_code, event.reference_key)]
    if event.from_agency and event.from_reference_key:
        found.append((event.from_agency, event.from_reference_key))
    return found


def conflict_error(event_id: str) -> ItemError:
    return ItemError("conflict", f"event_id: {event_id!r} was already received with different content", "event_id")


async def apply_batch(
    session: AsyncSession,
    prepared: Sequence[tuple[int, NormalizedEvent]],
    results: list[ItemResult],
    *,
    source: str,
) -> BatchOutcome:
    """Apply every prepared event; fills ``results``; returns what must be refolded and what is deferred."""
    agency_codes = {e.agency_code for _, e in prepared}
    event_ids = [e.event_id for _, e in prepared]
    existing_events = {
        (row.agency_code, row.event_id): (row.payload_hash, row.transaction_id)
        for row in (
            await session.execute(
                select(
                    StatusEvent.agency_code, StatusEvent.event_id, StatusEvent.payload_hash, StatusEvent.transaction_id
                ).where(StatusEvent.agency_code.in_(agency_codes), StatusEvent.event_id.in_(event_ids))
            )
        ).all()
    }
    ref_pairs = {pair for _, e in prepared for pair in looked_up_references(e)}
    ref_owner: dict[tuple[str, str], int] = {}
    if ref_pairs:
        rows = await session.execute(
            select(
                TransactionReference.agency_code,
                TransactionReference.reference_key,
                TransactionReference.transaction_id,
            ).where(tuple_(TransactionReference.agency_code, TransactionReference.reference_key).in_(list(ref_pairs)))
        )
        ref_owner = {(a, k): t for a, k, t in rows.all()}
    trackings = {e.tracking_number.upper() for _, e in prepared if e.tracking_number}
    tracking_owner: dict[str, int] = {}
    if trackings:
        tracking_rows = await session.execute(
            select(Transaction.tracking_number, Transaction.id).where(Transaction.tracking_number.in_(trackings))
        )
        tracking_owner = {number: tid for number, tid in tracking_rows.all()}

    wanted_ids = set(ref_owner.values()) | set(tracking_owner.values()) | {t for _, t in existing_events.values()}
    transactions: dict[int, Transaction] = {}
    if wanted_ids:
        locked = await session.scalars(
            select(Transaction).where(Transaction.id.in_(wanted_ids)).order_by(Transaction.id).with_for_update()
        )
        transactions = {t.id: t for t in locked.all()}
    confirmed = await referrals(session, transactions.keys())
    receivers = {e.to_agency for _, e in prepared if e.to_agency}
    claims = [c for sender in agency_codes for c in await pending_claims(session, sender=sender, receivers=receivers)]

    by_ref: dict[tuple[str, str], Transaction] = {k: transactions[v] for k, v in ref_owner.items()}
    seen: dict[tuple[str, str], tuple[str, Transaction]] = {
        key: (h, transactions[t]) for key, (h, t) in existing_events.items()
    }
    pending: dict[int, _Pending] = {}  # keyed by id() of the Transaction object
    deferred: list[tuple[int, NormalizedEvent]] = []
    new_references: list[tuple[Transaction, str, str, str]] = []

    for index, event in prepared:
        result = results[index]
        key = (event.agency_code, event.event_id)
        if key in seen:
            payload, owner = seen[key]
            if payload == event.payload_hash:
                result.outcome, result.tracking_number = "duplicate", owner.tracking_number
            else:
                err = conflict_error(event.event_id)
                result.outcome, result.error, result.field, result.message = (
                    "conflict",
                    err.code,
                    err.field,
                    err.message,
                )
            continue
        try:
            transaction, must_merge = _resolve(event, tracking_owner, transactions, by_ref, confirmed)
            if must_merge or _confirms_claims(event, transaction, by_ref, claims):
                # Handovers joining two transactions go to the slow path one by one, after the batch.
                deferred.append((index, event))
                continue
            if transaction is None:
                transaction = new_transaction(event)
                session.add(transaction)
            own = (event.agency_code, event.reference_key)
            owner_txn = by_ref.get(own)
            if owner_txn is None:
                by_ref[own] = transaction
                new_references.append((transaction, event.agency_code, event.reference_key, event.reference_display))
            elif owner_txn is not transaction:  # e.g. a tracking number naming one transaction, the reference another
                raise ItemError(
                    "reference_conflict",
                    f"reference: {event.reference_display!r} of {event.agency_code} belongs to another "
                    f"transaction ({owner_txn.tracking_number})",
                    "reference",
                )
        except ItemError as err:
            result.outcome, result.error, result.field, result.message = "error", err.code, err.field, err.message
            continue
        stored = event_record(event, transaction_id=None, source=source, arrival=index)
        pending.setdefault(id(transaction), _Pending(transaction)).events.append(stored)
        seen[key] = (event.payload_hash, transaction)
        result.outcome = "created"
        result.index = index

    await session.flush()  # new transactions get their ids
    if new_references:
        await session.execute(
            insert(REFERENCES_TABLE),
            [
                {"transaction_id": t.id, "agency_code": a, "reference_key": k, "reference_display": d}
                for t, a, k, d in new_references
            ],
        )
    touched_ids = {p.transaction.id for p in pending.values()}
    prior: dict[int, list[StoredEventLike]] = {tid: [] for tid in touched_ids}
    existing_touched = [tid for tid in touched_ids if tid in transactions]
    if existing_touched:
        for row in (
            await session.scalars(select(StatusEvent).where(StatusEvent.transaction_id.in_(existing_touched)))
        ).all():
            prior[row.transaction_id].append(row)
    event_rows: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for p in pending.values():
        history = prior[p.transaction.id]
        latest = max((e.occurred_at for e in history), default=None)
        for stored in p.events:
            stored.transaction_id = p.transaction.id
            stored.out_of_order = latest is not None and latest > stored.occurred_at
            latest = stored.occurred_at if latest is None else max(latest, stored.occurred_at)
            history.append(stored)
            event_rows.append(stored.row())
    if event_rows:
        await session.execute(insert(EVENTS_TABLE), event_rows)
        await session.execute(
            insert(OUTBOX_TABLE),
            [{"transaction_id": tid, "created_at": now, "attempts": 0, "available_at": now} for tid in touched_ids],
        )
    for index, _event in prepared:
        result = results[index]
        if result.outcome == "created":
            owner = seen[(_event.agency_code, _event.event_id)][1]
            result.tracking_number = owner.tracking_number
    await session.flush()
    return BatchOutcome(
        transactions={p.transaction.id: p.transaction for p in pending.values()},
        histories={p.transaction.id: prior[p.transaction.id] for p in pending.values()},
        deferred=deferred,
    )


def _resolve(
    event: NormalizedEvent,
    tracking_owner: dict[str, int],
    transactions: dict[int, Transaction],
    by_ref: dict[tuple[str, str], Transaction],
    confirmed: set[tuple[int, str, str]],
) -> tuple[Transaction | None, bool]:
    """(the event's transaction or None for a new one, whether two transactions must be merged first)."""
    if event.tracking_number is not None:
        tid = tracking_owner.get(event.tracking_number.upper())
        if tid is None:
            raise ItemError("unknown_tracking_number", "tracking_number: no such transaction", "tracking_number")
        return transactions[tid], False
    own = by_ref.get((event.agency_code, event.reference_key))
    sender = None
    if event.from_agency and event.from_reference_key:
        candidate = by_ref.get((event.from_agency, event.from_reference_key))
        if candidate is not None and (candidate.id, event.from_agency, event.agency_code) in confirmed:
            sender = candidate
    if sender is not None and own is not None and own is not sender:
        return own, True
    return sender or own, False


def _confirms_claims(
    event: NormalizedEvent,
    transaction: Transaction | None,
    by_ref: dict[tuple[str, str], Transaction],
    claims: list[tuple[int, str, str]],
) -> bool:
    """A referral whose receiver already claimed the handover on a transaction of its own (a merge)."""
    if not event.to_agency:
        return False
    for claim_tid, receiver, key in claims:
        if receiver != event.to_agency or (transaction is not None and claim_tid == transaction.id):
            continue
        if key == event.reference_key or (
            transaction is not None and by_ref.get((event.agency_code, key)) is transaction
        ):
            return True
    return False
