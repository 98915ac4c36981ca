"""The records a catalog scan produces: one CatalogEntry per model, gathered in a CatalogScan.

These cross module boundaries (storage, Prefect tasks, the CLI), so they are frozen and
round-trip through plain JSON (`to_dict` / `from_dict`) without loss.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Iterable

# Link kinds, from most to least useful for finding a model's files.
LINK_GIST = "gist"
LINK_WEIGHTS = "weights"
LINK_GITHUB_REPO = "github_repo"
LINK_PROJECT_PAGE = "project_page"
LINK_PAPER = "paper"
LINK_OTHER = "other"
LINK_KINDS = (LINK_GIST, LINK_WEIGHTS, LINK_GITHUB_REPO, LINK_PROJECT_PAGE, LINK_PAPER, LINK_OTHER)

# Entry statuses.
STATUS_OK = "ok"                          # readme front matter names the weights
STATUS_NOT_FETCHED = "not fetched"        # wiki-only view: the gist/repo was not read
STATUS_NO_METADATA = "no metadata"        # only links (repo, project page, archive)
STATUS_INCOMPLETE = "incomplete metadata"  # a readme was read but names no weights
STATUS_GIST_UNAVAILABLE = "gist unavailable"
STATUS_REPO_UNAVAILABLE = "repo unavailable"
STATUSES = (STATUS_OK, STATUS_NOT_FETCHED, STATUS_NO_METADATA, STATUS_INCOMPLETE,
            STATUS_GIST_UNAVAILABLE, STATUS_REPO_UNAVAILABLE)

# Where an entry's metadata comes from.
SOURCE_GIST = "gist"
SOURCE_REPO = "repo"      # a GitHub repository folder (BVLC/caffe models/<name>, ...)
SOURCE_WIKI = "wiki"      # the wiki text only


@dataclass(frozen=True)
class Link:
    kind: str
    url: str
    text: str = ""


@dataclass(frozen=True)
class FileRef:
    """A file that belongs to a model: its name and where to download it."""

    name: str
    url: str


@dataclass(frozen=True)
class DeployNet(FileRef):
    """The network definition chosen for conversion; `is_train_val` when no deploy net exists."""

    is_train_val: bool = False


@dataclass(frozen=True)
class RepoRef:
    """A folder of a GitHub repository, read through the contents API."""

    owner: str
    repo: str
    path: str = ""

    @property
    def label(self) -> str:
        return f"{self.owner}/{self.repo}" + (f"/{self.path}" if self.path else "")


@dataclass(frozen=True)
class CatalogEntry:
    model_id: str
    name: str
    section: str
    status: str
    source: str = SOURCE_WIKI
    links: tuple[Link, ...] = ()
    gist_id: str | None = None
    gist_revision: str | None = None
    repo: RepoRef | None = None
    licence: str | None = None
    citation: str | None = None
    caffemodel: str | None = None
    caffemodel_url: str | None = None
    sha1: str | None = None
    caffe_commit: str | None = None
    deploy: DeployNet | None = None
    mean_file: FileRef | None = None
    labels_file: FileRef | None = None
    extra_weights: tuple[FileRef, ...] = ()
    synthetic_weights: bool = False
    warnings: tuple[str, ...] = ()

    def links_of(self, kind: str) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.kind == kind)

    def with_warnings(self, *messages: str) -> CatalogEntry:
        new = tuple(m for m in messages if m not in self.warnings)
        return replace(self, warnings=self.warnings + new) if new else self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogEntry:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"catalog entry has unknown fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        values["links"] = tuple(Link(**link) for link in data.get("links", ()))
        values["extra_weights"] = tuple(FileRef(**ref) for ref in data.get("extra_weights", ()))
        values["warnings"] = tuple(data.get("warnings", ()))
        for key, kind in (("deploy", DeployNet), ("mean_file", FileRef),
                          ("labels_file", FileRef), ("repo", RepoRef)):
            if data.get(key) is not None:
                values[key] = kind(**data[key])
        return cls(**values)


@dataclass(frozen=True)
class CatalogScan:
    """Every entry of one catalog page at one moment, with where and when it was read."""

    source: str
    revision: str
    entries: tuple[CatalogEntry, ...]
    scanned_at: str = ""
    warnings: tuple[str, ...] = ()
    requests: dict[str, int] = field(default_factory=dict)

    def by_id(self) -> dict[str, CatalogEntry]:
        return {entry.model_id: entry for entry in self.entries}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "zoo2tf-catalog-scan/1",
            "source": self.source,
            "revision": self.revision,
            "scanned_at": self.scanned_at,
            "warnings": list(self.warnings),
            "requests": dict(self.requests),
            "entries": [entry.to_dict() for entry in self.entries],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogScan:
        if data.get("format") != "zoo2tf-catalog-scan/1":
            raise ValueError(f"not a zoo2tf catalog scan (format {data.get('format')!r})")
        return cls(
            source=data["source"],
            revision=data["revision"],
            scanned_at=data.get("scanned_at", ""),
            warnings=tuple(data.get("warnings", ())),
            requests=dict(data.get("requests", {})),
            entries=tuple(CatalogEntry.from_dict(e) for e in data["entries"]),
        )

    @classmethod
    def from_json(cls, text: str) -> CatalogScan:
        return cls.from_dict(json.loads(text))


def count_by_status(entries: Iterable[CatalogEntry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return counts
