"""feed batches: per-batch event counts, so the data-quality scorecard never scans every event

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feed_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("out_of_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_batches")),
    )
    op.create_index(op.f("ix_feed_batches_agency_code"), "feed_batches", ["agency_code"], unique=False)
    # What was ingested before this revision, as one batch per agency.
    op.execute(
        "INSERT INTO feed_batches (agency_code, at, events, out_of_order) "
        "SELECT agency_code, max(received_at), count(*), sum(CASE WHEN out_of_order THEN 1 ELSE 0 END) "
        "FROM status_events GROUP BY agency_code"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feed_batches_agency_code"), table_name="feed_batches")
    op.drop_table("feed_batches")
