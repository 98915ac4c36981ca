"""Throw-away databases on the test PostgreSQL server (ZOO2TF_TEST_PG_URL)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

REASON = "ZOO2TF_TEST_PG_URL is not set (scripts/test-services.sh starts PostgreSQL)"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """URL of a newly created, empty database, dropped on exit. Skips the test without a
    server, and fails it under CI=true, where the server must be there."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("ZOO2TF_TEST_PG_URL")
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {REASON}")
        pytest.skip(REASON)
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
