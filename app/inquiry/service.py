"""Answering a citizen's inquiry from the database, the system of record.

A miss and a wrong verifier take the same path and give the same answer, so the endpoint
cannot tell anyone whether a reference exists; every failure counts against both the client
and the reference.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.loader import Catalog
from app.errors import NotFound, TooManyRequests
from app.inquiry.ratelimit import FailureCounter, failure_keys
from app.inquiry.schemas import AccessRecord, AgencyTime, InquiryResponse, Label, TimelineEntry
from app.models import Transaction
from app.models.tables import EVENTS, REFERENCES, TRANSACTIONS, VIEWS
from app.normalization.dates import to_hijri_string
from app.normalization.digits import to_ascii_digits
from app.normalization.errors import NormalizationError
from app.normalization.identity import keyed_hash
from app.normalization.phones import normalize_mobile
from app.normalization.references import reference_key
from app.observability.metrics import RATE_LIMITED
from app.transactions.state import TERMINAL_STATUSES, chronological
from app.transactions.timeline import (
    days_per_agency,
    expected_completion,
    is_overdue,
    median_working_days,
    riyadh_date,
)
from app.transactions.tracking import tracking_from_key

NOT_FOUND_MESSAGE = "No transaction matches this reference and verifier. / لا توجد معاملة مطابقة للرقم ورمز التحقق."
HISTORY_SAMPLE = 200
_DUMMY = "0" * 64


def agency_label(catalog: Catalog, code: str) -> Label:
    ar, en = catalog.agency_names(code)
    return Label(code=code, ar=ar, en=en)


def status_label(catalog: Catalog, code: str) -> Label:
    ar, en = catalog.status_names(code)
    return Label(code=code, ar=ar, en=en)


def _verifier_matches(transaction: Any, verifier: str, secret: str) -> bool:
    """Last 4 digits of the ID number, or the mobile in any format; compared in constant time."""
    digits = to_ascii_digits(verifier).strip()
    if len(digits) == 4 and digits.isdigit():
        return hmac.compare_digest(digits, transaction.national_id_last4 or "----")
    try:
        mobile_hash = keyed_hash(normalize_mobile(verifier), secret)
    except NormalizationError:
        mobile_hash = _DUMMY
    return hmac.compare_digest(mobile_hash, transaction.mobile_hash or _DUMMY[:-1] + "1")


# The inquiry reads plain rows with only the columns it shows (no ORM instances): it is the hottest
# public endpoint, and building instances cost more than the queries themselves.
TRANSACTION_COLUMNS = [
    TRANSACTIONS.c[name]
    for name in (
        "id",
        "tracking_number",
        "transaction_type",
        "title",
        "status",
        "holder_agency",
        "created_at",
        "updated_at",
        "completed_at",
        "due_at",
        "national_id_last4",
        "mobile_hash",
    )
]


@dataclass(slots=True)
class PublicEvent:
    """What the citizen's timeline and durations need of one event (read in this field order)."""

    id: int
    agency_code: str
    status: str
    reopen: bool
    occurred_at: datetime
    sequence: int | None
    to_agency: str | None
    due_at: datetime | None
    note: str | None
    note_visibility: str


EVENT_COLUMNS = [EVENTS.c[f.name].label(f"event_{f.name}") for f in fields(PublicEvent)]


@dataclass(slots=True)
class Candidate:
    transaction: Any
    events: list[PublicEvent] = field(default_factory=list)


# Built once: SQLAlchemy memoizes a statement's cache key on the object, so the hottest public
# query is not re-analysed on every request.
_CANDIDATE_ROWS = select(*TRANSACTION_COLUMNS, *EVENT_COLUMNS).join(
    EVENTS, EVENTS.c.transaction_id == TRANSACTIONS.c.id
)
_BY_TRACKING_NUMBER = _CANDIDATE_ROWS.where(TRANSACTIONS.c.tracking_number == bindparam("key"))
_BY_REFERENCE = _CANDIDATE_ROWS.where(
    TRANSACTIONS.c.id.in_(select(REFERENCES.c.transaction_id).where(REFERENCES.c.reference_key == bindparam("key")))
)
_RECENT_VIEWS = (
    select(VIEWS.c.agency_code, VIEWS.c.role, VIEWS.c.viewed_at)
    .where(VIEWS.c.transaction_id == bindparam("transaction_id"))
    .order_by(VIEWS.c.viewed_at.desc())
    .limit(50)
)


async def candidates(session: AsyncSession, reference: str) -> list[Candidate]:
    """The transactions a typed reference may mean (by tracking number, or any agency's reference),
    each with its events: one query, whatever the verifier turns out to be."""
    try:
        key = reference_key(reference)
    except NormalizationError:
        return []
    tracking = tracking_from_key(key)
    rows = await session.execute(
        _BY_REFERENCE if tracking is None else _BY_TRACKING_NUMBER, {"key": key if tracking is None else tracking}
    )
    found: dict[int, Candidate] = {}
    width = len(TRANSACTION_COLUMNS)
    for row in rows:
        candidate = found.get(row.id)
        if candidate is None:
            candidate = found[row.id] = Candidate(row)
        candidate.events.append(PublicEvent(*row[width:]))
    return list(found.values())


# What a miss is checked against, so a miss does the same work as a wrong verifier.
_NOBODY = Candidate(SimpleNamespace(id=None, national_id_last4=None, mobile_hash=None))


class MedianCache:
    """Historical medians per (agency, type) for a few minutes: history moves slowly, lookups are hot."""

    def __init__(self, ttl_s: float = 600.0) -> None:
        self.ttl_s = ttl_s
        self._values: dict[tuple[str, str], tuple[float, int | None]] = {}

    def get(self, key: tuple[str, str]) -> tuple[bool, int | None]:
        hit = self._values.get(key)
        if hit is None or hit[0] < time.monotonic():
            return False, None
        return True, hit[1]

    def put(self, key: tuple[str, str], value: int | None) -> None:
        self._values[key] = (time.monotonic() + self.ttl_s, value)


async def historical_days(
    session: AsyncSession,
    catalog: Catalog,
    *,
    agency_code: str,
    transaction_type: str | None,
    cache: MedianCache | None = None,
) -> int | None:
    """Median working days to completion of recent completed transactions of this agency and type."""
    if transaction_type is None:
        return None
    key = (agency_code, transaction_type)
    if cache is not None:
        found, value = cache.get(key)
        if found:
            return value
    rows = (
        await session.execute(
            select(Transaction.created_at, Transaction.completed_at)
            .where(
                Transaction.holder_agency == agency_code,
                Transaction.transaction_type == transaction_type,
                Transaction.status == "completed",
                Transaction.completed_at.is_not(None),
            )
            .order_by(Transaction.completed_at.desc())
            .limit(HISTORY_SAMPLE)
        )
    ).all()
    durations = [(start, end) for start, end in rows if end is not None]
    median = median_working_days(durations, holidays=catalog.holidays, weekend=catalog.weekend_days)
    if cache is not None:
        cache.put(key, median)
    return median


async def inquire(
    session: AsyncSession,
    *,
    reference: str,
    verifier: str,
    client: str,
    catalog: Catalog,
    secret: str,
    counter: FailureCounter,
    limit: int,
    now: datetime | None = None,
    medians: MedianCache | None = None,
) -> InquiryResponse:
    """The public answer for a reference and verifier, or NotFound / TooManyRequests."""
    now = now or datetime.now(UTC)
    try:
        ref_key = reference_key(reference)
    except NormalizationError:
        ref_key = reference.strip()[:64]
    keys = failure_keys(client=client, reference_key=ref_key)
    wait = await counter.blocked_for(keys, limit)
    if wait:
        RATE_LIMITED.labels("inquiry").inc()
        raise TooManyRequests(
            "Too many failed attempts; try again later. / محاولات كثيرة غير ناجحة، حاول لاحقاً.",
            headers={"Retry-After": str(wait)},
        )
    match: Candidate | None = None
    for candidate in await candidates(session, reference) or [_NOBODY]:
        if _verifier_matches(candidate.transaction, verifier, secret) and candidate is not _NOBODY and match is None:
            match = candidate
    if match is None:
        await counter.record_failure(keys)
        raise NotFound(NOT_FOUND_MESSAGE)
    return await build_response(session, match.transaction, match.events, catalog=catalog, now=now, medians=medians)


async def build_response(
    session: AsyncSession,
    transaction: Any,
    events: Sequence[PublicEvent],
    *,
    catalog: Catalog,
    now: datetime,
    medians: MedianCache | None = None,
) -> InquiryResponse:
    """The citizen's view of one transaction (a row with ``TRANSACTION_COLUMNS``)."""
    views = (await session.execute(_RECENT_VIEWS, {"transaction_id": transaction.id})).all()
    status = catalog.statuses[transaction.status]
    ttype = catalog.transaction_types.get(transaction.transaction_type or "")
    agency_due = next((e.due_at for e in reversed(chronological(events)) if e.due_at), None)
    expected = expected_completion(
        created_at=transaction.created_at,
        due_at=agency_due,
        rule_days=ttype.sla_working_days if ttype else None,
        historical_days=await historical_days(
            session,
            catalog,
            agency_code=transaction.holder_agency,
            transaction_type=transaction.transaction_type,
            cache=medians,
        ),
        holidays=catalog.holidays,
        weekend=catalog.weekend_days,
    )
    return InquiryResponse(
        tracking_number=transaction.tracking_number,
        transaction_type=Label(code=ttype.code, ar=ttype.name_ar, en=ttype.name_en) if ttype else None,
        title=transaction.title,
        status=status_label(catalog, transaction.status),
        next_step_ar=status.next_ar,
        next_step_en=status.next_en,
        terminal=transaction.status in TERMINAL_STATUSES,
        holder=agency_label(catalog, transaction.holder_agency),
        created_at=transaction.created_at,
        updated_at=transaction.updated_at,
        completed_at=transaction.completed_at,
        expected_completion=expected,
        expected_completion_hijri=to_hijri_string(expected) if expected else None,
        # Overdue is judged against the stored due date, the same one staff search and dashboards use.
        overdue=is_overdue(
            status=transaction.status,
            expected=riyadh_date(transaction.due_at) if transaction.due_at else expected,
            today=riyadh_date(now),
        ),
        timeline=public_timeline(events, catalog),
        time_per_agency=[
            AgencyTime(agency=agency_label(catalog, code), days=days)
            for code, days in days_per_agency(events, now=now).items()
        ],
        accessed_by=[
            AccessRecord(
                agency=agency_label(catalog, v.agency_code) if v.agency_code else None,
                role=v.role,
                viewed_at=v.viewed_at,
            )
            for v in views
        ],
    )


def public_timeline(events: Sequence[PublicEvent], catalog: Catalog) -> list[TimelineEntry]:
    """Every event in the order it happened; internal notes never leave the agency."""
    ordered = chronological(events)
    return [
        TimelineEntry(
            agency=agency_label(catalog, e.agency_code),
            status=status_label(catalog, e.status),
            occurred_at=e.occurred_at,
            date_hijri=to_hijri_string(e.occurred_at),
            note=e.note if e.note_visibility == "public" else None,
        )
        for e in ordered
    ]
