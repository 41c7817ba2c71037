"""Saudi national ID / iqama numbers, and the keyed hashes stored instead of them."""

from __future__ import annotations

import hashlib
import hmac

from app.normalization.digits import to_ascii_digits
from app.normalization.errors import NormalizationError
from app.normalization.text import strip_invisible

_DROP_SPACING = {ord(c): None for c in " \t\u00a0-\u2010\u2011\u2012\u2013\u2014\u2212"}


def _luhn_sum(digits: str, *, doubled_parity: int) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == doubled_parity:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total


def luhn_valid(digits: str) -> bool:
    """Return True if the ASCII digit string passes the Luhn check (the ID's last digit)."""
    return _luhn_sum(digits, doubled_parity=1) % 10 == 0


def luhn_complete(body: str) -> str:
    """``body`` followed by the check digit that makes it pass (used to generate valid demo IDs)."""
    return body + str((10 - _luhn_sum(body, doubled_parity=0) % 10) % 10)


def validate_national_id(raw: str) -> str:
    """Return the 10-digit ID, or raise with a message saying exactly what is wrong.

    Citizens' IDs start with 1 and residents' iqamas with 2; the last digit is a Luhn check
    digit, which catches most typing mistakes before we search for a person.
    """
    value = strip_invisible(to_ascii_digits(raw)).strip().translate(_DROP_SPACING)
    if not value:
        raise NormalizationError("invalid_national_id", "The national ID / iqama number is empty.")
    if not (value.isascii() and value.isdigit()):
        raise NormalizationError("invalid_national_id", "The national ID / iqama number must contain digits only.")
    if len(value) != 10:
        raise NormalizationError(
            "invalid_national_id",
            f"The national ID / iqama number must be exactly 10 digits, got {len(value)}.",
        )
    if value[0] not in "12":
        raise NormalizationError(
            "invalid_national_id",
            "The national ID must start with 1 (citizen) or 2 (resident iqama).",
        )
    if not luhn_valid(value):
        raise NormalizationError(
            "invalid_national_id",
            "The national ID / iqama number is not valid: its check digit does not match "
            "(please check for a typing mistake).",
        )
    return value


def keyed_hash(value: str, secret: str) -> str:
    """Return HMAC-SHA256 hex of ``value``: a lookup key that is useless without the secret.

    A plain hash of a 10-digit ID can be brute-forced in seconds, hence the keyed hash.
    """
    if not secret:
        raise ValueError("keyed_hash needs a non-empty secret")
    return hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def last4(value: str) -> str:
    """Return the last four characters, kept so citizens can recognise their own number."""
    return value[-4:]


def mask(value: str) -> str:
    """Return ``value`` with all but the last four characters starred, e.g. ``******0008``.

    Values of four characters or fewer are starred completely so nothing leaks.
    """
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
