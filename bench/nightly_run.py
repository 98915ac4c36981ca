"""The nightly run on the offline mirror: full run, unchanged rerun, and Prefect's share.

Three timed runs against one mirror (weights cache reused from the data dir):
1. the full flow on a fresh database ("first night");
2. the same flow again ("unchanged night": nothing is converted);
3. the same work without Prefect (scan, plan, then the per-model library function in a
   plain thread pool of the same size) on another fresh database.
Orchestration overhead = (1) - (3): what Prefect adds around identical library work.
Machine load moves both numbers (the result file records the load average), so the bench
also times Prefect's own cost per model directly: the same flow shape (scan task, plan
task, a subflow mapping one task per model on a 2-thread runner) around no-op bodies.

    .venv/bin/python -m bench.nightly_run [--workers 2] [--limit N]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results/nightly_run.json"


def _options(tmp: Path, mirror, workers: int, limit: int | None):
    from zoo2tf import config
    from zoo2tf.pipeline.options import RunOptions

    return RunOptions(db_url=f"sqlite:///{tmp / 'catalog.sqlite'}", store_url=str(tmp / "store"),
                      models_dir=str(tmp / "models"), cache_dir=str(tmp / "cache"),
                      catalog_url=mirror.catalog_url, github_api_base=mirror.github_api_base,
                      workers=workers, limit=limit, memory_cap_mb=8192,
                      github_token=config.github_token())


def _without_prefect(options) -> float:
    from caffe2tf import __version__ as converter_version
    from flows.nightly import tensorflow_version
    from zoo2tf.pipeline.prepare import prepare_run
    from zoo2tf.pipeline.process import Resources, process_model
    from zoo_catalog.scan import scan_catalog

    start = time.perf_counter()
    catalog = Resources.get(options).catalog
    run_id = catalog.start_run()
    scan = scan_catalog(options.catalog_url, options.github_api_base,
                        cache_dir=Path(options.cache_dir) / "github")
    prepared = prepare_run(scan, options, run_id, converter_version, tensorflow_version())
    with ThreadPoolExecutor(options.workers) as pool:
        list(pool.map(lambda pair: process_model(pair[0], pair[1], options, converter_version),
                      zip(prepared.plan.items, prepared.attempt_ids)))
    Resources.release(options)
    return time.perf_counter() - start


def _unchanged_night_as_a_command(options, tmp: Path) -> float:
    """The next night as it really happens: a new `zoo2tf run` process (wall time, with
    interpreter start, imports and its own ephemeral Prefect server)."""
    command = [sys.executable, "-m", "zoo2tf", "run", "--catalog-url", options.catalog_url,
               "--github-api", options.github_api_base, "--db", options.db_url,
               "--store", options.store_url, "--models-dir", options.models_dir]
    env = dict(os.environ, ZOO2TF_DATA_DIR=str(Path(options.cache_dir).parent),
               PREFECT_HOME=str(tmp / "prefect-cli"))
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _prefect_cost(models: int, workers: int) -> float:
    """Wall time of the flow's Prefect machinery alone, for `models` no-op model tasks."""
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE
    from prefect.task_runners import ThreadPoolTaskRunner

    @task(cache_policy=NO_CACHE, persist_result=False)
    def step(value: int) -> int:
        return value

    @flow(persist_result=False, validate_parameters=False)
    def fan_out(n: int) -> list[int]:
        return [f.result() for f in step.map(range(n))]

    @flow(persist_result=False, validate_parameters=False)
    def night(n: int) -> int:
        step(0)
        step(1)
        runner = ThreadPoolTaskRunner(max_workers=workers)
        return len(fan_out.with_options(task_runner=runner)(n))

    night(1)  # the ephemeral server is already up; this warms the flow's registration
    start = time.perf_counter()
    night(models)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.nightly import zoo_nightly
    from zoo_catalog.scan import scan_catalog
    from zoo_mirror.server import MirrorServer

    # One folder per run, removed before the next: a full run stores about 25 GB.
    with MirrorServer(rate_limit=100_000) as mirror:
        with tempfile.TemporaryDirectory() as warm:
            # Untimed: the mirror synthesizes its weights on first request (once per cache).
            scan_catalog(mirror.catalog_url, mirror.github_api_base, cache_dir=warm)
        with tempfile.TemporaryDirectory() as tmp:
            first_opts = _options(Path(tmp), mirror, args.workers, args.limit)
            first = zoo_nightly(first_opts)  # includes the ephemeral Prefect server's start
            rerun = zoo_nightly(first_opts)
            rerun_cli_s = _unchanged_night_as_a_command(first_opts, Path(tmp))
        with tempfile.TemporaryDirectory() as tmp:
            bare_s = _without_prefect(_options(Path(tmp), mirror, args.workers, args.limit))
    models = len(first.outcomes)
    overhead = first.seconds - bare_s
    prefect_s = _prefect_cost(models, args.workers)
    result = {
        "models": models, "workers": args.workers,
        "converted": first.count("converted"), "failed": first.count("failed"),
        "skipped": first.count("skipped"),
        "failures": {o.model_id: f"{o.stage}: {o.category}" for o in first.outcomes
                     if o.status == "failed"},
        "first_night_s": round(first.seconds, 2),
        "model_work_s_summed": round(first.work_seconds, 2),
        "same_work_without_prefect_s": round(bare_s, 2),
        "orchestration_overhead_s": round(overhead, 2),
        "overhead_share": round(overhead / first.seconds, 4),
        "overhead_per_model_s": round(overhead / max(models, 1), 3),
        "prefect_machinery_s": round(prefect_s, 2),
        "prefect_machinery_share": round(prefect_s / first.seconds, 4),
        "prefect_machinery_per_model_s": round(prefect_s / max(models, 1), 3),
        "unchanged_night_s": round(rerun.seconds, 2),
        "unchanged_night_new_process_wall_s": round(rerun_cli_s, 2),
        "unchanged_night_converted": rerun.count("converted"),
        "load_average": os.getloadavg(),
        "targets": {"overhead_share": "< 0.05", "overhead_per_model_s": "< 0.3"},
        "note": "orchestration_overhead_* is flow minus bare library run (load-sensitive); "
                "prefect_machinery_* times the same flow shape with no-op bodies",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    for key, value in result.items():
        print(f"{key:30} {value}")


if __name__ == "__main__":
    main()
