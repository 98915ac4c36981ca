"""The `zoo_nightly` flow: scan -> plan -> per model (fetch, convert, validate, record)
-> summary. Tasks are thin wrappers over zoo2tf.pipeline; this module only orchestrates.
"""
from __future__ import annotations

import logging
import threading
import time
from importlib import metadata

from prefect import flow, unmapped
from prefect.futures import as_completed
from prefect.runtime import flow_run
from sqlalchemy.exc import SQLAlchemyError

from caffe2tf import __version__ as CONVERTER_VERSION
from storage.errors import CatalogError
from storage.records import RunCounts
from tasks.catalog import scan_catalog_task
from tasks.model import process_model_task
from tasks.plan import plan_task
from tasks.report import publish_summary_task
from zoo2tf.pipeline import progress
from zoo2tf.pipeline.errors import RunCannotProceed
from zoo2tf.pipeline.options import RunOptions
from zoo2tf.pipeline.prepare import PreparedRun
from zoo2tf.pipeline.process import ModelOutcome, Resources
from zoo2tf.pipeline.summary import RunSummary, summarize

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
STALE_AFTER_S = 120.0


def tensorflow_version() -> str:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def task_runner_for(options: RunOptions):
    if options.task_runner == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=options.workers)
    if options.task_runner == "process":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=options.workers)
    if options.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        if options.dask_address:
            return DaskTaskRunner(address=options.dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": options.workers,
                                              "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    raise ValueError(f"unknown task runner {options.task_runner!r}")


class _Heartbeat(threading.Thread):
    def __init__(self, catalog, run_id: int):
        super().__init__(name="zoo2tf-heartbeat", daemon=True)
        self.catalog, self.run_id, self.stop = catalog, run_id, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(HEARTBEAT_S):
            try:
                self.catalog.heartbeat(self.run_id)
            except Exception as err:  # the run was closed (or the DB is gone): stop beating
                log.warning("zoo2tf run %s: heartbeat stopped: %s", self.run_id, err)
                return


@flow(name="zoo_nightly_models", validate_parameters=False, persist_result=False)
def process_models(prepared: PreparedRun, options: RunOptions) -> list[ModelOutcome]:
    """The fan-out over planned models, on the task runner the options name."""
    futures = process_model_task.map(list(prepared.plan.items), list(prepared.attempt_ids),
                                     unmapped(options), unmapped(CONVERTER_VERSION))
    outcomes = []
    for future in as_completed(futures):
        outcome = future.result()
        outcomes.append(outcome)
        progress.notify("model", outcome)
    return outcomes


@flow(name="zoo_nightly", validate_parameters=False, persist_result=False)
def zoo_nightly(options: RunOptions | dict) -> RunSummary:
    """The whole night. `options` may be a dict (as a scheduled deployment passes it)."""
    options = RunOptions.coerce(options)
    started = time.perf_counter()
    try:
        catalog = Resources.get(options).catalog
        run_id = catalog.start_run(flow_run_id=str(flow_run.id) if flow_run.id else None)
    except (CatalogError, SQLAlchemyError) as err:
        Resources.release(options)
        raise RunCannotProceed(f"the catalog database cannot be written: {err}") from None
    heartbeat = _Heartbeat(catalog, run_id)
    heartbeat.start()
    try:
        progress.notify("recovered", catalog.recover_stale(STALE_AFTER_S, run_id))
        try:
            scan = scan_catalog_task(options)
        except Exception as err:
            raise RunCannotProceed(f"the catalog at {options.catalog_url} cannot be read: "
                                   f"{err}") from None
        catalog.set_run_revision(run_id, scan.revision)
        prepared = plan_task(scan, options, run_id, CONVERTER_VERSION, tensorflow_version())
        progress.notify("planned", prepared)
        runner = task_runner_for(options)
        outcomes = process_models.with_options(task_runner=runner)(prepared, options)
        summary = summarize(run_id, scan.revision, len(scan.entries), prepared.plan,
                            len(prepared.new), len(prepared.changed), prepared.removed,
                            outcomes,
                            prepared.before, time.perf_counter() - started)
        publish_summary_task(summary)
        catalog.finish_run(run_id, summary.counts, "succeeded")
        return summary
    except BaseException:
        catalog.finish_run(run_id, RunCounts(), "failed")
        raise
    finally:
        heartbeat.stop.set()
        Resources.release(options)
