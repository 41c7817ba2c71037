"""The fast path: a whole batch of validated events applied with a handful of queries.

Existing events, references, transactions and the handover claims the batch's referrals confirm
are fetched in bulk; files that handovers prove are one are merged in memory (a union-find) and
moved with one statement per table; new rows are inserted in bulk, new files are written once
with their state, and each touched transaction is refolded once. A concurrent writer can still
win a race on a unique key; the caller then retries, and finally replays the batch item by item
(the slow path), so correctness never depends on this path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.loader import Catalog
from app.ingestion.handover import handover_keys, lock_handovers, pending_claims, referrals
from app.ingestion.refold import apply_state
from app.ingestion.schemas import ItemResult
from app.ingestion.validation import ItemError, NormalizedEvent
from app.models import StatusEvent, Transaction
from app.models.filters import Membership
from app.models.tables import EVENTS, FILE_ROWS, OUTBOX, REFERENCES, TRANSACTIONS
from app.transactions.state import StoredEventLike
from app.transactions.tracking import new_tracking_number

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchOutcome:
    """What the fast path did: the surviving transactions it refolded (kept referenced, so the
    session's weak identity map cannot drop them) and how many of its events arrived out of order."""

    transactions: dict[int, Transaction]
    out_of_order: int


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
    from_reference_key: str | None
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
        from_reference_key=event.from_reference_key,
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
    catalog: Catalog,
) -> BatchOutcome:
    """Apply every prepared event, merging the transactions that handovers prove are one; fills ``results``.

    Returns the surviving transactions, refolded.
    """
    await lock_handovers(session, handover_keys(e for _, e in prepared))
    among = Membership(session)
    agency_codes = {e.agency_code for _, e in prepared}
    event_ids = [e.event_id for _, e in prepared]
    existing_events = {
        (row.agency_code, row.event_id): (row.payload_hash, row.transaction_id)
        for row in (
            await session.execute(
                select(
                    StatusEvent.agency_code, StatusEvent.event_id, StatusEvent.payload_hash, StatusEvent.transaction_id
                ).where(
                    among.one_of(StatusEvent.agency_code, agency_codes), among.one_of(StatusEvent.event_id, event_ids)
                )
            )
        ).all()
    }
    ref_owner = await _reference_owners(session, among, {pair for _, e in prepared for pair in looked_up_references(e)})
    trackings = {e.tracking_number.upper() for _, e in prepared if e.tracking_number}
    tracking_owner: dict[str, int] = {}
    if trackings:
        tracking_rows = await session.execute(
            select(Transaction.tracking_number, Transaction.id).where(
                among.one_of(Transaction.tracking_number, trackings)
            )
        )
        tracking_owner = {number: tid for number, tid in tracking_rows.all()}
    claims = await _claims_on_referrals(session, among, prepared, ref_owner, tracking_owner)

    wanted_ids = (
        set(ref_owner.values())
        | set(tracking_owner.values())
        | {t for _, t in existing_events.values()}
        | {c[0] for c in claims}
    )
    transactions: dict[int, Transaction] = {}
    if wanted_ids:
        locked = await session.scalars(
            select(Transaction)
            .where(among.one_of(Transaction.id, wanted_ids))
            .order_by(Transaction.id)
            .with_for_update()
        )
        transactions = {t.id: t for t in locked.all()}
    # A claim on a transaction a concurrent batch has just merged away is that batch's business.
    claims = [c for c in claims if c[0] in transactions]
    confirmed = await referrals(session, transactions.keys())

    files = _Files()
    by_ref: dict[tuple[str, str], Transaction] = {k: transactions[v] for k, v in ref_owner.items() if v in transactions}
    seen: dict[tuple[str, str], tuple[str, Transaction]] = {
        key: (h, transactions[t]) for key, (h, t) in existing_events.items() if t in transactions
    }
    new_references: list[tuple[Transaction, str, str, str]] = []

    for index, event in prepared:
        result = results[index]
        key = (event.agency_code, event.event_id)
        if key in seen:
            payload, owner = seen[key]
            if payload == event.payload_hash:
                result.outcome, result.tracking_number = "duplicate", files.find(owner).tracking_number
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
            transaction = _resolve(session, event, tracking_owner, transactions, by_ref, confirmed, files)
            if transaction is None:
                transaction = new_transaction(event)
                session.add(transaction)
            own = (event.agency_code, event.reference_key)
            owner_txn = files.find_optional(by_ref.get(own))
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
        if event.to_agency:
            # A referral confirms the receiver's earlier claims on it: their files are this one.
            for claim_tid, receiver, sender, claim_key in claims:
                if (
                    receiver == event.to_agency
                    and sender == event.agency_code
                    and (
                        claim_key == event.reference_key
                        or files.find_optional(by_ref.get((event.agency_code, claim_key))) is transaction
                    )
                ):
                    transaction = files.merge(session, keep=transaction, drop=transactions[claim_tid])
        files.add_event(transaction, event_record(event, transaction_id=None, source=source, arrival=index))
        seen[key] = (event.payload_hash, transaction)
        result.outcome = "created"

    survivors = files.survivors()
    written_with_state: set[int] = set()
    for transaction in survivors:  # a new file is written once, with its state
        if transaction.id is None and not files.absorbed_stored(transaction):
            apply_state(transaction, files.events[id(transaction)], catalog)
            written_with_state.add(id(transaction))
    await session.flush()  # new transactions get their ids
    if new_references:
        await session.execute(
            insert(REFERENCES),
            [
                {"transaction_id": files.find(t).id, "agency_code": a, "reference_key": k, "reference_display": d}
                for t, a, k, d in new_references
            ],
        )
    histories = await _histories(session, among, files, survivors, transactions)
    dropped_ids = await _move_merged(session, among, files)
    event_rows: list[dict[str, Any]] = []
    late = 0
    now = datetime.now(UTC)
    for transaction in survivors:
        history = histories[transaction.id]
        latest = max((e.occurred_at for e in history), default=None)
        for stored in files.events[id(transaction)]:
            stored.transaction_id = transaction.id
            stored.out_of_order = latest is not None and latest > stored.occurred_at
            latest = stored.occurred_at if latest is None else max(latest, stored.occurred_at)
            history.append(stored)
            event_rows.append(stored.row())
            late += stored.out_of_order
        if id(transaction) not in written_with_state:
            apply_state(transaction, history, catalog)
    if event_rows:
        await session.execute(insert(EVENTS), event_rows)
    outbox_ids = {t.id for t in survivors} | dropped_ids
    if outbox_ids:
        await session.execute(
            insert(OUTBOX),
            [{"transaction_id": tid, "created_at": now, "attempts": 0, "available_at": now} for tid in outbox_ids],
        )
    for index, _event in prepared:
        result = results[index]
        if result.outcome == "created":
            result.tracking_number = files.find(seen[(_event.agency_code, _event.event_id)][1]).tracking_number
    await session.flush()
    return BatchOutcome(transactions={t.id: t for t in survivors}, out_of_order=late)


async def _references_where(session: AsyncSession, *conditions: Any) -> Sequence[Any]:
    """Rows of (agency, reference key, transaction id) of the references matching ``conditions``."""
    rows = await session.execute(
        select(REFERENCES.c.agency_code, REFERENCES.c.reference_key, REFERENCES.c.transaction_id).where(*conditions)
    )
    return rows.all()


async def _reference_owners(
    session: AsyncSession, among: Membership, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    if not pairs:
        return {}
    owned = await _references_where(session, among.pair_in(REFERENCES.c.agency_code, REFERENCES.c.reference_key, pairs))
    return {(a, k): t for a, k, t in owned}


async def _claims_on_referrals(
    session: AsyncSession,
    among: Membership,
    prepared: Sequence[tuple[int, NormalizedEvent]],
    ref_owner: dict[tuple[str, str], int],
    tracking_owner: dict[str, int],
) -> list[tuple[int, str, str, str]]:
    """The receivers' pending claims that this batch's referrals may confirm.

    A claim names one of the sender's references of the file: the referral's own, or another
    reference of the sender on the same transaction (so those are added to ``ref_owner``).
    """
    referrals_in_batch = [e for _, e in prepared if e.to_agency]
    if not referrals_in_batch:
        return []
    sender_refs = {(e.agency_code, e.reference_key) for e in referrals_in_batch}
    known_ids = {ref_owner.get((e.agency_code, e.reference_key)) for e in referrals_in_batch}
    known_ids |= {tracking_owner.get(e.tracking_number.upper()) for e in referrals_in_batch if e.tracking_number}
    known_ids.discard(None)
    senders = {e.agency_code for e in referrals_in_batch}
    if known_ids:
        owned = await _references_where(
            session,
            among.one_of(REFERENCES.c.transaction_id, known_ids),
            among.one_of(REFERENCES.c.agency_code, senders),
        )
        for agency, key, tid in owned:
            ref_owner.setdefault((agency, key), tid)
            sender_refs.add((agency, key))
    receivers = {e.to_agency for e in referrals_in_batch if e.to_agency}
    return await pending_claims(session, sender_references=sender_refs, receivers=receivers)


async def _histories(
    session: AsyncSession,
    among: Membership,
    files: _Files,
    survivors: list[Transaction],
    transactions: dict[int, Transaction],
) -> dict[int, list[StoredEventLike]]:
    """Stored events of every surviving file, including those of the files merged into it."""
    histories: dict[int, list[StoredEventLike]] = {t.id: [] for t in survivors}
    stored_ids = [t.id for t in survivors if t.id in transactions] + [d.id for d in files.dropped_stored()]
    if stored_ids:
        for row in (
            await session.scalars(select(StatusEvent).where(among.one_of(StatusEvent.transaction_id, stored_ids)))
        ).all():
            histories[files.find(transactions[row.transaction_id]).id].append(row)
    return histories


async def _move_merged(session: AsyncSession, among: Membership, files: _Files) -> set[int]:
    """Move the rows of every stored file merged into another onto the survivor, then delete it."""
    moves = [{"keep": files.find(d).id, "drop": d.id} for d in files.dropped_stored()]
    if not moves:
        return set()
    await move_file_rows(session, moves)
    dropped = {m["drop"] for m in moves}
    await session.execute(delete(TRANSACTIONS).where(among.one_of(TRANSACTIONS.c.id, dropped)))
    for d in files.dropped_stored():
        session.expunge(d)
    logger.info("merged %d transaction(s) into the files their handovers belong to", len(dropped))
    return dropped


async def move_file_rows(session: AsyncSession, moves: list[dict[str, int]]) -> None:
    """Re-point every row of each ``drop`` transaction's file to its ``keep`` transaction (one UPDATE per table)."""
    for table in FILE_ROWS:
        await session.execute(
            update(table).where(table.c.transaction_id == bindparam("drop")).values(transaction_id=bindparam("keep")),
            moves,
        )


class _Files:
    """The transactions a batch touches, with the merges handovers prove (a union-find by object)."""

    def __init__(self) -> None:
        self._parent: dict[int, Transaction] = {}
        self._order: dict[int, Transaction] = {}
        self.events: dict[int, list[EventRecord]] = {}
        self._dropped: list[Transaction] = []

    def find(self, transaction: Transaction) -> Transaction:
        while (parent := self._parent.get(id(transaction))) is not None:
            transaction = parent
        return transaction

    def find_optional(self, transaction: Transaction | None) -> Transaction | None:
        return None if transaction is None else self.find(transaction)

    def add_event(self, transaction: Transaction, record: EventRecord) -> None:
        root = self.find(transaction)
        self._order.setdefault(id(root), root)
        self.events.setdefault(id(root), []).append(record)

    def merge(self, session: AsyncSession, *, keep: Transaction, drop: Transaction) -> Transaction:
        keep, drop = self.find(keep), self.find(drop)
        if keep is drop:
            return keep
        self._parent[id(drop)] = keep
        keep.version = max(keep.version or 0, drop.version or 0)
        self.events.setdefault(id(keep), []).extend(self.events.pop(id(drop), []))
        self._order.pop(id(drop), None)
        self._order.setdefault(id(keep), keep)
        if drop.id is None:
            session.expunge(drop)  # never written: nothing to move
        else:
            self._dropped.append(drop)
        return keep

    def survivors(self) -> list[Transaction]:
        return [t for t in self._order.values() if self.find(t) is t]

    def dropped_stored(self) -> list[Transaction]:
        return list(self._dropped)

    def absorbed_stored(self, transaction: Transaction) -> bool:
        return any(self.find(d) is transaction for d in self._dropped)


def _resolve(
    session: AsyncSession,
    event: NormalizedEvent,
    tracking_owner: dict[str, int],
    transactions: dict[int, Transaction],
    by_ref: dict[tuple[str, str], Transaction],
    confirmed: set[tuple[int, str, str]],
    files: _Files,
) -> Transaction | None:
    """The event's transaction (None for a new one); a confirmed handover merges the receiver's own file into it."""
    if event.tracking_number is not None:
        tid = tracking_owner.get(event.tracking_number.upper())
        if tid is None or tid not in transactions:
            raise ItemError("unknown_tracking_number", "tracking_number: no such transaction", "tracking_number")
        return files.find(transactions[tid])
    own = files.find_optional(by_ref.get((event.agency_code, event.reference_key)))
    if event.from_agency and event.from_reference_key:
        candidate = by_ref.get((event.from_agency, event.from_reference_key))
        if candidate is not None and (candidate.id, event.from_agency, event.agency_code) in confirmed:
            sender = files.find(candidate)
            return sender if own is None else files.merge(session, keep=sender, drop=own)
    return own
