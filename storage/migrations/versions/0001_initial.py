"""Initial catalog: model, artifact, run, conversion, validation and the latest_status view.

Revision ID: 0001
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The latest attempt of a model is the one with the highest id (ids only grow).
LATEST_STATUS_VIEW = """
CREATE VIEW latest_status AS
SELECT m.id AS model_id, m.name, m.section, m.licence, m.synthetic_weights, m.removed,
       c.id AS conversion_id, COALESCE(c.status, 'pending') AS status,
       c.failed_stage, c.error_category, c.message, c.converter_version,
       c.tf_version, c.finished_at, c.duration_s, c.run_id
FROM model m
LEFT JOIN conversion c
  ON c.id = (SELECT MAX(c2.id) FROM conversion c2 WHERE c2.model_id = m.id)
"""


def upgrade() -> None:
    op.create_table(
        "model",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("section", sa.String(300), nullable=False),
        sa.Column("source_links", sa.JSON(), nullable=False),
        sa.Column("gist_id", sa.String(100), nullable=True),
        sa.Column("gist_revision", sa.String(100), nullable=True),
        sa.Column("licence", sa.String(200), nullable=True),
        sa.Column("synthetic_weights", sa.Boolean(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model"),
    )
    op.create_index("ix_model_name", "model", ["name"])
    op.create_index("ix_model_section", "model", ["section"])

    op.create_table(
        "artifact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha1", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("store_path", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(300), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name="fk_artifact_model_id_model"),
        sa.PrimaryKeyConstraint("id", name="pk_artifact"),
    )
    op.create_index("ix_artifact_model_id_kind", "artifact", ["model_id", "kind"])

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.String(100), nullable=True),
        sa.Column("catalog_revision", sa.String(100), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("n_new", sa.Integer(), nullable=False),
        sa.Column("n_changed", sa.Integer(), nullable=False),
        sa.Column("n_converted", sa.Integer(), nullable=False),
        sa.Column("n_failed", sa.Integer(), nullable=False),
        sa.Column("n_skipped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_run"),
    )
    op.create_index("ix_run_status", "run", ["status"])

    op.create_table(
        "conversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("input_sha256s", sa.JSON(), nullable=False),
        sa.Column("converter_version", sa.String(50), nullable=False),
        sa.Column("tf_version", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failed_stage", sa.String(20), nullable=True),
        sa.Column("error_category", sa.String(50), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("stage_timings", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("layer_type_counts", sa.JSON(), nullable=False),
        sa.Column("param_count", sa.BigInteger(), nullable=True),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("host", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["model.id"], name="fk_conversion_model_id_model"),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name="fk_conversion_run_id_run"),
        sa.PrimaryKeyConstraint("id", name="pk_conversion"),
    )
    op.create_index("ix_conversion_model_id_id", "conversion", ["model_id", "id"])
    op.create_index("ix_conversion_run_id", "conversion", ["run_id"])

    op.create_table(
        "validation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversion_id", sa.Integer(), nullable=False),
        sa.Column("sample", sa.String(300), nullable=False),
        sa.Column("output", sa.String(300), nullable=False),
        sa.Column("reference_runtime", sa.String(50), nullable=False),
        sa.Column("reference_version", sa.String(50), nullable=False),
        sa.Column("max_abs_error", sa.Float(), nullable=False),
        sa.Column("max_rel_error", sa.Float(), nullable=False),
        sa.Column("cosine_similarity", sa.Float(), nullable=False),
        sa.Column("top1_agree", sa.Boolean(), nullable=True),
        sa.Column("top5_overlap", sa.Float(), nullable=True),
        sa.Column("first_divergent_layer", sa.String(300), nullable=True),
        sa.Column("preprocessing", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversion_id"], ["conversion.id"], name="fk_validation_conversion_id_conversion"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_validation"),
    )
    op.create_index("ix_validation_conversion_id", "validation", ["conversion_id"])

    op.execute(LATEST_STATUS_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW latest_status")
    for table in ("validation", "conversion", "run", "artifact", "model"):
        op.drop_table(table)
