"""Reference catalog: agencies, canonical statuses, raw-code profiles, transaction types, holidays.

Everything is read from ``config/`` and validated once; use :func:`get_catalog` in application code.
"""

from app.catalog.loader import (
    CANONICAL_STATUS_CODES,
    EVENT_FIELDS,
    Agency,
    Catalog,
    CatalogError,
    Governorate,
    Holiday,
    ImportSpec,
    Sector,
    Status,
    StatusMapping,
    StatusProfile,
    TransactionType,
    default_config_dir,
    get_catalog,
    load_catalog,
    normalize_raw_code,
)

__all__ = [
    "CANONICAL_STATUS_CODES",
    "EVENT_FIELDS",
    "Agency",
    "Catalog",
    "CatalogError",
    "Governorate",
    "Holiday",
    "ImportSpec",
    "Sector",
    "Status",
    "StatusMapping",
    "StatusProfile",
    "TransactionType",
    "default_config_dir",
    "get_catalog",
    "load_catalog",
    "normalize_raw_code",
]
