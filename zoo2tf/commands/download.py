"""`zoo2tf download`: fetch one artifact into the store, verified, trying each URL in order."""
from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "download", help="download one artifact (resumable, sha1-verified) into the artifact store",
        description="Try each URL in order; resume interrupted downloads; verify --sha1; print the store key.")
    parser.add_argument("urls", nargs="+", metavar="URL", help="candidate http(s) URLs, tried in order")
    parser.add_argument("--sha1", default=None, help="expected sha1 (from the model's readme)")
    parser.add_argument("--kind", default="caffemodel",
                        help="artifact kind; binary kinds (caffemodel, mean) reject text/html answers")
    parser.add_argument("--store", default=None, help="store path or fsspec URL (default: $ZOO2TF_STORE)")
    parser.add_argument("--size-cap-mb", type=int, default=2048, help="refuse bodies larger than this")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from downloads.errors import DownloadError
    from downloads.fetch import download
    from storage.artifacts import ArtifactStore
    from zoo2tf.config import default_store_url

    store = ArtifactStore(args.store or default_store_url())
    try:
        result = download(args.urls, store, expected_sha1=args.sha1, kind=args.kind,
                          size_cap=args.size_cap_mb << 20)
    except DownloadError as err:
        for failure in err.failures:
            print(f"zoo2tf download: {failure.category}: {failure.url}: {failure.message}", file=sys.stderr)
        if err.quarantined:
            print(f"zoo2tf download: bytes kept in quarantine: {err.quarantined}", file=sys.stderr)
        return 1
    print(f"{result.sha256}  {result.size} bytes  sha1 {result.sha1}  from {result.url}")
    print(f"stored at {result.location} ({result.attempts} request(s), {result.resumed_bytes} bytes resumed, "
          f"{result.elapsed_s:.1f} s)")
    return 0
