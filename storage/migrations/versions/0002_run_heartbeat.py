"""Run heartbeats for stale-run detection, and an index to find open attempts fast.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable so that SQLite can add it in place: rebuilding `run` would break the
    # foreign keys of conversion rows pointing at it. Existing runs get their last sign
    # of life as heartbeat.
    op.add_column("run", sa.Column("heartbeat_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE run SET heartbeat_at = COALESCE(finished_at, started_at)")
    op.create_index("ix_conversion_status_run_id", "conversion", ["status", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_conversion_status_run_id", table_name="conversion")
    op.drop_column("run", "heartbeat_at")
