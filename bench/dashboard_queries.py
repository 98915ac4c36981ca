"""The dashboard's own queries (storage.dashboard_queries) on the 10,000-model catalog.

Same synthetic catalog as bench.storage_queries (10,000 models, 100,000 attempts over 100
runs), on SQLite and, with --pg-url, on PostgreSQL; each query timed warm, median and
minimum of --repeat runs. Target: under 200 ms, like the storage queries (run_changes
over all 100 runs is reported for information: the runs page asks for the last 20).
Results go to bench/results/dashboard_queries.json.

    .venv/bin/python -m bench.dashboard_queries [--pg-url URL] [--repeat 5]
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from bench.storage_queries import (MODELS, RUNS, TARGET_MS, bench_arguments, machine_facts,
                                   measure, on_each_backend, seed)
from storage import dashboard_queries as dq
from storage.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results/dashboard_queries.json"


def bench_backend(url: str, repeat: int) -> dict[str, Any]:
    with Catalog.open(url) as catalog:
        seed(catalog, random.Random(7))
    engine = dq.read_only_engine(url)
    last_20 = list(range(RUNS - 19, RUNS + 1))
    try:
        timings = measure({
            "catalog_totals": lambda: dq.catalog_totals(engine),
            "latest_validation (all models)": lambda: dq.latest_validation(engine),
            "run_changes (last 20 runs)": lambda: dq.run_changes(engine, last_20),
        }, repeat)
        # The runs page's default is the last 20 runs; all 100 is for information.
        wide = measure({"run_changes (all 100 runs)":
                        lambda: dq.run_changes(engine, range(1, RUNS + 1))}, repeat)
    finally:
        engine.dispose()
    return {"queries": timings, "information": wide, "all_medians_under_target": all(
        t["median_ms"] < TARGET_MS for t in timings.values())}


def main(argv: list[str] | None = None) -> int:
    args = bench_arguments(__doc__.splitlines()[0], argv)
    results: dict[str, Any] = {
        "models": MODELS, "runs": RUNS, "target_ms": TARGET_MS, "repeat": args.repeat,
        **machine_facts()}
    results["backends"] = on_each_backend(bench_backend, args.pg_url, args.repeat)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    backends = list(results["backends"])
    print(f"{'median (min) ms':<34}" + "".join(f"{b:>20}" for b in backends))
    for group in ("queries", "information"):
        for name in results["backends"]["sqlite"][group]:
            print(f"{name:<34}" + "".join(
                f"{c['median_ms']:>11.1f} ({c['min_ms']:>6.1f})"
                for c in (results["backends"][b][group][name] for b in backends)))
    print(f"load average before / after: {results['load_average_before']} / "
          f"{results['load_average_after']}")
    for b in backends:
        print(f"{b}: every median under {TARGET_MS:.0f} ms: "
              f"{results['backends'][b]['all_medians_under_target']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
