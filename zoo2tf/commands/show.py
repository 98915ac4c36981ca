"""`zoo2tf show MODEL`: one model's catalog entry, artifacts, attempts and validations."""
from __future__ import annotations

import argparse
import json
import sys

from zoo2tf.commands.ls import add_db_argument

ATTEMPT_COLUMNS = ("attempt_id", "run_id", "status", "failed_stage", "error_category",
                   "converter_version", "finished_at", "duration_s")
ARTIFACT_COLUMNS = ("kind", "status", "size", "sha256", "url", "fetched_at")
VALIDATION_COLUMNS = ("attempt_id", "sample", "output", "reference_runtime", "max_abs_error",
                      "max_rel_error", "cosine_similarity", "top1_agree", "passed")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("show", help="show one model: artifacts, attempts, validations")
    parser.add_argument("model", metavar="MODEL", help="model id (or its exact name)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storage import queries
    from storage.catalog import Catalog
    from storage.errors import CatalogError
    from storage.render import jsonable, print_table

    try:
        with Catalog.open(args.db) as catalog:
            detail = queries.model_detail(catalog.engine, args.model)
    except CatalogError as exc:
        print(f"zoo2tf show: {exc}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(jsonable({
            "model": detail.model, "artifacts": detail.artifacts,
            "attempts": detail.attempts, "validations": detail.validations,
        }), indent=1))
        return 0
    import pandas as pd

    model = pd.DataFrame({"field": list(detail.model),
                          "value": [json.dumps(v) if isinstance(v, list) else v
                                    for v in detail.model.values()]})
    print_table(model, title=f"model {detail.model['id']}")
    print_table(detail.artifacts[list(ARTIFACT_COLUMNS)], title="artifacts")
    print_table(detail.attempts[list(ATTEMPT_COLUMNS)], title="attempts (newest first)")
    latest = detail.attempts.head(1)
    if not latest.empty and latest["message"].iloc[0]:
        print(f"latest attempt: {latest['message'].iloc[0]}")
    print_table(detail.validations[list(VALIDATION_COLUMNS)], title="validations")
    return 0
