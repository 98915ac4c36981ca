"""Engines for a catalog URL, set up so concurrent writers wait instead of failing.

SQLite: WAL (readers never block the writer), a 30 s busy timeout, foreign keys on,
and write transactions opened with BEGIN IMMEDIATE. A deferred transaction that reads
first and writes later can fail at once with "database is locked" when another
writer got in between (SQLite cannot wait there without risking a deadlock); taking
the write lock at BEGIN makes every writer queue on the busy timeout instead.
PostgreSQL needs none of this.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.errors import CatalogUnavailable, CatalogURLError

BUSY_TIMEOUT_S = 30.0
_WRITE = "zoo2tf_write"


def create_catalog_engine(url: str) -> Engine:
    """An engine for `url` (any SQLAlchemy URL; SQLite files get their folder created)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CatalogURLError(f"catalog URL {url!r} is not a database URL: {exc}") from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except (ArgumentError, ModuleNotFoundError) as exc:
            raise CatalogURLError(f"catalog URL {parsed!r}: {exc}") from None
    if parsed.database and parsed.database != ":memory:":
        try:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogUnavailable(f"catalog {parsed.database}: {exc.strerror}") from None
    engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own implicit
    # BEGIN is always DEFERRED and skips DDL).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside one write transaction: committed on exit, rolled back on error."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn
