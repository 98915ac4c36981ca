"""`zoo2tf mirror serve`: run the offline zoo mirror (a local replica of the zoo's hosts)."""
from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

FAULTS_HELP = """\
fault injection SPEC: rules separated by ';', each GLOB=FAULT[:ARG...], GLOB an fnmatch
pattern on the request path ('*' also matches '/'); the first rule whose glob matches and
whose budget is not spent applies. FAULTs: 404 | 500:N (first N requests) |
429:SECONDS[:N] (Retry-After, default N=1) | drop:K[:N] (full Content-Length, K bytes or
K%, then close; default N=1) | slow:BYTES_PER_S | wrongbytes (same length, other bytes) |
html200 (HTML error page with status 200) | truncate:K (always: full Content-Length, K
bytes, close) | redirect:N (chain of N 302s) | redirect-to:URL (302 to URL, e.g.
file:///etc/passwd). Example: '*/files/*=drop:50%;/api/gists/*=429:2'"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mirror", help="the offline zoo mirror (local replica of the wiki, gists and weights)",
        description="The offline zoo mirror: a local HTTP replica of the Model Zoo's hosts.")
    actions = parser.add_subparsers(dest="mirror_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve", help="serve the mirror until interrupted",
        description="Serve the bundled zoo snapshot over HTTP: the wiki page, a GitHub-compatible "
                    "gist and contents API, raw files and weight files (real or seeded synthetic).",
        epilog=FAULTS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free port)")
    serve.add_argument("--weights", choices=("real", "synth", "none"), default="synth",
                       help="synth: real LeNet/CIFAR10 bytes plus synthetic weights for every "
                            "other available architecture; real: only the real bytes; none: "
                            "every weight URL answers 404 (default synth)")
    serve.add_argument("--faults", default=None, metavar="SPEC", help="fault injection rules (see below)")
    serve.add_argument("--wiki-revision", default="latest",
                       help="wiki revision to serve: latest (2019-04-25), 2017-09-27, 2016-03-02, 2015-03-08")
    serve.add_argument("--cache-dir", type=Path, default=None,
                       help="synthetic weights cache (default: $ZOO2TF_DATA_DIR/mirror-cache)")
    serve.add_argument("--prefetch", action="store_true",
                       help="synthesize all weights in the background right after start")
    serve.add_argument("--rate-limit", type=int, default=60,
                       help="API requests per hour without a token (default 60, as GitHub)")
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zoo_mirror.content import UnknownRevision
    from zoo_mirror.faults import FaultSpecError
    from zoo_mirror.server import MirrorServer

    try:
        mirror = MirrorServer(args.host, args.port, weights=args.weights, faults=args.faults,
                              wiki_revision=args.wiki_revision, cache_dir=args.cache_dir,
                              rate_limit=args.rate_limit, prefetch=args.prefetch)
        mirror.start()
    except (FaultSpecError, UnknownRevision) as err:
        print(f"zoo2tf mirror: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"zoo2tf mirror: cannot listen on {args.host}:{args.port}: {err.strerror or err}",
              file=sys.stderr)
        return 1
    print(f"zoo mirror serving at {mirror.base_url} (weights: {args.weights}, "
          f"wiki revision: {mirror.wiki_revision})")
    print(f"  catalog:    {mirror.catalog_url}")
    print(f"  github api: {mirror.github_api_base}")
    print("point zoo2tf at it with:")
    for name, value in mirror.env().items():
        print(f"  export {name}={value}")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        mirror.stop()
    return 0
