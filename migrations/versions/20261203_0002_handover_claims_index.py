"""handover claims index: find the handovers an agency claimed from a sender without scanning its events

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_status_events_handover", "status_events", ["from_agency", "agency_code"])


def downgrade() -> None:
    op.drop_index("ix_status_events_handover", table_name="status_events")
