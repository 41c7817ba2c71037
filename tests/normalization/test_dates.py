"""Event times, due dates and Umm al-Qura Hijri conversion."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.normalization.dates import (
    GREGORIAN_MAX,
    GREGORIAN_MIN,
    RIYADH,
    hijri_month_name_ar,
    hijri_to_gregorian,
    parse_date_value,
    parse_event_time,
    to_hijri_string,
)
from app.normalization.errors import NormalizationError

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _code(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(NormalizationError) as exc:
        fn(*args, **kwargs)  # type: ignore[operator]
    return exc.value.code


def test_offset_kept_as_instant() -> None:
    dt = parse_event_time("2025-03-01T10:30:00+05:00", now=NOW)
    assert dt == datetime(2025, 3, 1, 5, 30, tzinfo=UTC)
    assert dt.utcoffset() == timedelta(0)


def test_z_suffix() -> None:
    assert parse_event_time("2025-03-01T10:30:00Z", now=NOW) == datetime(2025, 3, 1, 10, 30, tzinfo=UTC)


def test_naive_is_riyadh() -> None:
    assert parse_event_time("2025-03-01T10:30:00", now=NOW) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    assert parse_event_time("2025-03-01 10:30", now=NOW) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    assert datetime(2025, 3, 1, tzinfo=RIYADH).utcoffset() == timedelta(hours=3)


def test_datetime_objects() -> None:
    assert parse_event_time(datetime(2025, 3, 1, 10, 30), now=NOW) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    aware = datetime(2025, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_event_time(aware, now=NOW) == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def test_eastern_digits() -> None:
    assert parse_event_time("٢٠٢٥-٠٣-٠١T١٠:٣٠:٠٠+٠٣:٠٠", now=NOW) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)


def test_hijri_with_time() -> None:
    assert parse_event_time({"hijri": "1446-09-01T10:30"}, now=NOW) == datetime(2025, 3, 1, 7, 30, tzinfo=UTC)
    assert parse_event_time({"hijri": "١٤٤٦-٠٩-١٥T10:30:15"}, now=NOW) == datetime(2025, 3, 15, 7, 30, 15, tzinfo=UTC)


def test_event_needs_time() -> None:
    assert _code(parse_event_time, "2025-03-01", now=NOW) == "invalid_date"
    assert _code(parse_event_time, {"hijri": "1446-09-01"}, now=NOW) == "invalid_date"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2025-13-01T10:00",
        "2025-02-30T10:00",
        {"hijri": "1446-13-01T10:00"},
        {"hijri": "1446-09-31T10:00"},
        {"hijri": "1446-09-01T25:00"},
        {"hijri": "not a date"},
        {"hijri": 1446},
        {"gregorian": "2025-03-01"},
        {"hijri": "1446-09-01T10:00", "extra": 1},
        "0001-01-01T00:00:00",
    ],
)
def test_invalid(value: object) -> None:
    assert _code(parse_event_time, value, now=NOW) == "invalid_date"


def test_hijri_year_out_of_range() -> None:
    assert _code(parse_event_time, {"hijri": "1200-01-01T10:00"}, now=NOW) == "hijri_out_of_range"
    assert _code(hijri_to_gregorian, "1501-01-01") == "hijri_out_of_range"


def test_future() -> None:
    assert _code(parse_event_time, NOW + timedelta(minutes=6), now=NOW) == "date_in_future"
    assert parse_event_time(NOW + timedelta(minutes=4), now=NOW) == NOW + timedelta(minutes=4)
    later = NOW + timedelta(days=30)
    assert parse_event_time(later, now=NOW, allow_future=True) == later


def test_future_default_now_is_real_clock() -> None:
    assert _code(parse_event_time, "2999-01-01T00:00:00+00:00") == "date_in_future"


def test_field_in_message() -> None:
    with pytest.raises(NormalizationError) as exc:
        parse_event_time("nope", field="received_at", now=NOW)
    assert "received_at" in exc.value.message


def test_parse_date_value() -> None:
    assert parse_date_value("2030-01-15") == date(2030, 1, 15)
    assert parse_date_value("٢٠٣٠-٠١-١٥") == date(2030, 1, 15)
    assert parse_date_value({"hijri": "1446-09-01"}) == date(2025, 3, 1)
    assert parse_date_value(date(2030, 1, 15)) == date(2030, 1, 15)
    # 22:30 UTC is already the next day in Riyadh.
    assert parse_date_value("2030-01-15T22:30:00Z") == date(2030, 1, 16)
    assert parse_date_value(datetime(2030, 1, 15, 22, 30, tzinfo=UTC)) == date(2030, 1, 16)
    assert _code(parse_date_value, "2030-02-30") == "invalid_date"
    assert _code(parse_date_value, {"hijri": "1446-13-01"}) == "invalid_date"


def test_hijri_conversions() -> None:
    assert hijri_to_gregorian("1446-09-01") == date(2025, 3, 1)
    assert hijri_to_gregorian("١٤٤٦/٠٩/٠١") == date(2025, 3, 1)
    assert to_hijri_string(date(2025, 3, 1)) == "1446-09-01"
    # 2025-02-28 22:00 UTC is 2025-03-01 01:00 in Riyadh.
    assert to_hijri_string(datetime(2025, 2, 28, 22, 0, tzinfo=UTC)) == "1446-09-01"
    assert to_hijri_string(datetime(2025, 3, 1, 1, 0)) == "1446-09-01"
    assert _code(hijri_to_gregorian, "1446-13-01") == "invalid_date"
    assert _code(hijri_to_gregorian, "1446-09") == "invalid_date"
    assert _code(to_hijri_string, date(1900, 1, 1)) == "hijri_out_of_range"


def test_month_names() -> None:
    assert hijri_month_name_ar(9) == "رمضان"
    assert hijri_month_name_ar(12) == "ذو الحجة"
    assert _code(hijri_month_name_ar, 13) == "invalid_date"


def test_supported_range_covers_brief() -> None:
    assert date(1937, 1, 1) >= GREGORIAN_MIN
    assert date(2076, 12, 31) <= GREGORIAN_MAX


@given(st.dates(min_value=GREGORIAN_MIN, max_value=GREGORIAN_MAX))
def test_hijri_round_trip(d: date) -> None:
    assert hijri_to_gregorian(to_hijri_string(d)) == d
