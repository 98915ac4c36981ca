"""`zoo2tf ls`: every model of the catalog with the outcome of its latest attempt."""
from __future__ import annotations

import argparse
import sys

from storage.records import ATTEMPT_STATUSES, PENDING

TABLE_COLUMNS = ("model_id", "section", "status", "error_category", "failed_stage",
                 "converter_version", "finished_at")


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", default=None,
                        help="catalog database URL (default: $ZOO2TF_DB_URL, else the SQLite "
                             "file in the data directory)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ls", help="list models with their latest conversion status")
    parser.add_argument("--status", choices=(PENDING, *ATTEMPT_STATUSES), help="only models in this status")
    parser.add_argument("--section", help="only models of this wiki section")
    parser.add_argument("--search", metavar="TEXT", help="only models whose id or name has TEXT")
    parser.add_argument("--removed", action="store_true",
                        help="include models no longer in the zoo")
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
            frame = queries.latest_status(catalog.engine, queries.ModelFilter(
                search=args.search, section=args.section, status=args.status,
                include_removed=args.removed))
    except CatalogError as exc:
        print(f"zoo2tf ls: {exc}", file=sys.stderr)
        return 1
    title = f"{len(frame)} models" + (f" ({args.status})" if args.status else "")
    print_frame(frame, args.format, title=title, table_columns=TABLE_COLUMNS)
    return 0
