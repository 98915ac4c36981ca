"""`zoo2tf failures`: models whose latest attempt failed, by error category or stage."""
from __future__ import annotations

import argparse
import sys

from zoo2tf.commands.ls import add_db_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("failures", help="count failed models by category or stage")
    parser.add_argument("--by", choices=("category", "stage"), default="category")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storage import queries
    from storage.catalog import Catalog
    from storage.errors import CatalogError
    from storage.render import print_frame

    try:
        with Catalog.open(args.db) as catalog:
            frame = queries.failures(catalog.engine, by=args.by)
    except CatalogError as exc:
        print(f"zoo2tf failures: {exc}", file=sys.stderr)
        return 1
    frame["share"] = frame["share"].round(3)
    print_frame(frame, args.format, title=f"{int(frame['models'].sum())} failed models by {args.by}")
    return 0
