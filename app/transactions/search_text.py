"""The normalized text the database search backend matches against, built with the shared normalizer."""

from __future__ import annotations

from collections.abc import Iterable

from app.normalization.arabic import searchable_text


def build_search_text(title: str | None, public_notes: Iterable[str]) -> str:
    """Title and public notes, normalized and lightly stemmed (names are indexed apart, unstemmed)."""
    parts = [title or "", *public_notes]
    return searchable_text(" ".join(p for p in parts if p), stem=True)
