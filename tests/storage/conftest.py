"""Storage fixtures: every catalog test runs on a SQLite file and on a real PostgreSQL.

The PostgreSQL variant needs ZOO2TF_TEST_PG_URL (scripts/test-services.sh starts a
server and exports it); each test gets its own freshly created database.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_databases import fresh_postgres_database

from storage.catalog import Catalog
from storage_data import populate

PROJECT_ROOT = Path(__file__).resolve().parents[2]


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'catalog.sqlite'}"
    else:
        with fresh_postgres_database() as url:
            yield url


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
