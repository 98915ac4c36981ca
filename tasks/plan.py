"""Prefect task: record tonight's catalog in the database and plan the work."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from zoo2tf.pipeline.options import RunOptions
from zoo2tf.pipeline.prepare import PreparedRun, prepare_run
from zoo_catalog.records import CatalogScan


@task(name="plan-run", cache_policy=NO_CACHE, persist_result=False)
def plan_task(scan: CatalogScan, options: RunOptions, run_id: int,
              converter_version: str, tf_version: str) -> PreparedRun:
    return prepare_run(scan, options, run_id, converter_version, tf_version)
