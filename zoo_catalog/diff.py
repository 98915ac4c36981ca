"""What changed between two catalog scans: models added, removed, and changed in place.

"Changed" means a difference that matters to the nightly conversion: a new gist revision,
a different sha1, caffemodel or deploy URL, a new status, or different links. Renamed or
moved wiki sections do not count, because model ids do not depend on them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zoo_catalog.records import CatalogEntry, CatalogScan

TRACKED_FIELDS = ("gist_revision", "sha1", "caffemodel_url", "caffemodel", "deploy_url", "status", "links")


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value; for `links`, the URLs removed and the URLs added."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class EntryChange:
    model_id: str
    name: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class CatalogDiff:
    old_revision: str
    new_revision: str
    added: tuple[CatalogEntry, ...]
    removed: tuple[CatalogEntry, ...]
    changed: tuple[EntryChange, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        def brief(entry: CatalogEntry) -> dict[str, Any]:
            return {"model_id": entry.model_id, "name": entry.name, "section": entry.section,
                    "status": entry.status}

        return {
            "old_revision": self.old_revision,
            "new_revision": self.new_revision,
            "added": [brief(e) for e in self.added],
            "removed": [brief(e) for e in self.removed],
            "changed": [{"model_id": c.model_id, "name": c.name,
                         "changes": [{"field": f.field, "old": f.old, "new": f.new} for f in c.changes]}
                        for c in self.changed],
        }


def diff_scans(old: CatalogScan, new: CatalogScan) -> CatalogDiff:
    before, after = old.by_id(), new.by_id()
    changed = []
    for model_id, entry in after.items():
        previous = before.get(model_id)
        if previous is None:
            continue
        changes = tuple(_field_changes(previous, entry))
        if changes:
            changed.append(EntryChange(model_id=model_id, name=entry.name, changes=changes))
    return CatalogDiff(
        old_revision=old.revision, new_revision=new.revision,
        added=tuple(e for i, e in after.items() if i not in before),
        removed=tuple(e for i, e in before.items() if i not in after),
        changed=tuple(changed))


def _field_changes(old: CatalogEntry, new: CatalogEntry) -> list[FieldChange]:
    changes = []
    for name in TRACKED_FIELDS:
        if name == "links":
            old_urls = {link.url for link in old.links}
            new_urls = {link.url for link in new.links}
            if old_urls != new_urls:
                changes.append(FieldChange("links", sorted(old_urls - new_urls), sorted(new_urls - old_urls)))
            continue
        if name == "deploy_url":
            before = old.deploy.url if old.deploy else None
            after = new.deploy.url if new.deploy else None
        else:
            before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(FieldChange(name, before, after))
    return changes
