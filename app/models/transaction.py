"""Transactions (case files) and the references each agency stamps on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigIntPK, UTCDateTime


class Transaction(Base):
    """The current, derived state of one case file; rebuilt from its events on every change."""

    __tablename__ = "transactions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    tracking_number: Mapped[str] = mapped_column(String(32), unique=True)
    transaction_type: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    applicant_name_key: Mapped[str | None] = mapped_column(String(200))
    national_id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    national_id_last4: Mapped[str | None] = mapped_column(String(4))
    mobile_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile_last4: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(32), index=True)
    holder_agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    origin_agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    search_text: Mapped[str] = mapped_column(Text, default="")
    """Normalized (and stemmed) title and public notes: the database backend's full-text input."""
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Grows with every applied event; Elasticsearch's external version."""

    references: Mapped[list[TransactionReference]] = relationship(
        back_populates="transaction", lazy="raise", order_by="TransactionReference.id"
    )


class TransactionReference(Base):
    """One agency's own number for a transaction; a transaction is found by any of them."""

    __tablename__ = "transaction_references"
    __table_args__ = (UniqueConstraint("agency_code", "reference_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    reference_key: Mapped[str] = mapped_column(String(64), index=True)
    reference_display: Mapped[str] = mapped_column(String(64))

    transaction: Mapped[Transaction] = relationship(back_populates="references", lazy="raise")
