"""The data-quality scorecard's queries: always SQL, since it is about what ingestion received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FeedBatch, IngestIssue


@dataclass(slots=True)
class FeedCounts:
    last_received_at: datetime | None = None
    events: int = 0
    out_of_order: int = 0
    rejected: int = 0
    duplicates: int = 0
    conflicts: int = 0
    unknown_status: int = 0


async def feed_counts(session: AsyncSession, *, agency_code: str | None) -> dict[str, FeedCounts]:
    """Per agency: accepted events, out-of-order ones, and ingestion issues by kind."""
    counts: dict[str, FeedCounts] = {}
    # Sums of per-batch counts: the same figures as counting every event, without scanning them.
    events = select(
        FeedBatch.agency_code,
        func.sum(FeedBatch.events),
        func.max(FeedBatch.at),
        func.sum(FeedBatch.out_of_order),
    ).group_by(FeedBatch.agency_code)
    issues = select(IngestIssue.agency_code, IngestIssue.kind, IngestIssue.error_code, func.count()).group_by(
        IngestIssue.agency_code, IngestIssue.kind, IngestIssue.error_code
    )
    if agency_code is not None:
        events = events.where(FeedBatch.agency_code == agency_code)
        issues = issues.where(IngestIssue.agency_code == agency_code)
    for agency, n, last, late in (await session.execute(events)).all():
        row = counts.setdefault(agency, FeedCounts())
        row.events, row.last_received_at, row.out_of_order = int(n), last, int(late)
    for agency, kind, error_code, n in (await session.execute(issues)).all():
        row = counts.setdefault(agency, FeedCounts())
        if kind == "duplicate":
            row.duplicates += int(n)
        elif kind == "conflict":
            row.conflicts += int(n)
        else:
            row.rejected += int(n)
            if error_code == "unknown_status":
                row.unknown_status += int(n)
    return counts
