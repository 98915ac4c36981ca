"""storage.dashboard_queries on the seeded SQLite catalog: read-only access and the
run-to-run changes; the read-only engine on PostgreSQL too when a server is given."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashboard_data import populate
from storage import dashboard_queries as dq
from storage.catalog import Catalog
from storage.errors import CatalogUnavailable, CatalogURLError
from zoo2tf.commands.dashboard import streamlit_command


def test_run_changes(seeded_url):
    engine = dq.read_only_engine(seeded_url)
    changes = dq.run_changes(engine, [1, 2, 3])
    assert sorted(changes["model_id"]) == ["bvlc_googlenet", "vgg16"]
    by_model = changes.set_index("model_id")
    assert by_model.loc["vgg16", "change"] == dq.NEWLY_FAILING
    assert by_model.loc["vgg16", "error_category"] == "numeric mismatch"
    assert by_model.loc["bvlc_googlenet", "change"] == dq.FIXED
    assert (changes["run_id"] == 2).all()
    assert dq.run_changes(engine, [3]).empty and dq.run_changes(engine, []).empty


def test_latest_validation(seeded_url):
    frame = dq.latest_validation(dq.read_only_engine(seeded_url)).set_index("model_id")
    assert sorted(frame.index) == ["bvlc_alexnet", "bvlc_googlenet", "nin_imagenet", "vgg16"]
    assert frame.loc["vgg16", "failed_rows"] == 2 and frame.loc["vgg16", "divergent"] == 2
    assert frame.loc["vgg16", "max_abs_error"] == pytest.approx(0.31)
    # bvlc_alexnet: only its latest attempt's validation counts.
    assert frame.loc["bvlc_alexnet", "samples"] == 1
    assert frame.loc["bvlc_alexnet", "max_abs_error"] == pytest.approx(2.5e-6)


def test_catalog_totals(seeded_url):
    assert dq.catalog_totals(dq.read_only_engine(seeded_url)) == {
        "models": 10, "runs": 3, "attempts": 13}


def test_sqlite_engine_cannot_write(seeded_url):
    engine = dq.read_only_engine(seeded_url)
    with pytest.raises(DBAPIError, match="readonly"), engine.begin() as conn:
        conn.execute(text("DELETE FROM run"))
    assert dq.catalog_totals(engine)["runs"] == 3


def test_bad_urls(tmp_path):
    with pytest.raises(CatalogUnavailable, match="does not exist"):
        dq.read_only_engine(f"sqlite:///{tmp_path / 'none.sqlite'}")
    with pytest.raises(CatalogURLError, match="not a database URL"):
        dq.read_only_engine("no url at all")
    with pytest.raises(CatalogURLError, match="in-memory"):
        dq.read_only_engine("sqlite://")


@pytest.fixture
def postgres_url(postgres_database_url: str) -> str:
    """A fresh PostgreSQL database holding an empty catalog."""
    Catalog.open(postgres_database_url).close()
    return postgres_database_url


@pytest.mark.postgres
def test_postgres_queries(postgres_url, tmp_path):
    with Catalog.open(postgres_url) as catalog:
        populate(catalog, tmp_path / "models")
    reader = dq.read_only_engine(postgres_url)
    try:
        changes = dq.run_changes(reader, [1, 2, 3]).set_index("model_id")
        assert changes["change"].to_dict() == {"vgg16": dq.NEWLY_FAILING,
                                               "bvlc_googlenet": dq.FIXED}
        assert changes["previous_run_id"].tolist() == [1, 1]
        validated = dq.latest_validation(reader).set_index("model_id")
        assert validated["failed_rows"].to_dict() == {
            "bvlc_alexnet": 0, "bvlc_googlenet": 0, "nin_imagenet": 0, "vgg16": 2}
    finally:
        reader.dispose()


@pytest.mark.postgres
def test_postgres_engine_cannot_write(postgres_url):
    reader = dq.read_only_engine(postgres_url)
    try:
        assert dq.has_schema(reader)
        assert dq.catalog_totals(reader) == {"models": 0, "runs": 0, "attempts": 0}
        with pytest.raises(DBAPIError, match="read-only transaction"), reader.begin() as conn:
            conn.execute(text("DELETE FROM run"))
    finally:
        reader.dispose()


def test_command_runs_streamlit_headless_on_loopback():
    command = streamlit_command(8765, "127.0.0.1")
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert {"--server.headless=true", "--browser.gatherUsageStats=false",
            "--server.address=127.0.0.1", "--server.port=8765"} <= set(command)
    shown = subprocess.run([sys.executable, "-m", "zoo2tf", "dashboard", "--help"],
                           capture_output=True, text=True, check=True).stdout
    assert "--db URL" in shown and "--port" in shown and "--host" in shown
