"""Stale runs: a SIGKILLed run's attempts are closed as crashed by the next run."""
from __future__ import annotations

import json
import signal
import subprocess

import pytest

from storage import queries
from storage.catalog import Catalog
from storage.errors import InvalidTransition
from storage.records import AttemptResult, RunCounts

from storage_data import MODELS, NOW


@pytest.mark.timeout(120)
def test_sigkilled_run_is_recovered_as_crashed(catalog: Catalog, db_url: str,
                                               child_command: list[str],
                                               child_env: dict[str, str]) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    child = subprocess.Popen([*child_command, "crash", db_url, "bvlc_alexnet"],
                             stdout=subprocess.PIPE, text=True, env=child_env)
    try:
        line = child.stdout.readline()
        assert line, "crash child printed nothing"
        ids = json.loads(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    history = queries.model_history(catalog.engine, "bvlc_alexnet")
    assert sorted(history["status"]) == ["queued", "running"]

    # A recent heartbeat does not save a run whose process is gone.
    current = catalog.start_run("next-night")
    assert catalog.recover_stale(older_than_s=3600, current_run_id=current) == sorted(
        [ids["running"], ids["queued"]])
    history = queries.model_history(catalog.engine, "bvlc_alexnet").set_index("attempt_id")
    assert set(history["status"]) == {"failed"}
    assert set(history["error_category"]) == {"crash"}
    assert f"run {ids['run']} died: process" in history.loc[ids["running"], "message"]
    runs = queries.runs(catalog.engine).set_index("run_id")
    assert runs.loc[ids["run"], "status"] == "crashed"
    assert runs.loc[current, "status"] == "running"
    # Idempotent, and history is kept: the next attempt adds a row.
    assert catalog.recover_stale(older_than_s=3600, current_run_id=current) == []
    retry = catalog.queue_attempt("bvlc_alexnet", current, ["sha-running"], "0.1", "2.21.0")
    catalog.mark_running(retry)
    catalog.finish_attempt(retry, AttemptResult("converted"))
    assert len(queries.model_history(catalog.engine, "bvlc_alexnet")) == 3


def test_silent_run_is_stale_only_after_the_heartbeat_age(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    # This process is alive: only the heartbeat age can declare `old` dead.
    old = catalog.start_run()
    attempt = catalog.queue_attempt("bvlc_alexnet", old, ["a"], "0.1", "2.21.0")
    catalog.mark_running(attempt)
    current = catalog.start_run()
    assert catalog.recover_stale(older_than_s=3600, current_run_id=current) == []
    assert catalog.recover_stale(older_than_s=0, current_run_id=current) == [attempt]
    row = queries.model_history(catalog.engine, "bvlc_alexnet").iloc[0]
    assert row["status"] == "failed" and "no heartbeat since" in row["message"]
    # The old run learns it was declared dead the next time it heartbeats.
    with pytest.raises(InvalidTransition, match="is crashed, not running"):
        catalog.heartbeat(old)
    catalog.heartbeat(current)


def test_attempts_left_open_by_a_finished_run_are_closed(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    run = catalog.start_run()
    attempt = catalog.queue_attempt("bvlc_alexnet", run, ["a"], "0.1", "2.21.0")
    catalog.finish_run(run, RunCounts(), "failed")
    assert catalog.recover_stale(older_than_s=3600, current_run_id=None) == [attempt]
    row = queries.model_history(catalog.engine, "bvlc_alexnet").iloc[0]
    assert row["message"] == f"run {run} ended (failed) with this attempt still open"
