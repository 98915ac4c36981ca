"""What callers hand the catalog, and what it hands back: small frozen records.

The flow builds these from its own results (catalog entries, fetched artifacts,
conversion and validation reports); `storage.catalog.Catalog` maps them to rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

ATTEMPT_STATUSES = ("queued", "running", "converted", "failed", "skipped")
OPEN_STATUSES = ("queued", "running")
FINAL_STATUSES = ("converted", "failed", "skipped")
# A model with no attempt yet is reported with this status by the queries.
PENDING = "pending"

STAGES = ("fetch", "parse", "convert", "validate", "record")
# Open-ended: converters and fetchers may add their own categories; these are the usual ones.
KNOWN_CATEGORIES = (
    "dead link", "checksum", "unsupported layer", "parse error", "weight mismatch",
    "convert error", "numeric mismatch", "timeout", "oom", "crash",
)
CRASH = "crash"

ARTIFACT_KINDS = ("prototxt", "caffemodel", "mean", "labels", "readme")
ARTIFACT_STATUSES = ("ok", "missing", "mismatch", "quarantined")

RUN_STATUSES = ("running", "succeeded", "failed", "crashed")

TRACEBACK_LIMIT = 4000
MESSAGE_LIMIT = 2000


@dataclass(frozen=True)
class ModelRecord:
    """One model as the catalog scan sees it tonight."""

    id: str
    name: str
    section: str = ""
    source_links: tuple[str, ...] = ()
    gist_id: str | None = None
    gist_revision: str | None = None
    licence: str | None = None
    synthetic_weights: bool = False


@dataclass(frozen=True)
class UpsertSummary:
    """Which of the upserted models were new, which changed, and which came back."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


@dataclass(frozen=True)
class ArtifactRecord:
    """One fetch of one artifact of a model."""

    model_id: str
    kind: str
    url: str
    status: str
    fetched_at: datetime
    size: int | None = None
    sha1: str | None = None
    sha256: str | None = None
    store_path: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class OutputFile:
    """A file a conversion produced (SavedModel archive, .keras file, ...)."""

    kind: str
    path: str
    sha256: str


@dataclass(frozen=True)
class AttemptResult:
    """How a conversion attempt ended."""

    status: str  # one of FINAL_STATUSES
    failed_stage: str | None = None
    error_category: str | None = None
    message: str | None = None
    traceback: str | None = None
    stage_timings: Mapping[str, float] = field(default_factory=dict)
    outputs: tuple[OutputFile, ...] = ()
    layer_type_counts: Mapping[str, int] = field(default_factory=dict)
    param_count: int | None = None


@dataclass(frozen=True)
class ValidationRecord:
    """The comparison of one output of a converted model on one sample input."""

    sample: str
    output: str
    reference_runtime: str
    reference_version: str
    max_abs_error: float
    max_rel_error: float
    cosine_similarity: float
    passed: bool
    top1_agree: bool | None = None
    top5_overlap: float | None = None
    first_divergent_layer: str | None = None
    preprocessing: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunCounts:
    new: int = 0
    changed: int = 0
    converted: int = 0
    failed: int = 0
    skipped: int = 0



@dataclass(frozen=True)
class LastAttempt:
    """A model's most recent attempt, as the planner needs it."""

    model_id: str
    attempt_id: int
    status: str
    error_category: str | None
    converter_version: str
    fingerprint: str | None
    input_sha256s: tuple[str, ...]


@dataclass(frozen=True)
class KnownArtifact:
    """Verified bytes already fetched once: reusable without downloading again."""

    sha1: str
    sha256: str
    size: int
