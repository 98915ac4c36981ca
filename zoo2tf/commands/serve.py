"""`zoo2tf serve`: serve the nightly deployment on a cron schedule (Prefect)."""
from __future__ import annotations

import argparse
import os

from zoo2tf.commands.run import add_run_options, options_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the nightly run as a scheduled Prefect deployment",
        description="Serve the zoo_nightly deployment (concurrency limit 1: nights never "
                    "overlap). Needs a Prefect server: run `prefect server start` and set "
                    "PREFECT_API_URL=http://127.0.0.1:4200/api first.")
    parser.add_argument("--cron", default="0 2 * * *", help='schedule (default "0 2 * * *")')
    parser.add_argument("--timezone", default="UTC", help="IANA time zone of the schedule")
    add_run_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zoo2tf import config

    if args.mirror:
        print("zoo2tf serve: --mirror is for one-off runs; start `zoo2tf mirror serve` and "
              "pass --catalog-url / --github-api to serve against it")
        return 2
    if not os.environ.get("PREFECT_API_URL"):
        print("zoo2tf serve: schedules need a Prefect server. Start one with "
              "`prefect server start`, then set PREFECT_API_URL=http://127.0.0.1:4200/api")
        return 2
    from flows.deploy import serve_nightly

    options = options_from_args(args, args.catalog_url or config.catalog_url(),
                                args.github_api or config.github_api_base())
    serve_nightly(options, cron=args.cron, timezone=args.timezone)
    return 0
