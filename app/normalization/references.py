"""Transaction reference numbers: a display form to show and a key to look up by.

Each agency stamps its own incoming/outgoing number, typed with any mix of separators,
cases and digit scripts; the key makes "mk-2026/١٢٣" and "MK 2026 123" the same lookup.
"""

from __future__ import annotations

from app.normalization.digits import to_ascii_digits
from app.normalization.errors import NormalizationError
from app.normalization.text import clean_text

MAX_REFERENCE_LENGTH = 64

# Latin separators, Arabic punctuation used as separators, the dash family, and tatweel
# (often typed as a visual dash in Arabic text).
SEPARATORS = frozenset(
    " -/\\_.,:"
    "\u060c"  # ، Arabic comma
    "\u060d"  # ؍ Arabic date separator
    "\u066b\u066c"  # ٫ ٬ Arabic decimal/thousands separators
    "\u06d4"  # ۔ Arabic full stop
    "\u0640"  # ـ tatweel
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphen, nb-hyphen, figure/en/em dash, bar, minus
    "\ufe58\ufe63\uff0d\uff0f"  # small em dash, small hyphen, fullwidth hyphen and solidus
)
_DROP_SEPARATORS = {ord(c): None for c in SEPARATORS}


def normalize_reference(raw: str) -> tuple[str, str]:
    """Return ``(key, display)`` for a reference number, or raise.

    ``display`` keeps what the agency wrote (cleaned, ASCII digits); ``key`` is upper-cased
    with every separator removed so lookups ignore formatting.
    """
    display = to_ascii_digits(clean_text(raw, max_length=MAX_REFERENCE_LENGTH, field="reference number"))
    key = display.upper().translate(_DROP_SEPARATORS)
    if not key:
        raise NormalizationError("invalid_reference", f"The reference number {display!r} has no letters or digits.")
    return key, display


def reference_key(raw: str) -> str:
    """Return only the lookup key, for searching by a reference the citizen typed."""
    return normalize_reference(raw)[0]
