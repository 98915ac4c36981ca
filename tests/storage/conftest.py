"""Storage fixtures: every catalog test runs on a SQLite file and on a real PostgreSQL.

The PostgreSQL variant needs ZOO2TF_TEST_PG_URL (scripts/test-services.sh starts a
server and exports it); each test gets its own freshly created database.
"""
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.catalog import Catalog
from storage_data import populate

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _postgres_database() -> Iterator[str]:
    base = os.environ.get("ZOO2TF_TEST_PG_URL")
    if not base:
        reason = "ZOO2TF_TEST_PG_URL is not set (scripts/test-services.sh starts PostgreSQL)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    name = f"zoo2tf_t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'catalog.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty catalog database URL, on each backend."""
    yield from _database(request.param, tmp_path)


@pytest.fixture
def catalog(db_url: str) -> Iterator[Catalog]:
    with Catalog.open(db_url) as cat:
        yield cat


@pytest.fixture
def child_command() -> list[str]:
    """Command prefix that runs tests/storage/storage_children.py in a fresh interpreter."""
    return [sys.executable, str(Path(__file__).with_name("storage_children.py"))]


@pytest.fixture
def child_env() -> dict[str, str]:
    """Environment for helper subprocesses: the project importable, as in the tests."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{path}" if path
            else str(PROJECT_ROOT)}


@pytest.fixture(scope="module", params=BACKENDS)
def populated(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """A catalog filled by storage_data.populate, shared by a module's tests: read only."""
    for url in _database(request.param, tmp_path_factory.mktemp("populated")):
        with Catalog.open(url) as catalog:
            yield populate(catalog)


@pytest.fixture
def populated_fresh(catalog: Catalog) -> Catalog:
    """Like `populated`, but private to one test, which may write to it."""
    return populate(catalog)
