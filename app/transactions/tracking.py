"""Human-friendly tracking numbers such as ``MK-2026-4F7K2Q-8``, with a check character.

Crockford's alphabet (no I, L, O, U) avoids misreading over the phone; the check character
(ISO 7064 MOD 37-36 style) catches a single mistyped character or swapped neighbours.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "MK"
_KEY = re.compile(rf"^{PREFIX}(\d{{4}})([{ALPHABET}]{{6}})([{ALPHABET}])$")


def check_character(body: str) -> str:
    """Weighted sum modulo 31 over the body's characters; position weights catch transpositions."""
    total = sum((i + 2) * ALPHABET.index(c) for i, c in enumerate(body))
    return ALPHABET[total % 31]


def new_tracking_number(year: int) -> str:
    # One read of the system's random source for the whole body, not one per character; 32 letters
    # divide 256, so each byte's low 5 bits pick a letter without bias.
    body = "".join(ALPHABET[b & 31] for b in secrets.token_bytes(6))
    return f"{PREFIX}-{year:04d}-{body}-{check_character(f'{year:04d}{body}')}"


def tracking_from_key(key: str) -> str | None:
    """The display tracking number for a normalized reference key, if it is a valid one."""
    match = _KEY.match(key)
    if not match:
        return None
    year, body, check = match.groups()
    if check_character(year + body) != check:
        return None
    return f"{PREFIX}-{year}-{body}-{check}"
