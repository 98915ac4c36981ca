"""Prefect task: publish a run's summary as Prefect artifacts (table + markdown)."""
from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from zoo2tf.pipeline.summary import RunSummary


@task(name="publish-summary", cache_policy=NO_CACHE, persist_result=False)
def publish_summary_task(summary: RunSummary) -> None:
    create_table_artifact(table=summary.table_rows(), key="zoo-nightly-models",
                          description=f"Per-model results of zoo2tf run {summary.run_id}")
    create_markdown_artifact(markdown=summary.markdown(), key="zoo-nightly-summary",
                             description=f"Summary of zoo2tf run {summary.run_id}")
