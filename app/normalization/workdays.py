"""Saudi working-day arithmetic for expected dates and "delayed" flags.

The week runs Sunday to Thursday; Friday (4) and Saturday (5) are off, using
``date.weekday()`` numbering.  Holidays are passed in so this module stays pure.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date, timedelta

from app.normalization.errors import NormalizationError

SAUDI_WEEKEND: frozenset[int] = frozenset({4, 5})
_ONE_DAY = timedelta(days=1)


def _check_weekend(weekend: Set[int]) -> None:
    """Refuse a weekend without working days, which would make the loops below endless."""
    if not set(range(7)) - set(weekend):
        raise ValueError("the weekend cannot cover all seven days")


def is_working_day(d: date, holidays: Set[date], weekend: Set[int] = SAUDI_WEEKEND) -> bool:
    """Return True if ``d`` is neither a weekend day nor a holiday."""
    return d.weekday() not in weekend and d not in holidays


def add_working_days(start: date, n: int, holidays: Set[date], weekend: Set[int] = SAUDI_WEEKEND) -> date:
    """Return the ``n``-th working day after ``start`` (before it when ``n`` is negative).

    ``start`` itself is never counted, so Thursday + 1 is Sunday; ``n == 0`` returns
    ``start`` unchanged even if it is a day off.
    """
    _check_weekend(weekend)
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    current = start
    try:
        while remaining:
            current += step
            if is_working_day(current, holidays, weekend):
                remaining -= 1
    except OverflowError as exc:
        raise NormalizationError(
            "invalid_date", "The working-day calculation ran past the end of the calendar."
        ) from exc
    return current


def working_days_between(start: date, end: date, holidays: Set[date], weekend: Set[int] = SAUDI_WEEKEND) -> int:
    """Count working days ``d`` with ``start < d <= end``; negative when ``end`` is earlier.

    This is the inverse of :func:`add_working_days` for ``n >= 0``, so "days overdue" is
    ``working_days_between(due, today)``.  Whole weeks are counted arithmetically so long
    ranges stay cheap.
    """
    _check_weekend(weekend)
    if end < start:
        return -working_days_between(end, start, holidays, weekend)
    total_days = (end - start).days
    full_weeks, rest = divmod(total_days, 7)
    count = full_weeks * (7 - len(set(weekend) & set(range(7))))
    tail_start = start + timedelta(days=full_weeks * 7)
    count += sum(1 for i in range(1, rest + 1) if (tail_start + timedelta(days=i)).weekday() not in weekend)
    count -= sum(1 for h in holidays if start < h <= end and h.weekday() not in weekend)
    return count
