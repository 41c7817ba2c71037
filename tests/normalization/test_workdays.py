"""Saudi working days: Sunday to Thursday, holidays skipped."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.normalization.workdays import add_working_days, is_working_day, working_days_between

NONE: frozenset[date] = frozenset()
THU = date(2025, 3, 6)
FRI, SAT, SUN = date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9)


def test_weekend() -> None:
    assert THU.weekday() == 3
    assert is_working_day(THU, NONE)
    assert not is_working_day(FRI, NONE)
    assert not is_working_day(SAT, NONE)
    assert is_working_day(SUN, NONE)


def test_holiday() -> None:
    assert not is_working_day(SUN, frozenset({SUN}))


def test_thursday_plus_one_is_sunday() -> None:
    assert add_working_days(THU, 1, NONE) == SUN


def test_holidays_skipped() -> None:
    eid = frozenset({SUN, SUN + timedelta(days=1)})
    assert add_working_days(THU, 1, eid) == date(2025, 3, 11)


def test_zero_and_negative() -> None:
    assert add_working_days(FRI, 0, NONE) == FRI
    assert add_working_days(SUN, -1, NONE) == THU


def test_custom_weekend() -> None:
    assert add_working_days(THU, 1, NONE, weekend=frozenset({4})) == SAT


def test_all_week_weekend_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(THU, 1, NONE, weekend=frozenset(range(7)))


def test_between() -> None:
    assert working_days_between(THU, SUN, NONE) == 1
    assert working_days_between(THU, THU, NONE) == 0
    assert working_days_between(SUN, THU + timedelta(days=7), NONE) == 4
    assert working_days_between(SUN, THU, NONE) == -1
    assert working_days_between(THU, SUN, frozenset({SUN})) == 0
    assert working_days_between(date(2025, 1, 1), date(2025, 12, 31), NONE) == 260


_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1))
_holidays = st.frozensets(_dates, max_size=20)


@given(_dates, st.integers(min_value=0, max_value=400), _holidays)
def test_between_inverts_add(start: date, n: int, holidays: frozenset[date]) -> None:
    end = add_working_days(start, n, holidays)
    assert is_working_day(end, holidays) or n == 0
    assert working_days_between(start, end, holidays) == n


@given(_dates, _dates, _holidays)
def test_between_matches_day_by_day_count(a: date, b: date, holidays: frozenset[date]) -> None:
    lo, hi = min(a, b), max(a, b)
    if (hi - lo).days > 800:
        hi = lo + timedelta(days=800)
    brute = sum(is_working_day(lo + timedelta(days=i), holidays) for i in range(1, (hi - lo).days + 1))
    assert working_days_between(lo, hi, holidays) == brute
    assert working_days_between(hi, lo, holidays) == -brute
