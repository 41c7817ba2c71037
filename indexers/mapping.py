"""The transactions index: settings, mappings and the composable template, using core features only.

Why core only: the test and embedded distributions of Elasticsearch are minimal (no
``analysis-common`` module, so no ``arabic`` analyzer, custom normalizers, char filters or
edge n-grams; no ``mapper-extras``, so no ``match_only_text`` or ``rank_feature``). Instead,
Arabic normalization and light stemming happen in Python (``app.normalization.arabic``) before
indexing, and the search side normalizes queries with the same function. The ``*_norm`` fields
therefore hold already-normalized text and only need the built-in ``standard`` analyzer, so one
mapping behaves the same on a minimal node, a full cluster, and the SQL backend.

Prefix lookups on references use ``prefix`` queries on ``keyword`` fields rather than
``index_prefixes``/edge n-grams: keys are short and normalized, so this is cheap enough.
"""

from __future__ import annotations

from typing import Any

MAPPING_VERSION = 1
"""Bump when the mapping changes incompatibly; a rebuild then moves the alias to a fresh index."""

_KEYWORD: dict[str, Any] = {"type": "keyword"}
_DATE: dict[str, Any] = {"type": "date"}
_DISPLAY_ONLY: dict[str, Any] = {"type": "keyword", "index": False, "doc_values": False}
_TEXT: dict[str, Any] = {"type": "text", "analyzer": "standard"}


def index_settings(*, bulk_load: bool = False) -> dict[str, Any]:
    """Index settings; ``bulk_load`` turns refresh off for a rebuild (restored before the alias swap)."""
    settings: dict[str, Any] = {
        "number_of_shards": 1,
        # 0 on a single node (stays green), 1 as soon as a second node joins.
        "auto_expand_replicas": "0-1",
        "refresh_interval": "1s",
    }
    if bulk_load:
        settings.update({"refresh_interval": "-1", "auto_expand_replicas": False, "number_of_replicas": 0})
    return settings


def index_mappings() -> dict[str, Any]:
    """Strict mappings: a field the builder invents is refused (and dead-lettered), never guessed."""
    return {
        "dynamic": "strict",
        "_meta": {"mapping_version": MAPPING_VERSION},
        "properties": {
            "id": {"type": "long"},
            "tracking_number": _KEYWORD,
            "references": {
                "type": "nested",
                "properties": {"agency": _KEYWORD, "key": _KEYWORD, "display": _KEYWORD},
            },
            "reference_keys": _KEYWORD,
            "transaction_type": _KEYWORD,
            "title": _TEXT,
            "title_norm": _TEXT,
            "notes_norm": _TEXT,
            "applicant_name": _DISPLAY_ONLY,
            "applicant_name_norm": {**_TEXT, "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
            "national_id_hash": _KEYWORD,
            "national_id_last4": _DISPLAY_ONLY,
            "mobile_hash": _KEYWORD,
            "mobile_last4": _DISPLAY_ONLY,
            "status": _KEYWORD,
            "status_terminal": {"type": "boolean"},
            "holder_agency": _KEYWORD,
            "origin_agency": _KEYWORD,
            "agencies": _KEYWORD,
            "incoming_agencies": _KEYWORD,
            "outgoing_agencies": _KEYWORD,
            "sector": _KEYWORD,
            "sectors": _KEYWORD,
            "created_at": _DATE,
            "updated_at": _DATE,
            "due_at": _DATE,
            "completed_at": _DATE,
            "last_received_at": _DATE,
            "indexed_at": _DATE,
            "elapsed_days": {"type": "float"},
            "overdue": {"type": "boolean"},
            # Display-only structures: kept in _source, not indexed (no mapping explosion).
            "agency_durations": {"type": "object", "enabled": False},
            "timeline": {"type": "object", "enabled": False},
            "version": {"type": "long"},
        },
    }


def template_name(prefix: str) -> str:
    return f"{prefix}transactions-template"


def index_pattern(prefix: str) -> str:
    return f"{prefix}transactions-v*"


def index_name(prefix: str, version: int) -> str:
    return f"{prefix}transactions-v{version}"


def index_template(prefix: str) -> dict[str, Any]:
    """The composable template body: any ``<prefix>transactions-v*`` index gets our settings and mappings."""
    return {
        "index_patterns": [index_pattern(prefix)],
        # Above the built-in templates, so a broad pattern never shadows ours.
        "priority": 500,
        "template": {"settings": index_settings(), "mappings": index_mappings()},
        "_meta": {"description": "Unified Inquiry transactions", "mapping_version": MAPPING_VERSION},
    }
