"""Event and due dates from agencies: ISO 8601, naive local time, or Umm al-Qura Hijri.

Everything is returned as aware UTC so events from different agencies order correctly;
naive values are read as Saudi local time because that is what agency clerks mean.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from hijridate import Gregorian, Hijri
from hijridate.ummalqura import GREGORIAN_RANGE, HIJRI_RANGE

from app.normalization.digits import to_ascii_digits
from app.normalization.errors import NormalizationError
from app.normalization.text import strip_invisible

RIYADH = ZoneInfo("Asia/Riyadh")
FUTURE_TOLERANCE = timedelta(minutes=5)

HIJRI_MIN_YEAR, HIJRI_MAX_YEAR = HIJRI_RANGE[0][0], HIJRI_RANGE[1][0]
GREGORIAN_MIN = date(*GREGORIAN_RANGE[0])
GREGORIAN_MAX = date(*GREGORIAN_RANGE[1])

HIJRI_MONTHS_AR = (
    "محرم",
    "صفر",
    "ربيع الأول",
    "ربيع الآخر",
    "جمادى الأولى",
    "جمادى الآخرة",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذو الحجة",
)

_HIJRI_RE = re.compile(
    r"(?P<y>[0-9]{1,4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})"
    r"(?:[T ](?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?"
)


def _clean(value: str) -> str:
    """Strip invisible marks and convert Eastern digits, as people paste dates from RTL text."""
    return to_ascii_digits(strip_invisible(value)).strip()


def _hijri_date(year: int, month: int, day: int, *, field: str, raw: str) -> date:
    """Convert validated Hijri parts, mapping every hijridate failure to our error type."""
    what = f"The {field} Hijri date {raw!r}" if field else f"The Hijri date {raw!r}"
    if not HIJRI_MIN_YEAR <= year <= HIJRI_MAX_YEAR:
        raise NormalizationError(
            "hijri_out_of_range",
            f"{what} is outside the supported Umm al-Qura range ({HIJRI_MIN_YEAR}-{HIJRI_MAX_YEAR} AH).",
        )
    if not 1 <= month <= 12:
        raise NormalizationError("invalid_date", f"{what} has month {month}; months run 1 to 12.")
    try:
        g = Hijri(year, month, day).to_gregorian()
    except OverflowError as exc:
        raise NormalizationError("hijri_out_of_range", f"{what} is outside the supported range.") from exc
    except ValueError as exc:
        raise NormalizationError("invalid_date", f"{what} does not exist in the Umm al-Qura calendar.") from exc
    return date(g.year, g.month, g.day)


def _parse_hijri(raw: Any, *, field: str) -> tuple[date, time | None]:
    """Parse ``1446-09-15`` or ``1446-09-15T10:30`` into a Gregorian date and optional time."""
    if not isinstance(raw, str):
        raise NormalizationError("invalid_date", f"The {field} Hijri date must be a string like 1446-09-15.")
    text = _clean(raw)
    m = _HIJRI_RE.fullmatch(text)
    if m is None:
        raise NormalizationError(
            "invalid_date",
            f"The {field} Hijri date {raw!r} is not in the form 1446-09-15 or 1446-09-15T10:30.",
        )
    day = _hijri_date(int(m["y"]), int(m["m"]), int(m["d"]), field=field, raw=raw)
    if m["H"] is None:
        return day, None
    hour, minute, second = int(m["H"]), int(m["M"]), int(m["S"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise NormalizationError("invalid_date", f"The {field} Hijri date {raw!r} has an invalid time of day.")
    return day, time(hour, minute, second)


def _hijri_from_mapping(value: dict[Any, Any], *, field: str) -> tuple[date, time | None]:
    """Accept exactly ``{"hijri": "..."}`` so typos in the key are reported, not ignored."""
    if set(value) != {"hijri"}:
        raise NormalizationError("invalid_date", f'The {field} must be a date string or {{"hijri": "1446-09-15"}}.')
    return _parse_hijri(value["hijri"], field=field)


def _to_utc(dt: datetime, *, field: str) -> datetime:
    """Attach Riyadh to naive values and convert to UTC, refusing unrepresentable instants."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=RIYADH)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise NormalizationError("invalid_date", f"The {field} {dt.isoformat()!r} is out of range.") from exc


def _is_date_only(text: str) -> bool:
    """Tell a calendar date from a timestamp, as ``datetime.fromisoformat`` accepts both."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _parse_iso(raw: str, *, field: str) -> datetime:
    """Parse an ISO 8601 timestamp string (``Z`` or offsets allowed; naive allowed)."""
    text = _clean(raw)
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise NormalizationError(
            "invalid_date",
            f"The {field} {raw!r} is not an ISO 8601 date-time like 2025-03-01T10:30:00+03:00.",
        ) from exc


def parse_event_time(
    value: str | dict[str, Any] | datetime,
    *,
    now: datetime | None = None,
    field: str = "occurred_at",
    allow_future: bool = False,
) -> datetime:
    """Return the instant an event happened, as aware UTC, or raise.

    A time of day is required (events are ordered by it).  Instants more than five minutes
    ahead of ``now`` are refused unless ``allow_future``, since they indicate a wrong clock
    or a swapped day/month and would otherwise pin a transaction's latest status forever.
    """
    if isinstance(value, datetime):
        result = _to_utc(value, field=field)
    elif isinstance(value, dict):
        day, tod = _hijri_from_mapping(value, field=field)
        if tod is None:
            raise NormalizationError("invalid_date", f"The {field} needs a time of day, e.g. 1446-09-15T10:30.")
        result = _to_utc(datetime.combine(day, tod), field=field)
    elif isinstance(value, str):
        parsed = _parse_iso(value, field=field)
        # Only a naive midnight can have been a bare date (checked second: the check costs an exception).
        if parsed.tzinfo is None and parsed.time() == time() and _is_date_only(_clean(value)):
            raise NormalizationError(
                "invalid_date", f"The {field} {value!r} needs a time of day, e.g. 2025-03-01T10:30:00+03:00."
            )
        result = _to_utc(parsed, field=field)
    else:
        raise NormalizationError("invalid_date", f"The {field} must be a date-time string or a Hijri date.")
    if not allow_future:
        reference = _to_utc(now, field="now") if now is not None else datetime.now(UTC)
        if result > reference + FUTURE_TOLERANCE:
            raise NormalizationError(
                "date_in_future",
                f"The {field} {result.isoformat()} is in the future (now is {reference.isoformat()}).",
            )
    return result


def parse_date_value(
    value: str | dict[str, Any] | date | datetime,
    *,
    field: str = "due_date",
) -> date:
    """Return a calendar date (Riyadh) for due/expected dates, which may be in the future.

    Date-only values are taken as they are; timestamps are converted to the Riyadh date,
    because "due on the 15th" means the 15th in Saudi Arabia.
    """
    if isinstance(value, datetime):
        return _to_utc(value, field=field).astimezone(RIYADH).date()
    if isinstance(value, date):
        return value
    if isinstance(value, dict):
        return _hijri_from_mapping(value, field=field)[0]
    if isinstance(value, str):
        text = _clean(value)
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        return _to_utc(_parse_iso(value, field=field), field=field).astimezone(RIYADH).date()
    raise NormalizationError("invalid_date", f"The {field} must be a date string or a Hijri date.")


def to_hijri_string(d: date | datetime) -> str:
    """Return the Umm al-Qura date as ``YYYY-MM-DD``; datetimes use their Riyadh date."""
    if isinstance(d, datetime):
        d = d.astimezone(RIYADH).date() if d.tzinfo is not None else d.date()
    return _hijri_of(d)


@lru_cache(maxsize=8192)
def _hijri_of(d: date) -> str:
    """Cached: timelines and result pages convert the same few hundred days over and over."""
    if not GREGORIAN_MIN <= d <= GREGORIAN_MAX:
        raise NormalizationError(
            "hijri_out_of_range",
            f"The date {d.isoformat()} is outside the Umm al-Qura range "
            f"({GREGORIAN_MIN.isoformat()} to {GREGORIAN_MAX.isoformat()}).",
        )
    h = Gregorian(d.year, d.month, d.day).to_hijri()
    return f"{h.year:04d}-{h.month:02d}-{h.day:02d}"


def hijri_to_gregorian(s: str) -> date:
    """Return the Gregorian date for an Umm al-Qura ``YYYY-MM-DD`` string (Eastern digits ok)."""
    text = _clean(s)
    m = re.fullmatch(r"([0-9]{1,4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})", text)
    if m is None:
        raise NormalizationError("invalid_date", f"The Hijri date {s!r} is not in the form 1446-09-15.")
    return _hijri_date(int(m[1]), int(m[2]), int(m[3]), field="", raw=s)


def hijri_month_name_ar(month: int) -> str:
    """Return the Arabic name of a Hijri month (1-12), for Arabic-facing screens."""
    if not 1 <= month <= 12:
        raise NormalizationError("invalid_date", f"Hijri months run 1 to 12, got {month}.")
    return HIJRI_MONTHS_AR[month - 1]
