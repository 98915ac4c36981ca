"""The read side of the catalog: pandas DataFrames for the CLI, the dashboard and users.

Every function takes an Engine (`Catalog.open(url).engine`) and builds its SQL with
SQLAlchemy expressions: user input only ever reaches the database as bound parameters.
"Latest attempt" of a model is its attempt with the highest id.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from sqlalchemy import (
    Engine,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    true,
    type_coerce,
)

from storage.errors import InvalidValue, UnknownRecord
from storage.records import ATTEMPT_STATUSES, PENDING
from storage.schema import Artifact, Conversion, Model, Run, Validation

STATUSES = (*ATTEMPT_STATUSES, PENDING)
_TIME_COLUMNS = ("finished_at", "started_at", "queued_at", "fetched_at", "first_seen",
                 "last_seen", "heartbeat_at")
_NULLABLE_INT_COLUMNS = ("conversion_id", "param_count", "size")
_LAYER_TYPE = re.compile(r"^[A-Za-z0-9_.]{1,100}$")


@dataclass(frozen=True)
class ModelFilter:
    """Filters of the models table; None means "any"."""

    search: str | None = None  # substring of id or name, case-insensitive
    section: str | None = None
    status: str | None = None  # an attempt status or "pending"
    layer_type: str | None = None  # latest attempt uses this Caffe layer type
    synthetic: bool | None = None
    licence: str | None = None
    include_removed: bool = False


@dataclass(frozen=True)
class ModelPage:
    frame: pd.DataFrame
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class ModelDetail:
    model: dict[str, Any]
    artifacts: pd.DataFrame
    attempts: pd.DataFrame
    validations: pd.DataFrame


def _time(column: Any) -> Any:
    """A time column fetched without per-row conversion; `_frame` parses the whole
    column at once (naive UTC strings on SQLite, naive datetimes on PostgreSQL)."""
    return type_coerce(column, String()).label(column.key)


def _frame(engine: Engine, stmt: Select[Any]) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(stmt)
        # Plain tuples: pandas probes Row objects attribute by attribute, which is slow.
        frame = pd.DataFrame([tuple(row) for row in result.all()], columns=list(result.keys()))
    for column in _TIME_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    for column in _NULLABLE_INT_COLUMNS:
        if column in frame:  # a missing value would otherwise turn the ids into floats
            frame[column] = frame[column].astype("Int64")
    return frame


_CONVERSION = Conversion.__table__


def _latest_attempt(engine: Engine) -> tuple[Any, Any]:
    """Each model's latest attempt as something to LEFT JOIN to `model`, and the ON clause.

    PostgreSQL gets a LATERAL subquery (one index probe per model; its planner turns the
    portable form below into a hash join over every attempt, four times slower).
    SQLite has no LATERAL but runs the correlated max(id) as an index probe per model.
    """
    if engine.dialect.name == "postgresql":
        latest = (select(_CONVERSION).where(_CONVERSION.c.model_id == Model.id)
                  .order_by(_CONVERSION.c.id.desc()).limit(1).lateral("latest"))
        return latest, true()
    latest, newer = _CONVERSION.alias("latest"), _CONVERSION.alias("newer")
    newest_id = (select(func.max(newer.c.id)).where(newer.c.model_id == Model.id)
                 .scalar_subquery())
    return latest, latest.c.id == newest_id


def _status(latest: Any) -> Any:
    return func.coalesce(latest.c.status, PENDING)


def _latest_columns(latest: Any) -> tuple[Any, ...]:
    return (
        Model.id.label("model_id"), Model.name, Model.section, _status(latest).label("status"),
        latest.c.error_category, latest.c.failed_stage, latest.c.converter_version,
        _time(latest.c.finished_at), latest.c.duration_s, Model.synthetic_weights,
        Model.licence, Model.removed, latest.c.id.label("conversion_id"), latest.c.message,
    )


def _orders(latest: Any) -> dict[str, tuple[Any, ...]]:
    return {
        "name": (Model.name, Model.id),
        "section": (Model.section, Model.name, Model.id),
        "status": (_status(latest), Model.name, Model.id),
        "finished_at": (latest.c.finished_at.desc(), Model.id),
        "duration_s": (latest.c.duration_s.desc(), Model.id),
    }


ORDERS = ("name", "section", "status", "finished_at", "duration_s")


def _latest_select(engine: Engine, filters: ModelFilter,
                   columns: Callable[[Any], tuple[Any, ...]] = _latest_columns,
                   order_by: str | None = None) -> Select[Any]:
    """Models (filtered) joined to their latest attempt; `columns` picks what to select
    from `model` and the latest attempt."""
    latest, onclause = _latest_attempt(engine)
    stmt = select(*columns(latest)).select_from(Model).outerjoin(latest, onclause)
    conditions = []
    if not filters.include_removed:
        conditions.append(Model.removed.is_(False))
    if filters.search:
        conditions.append(or_(Model.name.icontains(filters.search, autoescape=True),
                              Model.id.icontains(filters.search, autoescape=True)))
    if filters.section is not None:
        conditions.append(Model.section == filters.section)
    if filters.status is not None:
        if filters.status not in STATUSES:
            raise InvalidValue(f"status {filters.status!r} is not one of {', '.join(STATUSES)}")
        conditions.append(_status(latest) == filters.status)
    if filters.layer_type is not None:
        if not _LAYER_TYPE.match(filters.layer_type):
            raise InvalidValue(f"layer type {filters.layer_type!r} is not a Caffe layer type name")
        conditions.append(latest.c.layer_type_counts[filters.layer_type].as_integer() > 0)
    if filters.synthetic is not None:
        conditions.append(Model.synthetic_weights.is_(filters.synthetic))
    if filters.licence is not None:
        conditions.append(Model.licence == filters.licence)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    if order_by is not None:
        if order_by not in ORDERS:
            raise InvalidValue(f"order {order_by!r} is not one of {', '.join(ORDERS)}")
        stmt = stmt.order_by(*_orders(latest)[order_by])
    return stmt


def latest_status(engine: Engine, filters: ModelFilter = ModelFilter()) -> pd.DataFrame:
    """One row per model with its latest attempt's outcome ("pending": none yet)."""
    # Sorting here rather than in SQL spares SQLite a row lookup per model in name order.
    frame = _frame(engine, _latest_select(engine, filters))
    return frame.sort_values(["name", "model_id"], ignore_index=True)


def models_page(engine: Engine, filters: ModelFilter = ModelFilter(), page: int = 1,
                page_size: int = 50, order_by: str = "name") -> ModelPage:
    """One page (1-based) of the filtered models table, and the filtered total."""
    if page < 1 or page_size < 1:
        raise InvalidValue(f"page {page} / page size {page_size}: both must be >= 1")
    counted = _latest_select(engine, filters, lambda latest: (Model.id,)).subquery()
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(counted)).scalar_one()
    frame = _frame(engine, _latest_select(engine, filters, order_by=order_by)
                   .limit(page_size).offset((page - 1) * page_size))
    return ModelPage(frame, int(total), page, page_size)


def status_counts(engine: Engine, filters: ModelFilter = ModelFilter()) -> pd.DataFrame:
    """Models per latest status (columns status, models), most frequent first."""
    stmt = _latest_select(engine, filters,
                          lambda latest: (_status(latest).label("status"),)).subquery()
    frame = _frame(engine, select(stmt.c.status, func.count().label("models"))
                   .group_by(stmt.c.status))
    return frame.sort_values(["models", "status"], ascending=[False, True],
                             ignore_index=True)


def failures(engine: Engine, by: Literal["category", "stage"] = "category",
             examples: int = 3) -> pd.DataFrame:
    """Models whose latest attempt failed, grouped by error category or failed stage:
    columns <by>, models, share (of failures), examples (a few model ids)."""
    column = {"category": "error_category", "stage": "failed_stage"}.get(by)
    if column is None:
        raise InvalidValue(f"failures by {by!r}: choose category or stage")
    rows = _frame(engine, _latest_select(
        engine, ModelFilter(status="failed"),
        lambda latest: (Model.id.label("model_id"), latest.c[column].label(by)),
    ).order_by(Model.id))
    rows[by] = rows[by].fillna("(unknown)")
    grouped = rows.groupby(by, sort=False)["model_id"]
    frame = pd.DataFrame({
        "models": grouped.size(),
        "examples": grouped.agg(lambda ids: ", ".join(ids.iloc[:examples])),
    }).reset_index()
    frame.insert(2, "share", frame["models"] / max(len(rows), 1))
    return frame.sort_values(["models", by], ascending=[False, True], ignore_index=True)


def layer_coverage(engine: Engine) -> pd.DataFrame:
    """Per Caffe layer type over the latest attempts: models using it, how many of
    those converted / failed, and layer instances in all."""
    # Both backends expand a JSON object into (key, value) rows in SQL; PostgreSQL's
    # text variant gives values that cast to integers like SQLite's.
    expand = "json_each_text" if engine.dialect.name == "postgresql" else "json_each"
    latest, onclause = _latest_attempt(engine)
    entries = getattr(func, expand)(latest.c.layer_type_counts).table_valued("key", "value")
    status = _status(latest)
    stmt = (select(
        entries.c.key.label("layer_type"), func.count().label("models"),
        func.sum(case((status == "converted", 1), else_=0)).label("converted"),
        func.sum(case((status == "failed", 1), else_=0)).label("failed"),
        func.sum(cast(entries.c.value, Integer)).label("layers"),
    ).select_from(Model).join(latest, onclause).join(entries, true())
        .where(Model.removed.is_(False)).group_by(entries.c.key))
    frame = _frame(engine, stmt)
    return frame.sort_values(["models", "layer_type"], ascending=[False, True],
                             ignore_index=True)


def conversion_times(engine: Engine) -> pd.DataFrame:
    """Durations of the latest converted attempts: model_id, duration_s, and one
    column per stage (seconds) from the recorded stage timings."""
    stmt = _latest_select(engine, ModelFilter(status="converted"), lambda latest: (
        Model.id.label("model_id"), latest.c.duration_s, latest.c.stage_timings))
    frame = _frame(engine, stmt.order_by(Model.id))
    stages = pd.DataFrame.from_records(list(frame.pop("stage_timings")), index=frame.index)
    return pd.concat([frame, stages.add_prefix("stage_")], axis=1)


_ATTEMPT_COLUMNS = (
    Conversion.id.label("attempt_id"), Conversion.run_id, Conversion.status,
    Conversion.failed_stage, Conversion.error_category, Conversion.message,
    Conversion.converter_version, Conversion.tf_version, Conversion.input_sha256s,
    _time(Conversion.queued_at), _time(Conversion.started_at), _time(Conversion.finished_at),
    Conversion.duration_s,
    Conversion.host, Conversion.param_count,
)


def model_history(engine: Engine, model_id: str) -> pd.DataFrame:
    """Every attempt of one model, newest first."""
    return _frame(engine, select(*_ATTEMPT_COLUMNS).where(Conversion.model_id == model_id)
                  .order_by(Conversion.id.desc()))


def runs(engine: Engine, limit: int = 50) -> pd.DataFrame:
    """The most recent runs, newest first."""
    return _frame(engine, select(
        Run.id.label("run_id"), Run.status, _time(Run.started_at), _time(Run.finished_at),
        _time(Run.heartbeat_at),
        Run.flow_run_id, Run.catalog_revision, Run.host, Run.n_new, Run.n_changed,
        Run.n_converted, Run.n_failed, Run.n_skipped,
    ).order_by(Run.id.desc()).limit(limit))


def filter_choices(engine: Engine) -> dict[str, list[str]]:
    """The values the models-table filters can take: sections, licences, statuses."""
    with engine.connect() as conn:
        sections = conn.execute(select(Model.section).distinct().order_by(Model.section))
        licences = conn.execute(select(Model.licence).where(Model.licence.is_not(None))
                                .distinct().order_by(Model.licence))
        return {"section": list(sections.scalars()), "licence": list(licences.scalars()),
                "status": list(STATUSES)}


def model_detail(engine: Engine, key: str) -> ModelDetail:
    """One model (by id, or by name when unique): its row, artifacts, attempts (newest
    first, with the full outcome) and all validations of its attempts."""
    with engine.connect() as conn:
        found = conn.execute(select(Model.__table__)
                             .where(or_(Model.id == key, Model.name == key))
                             .order_by((Model.id == key).desc()).limit(2)).mappings().all()
    if not found:
        raise UnknownRecord(f"model {key!r} is not in the catalog")
    if found[0]["id"] != key and len(found) > 1:
        raise UnknownRecord(f"model name {key!r} is ambiguous: use the model id")
    model = dict(found[0])
    attempts = _frame(engine, select(
        *_ATTEMPT_COLUMNS, Conversion.traceback, Conversion.stage_timings, Conversion.outputs,
        Conversion.layer_type_counts,
    ).where(Conversion.model_id == model["id"]).order_by(Conversion.id.desc()))
    artifacts = _frame(engine, select(
        Artifact.id.label("artifact_id"), Artifact.kind, Artifact.status, Artifact.url,
        Artifact.size, Artifact.sha1, Artifact.sha256, Artifact.store_path, Artifact.etag,
        Artifact.last_modified, _time(Artifact.fetched_at),
    ).where(Artifact.model_id == model["id"]).order_by(Artifact.kind, Artifact.id.desc()))
    validations = _frame(engine, select(
        Validation.conversion_id.label("attempt_id"), Validation.sample, Validation.output,
        Validation.reference_runtime, Validation.reference_version, Validation.max_abs_error,
        Validation.max_rel_error, Validation.cosine_similarity, Validation.top1_agree,
        Validation.top5_overlap, Validation.first_divergent_layer, Validation.preprocessing,
        Validation.passed,
    ).join(Conversion, Conversion.id == Validation.conversion_id)
        .where(Conversion.model_id == model["id"])
        .order_by(Validation.conversion_id.desc(), Validation.id))
    return ModelDetail(model, artifacts, attempts, validations)
