"""National ID / iqama validation, keyed hashing and masking."""

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.normalization.errors import NormalizationError
from app.normalization.identity import keyed_hash, last4, luhn_valid, mask, validate_national_id

VALID_IQAMA = "2000000006"  # 2 doubled = 4, + 6 = 10


def _error(raw: str) -> NormalizationError:
    with pytest.raises(NormalizationError) as exc:
        validate_national_id(raw)
    assert exc.value.code == "invalid_national_id"
    return exc.value


def test_valid_citizen() -> None:
    assert validate_national_id("1000000008") == "1000000008"


def test_valid_iqama() -> None:
    assert luhn_valid(VALID_IQAMA)
    assert validate_national_id(VALID_IQAMA) == VALID_IQAMA


def test_arabic_and_persian_digits_spaces_dashes() -> None:
    assert validate_national_id("١٠٠٠٠٠٠٠٠٨") == "1000000008"
    assert validate_national_id("۱۰۰۰۰۰۰۰۰۸") == "1000000008"
    assert validate_national_id(" 1000-000 008 ") == "1000000008"
    assert validate_national_id("\u200f1000000008\u200e") == "1000000008"


def test_check_digit_wrong() -> None:
    assert "check digit" in _error("1000000000").message


def test_wrong_first_digit() -> None:
    assert "start with 1" in _error("3000000004").message


@pytest.mark.parametrize("raw", ["100000000", "10000000080", "1"])
def test_wrong_length(raw: str) -> None:
    assert "10 digits" in _error(raw).message


@pytest.mark.parametrize("raw", ["", "   ", "10000000a8", "+1000000008"])
def test_not_digits(raw: str) -> None:
    _error(raw)


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


_ids = st.builds(
    lambda first, rest: _with_check_digit(first + rest),
    st.sampled_from("12"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@given(_ids)
def test_generated_valid_ids_pass(nid: str) -> None:
    assert validate_national_id(nid) == nid


@given(_ids, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_single_changed_digit_fails(nid: str, pos: int, delta: int) -> None:
    changed = nid[:pos] + str((int(nid[pos]) + delta) % 10) + nid[pos + 1 :]
    with pytest.raises(NormalizationError):
        validate_national_id(changed)


def test_keyed_hash() -> None:
    expected = hmac.new(b"s3cret", b"1000000008", hashlib.sha256).hexdigest()
    assert keyed_hash("1000000008", "s3cret") == expected
    assert len(expected) == 64
    assert keyed_hash("1000000008", "other") != expected
    with pytest.raises(ValueError):
        keyed_hash("1000000008", "")


def test_last4_and_mask() -> None:
    assert last4("1000000008") == "0008"
    assert mask("1000000008") == "******0008"
    assert mask("+966512345678") == "*********5678"
    assert mask("123") == "***"
