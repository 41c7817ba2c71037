"""The mapped tables as Core tables, for hot paths that read or write plain rows without ORM instances."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from app.models.audit import TransactionView
from app.models.event import StatusEvent
from app.models.outbox import OutboxEntry
from app.models.transaction import Transaction, TransactionReference

TRANSACTIONS = cast(Table, Transaction.__table__)
REFERENCES = cast(Table, TransactionReference.__table__)
EVENTS = cast(Table, StatusEvent.__table__)
VIEWS = cast(Table, TransactionView.__table__)
OUTBOX = cast(Table, OutboxEntry.__table__)

FILE_ROWS = (EVENTS, REFERENCES, VIEWS)
"""Every table whose rows belong to one transaction's file: what merging two files moves."""
