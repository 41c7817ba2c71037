"""Reference numbers: display keeps the agency's form, key ignores formatting."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.normalization.errors import NormalizationError
from app.normalization.references import SEPARATORS, normalize_reference, reference_key


def test_example_from_brief() -> None:
    assert normalize_reference("MK-2026/١٢٣") == ("MK2026123", "MK-2026/123")


def test_lower_case_latin_upper_cased_display_kept() -> None:
    assert normalize_reference("  mk-2026 / 123 ") == ("MK2026123", "mk-2026 / 123")


def test_reference_key_same_as_pair() -> None:
    assert reference_key("mk_2026.123") == "MK2026123"
    assert reference_key("MK 2026 123") == reference_key("mk–2026—123") == "MK2026123"


def test_arabic_separators_and_letters() -> None:
    assert reference_key("ص/١٤٤٦، ٥٥") == "ص144655"
    assert reference_key("و ـ ٢٠") == "و20"


def test_persian_digits() -> None:
    assert reference_key("۱۲۳-A") == "123A"


def test_separators_only_is_invalid() -> None:
    with pytest.raises(NormalizationError) as exc:
        normalize_reference(" - / . ")
    assert exc.value.code == "invalid_reference"


def test_blank_is_empty() -> None:
    with pytest.raises(NormalizationError) as exc:
        normalize_reference("   ")
    assert exc.value.code == "empty"


def test_max_64() -> None:
    assert normalize_reference("A" * 64)[0] == "A" * 64
    with pytest.raises(NormalizationError) as exc:
        normalize_reference("A" * 65)
    assert exc.value.code == "too_long"


def test_bidi_marks_ignored() -> None:
    assert reference_key("\u200fMK-123\u200e") == "MK123"


_EASTERN = {str(i): (chr(0x0660 + i), chr(0x06F0 + i)) for i in range(10)}
_ref_chars = st.sampled_from("ABCDEFGHJKMNPQRSTUVWXYZabcxyz0123456789صوارد")
_seps = st.sampled_from(sorted(SEPARATORS))


@given(
    core=st.lists(_ref_chars, min_size=1, max_size=20),
    data=st.data(),
)
def test_key_invariant_under_separators_and_digit_forms(core: list[str], data: st.DataObject) -> None:
    plain = "".join(core)
    out = []
    for ch in core:
        if ch in _EASTERN:
            ch = data.draw(st.sampled_from([ch, *_EASTERN[ch]]))
        out.append(ch)
        out.extend(data.draw(st.lists(_seps, max_size=2)))
    variant = "".join(data.draw(st.lists(_seps, max_size=2))) + "".join(out)
    assert reference_key(variant) == reference_key(plain) == plain.upper()
