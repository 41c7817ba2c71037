"""clean_text: NFC, invisible characters removed, whitespace collapsed, limits enforced."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.normalization.errors import NormalizationError
from app.normalization.text import INVISIBLE, clean_text


def test_nfc() -> None:
    assert clean_text("e\u0301") == "\u00e9"


@pytest.mark.parametrize("ch", sorted(INVISIBLE))
def test_each_invisible_removed(ch: str) -> None:
    assert clean_text(f"مكة{ch}المكرمة") == "مكةالمكرمة"


def test_all_bidi_controls_listed() -> None:
    expected = {0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    expected |= {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}
    assert {ord(c) for c in INVISIBLE} == expected


def test_controls_become_space_and_whitespace_collapses() -> None:
    assert clean_text("  a\tb\n\nc\x00d\u00a0\u3000e  ") == "a b c d e"


def test_strip() -> None:
    assert clean_text("\n  طلب  \r\n") == "طلب"


@pytest.mark.parametrize("value", ["", "   ", "\u200f\u200e", "\t\n", "\ufeff "])
def test_empty(value: str) -> None:
    with pytest.raises(NormalizationError) as exc:
        clean_text(value, field="subject")
    assert exc.value.code == "empty"
    assert "subject" in exc.value.message


def test_too_long_names_limit() -> None:
    with pytest.raises(NormalizationError) as exc:
        clean_text("abcdef", max_length=5, field="subject")
    assert exc.value.code == "too_long"
    assert "5" in exc.value.message and "subject" in exc.value.message


def test_length_checked_after_normalization() -> None:
    # 5 visible characters padded with whitespace and invisibles, and a decomposed é.
    assert clean_text("  ab\u200bc   d  e\u0301 ", max_length=7) == "abc d \u00e9"
    assert clean_text("abcd" + "\u200f" * 50, max_length=4) == "abcd"


@given(st.text())
def test_idempotent_and_no_invisibles(s: str) -> None:
    try:
        once = clean_text(s)
    except NormalizationError as exc:
        assert exc.code == "empty"
        return
    assert clean_text(once) == once
    assert not set(once) & INVISIBLE
    assert unicodedata.is_normalized("NFC", once)
    assert once == once.strip() and "  " not in once
