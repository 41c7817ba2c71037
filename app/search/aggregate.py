"""Shaping of aggregation results, shared by both backends so equal inputs give byte-equal outputs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from app.normalization.dates import RIYADH
from app.search.query import day_start, days_between, round_days
from app.search.types import AgencyCount, AgencyFlow, Bottleneck, DailyCount, FacetBucket, ProcessingTime


def buckets(counts: Mapping[str, int]) -> list[FacetBucket]:
    """Non-empty buckets, most frequent first, ties by value (Elasticsearch's terms order)."""
    return [FacetBucket(k, int(v)) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if v]


def flows(incoming: Mapping[str, int], outgoing: Mapping[str, int]) -> list[AgencyFlow]:
    agencies = set(incoming) | set(outgoing)
    rows = [AgencyFlow(a, int(incoming.get(a, 0)), int(outgoing.get(a, 0))) for a in agencies]
    return sorted(rows, key=lambda f: (-(f.incoming + f.outgoing), f.agency))


def top(counts: Mapping[str, int], n: int) -> list[AgencyCount]:
    return [AgencyCount(b.value, b.count) for b in buckets(counts)[:n]]


def processing(
    rows: Iterable[tuple[str, str | None, int, float | None, float | None]],
) -> list[ProcessingTime]:
    """(agency, type or None for all types, count, median, p90) → rows rounded to two decimals, sorted."""
    out = [
        ProcessingTime(agency, ttype, int(count), round_days(median), round_days(p90))
        for agency, ttype, count, median, p90 in rows
        if count
    ]
    return sorted(out, key=lambda p: (p.agency, p.transaction_type or ""))


def today(now: datetime) -> date:
    return now.astimezone(RIYADH).date()


def window_start(now: datetime, days: int) -> datetime:
    """Midnight (Riyadh) of the first day of a ``days``-long window ending today."""
    return day_start(today(now) - timedelta(days=days - 1))


def daily(counts: Mapping[str, int], *, now: datetime, days: int) -> list[DailyCount]:
    """Every day of the window, zeros included, oldest first."""
    first = today(now) - timedelta(days=days - 1)
    return [
        DailyCount(d.isoformat(), int(counts.get(d.isoformat(), 0)))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


def bottlenecks(
    per_agency: Mapping[str, tuple[int, float | None, float | None]], *, now: datetime, top: int
) -> list[Bottleneck]:
    """(count, median last-update epoch seconds, oldest last-update epoch seconds) → waits in days.

    The median wait is ``now`` minus the median last update: the map is monotonic, so the
    median of waits equals the wait of the median update.
    """
    rows = [
        Bottleneck(
            agency=agency,
            count=int(count),
            median_wait_days=round_days(days_between(now, median)) if median is not None else None,
            max_wait_days=round_days(days_between(now, oldest)) if oldest is not None else None,
        )
        for agency, (count, median, oldest) in per_agency.items()
        if count
    ]
    rows.sort(key=lambda b: (-(b.max_wait_days or 0.0), -b.count, b.agency))
    return rows[:top]
