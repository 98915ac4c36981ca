"""The write side of the catalog: what the nightly flow records, one transaction per call.

An attempt row moves queued -> running -> converted | failed | skipped and is never
deleted; reruns add rows. Runs heartbeat; attempts left open by a run whose process is
gone (or silent for too long) are closed as failed/"crash" by `recover_stale`.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage import migrate
from storage.engine import create_catalog_engine, write_transaction
from storage.errors import CatalogUnavailable, InvalidTransition, InvalidValue, UnknownRecord
from storage.records import (
    ARTIFACT_KINDS,
    ARTIFACT_STATUSES,
    CRASH,
    FINAL_STATUSES,
    MESSAGE_LIMIT,
    OPEN_STATUSES,
    RUN_STATUSES,
    STAGES,
    TRACEBACK_LIMIT,
    ArtifactRecord,
    AttemptResult,
    KnownArtifact,
    LastAttempt,
    ModelRecord,
    OutputFile,
    RunCounts,
    UpsertSummary,
    ValidationRecord,
)
from storage.schema import Artifact, Conversion, Model, Run, Validation, utcnow

# Bound on ids per IN (...) so no backend hits its parameter limit.
_CHUNK = 500
_MODEL_FIELDS = ("name", "section", "source_links", "gist_id", "gist_revision", "licence",
                 "synthetic_weights")
_ARTIFACT_IDENTITY = ("status", "size", "sha1", "sha256", "store_path")

DoneInputs = set[tuple[tuple[str, ...], str]]


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _check(value: str | None, allowed: Sequence[str], field: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidValue(f"{field} {value!r} is not one of {', '.join(allowed)}")


def _bounded_tail(text: str | None, limit: int) -> str | None:
    # The end of a traceback names the failing frame: keep the tail.
    if text is None or len(text) <= limit:
        return text
    return "..." + text[-(limit - 3):]


def _process_gone(pid: int, started_at: datetime) -> bool:
    """Whether the process that started a run on this host no longer exists."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return True
        # A live pid created after the run started is a reused pid, not the run's process.
        return proc.create_time() > started_at.timestamp() + 1.0
    except psutil.NoSuchProcess:
        return True


class Catalog:
    """The catalog database behind one URL. Open with `Catalog.open(url)`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.host = socket.gethostname()

    @classmethod
    def open(cls, url: str | None = None) -> Catalog:
        """Connect to `url` (default: ZOO2TF_DB_URL or the SQLite file in the data dir),
        creating or migrating the schema to the current revision."""
        if url is None:
            from zoo2tf.config import default_db_url

            url = default_db_url()
        engine = create_catalog_engine(url)
        try:
            migrate.upgrade(engine)
        except OperationalError as exc:
            engine.dispose()
            shown = make_url(url).render_as_string(hide_password=True)
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise CatalogUnavailable(f"cannot open catalog {shown}: {reason}") from None
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- models and artifacts -------------------------------------------------------

    def upsert_models(self, records: Iterable[ModelRecord], seen_at: datetime) -> UpsertSummary:
        """Insert new models, update changed ones, refresh last_seen of all of them.

        A model that was marked removed and shows up again counts as changed.
        """
        by_id = {r.id: r for r in records}
        new: list[str] = []
        changed: list[str] = []
        unchanged: list[str] = []
        with write_transaction(self.engine) as conn:
            existing: dict[str, Any] = {}
            for chunk in _chunks(sorted(by_id)):
                cols = [Model.id, Model.removed, *(getattr(Model, f) for f in _MODEL_FIELDS)]
                for row in conn.execute(select(*cols).where(Model.id.in_(chunk))):
                    existing[row.id] = row
            inserts, updates = [], []
            for model_id, rec in sorted(by_id.items()):
                values = {f: getattr(rec, f) for f in _MODEL_FIELDS}
                values["source_links"] = list(rec.source_links)
                old = existing.get(model_id)
                if old is None:
                    new.append(model_id)
                    inserts.append({"id": model_id, **values, "first_seen": seen_at,
                                    "last_seen": seen_at, "removed": False})
                    continue
                if old.removed or any(getattr(old, f) != values[f] for f in _MODEL_FIELDS):
                    changed.append(model_id)
                else:
                    unchanged.append(model_id)
                updates.append({"b_id": model_id, **values, "last_seen": seen_at,
                                "removed": False})
            if inserts:
                conn.execute(insert(Model), inserts)
            if updates:
                conn.execute(update(Model).where(Model.id == bindparam("b_id")), updates)
        return UpsertSummary(tuple(new), tuple(changed), tuple(unchanged))

    def mark_removed(self, ids: Iterable[str]) -> int:
        """Flag models gone from the zoo; their rows and history stay. Returns how many."""
        count = 0
        with write_transaction(self.engine) as conn:
            for chunk in _chunks(sorted(set(ids))):
                result = conn.execute(
                    update(Model).where(Model.id.in_(chunk), Model.removed.is_(False))
                    .values(removed=True))
                count += result.rowcount
        return count

    def record_artifact(self, record: ArtifactRecord) -> int:
        """Record one fetch; returns the artifact row id.

        The same content with the same status as the latest row for (model, kind, url)
        refreshes that row's fetch time and validators; anything else adds a row.
        """
        _check(record.kind, ARTIFACT_KINDS, "artifact kind")
        _check(record.status, ARTIFACT_STATUSES, "artifact status")
        values = asdict(record)
        with write_transaction(self.engine) as conn:
            self._require_model(conn, record.model_id)
            latest = conn.execute(
                select(Artifact.id, *(getattr(Artifact, f) for f in _ARTIFACT_IDENTITY))
                .where(Artifact.model_id == record.model_id, Artifact.kind == record.kind,
                       Artifact.url == record.url)
                .order_by(Artifact.id.desc()).limit(1)).first()
            if latest is not None and all(
                    getattr(latest, f) == values[f] for f in _ARTIFACT_IDENTITY):
                conn.execute(update(Artifact).where(Artifact.id == latest.id).values(
                    fetched_at=record.fetched_at, etag=record.etag,
                    last_modified=record.last_modified))
                return int(latest.id)
            return int(conn.execute(insert(Artifact).values(**values)
                                    .returning(Artifact.id)).scalar_one())

    # -- runs -----------------------------------------------------------------------

    def start_run(self, flow_run_id: str | None = None,
                  catalog_revision: str | None = None) -> int:
        now = utcnow()
        with write_transaction(self.engine) as conn:
            return int(conn.execute(insert(Run).values(
                flow_run_id=flow_run_id, catalog_revision=catalog_revision, started_at=now,
                heartbeat_at=now, host=self.host, pid=os.getpid(), status="running",
                **{f"n_{k}": 0 for k in asdict(RunCounts())},
            ).returning(Run.id)).scalar_one())

    def heartbeat(self, run_id: int) -> None:
        """Tell other processes this run is alive. Fails if it was already closed
        (for instance declared crashed after missing heartbeats)."""
        with write_transaction(self.engine) as conn:
            result = conn.execute(update(Run).where(Run.id == run_id, Run.status == "running")
                                  .values(heartbeat_at=utcnow()))
            if result.rowcount == 0:
                self._raise_run_not_running(conn, run_id)

    def finish_run(self, run_id: int, counts: RunCounts, status: str) -> None:
        _check(status, tuple(s for s in RUN_STATUSES if s != "running"), "run status")
        now = utcnow()
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(Run).where(Run.id == run_id, Run.status == "running").values(
                    status=status, finished_at=now, heartbeat_at=now,
                    **{f"n_{k}": v for k, v in asdict(counts).items()}))
            if result.rowcount == 0:
                self._raise_run_not_running(conn, run_id)

    @staticmethod
    def _raise_run_not_running(conn: Connection, run_id: int) -> None:
        status = conn.execute(select(Run.status).where(Run.id == run_id)).scalar()
        if status is None:
            raise UnknownRecord(f"run {run_id} is not in the catalog")
        raise InvalidTransition(f"run {run_id} is {status}, not running")

    # -- attempts -------------------------------------------------------------------

    def queue_attempt(self, model_id: str, run_id: int, input_sha256s: Iterable[str],
                      converter_version: str, tf_version: str, *,
                      fingerprint: str | None = None) -> int:
        """Add a queued attempt; input sha256s are stored sorted (a set, canonical order).
        `fingerprint` is the catalog entry's identity the planner compares night to night."""
        with write_transaction(self.engine) as conn:
            self._require_model(conn, model_id)
            run_status = conn.execute(select(Run.status).where(Run.id == run_id)).scalar()
            if run_status != "running":
                self._raise_run_not_running(conn, run_id)
            return int(conn.execute(insert(Conversion).values(
                model_id=model_id, run_id=run_id, input_sha256s=sorted(input_sha256s),
                converter_version=converter_version, tf_version=tf_version, status="queued",
                catalog_fingerprint=fingerprint,
                stage_timings={}, outputs=[], layer_type_counts={}, queued_at=utcnow(),
            ).returning(Conversion.id)).scalar_one())

    def mark_running(self, attempt_id: int) -> None:
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(Conversion).where(Conversion.id == attempt_id,
                                         Conversion.status == "queued")
                .values(status="running", started_at=utcnow(), host=self.host))
            if result.rowcount == 0:
                self._raise_attempt_state(conn, attempt_id, "queued")

    def set_attempt_inputs(self, attempt_id: int, input_sha256s: Iterable[str]) -> None:
        """Record the inputs of an open attempt once they are fetched (stored sorted)."""
        with write_transaction(self.engine) as conn:
            result = conn.execute(
                update(Conversion).where(Conversion.id == attempt_id,
                                         Conversion.status.in_(OPEN_STATUSES))
                .values(input_sha256s=sorted(input_sha256s)))
            if result.rowcount == 0:
                self._raise_attempt_state(conn, attempt_id, "queued or running")

    def finish_attempt(self, attempt_id: int, result: AttemptResult) -> None:
        """Close an open attempt with its outcome (from queued too: a skip never runs)."""
        _check(result.status, FINAL_STATUSES, "attempt status")
        _check(result.failed_stage, STAGES, "failed stage")
        if result.status == "failed" and not result.error_category:
            raise InvalidValue(f"attempt {attempt_id}: a failed attempt needs an error category")
        now = utcnow()
        with write_transaction(self.engine) as conn:
            row = conn.execute(select(Conversion.status, Conversion.started_at)
                               .where(Conversion.id == attempt_id)).first()
            if row is None or row.status not in OPEN_STATUSES:
                self._raise_attempt_state(conn, attempt_id, "queued or running")
            duration = (now - row.started_at).total_seconds() if row.started_at else None
            # The status guard makes a concurrent close (recover_stale) win or lose cleanly.
            closed = conn.execute(update(Conversion).where(
                Conversion.id == attempt_id, Conversion.status.in_(OPEN_STATUSES)).values(
                status=result.status, failed_stage=result.failed_stage,
                error_category=result.error_category,
                message=_bounded_tail(result.message, MESSAGE_LIMIT),
                traceback=_bounded_tail(result.traceback, TRACEBACK_LIMIT),
                stage_timings=dict(result.stage_timings),
                outputs=[asdict(o) for o in result.outputs],
                layer_type_counts=dict(result.layer_type_counts),
                param_count=result.param_count, finished_at=now, duration_s=duration))
            if closed.rowcount == 0:
                self._raise_attempt_state(conn, attempt_id, "queued or running")

    def record_validations(self, attempt_id: int, records: Iterable[ValidationRecord]) -> None:
        rows = [{**asdict(r), "conversion_id": attempt_id,
                 "preprocessing": dict(r.preprocessing)} for r in records]
        with write_transaction(self.engine) as conn:
            if conn.execute(select(Conversion.id).where(Conversion.id == attempt_id)).first() \
                    is None:
                raise UnknownRecord(f"attempt {attempt_id} is not in the catalog")
            if rows:
                conn.execute(insert(Validation), rows)

    @staticmethod
    def _raise_attempt_state(conn: Connection, attempt_id: int, expected: str) -> None:
        status = conn.execute(select(Conversion.status)
                              .where(Conversion.id == attempt_id)).scalar()
        if status is None:
            raise UnknownRecord(f"attempt {attempt_id} is not in the catalog")
        raise InvalidTransition(f"attempt {attempt_id} is {status}, not {expected}")

    @staticmethod
    def _require_model(conn: Connection, model_id: str) -> None:
        if conn.execute(select(Model.id).where(Model.id == model_id)).first() is None:
            raise UnknownRecord(f"model {model_id!r} is not in the catalog")

    # -- recovery and planning ------------------------------------------------------

    def recover_stale(self, older_than_s: float, current_run_id: int | None) -> list[int]:
        """Close attempts that no live run owns; returns their ids.

        Another run is dead when its process is gone (same host) or its heartbeat is
        older than `older_than_s`; it is marked crashed. Open attempts of dead runs, and
        of runs that finished without closing them, become failed / "crash".
        """
        now = utcnow()
        cutoff = now - timedelta(seconds=older_than_s)
        with write_transaction(self.engine) as conn:
            reasons: dict[int, str] = {}
            others = conn.execute(select(Run.id, Run.host, Run.pid, Run.started_at,
                                         Run.heartbeat_at)
                                  .where(Run.status == "running", Run.id != current_run_id))
            for run in others:
                last = run.heartbeat_at or run.started_at
                if run.host == self.host and _process_gone(run.pid, run.started_at):
                    reasons[run.id] = (f"run {run.id} died: process {run.pid} on {run.host} "
                                       "is gone")
                elif last < cutoff:
                    reasons[run.id] = (f"run {run.id} died: no heartbeat since "
                                       f"{last.isoformat(timespec='seconds')}")
            for run_id, reason in reasons.items():
                conn.execute(update(Run).where(Run.id == run_id).values(
                    status="crashed", finished_at=now))
            open_attempts = conn.execute(
                select(Conversion.id, Conversion.run_id, Run.status)
                .join(Run, Run.id == Conversion.run_id)
                .where(Conversion.status.in_(OPEN_STATUSES), Conversion.run_id != current_run_id,
                       Run.status != "running")).all()
            closed: list[int] = []
            for attempt_id, run_id, run_status in open_attempts:
                message = reasons.get(run_id) or (
                    f"run {run_id} ended ({run_status}) with this attempt still open")
                result = conn.execute(update(Conversion).where(
                    Conversion.id == attempt_id, Conversion.status.in_(OPEN_STATUSES),
                ).values(status="failed", error_category=CRASH, message=message,
                         finished_at=now))
                if result.rowcount:
                    closed.append(attempt_id)
        return sorted(closed)

    def done_inputs(self, model_id: str) -> DoneInputs:
        """(sorted input sha256s, converter version) pairs already converted for a model."""
        return self.done_inputs_by_model([model_id]).get(model_id, set())

    def done_inputs_by_model(self, model_ids: Iterable[str] | None = None
                             ) -> dict[str, DoneInputs]:
        """`done_inputs` for many models in one read (all models when `model_ids` is None)."""
        query = select(Conversion.model_id, Conversion.input_sha256s,
                       Conversion.converter_version).where(Conversion.status == "converted")
        done: dict[str, DoneInputs] = {}
        with self.engine.connect() as conn:
            queries = ([query] if model_ids is None else
                       [query.where(Conversion.model_id.in_(c))
                        for c in _chunks(sorted(set(model_ids)))])
            for q in queries:
                for model_id, shas, version in conn.execute(q):
                    done.setdefault(model_id, set()).add((tuple(shas), version))
        return done

    def last_attempts(self) -> dict[str, LastAttempt]:
        """Every model's most recent attempt (max id), in one read."""
        latest = (select(func.max(Conversion.id).label("id"))
                  .group_by(Conversion.model_id).subquery())
        query = select(Conversion.model_id, Conversion.id, Conversion.status,
                       Conversion.error_category, Conversion.converter_version,
                       Conversion.catalog_fingerprint, Conversion.input_sha256s
                       ).join(latest, latest.c.id == Conversion.id)
        with self.engine.connect() as conn:
            return {row.model_id: LastAttempt(row.model_id, row.id, row.status,
                                              row.error_category, row.converter_version,
                                              row.catalog_fingerprint,
                                              tuple(row.input_sha256s or ()))
                    for row in conn.execute(query)}

    def latest_outputs(self, model_id: str) -> tuple[OutputFile, ...]:
        """The files of the model's latest successful conversion (empty if there is none)."""
        query = (select(Conversion.outputs)
                 .where(Conversion.model_id == model_id, Conversion.status == "converted")
                 .order_by(Conversion.id.desc()).limit(1))
        with self.engine.connect() as conn:
            outputs = conn.execute(query).scalar()
        return tuple(OutputFile(**o) for o in outputs or ())

    def active_model_ids(self) -> set[str]:
        """Ids of the models not marked removed."""
        with self.engine.connect() as conn:
            return set(conn.execute(select(Model.id).where(Model.removed.is_(False))).scalars())

    def known_artifact(self, model_id: str, kind: str, url: str,
                       sha1: str | None) -> KnownArtifact | None:
        """Bytes fetched and verified before that this artifact can reuse: by the readme's
        sha1 when there is one (the same file under any URL, for any model), else by the
        model's own URL."""
        query = select(Artifact.sha1, Artifact.sha256, Artifact.size).where(
            Artifact.status == "ok", Artifact.sha256.is_not(None), Artifact.kind == kind)
        if sha1:
            query = query.where(Artifact.sha1 == sha1.lower())
        else:
            query = query.where(Artifact.model_id == model_id, Artifact.url == url)
        with self.engine.connect() as conn:
            row = conn.execute(query.order_by(Artifact.id.desc()).limit(1)).first()
        return KnownArtifact(row.sha1, row.sha256, int(row.size or 0)) if row else None

    def set_run_revision(self, run_id: int, revision: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(update(Run).where(Run.id == run_id).values(catalog_revision=revision))

    def count_rows(self, table: str) -> int:
        """Rows in one catalog table (for summaries and checks)."""
        tables = {t.__tablename__: t for t in (Model, Artifact, Run, Conversion, Validation)}
        if table not in tables:
            raise InvalidValue(f"table {table!r} is not one of {', '.join(tables)}")
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tables[table])).scalar_one())
