"""The one Arabic search normalizer shared by the Elasticsearch and SQL search backends.

Both backends index ``searchable_text(...)`` and query with the same function, so a
citizen typing "ابراهيم" finds "إبراهيم" whichever backend answers.  The rules follow
Lucene's ArabicNormalizer and ArabicStemmer (light stemming after Larkey et al.), so the
SQL backend behaves like an Elasticsearch ``arabic`` analyzer.  Index the output with a
plain whitespace analyzer: analysing it again would stem twice.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from app.normalization.digits import to_ascii_digits
from app.normalization.text import INVISIBLE

TATWEEL = "\u0640"
ALEF = "\u0627"

# Harakat and other marks that do not change which word it is.
_MARK_RANGES = ((0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06ED))
_DROPPED = {ord(c): None for c in INVISIBLE} | {ord(TATWEEL): None}
for _lo, _hi in _MARK_RANGES:
    _DROPPED.update({cp: None for cp in range(_lo, _hi + 1)})

_LETTERS = str.maketrans(
    {
        "\u0623": ALEF,  # أ
        "\u0625": ALEF,  # إ
        "\u0622": ALEF,  # آ
        "\u0671": ALEF,  # ٱ alef wasla
        "\u0672": ALEF,  # ٲ wavy hamza above
        "\u0673": ALEF,  # ٳ wavy hamza below
        "\u0649": "\u064a",  # ى → ي
        "\u06cc": "\u064a",  # Persian ی → ي
        "\u0629": "\u0647",  # ة → ه
        "\u06a9": "\u0643",  # Persian ک → ك
    }
)

# Lucene ArabicStemmer order matters: the first matching prefix wins; suffixes are tried once each in order.
PREFIXES = ("ال", "وال", "بال", "كال", "فال", "لل", "و")
SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي")


# Arabic presentation forms (ligatures, contextual shapes) come from old PDFs and OCR.
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


def _compatibility_form(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKC", match.group())


class _Separators(dict[int, str]):
    """A ``str.translate`` table, filled as characters are met: punctuation, symbols, controls and
    other format characters separate words, everything else stays. Memoized because this runs on
    every word indexed and searched; only the Basic Multilingual Plane is kept, so it stays small."""

    def __missing__(self, codepoint: int) -> str:
        ch = chr(codepoint)
        cat = unicodedata.category(ch)
        out = " " if ch != " " and (cat[0] in "PSZ" or cat in ("Cc", "Cf")) else ch
        if codepoint < 0x10000:
            self[codepoint] = out
        return out


_SEPARATORS = _Separators()


def normalize_arabic(text: str) -> str:
    """Return the canonical search form of ``text``; idempotent by construction.

    Invisible characters and marks are removed before composing (NFC) so removing them
    cannot enable new compositions on a second pass; Latin is case-folded; Eastern digits
    become ASCII; punctuation becomes space; whitespace collapses to single spaces.
    NFC rather than NFKC, so compatibility characters such as "²" are not rewritten;
    only Arabic presentation forms are decomposed.
    """
    s = _PRESENTATION_FORMS.sub(_compatibility_form, text)
    s = unicodedata.normalize("NFC", s.translate(_DROPPED))
    s = unicodedata.normalize("NFC", s.casefold())
    s = to_ascii_digits(s.translate(_LETTERS)).translate(_SEPARATORS)
    return " ".join(s.split())


def _starts_with_check_length(word: str, prefix: str) -> bool:
    """Lucene's rule: "و" needs a word of 4+ letters, other prefixes must leave 2+ letters."""
    n = len(word)
    if len(prefix) == 1 and n < 4:
        return False
    if n < len(prefix) + 2:
        return False
    return word.startswith(prefix)


def _ends_with_check_length(word: str, suffix: str) -> bool:
    """Lucene's rule: a suffix is removed only if at least 2 letters remain."""
    return len(word) >= len(suffix) + 2 and word.endswith(suffix)


@lru_cache(maxsize=65536)
def light_stem(token: str) -> str:
    """Strip one article/conjunction prefix, then each listed suffix once, as Lucene does.

    Cached: a language's working vocabulary is small, and ingestion stems the same words all day.

    Expects a token already passed through :func:`normalize_arabic`.
    """
    for prefix in PREFIXES:
        if _starts_with_check_length(token, prefix):
            token = token[len(prefix) :]
            break
    for suffix in SUFFIXES:
        if _ends_with_check_length(token, suffix):
            token = token[: -len(suffix)]
    return token


def search_tokens(text: str, *, stem: bool) -> list[str]:
    """Return the normalized (optionally stemmed) tokens, identical at index and query time."""
    tokens = normalize_arabic(text).split()
    return [light_stem(t) for t in tokens] if stem else tokens


@lru_cache(maxsize=16384)
def searchable_text(text: str, *, stem: bool = True) -> str:
    """Return the indexed form of free text (subjects): normalized, stemmed, space-joined.

    Cached: every event of a transaction refolds it and re-derives the same title and notes.

    Apply it to raw text on both sides; it is not idempotent when stemming, by design of
    the stemmer, so never feed it its own output.
    """
    return " ".join(search_tokens(text, stem=stem))


def name_key(text: str) -> str:
    """Return the comparison form of a person's or agency's name: normalized, not stemmed.

    Names are not stemmed because stripping "ال" or "ي" from names merges different people.
    """
    return normalize_arabic(text)
