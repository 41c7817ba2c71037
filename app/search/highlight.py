"""Highlights computed from the stored text with the shared normalizer, identically for both backends.

Only title and public notes are ever highlighted; names and identity numbers are not, so a
highlight can never reveal more than the masked fields show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from html import escape

from app.normalization.arabic import light_stem, normalize_arabic
from app.search.types import TextQuery

_WORDS = re.compile(r"(\s+)")


def highlight(text: str | None, query: TextQuery | None) -> str | None:
    """``text`` HTML-escaped with ``<mark>`` around words whose stem the query has; None if none match."""
    if not text or query is None or not query.stems:
        return None
    stems = set(query.stems)
    marked = False
    out: list[str] = []
    for part in _WORDS.split(text):
        if not part or part.isspace():
            out.append(part)
            continue
        hit = not stems.isdisjoint(_word_stems(part))
        marked = marked or hit
        out.append(f"<mark>{escape(part)}</mark>" if hit else escape(part))
    return "".join(out) if marked else None


@lru_cache(maxsize=16384)
def _word_stems(word: str) -> tuple[str, ...]:
    """The stems a written word searches as; cached, since result pages repeat the same vocabulary."""
    return tuple(light_stem(t) for t in normalize_arabic(word).split())


def highlight_all(texts: Iterable[str], query: TextQuery | None) -> list[str]:
    return [h for h in (highlight(t, query) for t in texts) if h is not None]
