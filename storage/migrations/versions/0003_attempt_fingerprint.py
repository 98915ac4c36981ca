"""Catalog fingerprint per attempt (what the planner compares night to night), and an
index to find an artifact by its sha1 (the readme's identity of a caffemodel).

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversion", sa.Column("catalog_fingerprint", sa.String(64), nullable=True))
    op.create_index("ix_artifact_sha1", "artifact", ["sha1"])


def downgrade() -> None:
    op.drop_index("ix_artifact_sha1", table_name="artifact")
    op.drop_column("conversion", "catalog_fingerprint")
