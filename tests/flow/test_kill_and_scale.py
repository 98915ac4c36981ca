"""A run killed mid-way and rerun, and the same flow on a Dask cluster."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flows.nightly import zoo_nightly
from storage.catalog import Catalog
from storage.queries import model_history, runs
from tests.flow.conftest import CIFAR, GENDER, LENET, PARSENET, RESNET, make_options
from tests.flow.test_nightly import latest_rows

FINAL = {"converted", "failed", "skipped"}


def _converted_in(catalog: Catalog) -> int:
    return sum(int((model_history(catalog.engine, m)["status"] == "converted").sum())
               for m in (LENET, CIFAR, GENDER))


def _converted_count(db_url: str) -> int:
    with Catalog.open(db_url) as catalog:
        return _converted_in(catalog)


def _wait_for_first_conversion(child: subprocess.Popen, db_path: Path, log: Path) -> None:
    deadline = time.monotonic() + 300
    while not db_path.exists():
        assert child.poll() is None, f"the run ended first: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "the run never created its database"
        time.sleep(0.2)
    time.sleep(1.0)  # let the child finish creating the schema
    with Catalog.open(f"sqlite:///{db_path}") as catalog:
        while _converted_in(catalog) < 1:
            assert child.poll() is None, f"the run ended first: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "no model converted in time"
            time.sleep(0.2)


def _run_command(options, mirror) -> list[str]:
    command = [sys.executable, "-m", "zoo2tf", "run", "--catalog-url", mirror.catalog_url,
               "--github-api", mirror.github_api_base, "--db", options.db_url,
               "--store", options.store_url, "--models-dir", options.models_dir,
               "--workers", "1"]
    for model in options.only:
        command += ["--only", model]
    return command


def test_sigkill_mid_run_then_rerun_finishes_everything_once(prefect_harness, mirror,
                                                            tmp_path: Path):
    options = make_options(tmp_path, mirror, only=(LENET, CIFAR, GENDER, RESNET), workers=1,
                           cache_dir=str(tmp_path / "data" / "cache"))
    env = dict(os.environ, ZOO2TF_DATA_DIR=str(tmp_path / "data"),
               PREFECT_HOME=str(tmp_path / "prefect-child"))
    env.pop("PREFECT_API_URL", None)
    log = tmp_path / "child.log"
    with open(log, "wb") as out:
        child = subprocess.Popen(_run_command(options, mirror), env=env, cwd=tmp_path,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_first_conversion(child, tmp_path / "catalog.sqlite", log)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    killed = latest_rows(options.db_url)
    assert any(r["status"] in ("queued", "running") for r in killed.values()), \
        "the kill should have left work unfinished"
    rerun = zoo_nightly(options)
    rows = latest_rows(options.db_url)
    assert {rows[m]["status"] for m in options.only} <= FINAL
    assert rows[LENET]["status"] == rows[CIFAR]["status"] == rows[GENDER]["status"] == "converted"
    assert _converted_count(options.db_url) == 3, "a model was converted twice"
    with Catalog.open(options.db_url) as catalog:
        statuses = list(runs(catalog.engine)["status"])
    assert "crashed" in statuses and statuses.count("succeeded") == 1
    assert rerun.count("converted") + _converted_before(killed) == 3
    _assert_store_complete(Path(options.store_url))
    assert not list(Path(options.models_dir).glob("*/*.partial-*"))


def _converted_before(rows: dict) -> int:
    return sum(1 for m in (LENET, CIFAR, GENDER) if m in rows and rows[m]["status"] == "converted")


def _assert_store_complete(store: Path) -> None:
    """Every object under sha256/ is whole: its content hashes to its name."""
    objects = [p for p in (store / "sha256").rglob("*") if p.is_file()]
    assert objects
    for path in objects:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path


def test_dask_task_runner_gives_the_same_database_contents(prefect_harness, mirror,
                                                           tmp_path: Path):
    subset = (LENET, CIFAR, PARSENET, RESNET)
    results = {}
    for runner in ("thread", "dask"):
        options = make_options(tmp_path / runner, mirror, only=subset, task_runner=runner)
        zoo_nightly(options)
        with Catalog.open(options.db_url) as catalog:
            results[runner] = {
                m: tuple(model_history(catalog.engine, m).astype(object).iloc[0][
                    ["status", "failed_stage", "error_category", "input_sha256s",
                     "param_count"]].map(str))
                for m in subset}
    assert results["dask"] == results["thread"]
    assert results["dask"][LENET][0] == "converted"
