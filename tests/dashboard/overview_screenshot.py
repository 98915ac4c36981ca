"""The README's dashboard screenshot, from a realistic catalog: the bundled wiki snapshot's
models over a few simulated nights, recorded through `Catalog`.

    .venv/bin/python tests/dashboard/overview_screenshot.py [docs/dashboard-overview.png]

Outcomes are drawn with a fixed seed, in the proportions a night over the real zoo shows
(most convert; unsupported layers and dead links lead the failures).
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from browser import CHROMIUM_ARGS, RENDER_TIMEOUT_MS, serve_dashboard, settle
from storage.catalog import Catalog
from storage.records import AttemptResult, ModelRecord, RunCounts, ValidationRecord
from zoo_catalog.wiki import parse_wiki
from zoo_mirror import SNAPSHOT_DIR

NIGHTS = 6
FAILURES = (  # category, stage, message, weight
    ("unsupported layer", "convert", "unsupported layer types: Python (1)", 5),
    ("dead link", "fetch", "HTTP 404 for the caffemodel URL", 4),
    ("numeric mismatch", "validate", "max abs error 0.21 on prob (cat.jpg)", 2),
    ("parse error", "parse", "deploy.prototxt:31: unknown field 'engine'", 2),
    ("checksum", "fetch", "sha1 differs from the readme's", 1),
    ("timeout", "convert", "conversion took longer than 900 s", 1),
)
LAYERS = ("Convolution", "ReLU", "Pooling", "InnerProduct", "Softmax", "LRN", "Dropout",
          "Concat", "BatchNorm", "Scale", "Eltwise", "Deconvolution")


def _outcome(rng: random.Random) -> AttemptResult:
    timings = {"fetch": rng.uniform(0.5, 20), "parse": rng.uniform(0.05, 0.5),
               "convert": rng.lognormvariate(1.5, 0.7), "validate": rng.lognormvariate(1.0, 0.6)}
    layers = {t: rng.randint(1, 40) for t in rng.sample(LAYERS, rng.randint(4, 9))}
    roll = rng.random()
    if roll < 0.68:
        return AttemptResult("converted", stage_timings=timings, layer_type_counts=layers,
                             param_count=rng.randint(10**6, 1.4 * 10**8))
    if roll < 0.74:
        return AttemptResult("skipped", message="no caffemodel published")
    category, stage, message, _ = rng.choices(FAILURES, [f[3] for f in FAILURES])[0]
    return AttemptResult("failed", stage, category, message, stage_timings=timings,
                         layer_type_counts=layers)


def populate_zoo(catalog: Catalog, rng: random.Random) -> None:
    """The wiki snapshot's models over NIGHTS nights; the last few are still pending."""
    wiki = parse_wiki((SNAPSHOT_DIR / "wiki" / "Model-Zoo.md").read_text())
    records = [ModelRecord(m.model_id, m.name, m.section, tuple(link.url for link in m.links),
                           m.gist_id, None, m.licence) for m in wiki.models]
    start = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    attempted = records[:-4]
    catalog.upsert_models(attempted, start)
    for night in range(NIGHTS):
        if night == NIGHTS - 1:
            catalog.upsert_models(records, start + timedelta(days=night))
        run = catalog.start_run(f"night-{night + 1}", f"wiki@{night + 1}")
        tonight = attempted if night == 0 else rng.sample(attempted, len(attempted) // 5)
        counts = {"converted": 0, "failed": 0, "skipped": 0}
        for record in tonight:
            result = _outcome(rng)
            attempt = catalog.queue_attempt(record.id, run, [f"{record.id}-{night}"],
                                            "0.1.0", "2.21.0")
            if result.status != "skipped":
                catalog.mark_running(attempt)
            catalog.finish_attempt(attempt, result)
            counts[result.status] += 1
            if result.status == "converted" or result.error_category == "numeric mismatch":
                error = 10 ** rng.uniform(-7, -4) if result.status == "converted" else 0.21
                catalog.record_validations(attempt, [ValidationRecord(
                    sample, "prob", "opencv", "4.14.0", error, error * 8, 1 - error,
                    result.status == "converted") for sample in ("cat.jpg", "fish-bike.jpg")])
        catalog.finish_run(run, RunCounts(new=len(tonight) if night == 0 else 0,
                                          **counts), "succeeded")


def main(target: Path) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/catalog.sqlite"
        with Catalog.open(url) as catalog:
            populate_zoo(catalog, random.Random(7))
        with serve_dashboard(url) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("ZOO2TF_TEST_CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1850})
            page.goto(base)
            page.get_by_text("Validation error").wait_for(timeout=RENDER_TIMEOUT_MS)
            settle(page)
            page.screenshot(path=target)
            browser.close()
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard-overview.png"))
