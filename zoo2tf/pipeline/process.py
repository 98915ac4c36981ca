"""One model's night, end to end, as plain library code: fetch -> isolated convert and
validate -> record. Every outcome, good or bad, ends as a final attempt row."""
from __future__ import annotations

import hashlib
import os
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.catalog import Catalog
from storage.records import AttemptResult, OutputFile, ValidationRecord
from zoo2tf.isolation import IsolatedCallError, WorkerPool
from zoo2tf.pipeline.fetch import (FetchedFile, FetchFailed, fetch_files, input_sha256s,
                                   require_files)
from zoo2tf.pipeline.options import RunOptions
from zoo2tf.pipeline.plan import WorkItem
from zoo_catalog.records import STATUS_OK

JOB = "zoo2tf.pipeline.job:convert_and_validate"
PREFLIGHT = "zoo2tf.pipeline.job:preflight"
RETRY_BACKOFF_S = 2.0


@dataclass(frozen=True)
class ModelOutcome:
    model_id: str
    name: str
    reason: str
    status: str  # converted | failed | skipped
    stage: str | None = None
    category: str | None = None
    message: str | None = None
    validation: str | None = None
    seconds: float = 0.0
    downloaded_bytes: int = 0
    attempt_id: int | None = None


class Resources:
    """What one process (the flow's, or a Dask worker's) shares across its models."""

    _lock = threading.Lock()
    _cache: dict[RunOptions, Resources] = {}

    def __init__(self, options: RunOptions):
        from downloads.conditional import ConditionalCache
        from downloads.session import make_session
        from storage.artifacts import ArtifactStore

        self.options = options
        self.catalog = Catalog.open(options.db_url)
        self.store = ArtifactStore(options.store_url)
        self.text_cache = ConditionalCache(Path(options.cache_dir) / "files")
        self.scratch = Path(options.cache_dir) / "scratch"
        self._local = threading.local()
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0",
                   **dict(options.worker_env))
        self.pool = WorkerPool(max(1, options.workers), env=env,
                               memory_cap_bytes=options.memory_cap_mb << 20)
        self._make_session = make_session

    @property
    def session(self):  # requests sessions are not thread-safe: one per thread
        if not hasattr(self._local, "session"):
            self._local.session = self._make_session()
        return self._local.session

    @classmethod
    def get(cls, options: RunOptions) -> Resources:
        with cls._lock:
            if options not in cls._cache:
                cls._cache[options] = cls(options)
            return cls._cache[options]

    @classmethod
    def release(cls, options: RunOptions) -> None:
        with cls._lock:
            resources = cls._cache.pop(options, None)
        if resources is not None:
            resources.pool.close()
            resources.catalog.close()


def _with_retries(fetch, options: RunOptions):
    """Transient failures (network) are retried; deterministic ones never are."""
    attempt = 0
    while True:
        try:
            return fetch()
        except FetchFailed as err:
            if not err.transient or attempt >= options.fetch_retries:
                raise
            attempt += 1
            time.sleep(RETRY_BACKOFF_S * attempt)


def _fetch(res: Resources, entry, kinds: tuple[str, ...]) -> dict[str, FetchedFile]:
    return _with_retries(lambda: fetch_files(
        entry, kinds, store=res.store, catalog=res.catalog, session=res.session,
        text_cache=res.text_cache, scratch=res.scratch), res.options)


def output_dir(options: RunOptions, model_id: str, inputs: tuple[str, ...],
               converter_version: str) -> Path:
    key = hashlib.sha256(("|".join(inputs) + converter_version).encode()).hexdigest()[:16]
    return Path(options.models_dir) / model_id / key


def _finish(res: Resources, item: WorkItem, attempt_id: int, started: float,
            result: AttemptResult, *, validation: str | None = None,
            downloaded: int = 0) -> ModelOutcome:
    res.catalog.finish_attempt(attempt_id, result)
    entry = item.entry
    return ModelOutcome(entry.model_id, entry.name, item.reason, result.status,
                        result.failed_stage, result.error_category, result.message, validation,
                        round(time.perf_counter() - started, 3), downloaded, attempt_id)


def _job_result(reply: dict[str, Any], timings: dict[str, float]) -> AttemptResult:
    conversion = reply.get("conversion") or {}
    return AttemptResult(
        status="converted" if reply["ok"] else "failed",
        failed_stage=None if reply["ok"] else reply["stage"],
        error_category=None if reply["ok"] else reply["category"],
        message="\n".join(reply.get("problems") or []) or reply.get("message"),
        traceback=reply.get("traceback"),
        stage_timings={**timings, **reply.get("timings", {})},
        outputs=tuple(OutputFile(**o) for o in reply.get("outputs", ())),
        layer_type_counts=conversion.get("layer_type_counts", {}),
        param_count=conversion.get("param_count"))


def process_model(item: WorkItem, attempt_id: int, options: RunOptions,
                  converter_version: str) -> ModelOutcome:
    """Run one planned model to a final attempt row. Never raises for the model's own
    failures: those are data. An unexpected error (a bug, a database hiccup) still
    closes the attempt, as a crash, before it propagates no further than this model."""
    res = Resources.get(options)
    started = time.perf_counter()
    try:
        return _process(item, attempt_id, res, converter_version, started)
    except Exception as err:
        return _finish(res, item, attempt_id, started, AttemptResult(
            status="failed", failed_stage="record", error_category="crash",
            message=f"{type(err).__name__}: {err}", traceback=traceback.format_exc()))


def _process(item: WorkItem, attempt_id: int, res: Resources, converter_version: str,
             started: float) -> ModelOutcome:
    options = res.options
    entry = item.entry
    if entry.status != STATUS_OK:
        return _finish(res, item, attempt_id, started, AttemptResult(
            status="skipped", error_category=entry.status,
            message=f"{entry.name}: catalog status '{entry.status}'"
                    + (f" ({'; '.join(entry.warnings)})" if entry.warnings else "")))
    res.catalog.mark_running(attempt_id)
    timings: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        timings[stage] = round(timings.get(stage, 0.0) + now - since, 3)
        return now

    def failed(stage: str, category: str, message: str, tb: str | None = None,
               downloaded: int = 0) -> ModelOutcome:
        return _finish(res, item, attempt_id, started, AttemptResult(
            status="failed", failed_stage=stage, error_category=category, message=message,
            traceback=tb, stage_timings=timings), downloaded=downloaded)

    clock = time.perf_counter()
    try:
        require_files(entry)
        files = _fetch(res, entry, ("prototxt", "labels"))
    except FetchFailed as err:
        lap("fetch", clock)
        return failed("fetch", err.category, str(err))
    clock = lap("fetch", clock)
    try:
        with res.pool.worker() as worker:
            check = worker.call(PREFLIGHT, {"model_id": entry.model_id,
                                            "prototxt": files["prototxt"].path},
                                timeout=options.timeout_s)
    except IsolatedCallError as err:
        lap("parse", clock)
        return failed("parse", err.failure.category, err.failure.message, err.failure.traceback)
    clock = lap("parse", clock)
    if not check["ok"]:
        return failed(check["stage"], check["category"],
                      "\n".join(check.get("problems") or []) or check["message"],
                      check.get("traceback"))
    try:
        files.update(_fetch(res, entry, ("caffemodel", "mean")))
    except FetchFailed as err:
        lap("fetch", clock)
        return failed("fetch", err.category, str(err))
    clock = lap("fetch", clock)
    downloaded = sum(f.downloaded_bytes for f in files.values())
    inputs = input_sha256s(files)
    res.catalog.set_attempt_inputs(attempt_id, inputs)
    done = res.catalog.done_inputs(entry.model_id)
    if (inputs, converter_version) in done and item.reason != "forced":
        return _finish(res, item, attempt_id, started, AttemptResult(
            status="skipped", message="identical inputs were already converted by this "
                                      "converter version", stage_timings=timings),
            downloaded=downloaded)
    outdir = output_dir(options, entry.model_id, inputs, converter_version)
    try:
        with res.pool.worker() as worker:
            reply = worker.call(JOB, {
                "model_id": entry.model_id, "prototxt": files["prototxt"].path,
                "caffemodel": files["caffemodel"].path, "outdir": str(outdir),
                "reference": options.reference,
            }, timeout=options.timeout_s)
    except IsolatedCallError as err:
        lap("convert", clock)
        return failed("convert", err.failure.category, err.failure.message,
                      err.failure.traceback, downloaded)
    result = _job_result(reply, timings)
    rows = reply.get("validation_rows") or []
    if rows:
        res.catalog.record_validations(attempt_id, [ValidationRecord(**row) for row in rows])
    return _finish(res, item, attempt_id, started, result,
                   validation=reply.get("validation_status"), downloaded=downloaded)
