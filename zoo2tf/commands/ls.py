"""`zoo2tf ls`: every model of the catalog with the outcome of its latest attempt."""
from __future__ import annotations

import argparse
import sys

from storage.records import ATTEMPT_STATUSES, PENDING

# A terminal table of the whole zoo is unreadable (and rich needs about 0.4 ms per row).
TABLE_LIMIT = 100
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
    parser.add_argument("--layer-type", metavar="TYPE",
                        help="only models whose latest attempt has Caffe layers of TYPE")
    parser.add_argument("--removed", action="store_true",
                        help="include models no longer in the zoo")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--limit", type=int, metavar="N", default=None,
                        help=f"print at most N models (default: {TABLE_LIMIT} in a table, "
                             "all in CSV/JSON; 0: all)")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storage import queries
    from storage.catalog import Catalog
    from storage.errors import CatalogError
    from storage.render import print_frame

    limit = (TABLE_LIMIT if args.format == "table" else 0) if args.limit is None else args.limit
    filters = queries.ModelFilter(search=args.search, section=args.section, status=args.status,
                                  layer_type=args.layer_type, include_removed=args.removed)
    try:
        with Catalog.open(args.db) as catalog:
            if limit > 0:
                page = queries.models_page(catalog.engine, filters, page_size=limit)
                frame, total = page.frame, page.total
            else:
                frame = queries.latest_status(catalog.engine, filters)
                total = len(frame)
    except CatalogError as exc:
        print(f"zoo2tf ls: {exc}", file=sys.stderr)
        return 1
    title = f"{total} models" + (f" ({args.status})" if args.status else "")
    if len(frame) < total:
        title += f", first {len(frame)} shown (--limit 0 for all)"
    print_frame(frame, args.format, title=title, table_columns=TABLE_COLUMNS)
    return 0
