"""Offline mirror start-up: time to first response, and VGG16 synthetic weights cache miss vs hit.

1. `zoo2tf mirror serve` in a fresh process: from spawn to the first 200 on the catalog
   URL (Python start-up and imports included), and in-process MirrorServer().start()
   to the first response. Target: under 2 s.
2. Two mirror starts over one cache folder, each followed by the VGG16 gist request
   (whose served readme needs the sha1 of the synthetic weights) and a full download of
   the 553 MB weights: the first start synthesizes them (cache miss), the second reuses
   them (cache hit). Time to first response is measured on both starts as well.

    .venv/bin/python -m bench.mirror_start [--runs 3] [--keep DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from zoo_mirror.readme_rewrite import mirror_file_url
from zoo_mirror.server import MirrorServer

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench/results/mirror_start.json"
VGG16_GIST = "211839e770f7b538e2d8"
VGG16_URL = "http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel"


def _cli_first_response(cache: Path) -> float:
    """Seconds from spawning `zoo2tf mirror serve` to its first 200 on the catalog URL."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "zoo2tf", "mirror", "serve", "--cache-dir", str(cache)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        catalog = next(line.split()[-1] for line in proc.stdout if line.strip().startswith("catalog:"))
        while True:
            try:
                if requests.get(catalog, timeout=5).status_code == 200:
                    return time.perf_counter() - start
            except requests.ConnectionError:
                time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _inproc_first_response(cache: Path) -> tuple[MirrorServer, float]:
    start = time.perf_counter()
    mirror = MirrorServer(cache_dir=cache).start()
    requests.get(mirror.catalog_url, timeout=10).raise_for_status()
    return mirror, time.perf_counter() - start


def _vgg16_start(cache: Path) -> dict:
    mirror, first = _inproc_first_response(cache)
    try:
        began = time.perf_counter()
        gist = requests.get(f"{mirror.github_api_base}/gists/{VGG16_GIST}", timeout=600).json()
        gist_s = time.perf_counter() - began
        digest, size = hashlib.sha1(), 0
        with requests.get(mirror_file_url(mirror.base_url, VGG16_URL), stream=True, timeout=600) as reply:
            for chunk in reply.iter_content(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        total_s = time.perf_counter() - began
        readme = gist["files"]["readme.md"]["content"]
        assert f"sha1: {digest.hexdigest()}" in readme, "served weights must match the readme"
    finally:
        mirror.stop()
    return {"first_response_s": first, "vgg16_gist_s": gist_s, "vgg16_gist_and_download_s": total_s,
            "vgg16_bytes": size}


def _table(rows: list[tuple[str, str, str]]) -> str:
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>10}  {c}" for a, b, c in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="cache folder to use and keep")
    args = parser.parse_args(argv)
    cache = args.keep or Path(tempfile.mkdtemp(prefix="zoo2tf-bench-mirror-"))
    try:
        cli = [_cli_first_response(cache) for _ in range(args.runs)]
        inproc = []
        for _ in range(args.runs):
            mirror, seconds = _inproc_first_response(cache)
            mirror.stop()
            inproc.append(seconds)
        for stale in cache.glob("*"):
            stale.unlink()
        miss = _vgg16_start(cache)
        hit = _vgg16_start(cache)
    finally:
        if args.keep is None:
            shutil.rmtree(cache, ignore_errors=True)
    results = {
        "target_first_response_s": 2.0,
        "cli_first_response_s": {"median": statistics.median(cli), "max": max(cli), "runs": len(cli)},
        "inproc_first_response_s": {"median": statistics.median(inproc), "max": max(inproc), "runs": len(inproc)},
        "vgg16_cache_miss": miss,
        "vgg16_cache_hit": hit,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(_table([
        ("measure", "seconds", "note"),
        ("zoo2tf mirror serve -> first 200", f"{statistics.median(cli):.2f}", f"median of {len(cli)}, target < 2 s"),
        ("MirrorServer().start() -> first 200", f"{statistics.median(inproc):.3f}", f"median of {len(inproc)}"),
        ("1st start (miss): first response", f"{miss['first_response_s']:.3f}", ""),
        ("1st start (miss): VGG16 gist", f"{miss['vgg16_gist_s']:.2f}", "synthesizes 553 MB"),
        ("1st start (miss): gist + download", f"{miss['vgg16_gist_and_download_s']:.2f}", ""),
        ("2nd start (hit): first response", f"{hit['first_response_s']:.3f}", ""),
        ("2nd start (hit): VGG16 gist", f"{hit['vgg16_gist_s']:.2f}", "reads the cache sidecar"),
        ("2nd start (hit): gist + download", f"{hit['vgg16_gist_and_download_s']:.2f}", ""),
    ]))
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
