"""Bring a catalog database to the schema this code expects, with Alembic, from code.

No alembic.ini: the Config is built here and points at the migrations shipped inside
the package, so an installed zoo2tf migrates its database on open.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from storage.engine import write_transaction
from storage.errors import CatalogError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed number: it names the PostgreSQL advisory lock that serialises upgrades.
_PG_MIGRATION_LOCK = 7_020_260_001


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, f"no migrations under {MIGRATIONS_DIR}"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to `revision` in one transaction; concurrent callers wait for each other.

    Cheap when already there: only the version table is read.
    """
    target = head_revision() if revision == "head" else revision
    current = current_revision(engine)
    if current == target:
        return
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current is not None and current not in known:
        raise CatalogError(f"catalog {engine.url.render_as_string(hide_password=True)} is at "
                           f"schema revision {current}, which this zoo2tf does not know "
                           f"(newest known: {head_revision()}): upgrade zoo2tf")
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        # Re-read under the lock: another process may have upgraded meanwhile.
        if MigrationContext.configure(conn).get_current_revision() != target:
            command.upgrade(_config(conn), revision)

