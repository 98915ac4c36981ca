"""`zoo2tf run`: the nightly pipeline, once, now, with a live progress display."""
from __future__ import annotations

import argparse
from pathlib import Path

from zoo2tf import config

EXIT_CANNOT_PROCEED = 2
# The offline mirror's port for `run --mirror`: stable, so that URLs (and with them the
# catalog fingerprints) are the same from one run to the next.
MIRROR_PORT = 8642


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of one run, shared by `zoo2tf run` and `zoo2tf serve`."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--mirror", action="store_true",
                       help="run against the offline zoo mirror, started in-process")
    where.add_argument("--catalog-url", help="wiki page to scan (env ZOO2TF_CATALOG_URL; "
                       "default: the real Model Zoo wiki)")
    parser.add_argument("--github-api", help="GitHub API base (env ZOO2TF_GITHUB_API)")
    parser.add_argument("--db", help="catalog database URL (env ZOO2TF_DB_URL; default: "
                        "SQLite file in the data directory)")
    parser.add_argument("--store", help="artifact store: folder or fsspec URL (env ZOO2TF_STORE)")
    parser.add_argument("--models-dir", help="where converted models go (env ZOO2TF_MODELS_DIR)")
    parser.add_argument("--force", action="store_true", help="reconvert even up-to-date models")
    parser.add_argument("--only", action="append", default=[], metavar="MODEL",
                        help="only this model id (repeatable)")
    parser.add_argument("--limit", type=int, help="at most N models tonight")
    parser.add_argument("--workers", type=int, default=2, help="models in parallel (default 2)")
    parser.add_argument("--task-runner", choices=("thread", "process", "dask"), default="thread")
    parser.add_argument("--dask-address", help="tcp://host:port of a running Dask scheduler")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds allowed per model's conversion + validation")
    parser.add_argument("--memory-cap-mb", type=int, default=8192,
                        help="resident memory allowed per conversion process")
    parser.add_argument("--reference", choices=("opencv", "caffe"), default="opencv",
                        help="validation reference runtime")
    parser.add_argument("--wiki-revision", default="latest",
                        help="with --mirror: the wiki revision the mirror serves")
    parser.add_argument("--mirror-port", type=int, default=MIRROR_PORT,
                        help=f"with --mirror: its port (default {MIRROR_PORT}; 0 = any free)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run the nightly pipeline once",
        description="Scan the Model Zoo catalog, fetch, convert, validate and record every "
                    "model that changed since the last run. Exit status 0 when the run "
                    "completed (model failures are data), 2 when it could not proceed.")
    add_run_options(parser)
    parser.set_defaults(func=run)


def options_from_args(args: argparse.Namespace, catalog_url: str, github_api: str):
    from zoo2tf.pipeline.options import RunOptions

    return RunOptions(
        db_url=args.db or config.default_db_url(),
        store_url=args.store or config.default_store_url(),
        models_dir=str(Path(args.models_dir) if args.models_dir else config.models_dir()),
        cache_dir=str(config.data_dir() / "cache"),
        catalog_url=catalog_url, github_api_base=github_api,
        github_token=config.github_token(), force=args.force, only=tuple(args.only),
        limit=args.limit, workers=args.workers, task_runner=args.task_runner,
        dask_address=args.dask_address, timeout_s=args.timeout,
        memory_cap_mb=args.memory_cap_mb, reference=args.reference)


def start_mirror(args: argparse.Namespace):
    from zoo_mirror.server import MirrorServer

    for port in (args.mirror_port, 0):
        try:
            return MirrorServer(port=port, weights="synth",
                                wiki_revision=args.wiki_revision).start()
        except OSError:
            continue
    raise OSError("cannot start the offline mirror")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from zoo2tf.pipeline.live import LiveProgress, print_summary

    console = Console(stderr=False)
    mirror = start_mirror(args) if args.mirror else None
    try:
        catalog_url = mirror.catalog_url if mirror else (args.catalog_url or config.catalog_url())
        github_api = mirror.github_api_base if mirror else (args.github_api
                                                            or config.github_api_base())
        options = options_from_args(args, catalog_url, github_api)
        if mirror:
            console.print(f"[dim]offline zoo mirror at {mirror.base_url}[/dim]")
        from flows.nightly import zoo_nightly
        from zoo2tf.pipeline.errors import RunCannotProceed

        with LiveProgress(console):
            try:
                summary = zoo_nightly(options)
            except RunCannotProceed as err:
                console.print(f"[red]zoo2tf run: {err}[/red]")
                return EXIT_CANNOT_PROCEED
        print_summary(console, summary, options)
        return 0
    finally:
        if mirror:
            mirror.stop()

