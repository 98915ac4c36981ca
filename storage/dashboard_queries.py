"""Read-only access and the queries the dashboard needs beyond `storage.queries`.

`read_only_engine` opens a catalog URL so that no statement can write: SQLite through a
`mode=ro` URI, PostgreSQL with every transaction read-only. It never creates or migrates
anything, so the dashboard can watch a catalog that the nightly run is writing.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from sqlalchemy import Engine, case, create_engine, func, inspect, select, true
from sqlalchemy.engine import URL, make_url
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


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise CatalogURLError(f"catalog URL {url!r} is not a database URL: {exc}") from None


def read_only_engine(url: str) -> Engine:
    """An engine on `url` that cannot write (SQLite, PostgreSQL; other backends get a
    plain engine, and the dashboard issues no write). A SQLite file must already exist."""
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


def _latest_attempt_id(engine: Engine) -> tuple[Any | None, Any]:
    """The id of the latest attempt of `Model`'s row: a LATERAL to join first on
    PostgreSQL (one backward index probe per model; its planner runs the correlated form
    five times slower), and the id expression. SQLite probes the index per model with a
    correlated max(id)."""
    attempt = Conversion.__table__.alias("attempt")
    if engine.dialect.name == "postgresql":
        latest = (select(attempt.c.id).where(attempt.c.model_id == Model.id)
                  .order_by(attempt.c.id.desc()).limit(1).lateral("latest"))
        return latest, latest.c.id
    return None, (select(func.max(attempt.c.id)).where(attempt.c.model_id == Model.id)
                  .scalar_subquery())


def latest_validation(engine: Engine) -> pd.DataFrame:
    """Per model whose latest attempt was validated: model_id, samples (rows),
    failed_rows, max_abs_error, max_rel_error, min_cosine, divergent (rows naming a
    first divergent layer). Removed models are left out."""
    lateral, latest_id = _latest_attempt_id(engine)
    stmt = select(
        Model.id.label("model_id"), func.count().label("samples"),
        func.sum(case((Validation.passed.is_(True), 0), else_=1)).label("failed_rows"),
        func.max(Validation.max_abs_error).label("max_abs_error"),
        func.max(Validation.max_rel_error).label("max_rel_error"),
        func.min(Validation.cosine_similarity).label("min_cosine"),
        func.count(Validation.first_divergent_layer).label("divergent"),
    ).select_from(Model)
    if lateral is not None:
        stmt = stmt.join(lateral, true())
    stmt = (stmt.join(Validation, Validation.conversion_id == latest_id)
            .where(Model.removed.is_(False)).group_by(Model.id).order_by(Model.id))
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
    cur, later = table.alias("cur"), table.alias("later")
    prev, onclause = _previous_verdict(engine, cur)
    # The run's verdict is its last converted/failed attempt: no later one in the same run.
    runs = sorted(set(run_ids))
    # (`later.run_id IN runs` is implied, but lets PostgreSQL's anti-join skip other runs.)
    superseded = (select(later.c.id).where(
        later.c.model_id == cur.c.model_id, later.c.run_id == cur.c.run_id,
        later.c.run_id.in_(runs), later.c.id > cur.c.id, later.c.status.in_(_VERDICTS))
        .exists())
    change = case((cur.c.status == "failed", NEWLY_FAILING), else_=FIXED)
    stmt = (select(
        cur.c.run_id, cur.c.model_id, Model.name, change.label("change"), cur.c.status,
        prev.c.status.label("previous_status"), prev.c.run_id.label("previous_run_id"),
        cur.c.error_category, cur.c.message,
    ).select_from(cur)
        .join(Model, Model.id == cur.c.model_id)
        .join(prev, onclause)
        .where(cur.c.run_id.in_(runs), cur.c.status.in_(_VERDICTS),
               ~superseded, prev.c.status != cur.c.status)
        .order_by(cur.c.run_id.desc(), change, cur.c.model_id))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame([tuple(r) for r in result], columns=list(result.keys()))


def _previous_verdict(engine: Engine, cur: Any) -> tuple[Any, Any]:
    """The model's last verdict before `cur`'s run, to join to `cur`, and the ON clause.

    PostgreSQL: a LATERAL subquery, one backward index probe per attempt. SQLite has no
    LATERAL; it joins, by primary key, the attempt a correlated max(id) finds.
    """
    earlier = Conversion.__table__.alias("earlier")
    before = (earlier.c.model_id == cur.c.model_id, earlier.c.id < cur.c.id,
              earlier.c.run_id != cur.c.run_id, earlier.c.status.in_(_VERDICTS))
    if engine.dialect.name == "postgresql":
        return (select(earlier.c.id, earlier.c.status, earlier.c.run_id).where(*before)
                .order_by(earlier.c.id.desc()).limit(1).lateral("prev"), true())
    prev = Conversion.__table__.alias("prev")
    return prev, prev.c.id == select(func.max(earlier.c.id)).where(*before).scalar_subquery()


def catalog_totals(engine: Engine) -> dict[str, int]:
    """Counts for the first-run check and the overview: models (not removed), runs,
    attempts."""
    with engine.connect() as conn:
        models = conn.execute(select(func.count()).select_from(Model)
                              .where(Model.removed.is_(False))).scalar_one()
        runs = conn.execute(select(func.count()).select_from(Run)).scalar_one()
        attempts = conn.execute(select(func.count()).select_from(Conversion)).scalar_one()
    return {"models": int(models), "runs": int(runs), "attempts": int(attempts)}

