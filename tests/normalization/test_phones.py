"""Mobile numbers normalize to E.164; landlines and garbage are refused."""

import pytest

from app.normalization.errors import NormalizationError
from app.normalization.phones import normalize_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "0512345678",
        "512345678",
        "+966512345678",
        "00966512345678",
        "966512345678",
        "05 1234 5678",
        "051-234-5678",
        "+966 51 234 5678",
        "(051) 234-5678",
        "٠٥١٢٣٤٥٦٧٨",
        "۰۵۱۲۳۴۵۶۷۸",
        "\u200f+٩٦٦٥١٢٣٤٥٦٧٨\u200e",
    ],
)
def test_saudi_mobile_forms(raw: str) -> None:
    assert normalize_mobile(raw) == "+966512345678"


def test_foreign_mobile_with_plus() -> None:
    assert normalize_mobile("+447911123456") == "+447911123456"
    assert normalize_mobile("+20 100 123 4567") == "+201001234567"


@pytest.mark.parametrize(
    "raw",
    [
        "0126543210",  # Makkah landline
        "+966126543210",
        "",
        "   ",
        "abc",
        "05abcdefgh",
        "0512345",  # too short
        "05123456789",  # too long
        "1-800-FLOWERS",
        "+",
        "9" * 40,
    ],
)
def test_rejected(raw: str) -> None:
    with pytest.raises(NormalizationError) as exc:
        normalize_mobile(raw)
    assert exc.value.code == "invalid_mobile"
    assert "mobile" in exc.value.message
