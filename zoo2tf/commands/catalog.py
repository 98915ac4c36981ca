"""`zoo2tf catalog scan|diff`: read the Model Zoo catalog, and compare two catalogs."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DIFF_HELP = """\
OLD and NEW are each one of:
  - a saved scan (the JSON that `zoo2tf catalog scan --format json` prints);
  - a wiki markdown file (read offline: gists are named, not fetched);
  - a wiki revision bundled in the snapshot: latest, 2019-04-25, 2017-09-27, 2016-03-02, 2015-03-08.
Models are matched by their stable model id (from the gist id, repository or weight URL),
so reordered or retitled wiki sections do not show up as changes."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="scan the Model Zoo catalog, diff two catalogs",
                                   description="Scan the Model Zoo catalog (wiki page, gists, readme "
                                               "front matter) or compare two catalogs.")
    actions = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)

    scan = actions.add_parser("scan", help="read the wiki page and every gist it links",
                              description="Read the wiki page and every gist / repository folder "
                                          "it links; print one record per model.")
    where = scan.add_mutually_exclusive_group()
    where.add_argument("--catalog-url", metavar="URL", default=None,
                       help="raw markdown of the wiki page (default: $ZOO2TF_CATALOG_URL, else GitHub's)")
    where.add_argument("--mirror", action="store_true",
                       help="start the offline zoo mirror in-process on a free port and scan it")
    scan.add_argument("--github-api", metavar="URL", default=None,
                      help="GitHub API base (default: $ZOO2TF_GITHUB_API, else api.github.com)")
    scan.add_argument("--wiki-revision", default="latest",
                      help="with --mirror: the wiki revision it serves (default latest)")
    scan.add_argument("--mirror-weights", choices=("synth", "real", "none"), default="synth",
                      help="with --mirror: what it serves for weights; decides the synthetic sha1s "
                           "and flags the records carry (default synth, as `zoo2tf mirror serve`)")
    scan.add_argument("--cache-dir", type=Path, default=None,
                      help="where the ETag cache lives (default: <data dir>/catalog-cache)")
    scan.add_argument("--max-wait", type=float, default=300.0, metavar="SECONDS",
                      help="longest wait for the API rate limit to reset (default 300)")
    scan.add_argument("--format", choices=("table", "json"), default="table")
    scan.set_defaults(func=run_scan)

    diff = actions.add_parser("diff", help="compare two catalogs", description="Compare two catalogs.",
                              epilog=DIFF_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=("table", "json"), default="table")
    diff.set_defaults(func=run_diff)


def run_scan(args: argparse.Namespace) -> int:
    from zoo2tf import config
    from zoo_catalog.errors import CatalogError
    from zoo_catalog.scan import scan_catalog

    cache_dir = args.cache_dir or config.data_dir() / "catalog-cache"
    try:
        if args.mirror:
            from zoo_mirror.content import UnknownRevision
            from zoo_mirror.server import MirrorServer

            try:
                mirror = MirrorServer(weights=args.mirror_weights, wiki_revision=args.wiki_revision)
            except UnknownRevision as err:
                print(f"zoo2tf catalog scan: {err}", file=sys.stderr)
                return 2
            with mirror:
                # A fresh cache per mirror run: its port, hence every URL, is new each time.
                scan = scan_catalog(mirror.catalog_url, mirror.github_api_base, token=config.github_token(),
                                    cache_dir=None, max_rate_limit_wait_s=args.max_wait)
        else:
            scan = scan_catalog(args.catalog_url or config.catalog_url(),
                                args.github_api or config.github_api_base(), token=config.github_token(),
                                cache_dir=cache_dir, max_rate_limit_wait_s=args.max_wait)
    except CatalogError as err:
        print(f"zoo2tf catalog scan: {err}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(scan.to_json())
    else:
        _print_scan(scan)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from zoo_catalog.diff import diff_scans
    from zoo_catalog.errors import CatalogError
    from zoo_catalog.revisions import load_catalog

    try:
        result = diff_scans(load_catalog(args.old), load_catalog(args.new))
    except CatalogError as err:
        print(f"zoo2tf catalog diff: {err}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
        return 0
    print(f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed")
    for mark, entries in (("+", result.added), ("-", result.removed)):
        for entry in entries:
            print(f"{mark} {entry.model_id:<44} {entry.name}")
    for change in result.changed:
        print(f"~ {change.model_id:<44} {change.name}")
        for field in change.changes:
            print(f"    {field.field}: {field.old} -> {field.new}")
    return 0


def _print_scan(scan) -> None:
    from zoo_catalog.records import count_by_status

    columns = (("model_id", 40), ("status", 19), ("name", 34), ("caffemodel", 34), ("deploy", 30))
    print("  ".join(title.ljust(width) for title, width in columns).rstrip())
    for entry in scan.entries:
        values = (entry.model_id, entry.status, entry.name, entry.caffemodel or "",
                  (entry.deploy.name + (" (train_val)" if entry.deploy.is_train_val else ""))
                  if entry.deploy else "")
        print("  ".join(_cut(v, w).ljust(w) for v, (_, w) in zip(values, columns)).rstrip())
    counts = ", ".join(f"{n} {status}" for status, n in sorted(count_by_status(scan.entries).items()))
    warned = sum(1 for e in scan.entries if e.warnings)
    print(f"\n{len(scan.entries)} models ({counts}); {warned} with warnings; revision {scan.revision[:12]}")
    for warning in scan.warnings:
        print(f"warning: {warning}")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
