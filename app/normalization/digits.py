"""Eastern digit conversion, because citizens type Arabic-Indic or Persian digits freely."""

from __future__ import annotations

_ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"  # U+0660..U+0669
_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0..U+06F9 (also used in Urdu)

_TABLE = str.maketrans(_ARABIC_INDIC + _PERSIAN, "0123456789" * 2)


def to_ascii_digits(s: str) -> str:
    """Replace Arabic-Indic and Persian/Urdu digits with ASCII 0-9 so numbers compare equal."""
    return s.translate(_TABLE)
