"""Pure views over a transaction's events: where it spent its time and when it should be done.

Expected completion counts Saudi working days (Friday and Saturday off, holidays from config)
from the day the transaction was opened: the per-type rule in config/transaction_types.yaml,
refined by the historical median of that agency and type when there is enough history.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from app.normalization.dates import RIYADH
from app.normalization.workdays import add_working_days, working_days_between
from app.transactions.state import TERMINAL_STATUSES, MovementEvent, chronological

MIN_HISTORY = 5


def holder_periods(events: Iterable[MovementEvent], *, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """(agency, from, until) for each stretch the file sat with one agency; ends at completion or now."""
    ordered = chronological(events)
    periods: list[tuple[str, datetime, datetime]] = []
    status: str | None = None
    holder: str | None = None
    since: datetime | None = None
    for event in ordered:
        if status in TERMINAL_STATUSES and not event.reopen:
            continue
        new_holder = event.to_agency or event.agency_code
        if holder is not None and since is not None and new_holder != holder:
            periods.append((holder, since, event.occurred_at))
            since = event.occurred_at
        if holder is None:
            since = event.occurred_at
        holder, status = new_holder, event.status
        if status in TERMINAL_STATUSES:
            periods.append((holder, since or event.occurred_at, event.occurred_at))
            holder, since = None, None
    if holder is not None and since is not None:
        periods.append((holder, since, max(now, since)))
    return periods


def days_per_agency(events: Iterable[MovementEvent], *, now: datetime) -> dict[str, float]:
    """Total days each agency held the transaction, in the order it first held it."""
    totals: dict[str, float] = {}
    for agency, start, end in holder_periods(events, now=now):
        totals[agency] = totals.get(agency, 0.0) + (end - start).total_seconds() / 86400
    return {agency: round(days, 2) for agency, days in totals.items()}


def riyadh_date(moment: datetime) -> date:
    return moment.astimezone(RIYADH).date()


def median_working_days(
    durations: Sequence[tuple[datetime, datetime]], *, holidays: frozenset[date], weekend: frozenset[int]
) -> int | None:
    """The median working days from opening to completion, or None with too little history."""
    if len(durations) < MIN_HISTORY:
        return None
    days = [working_days_between(riyadh_date(start), riyadh_date(end), holidays, weekend) for start, end in durations]
    return max(1, round(statistics.median(days)))


def expected_completion(
    *,
    created_at: datetime,
    due_at: datetime | None,
    rule_days: int | None,
    historical_days: int | None,
    holidays: frozenset[date],
    weekend: frozenset[int],
) -> date | None:
    """The agency's own due date when it gave one, else opening day plus the (refined) working days."""
    if due_at is not None:
        return riyadh_date(due_at)
    days = historical_days or rule_days
    if days is None:
        return None
    return add_working_days(riyadh_date(created_at), days, holidays, weekend)


def is_overdue(*, status: str, expected: date | None, today: date) -> bool:
    return status not in TERMINAL_STATUSES and expected is not None and today > expected
