"""`zoo2tf inspect`: what the reader makes of a prototxt (and its caffemodel)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zoo2tf.commands.arguments import blob_shape


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect", help="show layers, blob shapes and parameter counts of a Caffe net",
        description="Read a prototxt (V0, V1 or V2; deploy or train_val) and, optionally, its "
                    "caffemodel; show layers, types, blob shapes, parameter counts, the format "
                    "version, layer types from Caffe forks, preprocessing and warnings.")
    parser.add_argument("prototxt", type=Path)
    parser.add_argument("caffemodel", type=Path, nargs="?", help="weights to check and count")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--input-shape", type=blob_shape, action="append", default=[],
                        metavar="NAME=N,C,H,W", help="shape of a net input (repeatable)")
    parser.add_argument("--stage", action="append", default=[],
                        help="NetState stage, for nets that select layers by stage (repeatable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from caffe2tf.errors import Caffe2TFError
    from caffe2tf.inspect import format_table, inspect_net

    try:
        report = inspect_net(args.prototxt, args.caffemodel,
                             input_shapes=dict(args.input_shape), stages=args.stage)
    except Caffe2TFError as err:
        for line in err.problems():
            print(f"zoo2tf inspect: {line}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_table(report))
    return 0
