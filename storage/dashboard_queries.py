"""Read-only access and the queries the dashboard needs beyond `storage.queries`.

`read_only_engine` opens a catalog URL so that no statement can write: SQLite through a
`mode=ro` URI, PostgreSQL with every transaction read-only. It never creates or migrates
anything, so the dashboard can watch a catalog that the nightly run is writing.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from sqlalchemy import Engine, case, create_engine, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from storage.errors import CatalogUnavailable, CatalogURLError
from storage.schema import Conversion, Model, Run, Validation

# Attempt outcomes that say whether a model works; a skip only means "up to date".
_VERDICTS = ("converted", "failed")
NEWLY_FAILING = "newly failing"
FIXED = "fixed"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other backends and in-memory)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _parse(url: str):
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise CatalogURLError(f"catalog URL {url!r} is not a database URL: {exc}") from None


def read_only_engine(url: str) -> Engine:
    """An engine on `url` that cannot write. A SQLite file must already exist."""
    parsed = _parse(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(url)
            if path is None:
                raise CatalogURLError(f"catalog URL {url!r}: an in-memory database is empty")
            if not path.is_file():
                raise CatalogUnavailable(f"catalog {path} does not exist")
            uri = parsed.set(database=f"file:{quote(str(path.resolve()))}",
                             query={"mode": "ro", "uri": "true"})
            return create_engine(uri)
        if parsed.get_backend_name() == "postgresql":
            return create_engine(parsed, pool_pre_ping=True, connect_args={
                "options": "-c default_transaction_read_only=on"})
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise CatalogURLError(f"catalog URL {parsed!r}: {exc}") from None


def has_schema(engine: Engine) -> bool:
    """Whether the catalog tables exist (a database nobody has run against has none)."""
    try:
        return inspect(engine).has_table(Model.__tablename__)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        shown = engine.url.render_as_string(hide_password=True)
        raise CatalogUnavailable(f"cannot open catalog {shown}: {reason}") from None


def _latest_id(attempt) -> object:
    """The id of the latest attempt of `attempt`'s model (an index probe per row)."""
    newer = Conversion.__table__.alias("newer")
    return (select(func.max(newer.c.id)).where(newer.c.model_id == attempt.c.model_id)
            .scalar_subquery())


def latest_validation(engine: Engine) -> pd.DataFrame:
    """Per model whose latest attempt was validated: model_id, samples (rows),
    failed_rows, max_abs_error, max_rel_error, min_cosine, divergent (rows naming a
    first divergent layer). Removed models are left out."""
    attempt = Conversion.__table__.alias("attempt")
    stmt = (select(
        attempt.c.model_id, func.count().label("samples"),
        func.sum(case((Validation.passed.is_(True), 0), else_=1)).label("failed_rows"),
        func.max(Validation.max_abs_error).label("max_abs_error"),
        func.max(Validation.max_rel_error).label("max_rel_error"),
        func.min(Validation.cosine_similarity).label("min_cosine"),
        func.count(Validation.first_divergent_layer).label("divergent"),
    ).select_from(Validation)
        .join(attempt, attempt.c.id == Validation.conversion_id)
        .join(Model, Model.id == attempt.c.model_id)
        .where(attempt.c.id == _latest_id(attempt), Model.removed.is_(False))
        .group_by(attempt.c.model_id).order_by(attempt.c.model_id))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))
    return frame.astype({"samples": int, "failed_rows": int, "divergent": int})


def run_changes(engine: Engine, run_ids: Sequence[int]) -> pd.DataFrame:
    """Models whose verdict changed in one of `run_ids`: columns run_id, model_id, name,
    change ("newly failing" or "fixed"), status, previous_status, previous_run_id,
    error_category, message.

    A model's verdict in a run is its last converted/failed attempt of that run; it is
    compared with its last verdict in any earlier run.
    """
    if not run_ids:
        return pd.DataFrame(columns=["run_id", "model_id", "name", "change", "status",
                                     "previous_status", "previous_run_id", "error_category",
                                     "message"])
    table = Conversion.__table__
    cur, prev, same, earlier = (table.alias(n) for n in ("cur", "prev", "same", "earlier"))
    last_in_run = (select(func.max(same.c.id)).where(
        same.c.model_id == cur.c.model_id, same.c.run_id == cur.c.run_id,
        same.c.status.in_(_VERDICTS)).scalar_subquery())
    previous_id = (select(func.max(earlier.c.id)).where(
        earlier.c.model_id == cur.c.model_id, earlier.c.id < cur.c.id,
        earlier.c.run_id != cur.c.run_id, earlier.c.status.in_(_VERDICTS)).scalar_subquery())
    change = case((cur.c.status == "failed", NEWLY_FAILING), else_=FIXED)
    stmt = (select(
        cur.c.run_id, cur.c.model_id, Model.name, change.label("change"), cur.c.status,
        prev.c.status.label("previous_status"), prev.c.run_id.label("previous_run_id"),
        cur.c.error_category, cur.c.message,
    ).select_from(cur)
        .join(Model, Model.id == cur.c.model_id)
        .join(prev, prev.c.id == previous_id)
        .where(cur.c.run_id.in_(sorted(set(run_ids))), cur.c.status.in_(_VERDICTS),
               cur.c.id == last_in_run, prev.c.status != cur.c.status)
        .order_by(cur.c.run_id.desc(), change, cur.c.model_id))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


def catalog_totals(engine: Engine) -> dict[str, int]:
    """Counts for the first-run check and the overview: models (not removed), runs,
    attempts."""
    with engine.connect() as conn:
        models = conn.execute(select(func.count()).select_from(Model)
                              .where(Model.removed.is_(False))).scalar_one()
        runs = conn.execute(select(func.count()).select_from(Run)).scalar_one()
        attempts = conn.execute(select(func.count()).select_from(Conversion)).scalar_one()
    return {"models": int(models), "runs": int(runs), "attempts": int(attempts)}

