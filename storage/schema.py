"""The catalog's tables as SQLAlchemy 2.x ORM classes.

This module is the schema the code expects; `storage/migrations` must produce exactly
this (the tests compare them with Alembic's autogenerate). Change both together.
Times are stored as naive UTC (`UTCDateTime`) so SQLite and PostgreSQL compare alike.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Model(Base):
    __tablename__ = "model"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    section: Mapped[str] = mapped_column(String(300), default="", index=True)
    source_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    gist_id: Mapped[str | None] = mapped_column(String(100))
    gist_revision: Mapped[str | None] = mapped_column(String(100))
    licence: Mapped[str | None] = mapped_column(String(200))
    synthetic_weights: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)


class Artifact(Base):
    """One row per distinct fetch result of (model, kind, url); a refetch with the same
    content and status only refreshes `fetched_at`, so the table keeps changes, not nights."""

    __tablename__ = "artifact"
    __table_args__ = (Index("ix_artifact_model_id_kind", "model_id", "kind"),
                      Index("ix_artifact_sha1", "sha1"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("model.id"))
    kind: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    store_path: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))


class Run(Base):
    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(100))
    catalog_revision: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Added by revision 0002 (nullable there); the stale-run detector reads it.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    n_new: Mapped[int] = mapped_column(Integer, default=0)
    n_changed: Mapped[int] = mapped_column(Integer, default=0)
    n_converted: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    n_skipped: Mapped[int] = mapped_column(Integer, default=0)


class Conversion(Base):
    """One row per conversion attempt; rows are never deleted."""

    __tablename__ = "conversion"
    __table_args__ = (
        # "Latest attempt per model" is max(id) per model: this index answers it.
        Index("ix_conversion_model_id_id", "model_id", "id"),
        Index("ix_conversion_status_run_id", "status", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("model.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    input_sha256s: Mapped[list[str]] = mapped_column(JSON)
    converter_version: Mapped[str] = mapped_column(String(50))
    tf_version: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20))
    failed_stage: Mapped[str | None] = mapped_column(String(20))
    error_category: Mapped[str | None] = mapped_column(String(50))
    message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    stage_timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    outputs: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    layer_type_counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    param_count: Mapped[int | None] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    host: Mapped[str | None] = mapped_column(String(200))
    # The catalog entry's identity when the attempt was planned (zoo2tf.pipeline.plan).
    catalog_fingerprint: Mapped[str | None] = mapped_column(String(64))


class Validation(Base):
    """One row per (attempt, sample input, model output)."""

    __tablename__ = "validation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversion_id: Mapped[int] = mapped_column(ForeignKey("conversion.id"), index=True)
    sample: Mapped[str] = mapped_column(String(300))
    output: Mapped[str] = mapped_column(String(300))
    reference_runtime: Mapped[str] = mapped_column(String(50))
    reference_version: Mapped[str] = mapped_column(String(50))
    max_abs_error: Mapped[float] = mapped_column(Float)
    max_rel_error: Mapped[float] = mapped_column(Float)
    cosine_similarity: Mapped[float] = mapped_column(Float)
    top1_agree: Mapped[bool | None] = mapped_column(Boolean)
    top5_overlap: Mapped[float | None] = mapped_column(Float)
    first_divergent_layer: Mapped[str | None] = mapped_column(String(300))
    preprocessing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    passed: Mapped[bool] = mapped_column(Boolean)
