"""Query preparation shared by both backends: text normalization, cursors, fingerprints, day bounds.

Everything a backend matches on is computed here once, with the same normalizer the indexer
uses, so the two backends cannot drift apart in how they read a query.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from app.errors import UnprocessableEntity
from app.normalization.arabic import light_stem, normalize_arabic
from app.normalization.dates import RIYADH, hijri_to_gregorian
from app.normalization.errors import NormalizationError
from app.normalization.references import reference_key
from app.search.types import TextQuery
from app.transactions.tracking import PREFIX as TRACKING_PREFIX
from app.transactions.tracking import tracking_from_key

MAX_TOKENS = 12
MIN_PREFIX = 3
"""Shorter reference prefixes would match half the index; they only match exactly."""

_TRACKING_PREFIX_KEY = re.compile(rf"^{TRACKING_PREFIX}(\d{{4}})([0-9A-Z]{{1,7}})$")


def prepare_text(raw: str | None) -> TextQuery | None:
    """Normalize a free-text query into tokens, stems and reference/tracking forms (None when blank)."""
    if raw is None or not raw.strip():
        return None
    tokens = tuple(dict.fromkeys(normalize_arabic(raw).split()))[:MAX_TOKENS]
    stems = tuple(light_stem(t) for t in tokens)
    try:
        key: str | None = reference_key(raw)
    except NormalizationError:
        key = None
    tracking = tracking_from_key(key) if key else None
    return TextQuery(
        tokens=tokens,
        stems=stems,
        reference_key=key,
        tracking_number=tracking,
        tracking_prefix=None if tracking else _tracking_prefix(key),
    )


def _tracking_prefix(key: str | None) -> str | None:
    """``MK20264F`` → ``MK-2026-4F``: the display prefix of tracking numbers a typed key starts."""
    if key is None:
        return None
    match = _TRACKING_PREFIX_KEY.match(key)
    if match is None:
        return None
    year, rest = match.groups()
    body, check = rest[:6], rest[6:]
    return f"{TRACKING_PREFIX}-{year}-{body}" + (f"-{check}" if check else "")


def like_escape(value: str) -> str:
    """Escape LIKE wildcards (``\\`` is the escape character used with every LIKE we build)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_day(value: str, *, field: str) -> date:
    """A Gregorian ``YYYY-MM-DD`` or an Umm al-Qura Hijri date (years below 1700 are read as Hijri)."""
    text = normalize_arabic(value).replace(" ", "-") if value else value
    match = re.fullmatch(r"(\d{1,4})[-/](\d{1,2})[-/](\d{1,2})", text or "")
    if match is None:
        raise UnprocessableEntity(
            [{"field": field, "message": "use a date like 2026-05-01 or a Hijri date like 1447-11-14"}]
        )
    try:
        if int(match[1]) < 1700:
            return hijri_to_gregorian(text)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except NormalizationError as exc:
        raise UnprocessableEntity([{"field": field, "message": exc.message}]) from exc
    except ValueError as exc:
        raise UnprocessableEntity([{"field": field, "message": str(exc)}]) from exc


def day_start(day: date) -> datetime:
    """Midnight in Riyadh, as UTC: dates people type mean Saudi calendar days."""
    return datetime.combine(day, time(0), RIYADH).astimezone(UTC)


def day_end_exclusive(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


def fingerprint(params: Mapping[str, Any]) -> str:
    """sha256 of the normalized parameters (empty values dropped, keys sorted): the audit's query identity."""
    clean = {k: v for k, v in params.items() if v not in (None, "", [], ())}
    return hashlib.sha256(orjson.dumps(clean, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def encode_cursor(payload: Mapping[str, Any]) -> str:
    """An opaque, URL-safe cursor; its contents are ours to change."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str, *, backend: str, query_fingerprint: str) -> dict[str, Any]:
    """Read a cursor back, refusing one from another backend or another query (422, never 500)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise UnprocessableEntity([{"field": "cursor", "message": "not a cursor from this API"}]) from exc
    if not isinstance(payload, dict) or payload.get("b") != backend or not isinstance(payload.get("a"), list):
        raise UnprocessableEntity([{"field": "cursor", "message": "not a cursor from this API"}])
    if payload.get("f") != query_fingerprint:
        raise UnprocessableEntity(
            [{"field": "cursor", "message": "the cursor belongs to a different query; start again without it"}]
        )
    return payload


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL ``percentile_cont``, Elasticsearch's exact mode)."""
    if not values:
        return None
    ordered = sorted(values)
    index = q * (len(ordered) - 1)
    low = math.floor(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def days_between(later: datetime | float, earlier: datetime | float) -> float:
    """Days from ``earlier`` to ``later``; floats are epoch seconds."""
    a = later.timestamp() if isinstance(later, datetime) else later
    b = earlier.timestamp() if isinstance(earlier, datetime) else earlier
    return (a - b) / 86_400.0


def round_days(value: float | None) -> float | None:
    """Two decimals: both backends agree to that precision (the index stores float32 days)."""
    return None if value is None else round(value + 0.0, 2)
