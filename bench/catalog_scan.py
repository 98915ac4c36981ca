"""Catalog scraping speed: the offline parsers, and whole scans over HTTP against the mirror.

  - parse: every wiki revision of the snapshot through parse_wiki, every readme through
    parse_readme (median of several rounds);
  - scan cold: scan_catalog against a fresh mirror with an empty ETag cache;
  - scan warm: the same again with the ETag cache of the cold scan (304s, no bodies);
  - scan truncated: every gist file over 300 bytes truncated by the API, read via raw_url.
Requests and wall times go to bench/results/catalog_scan.json.

    .venv/bin/python -m bench.catalog_scan [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from downloads.session import make_session
from zoo_catalog.frontmatter import parse_readme
from zoo_catalog.scan import scan_catalog
from zoo_catalog.wiki import parse_wiki
from zoo_mirror import SNAPSHOT_DIR
from zoo_mirror.server import MirrorServer

RESULTS = Path(__file__).resolve().parent / "results" / "catalog_scan.json"


def _median_time(action, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_parsers(rounds: int) -> dict[str, float | int]:
    pages = [p.read_text(encoding="utf-8") for p in
             [SNAPSHOT_DIR / "wiki/Model-Zoo.md", *sorted((SNAPSHOT_DIR / "wiki/history").glob("*.md"))]]
    readmes = [p.read_text(encoding="utf-8", errors="replace") for p in (SNAPSHOT_DIR / "models").glob("*/*/*")
               if p.name.lower().lstrip("_").startswith("readme")]
    return {
        "wiki_pages": len(pages),
        "wiki_parse_all_s": _median_time(lambda: [parse_wiki(p) for p in pages], rounds),
        "readmes": len(readmes),
        "readme_parse_all_s": _median_time(lambda: [parse_readme(r) for r in readmes], rounds),
    }


def _timed_scan(mirror: MirrorServer, cache_dir: Path | None) -> dict[str, float | int]:
    start = time.perf_counter()
    scan = scan_catalog(mirror.catalog_url, mirror.github_api_base, session=make_session(),
                        cache_dir=cache_dir)
    return {"wall_s": time.perf_counter() - start, "entries": len(scan.entries), **scan.requests}


def bench_scans() -> dict[str, dict[str, float | int]]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "etags"
        with MirrorServer(weights="none", cache_dir=Path(tmp) / "w", rate_limit=100_000) as mirror:
            cold = _timed_scan(mirror, cache)
            warm = _timed_scan(mirror, cache)
        with MirrorServer(weights="none", cache_dir=Path(tmp) / "w", rate_limit=100_000,
                          truncate_over=300) as small:
            truncated = _timed_scan(small, None)
    return {"scan_cold": cold, "scan_warm_etag": warm, "scan_truncated": truncated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = {"parsers": bench_parsers(args.rounds), **bench_scans()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    parsers = results["parsers"]
    print(f"parse {parsers['wiki_pages']} wiki revisions: {parsers['wiki_parse_all_s'] * 1000:.1f} ms; "
          f"{parsers['readmes']} readmes: {parsers['readme_parse_all_s'] * 1000:.1f} ms")
    print(f"{'scan':<16} {'wall s':>7} {'entries':>8} {'requests':>9} {'304':>5} {'raw':>5}")
    for name in ("scan_cold", "scan_warm_etag", "scan_truncated"):
        row = results[name]
        print(f"{name:<16} {row['wall_s']:>7.2f} {row['entries']:>8} {row['requests']:>9} "
              f"{row['not_modified']:>5} {row['raw_fetches']:>5}")


if __name__ == "__main__":
    main()
