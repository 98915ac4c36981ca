"""Migrations: from an empty database and from the previous revision, and the
migrated schema equals the one the ORM expects (autogenerate finds no difference)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import storage
from storage import migrate, queries
from storage.catalog import Catalog
from storage.engine import create_catalog_engine
from storage.errors import CatalogError
from storage.records import RunCounts
from storage.schema import Base


def _schema_diff(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_upgrade_from_empty_matches_orm(db_url: str) -> None:
    engine = create_catalog_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision() == "0003"
    assert _schema_diff(engine) == []
    views = inspect(engine).get_view_names()
    assert "latest_status" in views
    engine.dispose()


def test_upgrade_from_previous_revision_keeps_and_backfills_rows(db_url: str) -> None:
    engine = create_catalog_engine(db_url)
    migrate.upgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"
    assert "heartbeat_at" not in {c["name"] for c in inspect(engine).get_columns("run")}
    started = datetime(2026, 1, 2, 3, 4, 5)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO run (started_at, host, pid, status, n_new, n_changed, n_converted, "
            "n_failed, n_skipped) VALUES (:t, 'h', 1, 'succeeded', 3, 0, 2, 1, 0)"),
            {"t": started})
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        row = conn.execute(text("SELECT n_new, heartbeat_at FROM run")).one()
    assert row.n_new == 3
    assert str(row.heartbeat_at).startswith("2026-01-02 03:04:05")
    engine.dispose()
    # The ORM-level API reads the migrated row as an aware UTC time.
    with Catalog.open(db_url) as cat:
        frame = queries.runs(cat.engine)
        assert frame["heartbeat_at"].iloc[0] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_upgrade_from_the_revision_before_head_keeps_attempts(db_url: str) -> None:
    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    previous = script.get_revision(migrate.head_revision()).down_revision
    engine = create_catalog_engine(db_url)
    migrate.upgrade(engine, previous)
    assert migrate.current_revision(engine) == previous
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO model (id, name, section, source_links, synthetic_weights, first_seen, "
            "last_seen, removed) VALUES ('m1', 'M one', 'S', '[]', false, :t, :t, false)"),
            {"t": datetime(2026, 1, 1)})
        conn.execute(text(
            "INSERT INTO run (started_at, heartbeat_at, host, pid, status, n_new, n_changed, "
            "n_converted, n_failed, n_skipped) "
            "VALUES (:t, :t, 'h', 1, 'succeeded', 1, 0, 0, 1, 0)"), {"t": datetime(2026, 1, 1)})
        conn.execute(text(
            "INSERT INTO conversion (model_id, run_id, input_sha256s, converter_version, "
            "tf_version, status, error_category, stage_timings, outputs, layer_type_counts, "
            "queued_at) VALUES ('m1', 1, '[\"a\"]', '0.1', '2.21.0', 'failed', 'timeout', "
            "'{}', '[]', '{\"ReLU\": 2}', :t)"), {"t": datetime(2026, 1, 1)})
    engine.dispose()
    with Catalog.open(db_url) as cat:
        assert migrate.current_revision(cat.engine) == migrate.head_revision()
        assert _schema_diff(cat.engine) == []
        row = queries.latest_status(cat.engine).iloc[0]
        assert (row["model_id"], row["status"], row["error_category"]) == (
            "m1", "failed", "timeout")
        assert queries.layer_coverage(cat.engine)["layer_type"].tolist() == ["ReLU"]


def test_open_is_idempotent_and_keeps_data(db_url: str) -> None:
    with Catalog.open(db_url) as cat:
        run_id = cat.start_run()
    with Catalog.open(db_url) as cat:
        assert cat.count_rows("run") == 1
        cat.finish_run(run_id, RunCounts(), "succeeded")


def test_a_newer_schema_than_the_code_knows_is_refused(db_url: str) -> None:
    with Catalog.open(db_url) as cat:
        with cat.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(CatalogError, match="schema revision 9999, which this zoo2tf does not"):
        Catalog.open(db_url)


def test_migrations_ship_inside_the_package() -> None:
    versions = sorted(p.name for p in (migrate.MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert migrate.MIGRATIONS_DIR.parent == Path(storage.__file__).parent
    assert versions == ["0001_initial.py", "0002_run_heartbeat.py", "0003_attempt_fingerprint.py"]
