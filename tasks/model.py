"""Prefect task: one model's fetch -> isolated convert/validate -> record."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from zoo2tf.pipeline.options import RunOptions
from zoo2tf.pipeline.plan import WorkItem
from zoo2tf.pipeline.process import ModelOutcome, process_model


@task(name="process-model", cache_policy=NO_CACHE, persist_result=False,
      task_run_name="{item.entry.model_id}")
def process_model_task(item: WorkItem, attempt_id: int, options: RunOptions,
                       converter_version: str) -> ModelOutcome:
    return process_model(item, attempt_id, options, converter_version)
