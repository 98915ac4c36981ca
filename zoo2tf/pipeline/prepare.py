"""Before any model runs: record tonight's catalog, mark removed models, plan, queue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from storage.records import LastAttempt, ModelRecord
from zoo2tf.pipeline.options import RunOptions
from zoo2tf.pipeline.plan import Plan, plan_run
from zoo2tf.pipeline.process import Resources
from zoo_catalog.records import CatalogEntry, CatalogScan


@dataclass(frozen=True)
class PreparedRun:
    plan: Plan
    attempt_ids: tuple[int, ...]  # one per plan item, in order
    new: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    before: dict[str, LastAttempt]  # each model's last attempt before tonight


def model_record(entry: CatalogEntry) -> ModelRecord:
    return ModelRecord(id=entry.model_id, name=entry.name, section=entry.section,
                       source_links=tuple(link.url for link in entry.links),
                       gist_id=entry.gist_id, gist_revision=entry.gist_revision,
                       licence=entry.licence, synthetic_weights=entry.synthetic_weights)


def prepare_run(scan: CatalogScan, options: RunOptions, run_id: int, converter_version: str,
                tf_version: str) -> PreparedRun:
    catalog = Resources.get(options).catalog
    upserted = catalog.upsert_models([model_record(e) for e in scan.entries],
                                     seen_at=datetime.now(timezone.utc))
    seen = {e.model_id for e in scan.entries}
    removed = tuple(sorted(catalog.active_model_ids() - seen))
    if removed:
        catalog.mark_removed(removed)
    before = catalog.last_attempts()
    plan = plan_run(scan.entries, before, converter_version=converter_version,
                    force=options.force, only=options.only, limit=options.limit)
    attempt_ids = tuple(
        catalog.queue_attempt(item.entry.model_id, run_id, (), converter_version, tf_version,
                              fingerprint=item.fingerprint)
        for item in plan.items)
    return PreparedRun(plan, attempt_ids, upserted.new, upserted.changed, removed, before)
