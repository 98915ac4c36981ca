"""Decide what tonight's run must do, from the catalog scan and the database's history.

The database, not Prefect's cache, is the authority: a model is up to date when its
last attempt saw the same catalog fingerprint with the same converter version and
either converted or failed for a reason that a rerun cannot change.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from storage.records import LastAttempt
from zoo_catalog.records import STATUS_OK, CatalogEntry

# Failures that the same inputs and the same converter would repeat exactly.
DETERMINISTIC_CATEGORIES = frozenset({
    "unsupported layer", "parse error", "weight mismatch", "convert error", "checksum",
    "numeric mismatch", "dead link", "refused url", "no metadata", "no deploy net",
    "size cap", "too many redirects",
})


@dataclass(frozen=True)
class WorkItem:
    entry: CatalogEntry
    fingerprint: str
    reason: str  # new | changed | converter bumped | retry after <category> | forced | ...


@dataclass(frozen=True)
class Plan:
    items: tuple[WorkItem, ...]
    up_to_date: tuple[str, ...]  # model ids left alone tonight
    deferred: tuple[str, ...]  # planned but cut by --limit


def fingerprint(entry: CatalogEntry) -> str:
    """What identifies a model's inputs before anything is downloaded."""
    relevant = {
        "status": entry.status,
        "gist_revision": entry.gist_revision,
        "deploy": entry.deploy.url if entry.deploy else None,
        "caffemodel_url": entry.caffemodel_url,
        "sha1": entry.sha1,
        "mean": entry.mean_file.url if entry.mean_file else None,
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def _reason(entry: CatalogEntry, fp: str, last: LastAttempt | None, converter_version: str,
            force: bool) -> str | None:
    if force:
        return "forced"
    if last is None:
        return "new"
    if last.status in ("queued", "running"):
        return "unfinished"
    if last.fingerprint != fp:
        return "changed"
    if last.converter_version != converter_version and entry.status == STATUS_OK:
        return "converter bumped"
    if last.status == "failed" and last.error_category not in DETERMINISTIC_CATEGORIES:
        return f"retry after {last.error_category}"
    return None


def plan_run(entries: Iterable[CatalogEntry], last_attempts: Mapping[str, LastAttempt], *,
             converter_version: str, force: bool = False, only: Sequence[str] = (),
             limit: int | None = None) -> Plan:
    items: list[WorkItem] = []
    up_to_date: list[str] = []
    wanted = set(only)
    for entry in sorted(entries, key=lambda e: e.model_id):
        if wanted and entry.model_id not in wanted:
            continue
        fp = fingerprint(entry)
        reason = _reason(entry, fp, last_attempts.get(entry.model_id), converter_version, force)
        if reason is None:
            up_to_date.append(entry.model_id)
        else:
            items.append(WorkItem(entry, fp, reason))
    cut = items[limit:] if limit is not None else []
    kept = items[:limit] if limit is not None else items
    return Plan(tuple(kept), tuple(up_to_date), tuple(i.entry.model_id for i in cut))
