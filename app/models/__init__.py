"""SQLAlchemy models; importing this package registers every table on ``Base.metadata``."""

from app.models.agency import Agency
from app.models.audit import AuditEntry, FeedBatch, IngestIssue, TransactionView
from app.models.auth import ApiKey, StaffToken, StaffUser
from app.models.base import Base
from app.models.event import StatusEvent
from app.models.outbox import DeadLetter, OutboxEntry
from app.models.transaction import Transaction, TransactionReference

__all__ = [
    "Agency",
    "ApiKey",
    "AuditEntry",
    "Base",
    "DeadLetter",
    "FeedBatch",
    "IngestIssue",
    "OutboxEntry",
    "StaffToken",
    "StaffUser",
    "StatusEvent",
    "Transaction",
    "TransactionReference",
    "TransactionView",
]
