"""Turns one raw item into a normalized event, or a specific error naming the field."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

import orjson
from pydantic import ValidationError

from app.catalog.loader import Catalog
from app.ingestion.schemas import EventIn
from app.normalization.arabic import name_key
from app.normalization.dates import RIYADH, parse_date_value, parse_event_time
from app.normalization.errors import NormalizationError
from app.normalization.identity import keyed_hash, last4, validate_national_id
from app.normalization.phones import normalize_mobile
from app.normalization.references import normalize_reference
from app.normalization.text import clean_text

MAX_TITLE = 500
MAX_NAME = 200
MAX_NOTE = 2000
MAX_STATUS_TEXT = 200
END_OF_DAY = time(23, 59, 59)


class ItemError(Exception):
    """A per-item rejection: machine code, field path and a sentence for people."""

    def __init__(self, code: str, message: str, field: str | None = None, known_codes: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.known_codes = known_codes


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    agency_code: str
    event_id: str
    reference_key: str
    reference_display: str
    tracking_number: str | None
    transaction_type: str | None
    title: str | None
    raw_status_code: str
    raw_status_text: str | None
    status: str
    reopen: bool
    occurred_at: datetime
    sequence: int | None
    from_agency: str | None
    from_reference_key: str | None
    from_reference_display: str | None
    to_agency: str | None
    applicant_name: str | None
    applicant_name_key: str | None
    national_id_hash: str | None
    national_id_last4: str | None
    mobile_hash: str | None
    mobile_last4: str | None
    note: str | None
    note_visibility: str
    due_at: datetime | None
    payload_hash: str


def payload_hash(item: Any) -> str:
    """A stable hash of what the agency sent, to tell a true duplicate from a reused event id."""
    return hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _field(exc: ValidationError) -> tuple[str, str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return err.get("type", "invalid"), loc, f"{loc}: {err.get('msg', 'invalid value')}"


def _normalized(label: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a normalizer; its error becomes an item error naming the field."""
    try:
        return fn(*args, **kwargs)
    except NormalizationError as exc:
        raise ItemError(exc.code, f"{label}: {exc.message}", label) from exc


def _agency(catalog: Catalog, code: str | None, field: str) -> str | None:
    if code is None:
        return None
    normalized = code.strip().upper()
    if normalized not in catalog.agencies:
        raise ItemError("unknown_agency", f"{field}: unknown agency code {code!r}", field)
    return normalized


def validate_event(
    item: Any, *, agency_code: str, catalog: Catalog, secret: str, now: datetime | None = None
) -> NormalizedEvent:
    """Validate and normalize one item sent by ``agency_code``; raises ItemError."""
    if not isinstance(item, dict):
        raise ItemError("invalid_item", "each item must be a JSON object", "")
    try:
        event = EventIn.model_validate(item)
    except ValidationError as exc:
        code, loc, message = _field(exc)
        error_code = "missing_field" if code == "missing" else "invalid_" + code.split(".")[0]
        raise ItemError(error_code, message, loc) from None
    if event.agency is not None and event.agency.strip().upper() != agency_code:
        raise ItemError(
            "forbidden_agency",
            f"agency: this key submits events for {agency_code} only, not {event.agency!r}",
            "agency",
        )
    event_id = _normalized("event_id", clean_text, event.event_id, max_length=128, field="event_id")
    ref_key, ref_display = _normalized("reference", normalize_reference, event.reference)

    raw_code = _normalized("status_code", clean_text, event.status_code, max_length=64, field="status_code")
    mapping = catalog.map_status(agency_code, raw_code)
    if mapping is None:
        raise ItemError(
            "unknown_status",
            f"status_code: {raw_code!r} is not a status code known for {agency_code}",
            "status_code",
            known_codes=catalog.known_codes(agency_code),
        )
    occurred_at = _normalized("occurred_at", parse_event_time, event.occurred_at, now=now, field="occurred_at")
    due_at = None
    if event.due_date is not None:
        due_day = _normalized("due_date", parse_date_value, event.due_date, field="due_date")
        due_at = datetime.combine(due_day, END_OF_DAY, RIYADH).astimezone(UTC)
    from_agency = _agency(catalog, event.from_agency, "from_agency")
    to_agency = _agency(catalog, event.to_agency, "to_agency")
    from_key = from_display = None
    if event.from_reference is not None:
        if from_agency is None:
            raise ItemError("missing_field", "from_reference: requires from_agency", "from_agency")
        from_key, from_display = _normalized("from_reference", normalize_reference, event.from_reference)
    if to_agency == agency_code:
        raise ItemError("invalid_handover", "to_agency: an agency cannot refer a transaction to itself", "to_agency")

    title = _optional_text(event.title, "title", MAX_TITLE)
    status_text = _optional_text(event.status_text, "status_text", MAX_STATUS_TEXT)
    note = _optional_text(event.note.text if event.note else None, "note.text", MAX_NOTE)
    name = nid_hash = nid_last4 = mobile_hash = mobile_last4 = None
    if event.applicant is not None:
        name = _optional_text(event.applicant.name, "applicant.name", MAX_NAME)
        if event.applicant.national_id:
            nid = _normalized("applicant.national_id", validate_national_id, event.applicant.national_id)
            nid_hash, nid_last4 = keyed_hash(nid, secret), last4(nid)
        if event.applicant.mobile:
            mobile = _normalized("applicant.mobile", normalize_mobile, event.applicant.mobile)
            mobile_hash, mobile_last4 = keyed_hash(mobile, secret), last4(mobile)
    tracking = None
    if event.tracking_number is not None:
        tracking = _normalized("tracking_number", clean_text, event.tracking_number, max_length=40)

    return NormalizedEvent(
        agency_code=agency_code,
        event_id=event_id,
        reference_key=ref_key,
        reference_display=ref_display,
        tracking_number=tracking,
        transaction_type=event.transaction_type,
        title=title,
        raw_status_code=raw_code,
        raw_status_text=status_text,
        status=mapping.canonical,
        reopen=mapping.reopen,
        occurred_at=occurred_at,
        sequence=event.sequence,
        from_agency=from_agency,
        from_reference_key=from_key,
        from_reference_display=from_display,
        to_agency=to_agency,
        applicant_name=name,
        applicant_name_key=name_key(name) if name else None,
        national_id_hash=nid_hash,
        national_id_last4=nid_last4,
        mobile_hash=mobile_hash,
        mobile_last4=mobile_last4,
        note=note,
        note_visibility=event.note.visibility if event.note else "public",
        due_at=due_at,
        payload_hash=payload_hash(item),
    )


def _optional_text(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    try:
        return clean_text(value, max_length=limit, field=field)
    except NormalizationError as exc:
        if exc.code == "empty":
            return None
        raise ItemError(exc.code, f"{field}: {exc.message}", field) from exc
