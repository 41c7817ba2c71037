"""handover claim keys: store the normalized sender reference so a referral finds its claims exactly

The previous index (from_agency, agency_code) still made every referral read all the claims its
receiver ever made on the sender, a scan that grows with history. Claims are now looked up by
(from_agency, from_reference_key).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.normalization.errors import NormalizationError
from app.normalization.references import reference_key

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_CHUNK = 5000


def upgrade() -> None:
    op.add_column("status_events", sa.Column("from_reference_key", sa.String(64), nullable=True))
    connection = op.get_bind()
    events = sa.table(
        "status_events",
        sa.column("id", sa.BigInteger),
        sa.column("from_reference", sa.String),
        sa.column("from_reference_key", sa.String),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.from_reference)
            .where(events.c.id > last_id, events.c.from_reference.is_not(None))
            .order_by(events.c.id)
            .limit(BACKFILL_CHUNK)
        ).all()
        if not rows:
            break
        keys = []
        for event_id, display in rows:
            try:
                keys.append({"event_id": event_id, "key": reference_key(display)})
            except NormalizationError:
                continue
        if keys:
            connection.execute(
                events.update()
                .where(events.c.id == sa.bindparam("event_id"))
                .values(from_reference_key=sa.bindparam("key")),
                keys,
            )
        last_id = rows[-1][0]
    op.drop_index("ix_status_events_handover", table_name="status_events")
    op.create_index("ix_status_events_claims", "status_events", ["from_agency", "from_reference_key"])


def downgrade() -> None:
    op.drop_index("ix_status_events_claims", table_name="status_events")
    op.create_index("ix_status_events_handover", "status_events", ["from_agency", "agency_code"])
    op.drop_column("status_events", "from_reference_key")
