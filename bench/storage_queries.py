"""Catalog queries on a big synthetic catalog: `zoo2tf ls` and the dashboard's queries.

Seeds 10,000 models and 100,000 conversion attempts (plus runs, artifacts and
validations for a share of them) with a fast bulk insert, then times each query
several times in a warm process and reports the median and the minimum wall time, and
the median CPU time of this process (other load on a shared machine inflates wall time). `zoo2tf ls` is
timed as the command runs in-process (`zoo2tf.cli.main`: catalog open, query,
formatting as table, CSV or JSON into a buffer), without interpreter start-up.
Runs on a fresh SQLite file, and also on PostgreSQL when a URL is given.
Results go to bench/results/storage_queries.json. Target: each under 200 ms.

    .venv/bin/python -m bench.storage_queries [--pg-url URL] [--repeat 5]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from storage import queries
from storage.catalog import Catalog
from storage.engine import write_transaction
from storage.queries import ModelFilter
from storage.schema import Artifact, Conversion, Model, Run, Validation
from zoo2tf.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results/storage_queries.json"
TARGET_MS = 200.0
MODELS = 10_000
ATTEMPTS = 100_000
RUNS = 100
LAYER_TYPES = ("Convolution", "ReLU", "Pooling", "InnerProduct", "Softmax", "LRN", "Dropout",
               "Concat", "BatchNorm", "Scale", "Eltwise", "Deconvolution", "Crop", "Split",
               "Flatten", "Reshape", "Slice", "PReLU", "Sigmoid", "TanH", "Power", "Normalize",
               "Permute", "PriorBox", "DetectionOutput", "ROIPooling", "Python", "Embed",
               "LSTM", "Interp")
CATEGORIES = ("dead link", "checksum", "unsupported layer", "parse error", "numeric mismatch",
              "timeout", "crash")
STAGES = ("fetch", "parse", "convert", "validate")
SECTIONS = tuple(f"Section {i}" for i in range(25))
LICENCES = ("unrestricted", "non-commercial", "BSD-2-Clause", "MIT", None)


def seed(catalog: Catalog, rng: random.Random) -> None:
    """Bulk-insert the synthetic catalog (one transaction)."""
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    models = [{
        "id": f"model_{i:05d}", "name": f"Model {i:05d} {rng.choice(SECTIONS)}",
        "section": rng.choice(SECTIONS), "source_links": [f"https://example.test/{i}"],
        "gist_id": uuid.UUID(int=rng.getrandbits(128)).hex, "gist_revision": "r1",
        "licence": rng.choice(LICENCES), "synthetic_weights": rng.random() < 0.3,
        "first_seen": t0, "last_seen": t0, "removed": rng.random() < 0.02,
    } for i in range(MODELS)]
    runs = [{
        "id": r + 1, "flow_run_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "catalog_revision": f"rev{r}", "started_at": t0 + timedelta(days=r),
        "finished_at": t0 + timedelta(days=r, hours=2),
        "heartbeat_at": t0 + timedelta(days=r, hours=2), "host": "bench", "pid": 1,
        "status": "succeeded", "n_new": 10, "n_changed": 5, "n_converted": 900,
        "n_failed": 90, "n_skipped": 10,
    } for r in range(RUNS)]
    # One model in ten never got an attempt ("pending"); the rest share the attempts.
    attempted = [m["id"] for m in models if rng.random() >= 0.1]
    attempts = []
    for n in range(ATTEMPTS):
        model_id = attempted[n % len(attempted)]
        run = n * RUNS // ATTEMPTS + 1
        queued = t0 + timedelta(days=run - 1, seconds=n % 7000)
        duration = rng.lognormvariate(2.0, 0.8)
        roll = rng.random()
        status = "converted" if roll < 0.65 else "failed" if roll < 0.93 else "skipped"
        failed = status == "failed"
        types = rng.sample(LAYER_TYPES, rng.randint(4, 12))
        attempts.append({
            "model_id": model_id, "run_id": run,
            "input_sha256s": [f"{rng.getrandbits(256):064x}", f"{rng.getrandbits(256):064x}"],
            "converter_version": rng.choice(("0.1.0", "0.2.0")), "tf_version": "2.21.0",
            "status": status, "failed_stage": rng.choice(STAGES) if failed else None,
            "error_category": rng.choice(CATEGORIES) if failed else None,
            "message": "synthetic failure message" if failed else None, "traceback": None,
            "stage_timings": {"fetch": duration * 0.1, "parse": duration * 0.1,
                              "convert": duration * 0.5, "validate": duration * 0.3},
            "outputs": [], "layer_type_counts": {t: rng.randint(1, 30) for t in types},
            "param_count": rng.randint(10**5, 10**8), "queued_at": queued,
            "started_at": queued, "finished_at": queued + timedelta(seconds=duration),
            "duration_s": duration, "host": "bench",
        })
    artifacts = [{
        "model_id": m["id"], "kind": kind, "url": f"https://example.test/{m['id']}/{kind}",
        "size": 1000, "sha1": "0" * 40, "sha256": "0" * 64, "store_path": None, "etag": None,
        "last_modified": None, "fetched_at": t0, "status": "ok",
    } for m in models for kind in ("prototxt", "caffemodel")]
    with write_transaction(catalog.engine) as conn:
        conn.execute(insert(Model), models)
        conn.execute(insert(Run), runs)
        conn.execute(insert(Conversion), attempts)
        conn.execute(insert(Artifact), artifacts)
        conn.execute(insert(Validation), [{
            "conversion_id": c, "sample": "cat.jpg", "output": "prob",
            "reference_runtime": "opencv", "reference_version": "4.14.0",
            "max_abs_error": 1e-6, "max_rel_error": 1e-5, "cosine_similarity": 0.99999,
            "top1_agree": True, "top5_overlap": 1.0, "first_divergent_layer": None,
            "preprocessing": {}, "passed": True,
        } for c in range(1, ATTEMPTS + 1, 3)])
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('run_id_seq', :n)"), {"n": RUNS})
    with catalog.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def _ls(url: str, *args: str) -> None:
    """The `zoo2tf ls` command in this process: catalog open, query, formatting."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["ls", "--db", url, *args]) == 0


def cases(catalog: Catalog, url: str) -> dict[str, Callable[[], Any]]:
    """The timed calls, each with the 200 ms target."""
    engine = catalog.engine
    return {
        "zoo2tf ls (table, first 100)": lambda: _ls(url),
        "zoo2tf ls --format csv (all)": lambda: _ls(url, "--format", "csv"),
        "zoo2tf ls --format json (all)": lambda: _ls(url, "--format", "json"),
        "zoo2tf ls --status failed (table)": lambda: _ls(url, "--status", "failed"),
        "latest_status (all, query only)": lambda: queries.latest_status(engine),
        "models_page first page": lambda: queries.models_page(engine),
        "models_page search 'model 01'": lambda: queries.models_page(
            engine, ModelFilter(search="model 01")),
        "models_page layer Crop, by duration": lambda: queries.models_page(
            engine, ModelFilter(layer_type="Crop"), order_by="duration_s"),
        "models_page failed+section+synthetic p3": lambda: queries.models_page(
            engine, ModelFilter(status="failed", section="Section 3", synthetic=True), page=3,
            page_size=10),
        "status_counts": lambda: queries.status_counts(engine),
        "failures by category": lambda: queries.failures(engine, "category"),
        "failures by stage": lambda: queries.failures(engine, "stage"),
        "layer_coverage": lambda: queries.layer_coverage(engine),
        "conversion_times": lambda: queries.conversion_times(engine),
        "runs (last 50)": lambda: queries.runs(engine),
        "filter_choices": lambda: queries.filter_choices(engine),
        "model_detail": lambda: queries.model_detail(engine, "model_04242"),
        "model_history": lambda: queries.model_history(engine, "model_04242"),
    }


def planner_cases(catalog: Catalog) -> dict[str, Callable[[], Any]]:
    """Timed for information: once-a-night reads with no interactive target."""
    return {"done_inputs_by_model (all 65k converted)": catalog.done_inputs_by_model}


def measure(calls: dict[str, Callable[[], Any]], repeat: int) -> dict[str, dict[str, float]]:
    timings = {}
    for name, call in calls.items():
        call()  # warm caches and SQLAlchemy's statement cache
        runs, cpu = [], []
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            runs.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        # CPU time of this process is what other load on the machine does not inflate
        # (it leaves out the PostgreSQL server's own work).
        timings[name] = {"median_ms": round(statistics.median(runs), 1),
                         "min_ms": round(min(runs), 1),
                         "median_cpu_ms": round(statistics.median(cpu), 1)}
    return timings


def bench_backend(url: str, repeat: int) -> dict[str, Any]:
    with Catalog.open(url) as catalog:
        start = time.perf_counter()
        seed(catalog, random.Random(7))
        seeded = time.perf_counter() - start
        timings = measure(cases(catalog, url), repeat)
        planner = measure(planner_cases(catalog), repeat)
    return {"seed_s": round(seeded, 1), "queries": timings, "planner": planner,
            "all_medians_under_target": all(t["median_ms"] < TARGET_MS
                                            for t in timings.values())}


def on_each_backend(bench: Callable[[str, int], dict], pg_url: str | None,
                    repeat: int) -> dict[str, dict]:
    """`bench(url, repeat)` on a fresh SQLite file and, given a server, a fresh PostgreSQL
    database."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="zoo2tf-bench-") as folder:
        results["sqlite"] = bench(f"sqlite:///{Path(folder) / 'catalog.sqlite'}", repeat)
    if pg_url:
        url, drop = _fresh_pg_database(pg_url)
        try:
            results["postgresql"] = bench(url, repeat)
        finally:
            drop()
    return results


def _fresh_pg_database(base: str) -> tuple[str, Callable[[], None]]:
    name = f"zoo2tf_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def bench_arguments(description: str, argv: list[str] | None) -> argparse.Namespace:
    """The options both catalog-query benches take."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pg-url", help="a PostgreSQL URL whose server may create a "
                                         "throw-away database (e.g. $ZOO2TF_TEST_PG_URL)")
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args(argv)


def machine_facts() -> dict[str, Any]:
    return {"machine": f"{platform.machine()}, {platform.python_version()}, "
                       f"{os.cpu_count()} cores",
            "load_average_before": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    args = bench_arguments(__doc__.splitlines()[0], argv)
    results: dict[str, Any] = {
        "models": MODELS, "attempts": ATTEMPTS, "target_ms": TARGET_MS, "repeat": args.repeat,
        **machine_facts()}
    results["backends"] = on_each_backend(bench_backend, args.pg_url, args.repeat)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    backends = list(results["backends"])
    print(f"{'median (min) [cpu] ms':<44}" + "".join(f"{b:>28}" for b in backends))
    for group in ("queries", "planner"):
        for name in results["backends"]["sqlite"][group]:
            cells = (results["backends"][b][group][name] for b in backends)
            print(f"{name:<44}" + "".join(
                f"{c['median_ms']:>11.1f} ({c['min_ms']:>6.1f}) [{c['median_cpu_ms']:>6.1f}]"
                for c in cells))
    print(f"load average before / after: {results['load_average_before']} / "
          f"{results['load_average_after']}")
    for b in backends:
        r = results["backends"][b]
        print(f"{b}: seeded in {r['seed_s']} s; every query's median under "
              f"{TARGET_MS:.0f} ms: {r['all_medians_under_target']}")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
