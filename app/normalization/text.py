"""Free-text cleaning so stored text is canonical, visible and bounded in length."""

from __future__ import annotations

import unicodedata

from app.normalization.errors import NormalizationError

# Bidi controls and zero-width characters are invisible, so two strings that look the same
# would compare different and could be used to spoof text; they are dropped outright.
BIDI_CONTROLS = frozenset(
    "\u200e\u200f\u061c" + "".join(chr(c) for c in range(0x202A, 0x202F)) + "\u2066\u2067\u2068\u2069"
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
INVISIBLE = BIDI_CONTROLS | ZERO_WIDTH

_DROP_INVISIBLE = {ord(c): None for c in INVISIBLE}
# Every control character (category Cc: C0, DEL and C1) becomes a space.
_CONTROLS_TO_SPACE = {cp: " " for cp in (*range(0x20), *range(0x7F, 0xA0))}


def strip_invisible(value: str) -> str:
    """Drop bidi controls and zero-width characters (shared with the other normalizers)."""
    return value.translate(_DROP_INVISIBLE)


def clean_text(value: str, *, max_length: int | None = None, field: str = "") -> str:
    """Return ``value`` as NFC text on one line with single spaces, or raise.

    Invisible characters are dropped *before* NFC so that removing them cannot create new
    compositions later, which keeps the function idempotent.  The length limit is checked
    on the cleaned text, because that is what gets stored.
    """
    name = field or "text"
    text = unicodedata.normalize("NFC", strip_invisible(value))
    text = text.translate(_CONTROLS_TO_SPACE)
    text = " ".join(text.split())
    if not text:
        raise NormalizationError("empty", f"The {name} is empty after removing spaces and invisible characters.")
    if max_length is not None and len(text) > max_length:
        raise NormalizationError(
            "too_long", f"The {name} is too long: {len(text)} characters, at most {max_length} allowed."
        )
    return text
