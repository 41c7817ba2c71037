"""Eastern digits become ASCII; nothing else changes."""

from hypothesis import given
from hypothesis import strategies as st

from app.normalization.digits import to_ascii_digits


def test_arabic_indic() -> None:
    assert to_ascii_digits("١٢٣") == "123"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"


def test_persian() -> None:
    assert to_ascii_digits("۱۲۳") == "123"
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"


def test_mixed_text_untouched_otherwise() -> None:
    assert to_ascii_digits("رقم ١٢ و ۳4 abc") == "رقم 12 و 34 abc"


@given(st.text(alphabet=st.characters(exclude_characters="٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")))
def test_identity_without_eastern_digits(s: str) -> None:
    assert to_ascii_digits(s) == s
