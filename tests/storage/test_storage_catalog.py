"""The write API: models, artifacts, runs and the attempt lifecycle, on both backends."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from storage import queries
from storage.catalog import Catalog
from storage.errors import CatalogUnavailable, InvalidTransition, InvalidValue, UnknownRecord
from storage.records import (
    TRACEBACK_LIMIT,
    ArtifactRecord,
    AttemptResult,
    ModelRecord,
    RunCounts,
    ValidationRecord,
)

from storage_data import MODELS, NOW


def test_upsert_reports_new_changed_unchanged_and_returning(catalog: Catalog) -> None:
    first = catalog.upsert_models(MODELS[:3], NOW)
    assert first.new == ("bvlc_alexnet", "fcn8s", "vgg16") and not first.changed
    later = NOW + timedelta(days=1)
    renamed = ModelRecord("vgg16", "VGG-16 (renamed)", "ImageNet", licence="non-commercial",
                          synthetic_weights=True)
    second = catalog.upsert_models([MODELS[0], renamed, MODELS[3]], later)
    assert (second.new, second.changed, second.unchanged) == (
        ("nin",), ("vgg16",), ("bvlc_alexnet",))
    assert catalog.mark_removed(["fcn8s", "vgg16"]) == 2
    assert catalog.mark_removed(["fcn8s"]) == 0
    third = catalog.upsert_models([renamed], later)
    assert third.changed == ("vgg16",)  # came back after removal
    frame = queries.latest_status(catalog.engine).set_index("model_id")
    assert sorted(frame.index) == ["bvlc_alexnet", "nin", "vgg16"]
    assert frame.loc["vgg16", "name"] == "VGG-16 (renamed)"
    detail = queries.model_detail(catalog.engine, "vgg16").model
    assert detail["first_seen"] == NOW and detail["last_seen"] == later
    removed = queries.latest_status(catalog.engine, queries.ModelFilter(include_removed=True))
    assert "fcn8s" in set(removed["model_id"])


def test_attempt_moves_queued_running_final_and_history_is_kept(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    run = catalog.start_run()
    first = catalog.queue_attempt("bvlc_alexnet", run, ["b", "a"], "0.1", "2.21.0")
    assert queries.model_history(catalog.engine, "bvlc_alexnet")["status"].tolist() == ["queued"]
    catalog.mark_running(first)
    with pytest.raises(InvalidTransition, match="is running, not queued"):
        catalog.mark_running(first)
    catalog.finish_attempt(first, AttemptResult(
        "failed", "convert", "crash", "segfault", traceback="x" * (TRACEBACK_LIMIT * 3) + "END"))
    with pytest.raises(InvalidTransition, match="is failed"):
        catalog.finish_attempt(first, AttemptResult("converted"))
    second = catalog.queue_attempt("bvlc_alexnet", run, ["a", "b"], "0.2", "2.21.0")
    catalog.mark_running(second)
    catalog.finish_attempt(second, AttemptResult("converted", param_count=10))
    history = queries.model_history(catalog.engine, "bvlc_alexnet")
    assert history["attempt_id"].tolist() == [second, first]
    assert history["status"].tolist() == ["converted", "failed"]
    assert history["input_sha256s"].iloc[0] == ["a", "b"]
    assert (history["finished_at"] >= history["started_at"]).all()
    assert history["duration_s"].notna().all()
    attempts = queries.model_detail(catalog.engine, "bvlc_alexnet").attempts
    traceback = attempts.set_index("attempt_id").loc[first, "traceback"]
    assert len(traceback) == TRACEBACK_LIMIT and traceback.endswith("END")
    assert catalog.done_inputs("bvlc_alexnet") == {(("a", "b"), "0.2")}
    assert catalog.done_inputs_by_model() == {"bvlc_alexnet": {(("a", "b"), "0.2")}}
    assert catalog.done_inputs("vgg16") == set()


def test_skip_closes_a_queued_attempt_directly(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    run = catalog.start_run()
    attempt = catalog.queue_attempt("bvlc_alexnet", run, [], "0.1", "2.21.0")
    catalog.finish_attempt(attempt, AttemptResult("skipped", message="no weights published"))
    row = queries.model_history(catalog.engine, "bvlc_alexnet").iloc[0]
    assert row["status"] == "skipped" and pd.isna(row["duration_s"])
    assert row["message"] == "no weights published"


def test_bad_input_raises_typed_one_line_errors(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    run = catalog.start_run()
    with pytest.raises(UnknownRecord, match="model 'nope' is not in the catalog"):
        catalog.queue_attempt("nope", run, [], "0.1", "2.21.0")
    with pytest.raises(UnknownRecord, match="run 999 is not in the catalog"):
        catalog.queue_attempt("bvlc_alexnet", 999, [], "0.1", "2.21.0")
    with pytest.raises(UnknownRecord, match="attempt 12345"):
        catalog.mark_running(12345)
    attempt = catalog.queue_attempt("bvlc_alexnet", run, [], "0.1", "2.21.0")
    with pytest.raises(InvalidValue, match="needs an error category"):
        catalog.finish_attempt(attempt, AttemptResult("failed", "convert"))
    with pytest.raises(InvalidValue, match="failed stage 'bake'"):
        catalog.finish_attempt(attempt, AttemptResult("failed", "bake", "crash"))
    with pytest.raises(InvalidValue, match="attempt status 'running'"):
        catalog.finish_attempt(attempt, AttemptResult("running"))
    with pytest.raises(InvalidValue, match="artifact kind 'weights'"):
        catalog.record_artifact(ArtifactRecord("bvlc_alexnet", "weights", "u", "ok", NOW))
    with pytest.raises(UnknownRecord, match="attempt 777"):
        catalog.record_validations(777, [])
    catalog.finish_run(run, RunCounts(), "succeeded")
    with pytest.raises(InvalidTransition, match=f"run {run} is succeeded, not running"):
        catalog.queue_attempt("bvlc_alexnet", run, [], "0.1", "2.21.0")
    with pytest.raises(InvalidTransition):
        catalog.heartbeat(run)
    with pytest.raises(InvalidValue, match="run status 'running'"):
        catalog.finish_run(run, RunCounts(), "running")


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(CatalogUnavailable, match=r"cannot open catalog postgresql\+psycopg://"
                       r"zoo:\*\*\*@127\.0\.0\.1:9/x: "):
        Catalog.open("postgresql+psycopg://zoo:secret@127.0.0.1:9/x")


def test_artifact_refetch_updates_and_changed_content_adds_a_row(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    url = "https://example.test/alexnet.caffemodel"
    base = dict(model_id="bvlc_alexnet", kind="caffemodel", url=url)
    first = catalog.record_artifact(ArtifactRecord(**base, status="ok", fetched_at=NOW,
                                                   sha256="a" * 64, size=10, etag='"1"'))
    later = NOW + timedelta(days=1)
    same = catalog.record_artifact(ArtifactRecord(**base, status="ok", fetched_at=later,
                                                  sha256="a" * 64, size=10, etag='"2"'))
    assert same == first
    gone = catalog.record_artifact(ArtifactRecord(**base, status="missing", fetched_at=later))
    assert gone != first
    artifacts = queries.model_detail(catalog.engine, "bvlc_alexnet").artifacts
    assert artifacts["status"].tolist() == ["missing", "ok"]
    ok = artifacts.set_index("artifact_id").loc[first]
    assert ok["etag"] == '"2"' and ok["fetched_at"] == later


def test_run_counts_heartbeat_and_validations(catalog: Catalog) -> None:
    catalog.upsert_models(MODELS[:1], NOW)
    run = catalog.start_run("prefect-flow-run-uuid", "wiki-rev-42")
    before = queries.runs(catalog.engine).iloc[0]["heartbeat_at"]
    catalog.heartbeat(run)
    assert queries.runs(catalog.engine).iloc[0]["heartbeat_at"] >= before
    attempt = catalog.queue_attempt("bvlc_alexnet", run, ["a"], "0.1", "2.21.0")
    catalog.mark_running(attempt)
    catalog.finish_attempt(attempt, AttemptResult("converted"))
    catalog.record_validations(attempt, [
        ValidationRecord(f"img{i}.jpg", "prob", "caffe", "1.0", 1e-6 * i, 1e-5, 0.9999,
                         passed=True, top1_agree=True, top5_overlap=0.8,
                         preprocessing={"resize": [227, 227]}) for i in range(3)])
    catalog.finish_run(run, RunCounts(new=1, changed=0, converted=1, failed=0, skipped=0),
                       "succeeded")
    row = queries.runs(catalog.engine).iloc[0]
    assert (row["status"], row["n_new"], row["n_converted"], row["flow_run_id"],
            row["catalog_revision"]) == ("succeeded", 1, 1, "prefect-flow-run-uuid",
                                         "wiki-rev-42")
    validations = queries.model_detail(catalog.engine, "bvlc_alexnet").validations
    assert validations["sample"].tolist() == ["img0.jpg", "img1.jpg", "img2.jpg"]
    assert validations["preprocessing"].iloc[0] == {"resize": [227, 227]}
    assert validations["top5_overlap"].tolist() == [0.8] * 3


def test_planner_reads(populated_fresh: Catalog) -> None:
    catalog = populated_fresh
    last = catalog.last_attempts()
    assert set(last) == {"bvlc_alexnet", "vgg16", "fcn8s", "gone_net"}
    assert (last["bvlc_alexnet"].status, last["vgg16"].error_category) == (
        "converted", "numeric mismatch")
    assert catalog.active_model_ids() == {"bvlc_alexnet", "vgg16", "fcn8s", "nin", "pct_net"}
    url = "https://example.test/alexnet/deploy.prototxt"
    known = catalog.known_artifact("bvlc_alexnet", "prototxt", url, None)
    assert known is not None and known.sha256 == "b" * 64 and known.size == 3629
    assert catalog.known_artifact("bvlc_alexnet", "prototxt", url + "?v2", None) is None
    run = catalog.start_run()
    catalog.set_run_revision(run, "wiki@2")
    assert queries.runs(catalog.engine).iloc[0]["catalog_revision"] == "wiki@2"
    attempt = catalog.queue_attempt("nin", run, [], "0.1", "2.21.0", fingerprint="f" * 64)
    catalog.set_attempt_inputs(attempt, ["z", "y"])
    assert catalog.last_attempts()["nin"].input_sha256s == ("y", "z")
    assert catalog.last_attempts()["nin"].fingerprint == "f" * 64
    catalog.finish_attempt(attempt, AttemptResult("skipped"))
    with pytest.raises(InvalidTransition):
        catalog.set_attempt_inputs(attempt, ["x"])
