"""One search document per transaction: a pure builder, and a loader that feeds it in a few batch queries.

The builder never sees a raw national ID or mobile (the database holds only keyed hashes and last
four digits) and drops internal notes, so the index can be shown to any agency's staff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.loader import Catalog
from app.models import StatusEvent, Transaction, TransactionReference
from app.models.filters import Membership
from app.models.tables import EVENTS, REFERENCES, TRANSACTIONS
from app.normalization.arabic import name_key, searchable_text
from app.transactions.state import TERMINAL_STATUSES, chronological
from app.transactions.timeline import days_per_agency

Document = dict[str, Any]
BuildErrorHandler = Callable[[int, Exception], None]

_SECONDS_PER_DAY = 86_400.0

REFERENCE_COLUMNS = [
    REFERENCES.c[name] for name in ("transaction_id", "agency_code", "reference_key", "reference_display")
]
EVENT_COLUMNS = [
    EVENTS.c[name]
    for name in (
        "id",
        "transaction_id",
        "agency_code",
        "status",
        "reopen",
        "occurred_at",
        "sequence",
        "from_agency",
        "to_agency",
        "note",
        "note_visibility",
    )
]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _days(seconds: float) -> float:
    return round(max(seconds, 0.0) / _SECONDS_PER_DAY, 4)


def is_terminal(status: str, catalog: Catalog) -> bool:
    """The catalog decides; the fold's fixed set is the fallback for a status it does not know."""
    known = catalog.statuses.get(status)
    return known.terminal if known is not None else status in TERMINAL_STATUSES


def _chronological(events: Sequence[StatusEvent]) -> list[StatusEvent]:
    """The fold's own ordering, so the timeline and durations agree with the stored state."""
    return cast(list[StatusEvent], chronological(events))


def build_document(
    transaction: Transaction,
    references: Sequence[TransactionReference],
    events: Sequence[StatusEvent],
    catalog: Catalog,
    now: datetime,
) -> Document:
    """The index document of one transaction; pure (no I/O), so it is tested without services.

    ``overdue`` is true when the transaction is open and past ``due_at`` at build time; it goes stale
    as time passes, so searches that must be exact compare ``due_at`` with ``now`` themselves.
    """
    ordered = _chronological(events)
    terminal = is_terminal(transaction.status, catalog)

    agencies: dict[str, None] = {transaction.origin_agency: None, transaction.holder_agency: None}
    incoming: dict[str, None] = {}
    outgoing: dict[str, None] = {}
    for event in ordered:
        agencies[event.agency_code] = None
        if event.from_agency:
            agencies[event.from_agency] = None
            outgoing[event.from_agency] = None
            incoming[event.agency_code] = None
        if event.to_agency:
            agencies[event.to_agency] = None
            outgoing[event.agency_code] = None
            incoming[event.to_agency] = None
    for ref in references:
        agencies[ref.agency_code] = None
    # references in the order the agencies took part (not the order their rows arrived), so the
    # document is the same whatever order the events were delivered in
    rank = {code: i for i, code in enumerate(dict.fromkeys(e.agency_code for e in ordered))}

    def sector_of(code: str) -> str | None:
        agency = catalog.agencies.get(code)
        return agency.sector if agency is not None else None

    sectors = {s: None for s in (sector_of(code) for code in agencies) if s}
    public_notes = [e.note for e in ordered if e.note and e.note_visibility == "public"]
    end = transaction.completed_at if terminal and transaction.completed_at else now

    return {
        "id": transaction.id,
        "tracking_number": transaction.tracking_number,
        "references": [
            {"agency": r.agency_code, "key": r.reference_key, "display": r.reference_display}
            for r in sorted(
                references, key=lambda r: (rank.get(r.agency_code, len(rank)), r.agency_code, r.reference_key)
            )
        ],
        "reference_keys": sorted({r.reference_key for r in references}),
        "transaction_type": transaction.transaction_type,
        "title": transaction.title,
        "title_norm": searchable_text(transaction.title, stem=True) if transaction.title else None,
        "notes_norm": searchable_text(" ".join(public_notes), stem=True) if public_notes else None,
        "applicant_name": transaction.applicant_name,
        "applicant_name_norm": (
            transaction.applicant_name_key
            or (name_key(transaction.applicant_name) if transaction.applicant_name else None)
        ),
        "national_id_hash": transaction.national_id_hash,
        "national_id_last4": transaction.national_id_last4,
        "mobile_hash": transaction.mobile_hash,
        "mobile_last4": transaction.mobile_last4,
        "status": transaction.status,
        "status_terminal": terminal,
        "holder_agency": transaction.holder_agency,
        "origin_agency": transaction.origin_agency,
        "agencies": list(agencies),
        "incoming_agencies": list(incoming),
        "outgoing_agencies": list(outgoing),
        "sector": sector_of(transaction.holder_agency),
        "sectors": list(sectors),
        "created_at": _iso(transaction.created_at),
        "updated_at": _iso(transaction.updated_at),
        "due_at": _iso(transaction.due_at),
        "completed_at": _iso(transaction.completed_at),
        "last_received_at": _iso(transaction.last_received_at),
        "indexed_at": _iso(now),
        "elapsed_days": _days((end - transaction.created_at).total_seconds()),
        "overdue": bool(not terminal and transaction.due_at is not None and transaction.due_at < now),
        "agency_durations": [{"agency": code, "days": days} for code, days in days_per_agency(events, now=now).items()],
        "timeline": [
            {
                "agency": e.agency_code,
                "status": e.status,
                "occurred_at": _iso(e.occurred_at),
                "from_agency": e.from_agency,
                "to_agency": e.to_agency,
                "note": e.note if e.note and e.note_visibility == "public" else None,
            }
            for e in ordered
        ],
        "version": transaction.version,
    }


async def load_documents(
    session: AsyncSession,
    ids: Iterable[int],
    *,
    catalog: Catalog,
    now: datetime,
    on_error: BuildErrorHandler | None = None,
) -> dict[int, Document | None]:
    """Documents for ``ids`` in three queries; ``None`` means the transaction is gone (delete it).

    A builder failure is passed to ``on_error`` (and the id left out) when given, raised otherwise,
    so one bad transaction never blocks a batch.
    """
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    # Plain rows, not ORM instances (the builder only reads attributes): building instances was the
    # largest part of the indexer's CPU.
    among = Membership(session)
    transactions: dict[int, Any] = {
        row.id: row
        for row in await session.execute(select(TRANSACTIONS).where(among.one_of(TRANSACTIONS.c.id, wanted)))
    }
    found = list(transactions)
    references: dict[int, list[Any]] = defaultdict(list)
    events: dict[int, list[Any]] = defaultdict(list)
    if found:
        for ref in await session.execute(
            select(*REFERENCE_COLUMNS).where(among.one_of(REFERENCES.c.transaction_id, found)).order_by(REFERENCES.c.id)
        ):
            references[ref.transaction_id].append(ref)
        for event in await session.execute(
            select(*EVENT_COLUMNS).where(among.one_of(EVENTS.c.transaction_id, found)).order_by(EVENTS.c.id)
        ):
            events[event.transaction_id].append(event)
    docs: dict[int, Document | None] = {}
    for tid in wanted:
        transaction = transactions.get(tid)
        if transaction is None:
            docs[tid] = None
            continue
        try:
            docs[tid] = build_document(transaction, references[tid], events[tid], catalog, now)
        except Exception as exc:
            if on_error is None:
                raise
            on_error(tid, exc)
    return docs
