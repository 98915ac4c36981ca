"""Dashboard page render times on a 10,000-model catalog, measured with Streamlit's AppTest.

Seeds the storage benchmark's catalog (10,000 models, 100,000 attempts, 100 runs) in a
fresh SQLite file, then renders each page through the real app script: "cold" with an
empty query cache (the first visitor after the cache expired), "warm" a rerun served
from the cache (every widget change, every other visitor within the TTL). The script run
is timed, not the browser's drawing. Results go to bench/results/dashboard_render.json.
Target: a cold render under 2 s, a warm one under 0.5 s.

    .venv/bin/python -m bench.dashboard_render [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from bench.storage_queries import MODELS, seed
from storage.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
RESULTS = ROOT / "bench/results/dashboard_render.json"
COLD_TARGET_S = 2.0
WARM_TARGET_S = 0.5


def _page(page: str | None, **query: str) -> Callable[[], AppTest]:
    """An app on `page`, ready for the timed run (the landing page has already run when
    the target is another page, as in a browser that clicks through)."""
    def prepare() -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=300)
        app.query_params.update(query)
        if page:
            app.run()
            app.switch_page(f"views/{page}.py")
        return app
    return prepare


def _filtered_models() -> AppTest:
    app = _page("models")()
    app.run()
    app.selectbox(key="status").set_value("failed")
    app.selectbox(key="layer_type").set_value("Crop")
    return app


def _models_page_40() -> AppTest:
    app = _page("models")()
    app.run()
    app.number_input(key="page").set_value(40)
    return app


CASES: dict[str, Callable[[], AppTest]] = {
    "overview": _page(None),
    "models (first page)": _page("models"),
    "models (failed, layer Crop)": _filtered_models,
    "models (page 40)": _models_page_40,
    "model page (deep link)": _page(None, model="model_04242"),
    "runs (last 20)": _page("runs"),
}


def _timed_run(app: AppTest) -> float:
    start = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - start
    if app.exception:
        raise RuntimeError(f"page raised: {app.exception[0].value}")
    return elapsed


def _fresh_spelling(url: str, n: int) -> str:
    """The same SQLite file under a URL the caches have not seen ("/./" repeated)."""
    folder, _, name = url.rpartition("/")
    return f"{folder}/{'./' * n}{name}"


def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    timings = {}
    spellings = iter(range(1, 10_000))
    for name, prepare in CASES.items():
        cold, warm = [], []
        for _ in range(repeat):
            os.environ["ZOO2TF_DB_URL"] = url
            app = prepare()
            # Caches are keyed by the URL: a new spelling is a cold cache (and engine).
            os.environ["ZOO2TF_DB_URL"] = _fresh_spelling(url, next(spellings))
            cold.append(_timed_run(app))
            warm.append(_timed_run(app))
        timings[name] = {"cold_median_s": round(statistics.median(cold), 3),
                         "cold_min_s": round(min(cold), 3),
                         "warm_median_s": round(statistics.median(warm), 3),
                         "warm_min_s": round(min(warm), 3)}
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "models": MODELS, "repeat": args.repeat, "cold_target_s": COLD_TARGET_S,
        "warm_target_s": WARM_TARGET_S, "machine": f"{platform.machine()}, "
        f"{platform.python_version()}, {os.cpu_count()} cores",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="zoo2tf-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'catalog.sqlite'}"
        with Catalog.open(url) as catalog:
            seed(catalog, random.Random(7))
        results["pages"] = measure(url, args.repeat)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    pages = results["pages"]
    results["all_under_target"] = all(
        p["cold_median_s"] < COLD_TARGET_S and p["warm_median_s"] < WARM_TARGET_S
        for p in pages.values())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"{'page (10,000 models), seconds':<34}{'cold median (min)':>20}"
          f"{'warm median (min)':>20}")
    for name, p in pages.items():
        print(f"{name:<34}{p['cold_median_s']:>12.3f} ({p['cold_min_s']:.3f})"
              f"{p['warm_median_s']:>12.3f} ({p['warm_min_s']:.3f})")
    print(f"load average before / after: {results['load_average_before']} / "
          f"{results['load_average_after']}")
    print(f"targets (cold < {COLD_TARGET_S} s, warm < {WARM_TARGET_S} s) met: "
          f"{results['all_under_target']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
