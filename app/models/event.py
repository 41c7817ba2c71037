"""Status events: the append-only record of what each agency said about a transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntPK, UTCDateTime, utcnow


class StatusEvent(Base):
    __tablename__ = "status_events"
    __table_args__ = (
        UniqueConstraint("agency_code", "event_id"),
        Index("ix_status_events_claims", "from_agency", "from_reference_key"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    event_id: Mapped[str] = mapped_column(String(128))
    reference_key: Mapped[str] = mapped_column(String(64))
    raw_status_code: Mapped[str] = mapped_column(String(64))
    raw_status_text: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    reopen: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sequence: Mapped[int | None] = mapped_column(Integer)
    from_agency: Mapped[str | None] = mapped_column(String(40))
    from_reference: Mapped[str | None] = mapped_column(String(64))
    from_reference_key: Mapped[str | None] = mapped_column(String(64))
    to_agency: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    note_visibility: Mapped[str] = mapped_column(String(10), default="public")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    out_of_order: Mapped[bool] = mapped_column(Boolean, default=False)
    payload_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="api")
    # Descriptive fields the event carried; the fold picks the earliest one given.
    transaction_type: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(500))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    national_id_hash: Mapped[str | None] = mapped_column(String(64))
    national_id_last4: Mapped[str | None] = mapped_column(String(4))
    mobile_hash: Mapped[str | None] = mapped_column(String(64))
    mobile_last4: Mapped[str | None] = mapped_column(String(4))
