"""Audit trail of staff access, ingestion issues for the data-quality scorecard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntPK, UTCDateTime, utcnow


class AuditEntry(Base):
    """Who searched or viewed what; written in the request's own transaction, so no audit means no answer."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_code: Mapped[str | None] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    query_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    result_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)


class TransactionView(Base):
    """Access transparency: which agency's staff opened a transaction, shown to its applicant."""

    __tablename__ = "transaction_views"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(BigInteger, index=True)
    agency_code: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IngestIssue(Base):
    """A rejected, duplicate or conflicting item, counted per agency for the scorecard."""

    __tablename__ = "ingest_issues"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str] = mapped_column(String(60), default="")
    field: Mapped[str] = mapped_column(String(100), default="")
    message: Mapped[str] = mapped_column(Text, default="")


class FeedBatch(Base):
    """What one accepted batch added for an agency: the scorecard sums these instead of scanning every event."""

    __tablename__ = "feed_batches"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    events: Mapped[int] = mapped_column(Integer)
    out_of_order: Mapped[int] = mapped_column(Integer, default=0)
