"""Suite-wide set-up: quiet TensorFlow, a private Prefect home, and the bundled snapshot.

Environment variables are set at import time, before any test module imports
TensorFlow or Prefect, because both read them once on import.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="zoo2tf-tests-"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PREFECT_HOME", str(_SESSION_TMP / "prefect"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("ZOO2TF_DATA_DIR", str(_SESSION_TMP / "data"))

from pg_databases import fresh_postgres_database  # noqa: E402
from zoo_mirror import SNAPSHOT_DIR  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_OUTPUT = PROJECT_ROOT / "test-output"


@pytest.fixture(scope="session", autouse=True)
def _remove_session_tmp() -> Iterator[None]:
    """The suite's private data dir holds gigabytes (synthetic weights, stores, converted
    models): removed when the session ends, so repeated runs do not fill the disk."""
    yield
    shutil.rmtree(_SESSION_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def snapshot_dir() -> Path:
    return SNAPSHOT_DIR


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A kept folder for a test's artefacts (screenshots, reports): test-output/<test name>."""
    path = TEST_OUTPUT / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path



@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A freshly created, empty database on the test PostgreSQL server, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url
