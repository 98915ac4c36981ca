"""`zoo2tf caffe-env`: create (or locate) the Python 3.9 venv that holds real Caffe."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "caffe-env", help="create the Python 3.9 venv with real pycaffe (for --reference caffe)")
    parser.add_argument("--path", type=Path, default=None,
                        help="venv folder (default: $ZOO2TF_CAFFE_ENV or <data dir>/caffe-py39)")
    parser.add_argument("--python39", type=Path, default=None,
                        help="Python 3.9 interpreter to build it with (default: found automatically)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from validation.caffe_env import CaffeEnvError, ensure_caffe_env

    try:
        env = ensure_caffe_env(args.path, python39=args.python39)
    except CaffeEnvError as err:
        print(f"zoo2tf caffe-env: {err}", file=sys.stderr)
        return 1
    print(f"real Caffe ready: {env.python}")
    return 0
