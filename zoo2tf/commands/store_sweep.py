"""`zoo2tf store-sweep`: remove partial downloads nobody has touched for a while."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "store-sweep", help="remove stale partial downloads from the artifact store's part folder")
    parser.add_argument("--older-than-hours", type=float, default=48.0,
                        help="only parts untouched for this long (default 48: a crashed night stays resumable)")
    parser.add_argument("--store", default=None, help="store path or fsspec URL (default: $ZOO2TF_STORE)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storage.artifacts import ArtifactStore
    from zoo2tf.config import default_store_url

    removed = ArtifactStore(args.store or default_store_url()).sweep_parts(args.older_than_hours * 3600)
    for path in removed:
        print(f"removed {path}")
    print(f"{len(removed)} stale part file(s) removed")
    return 0
