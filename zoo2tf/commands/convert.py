"""`zoo2tf convert`: one Caffe net to a TensorFlow SavedModel, a Keras model and a report."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from zoo2tf.commands.arguments import blob_shape


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="convert a Caffe net to a TensorFlow SavedModel and a Keras model",
        description="Write OUTDIR/saved_model/ (signature serving_default keyed by Caffe blob "
                    "names), OUTDIR/model.keras and OUTDIR/conversion.json.")
    parser.add_argument("prototxt", type=Path, help="net definition (deploy or train_val)")
    parser.add_argument("caffemodel", type=Path, nargs="?", default=None,
                        help="trained weights (optional when no layer has parameters)")
    parser.add_argument("-o", "--outdir", type=Path, required=True, help="output folder")
    parser.add_argument("--io-layout", choices=("nhwc", "nchw"), default="nhwc",
                        help="layout of 4-D inputs and outputs (default nhwc; nchw = Caffe's blobs)")
    parser.add_argument("--outputs", default=None,
                        help="comma-separated blobs to output (default: the net's outputs)")
    parser.add_argument("--input-shape", type=blob_shape, action="append", default=[],
                        metavar="NAME=D0,D1,...", help="override an input blob's shape (repeatable)")
    parser.add_argument("--jit-compile", action="store_true",
                        help="compile the SavedModel's serving function with XLA (faster on "
                             "large nets; compiles on first call per batch size)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from caffe2tf.convert import convert
    from caffe2tf.errors import Caffe2TFError

    outputs = [b for b in args.outputs.split(",") if b] if args.outputs else None
    try:
        result = convert(args.prototxt, args.caffemodel, args.outdir, io_layout=args.io_layout,
                         outputs=outputs, input_shapes=dict(args.input_shape) or None,
                         jit_compile=args.jit_compile)
    except Caffe2TFError as err:
        for line in err.problems():
            print(f"zoo2tf convert: {line}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"zoo2tf convert: {err.filename or args.outdir}: {err.strerror or err}",
              file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    ins = ", ".join(f"{t.key} {list(t.shape)} {t.layout}" for t in result.inputs)
    outs = ", ".join(f"{t.key} {list(t.shape)} {t.layout}" for t in result.outputs)
    print(f"converted {args.prototxt} in {result.timings['total']:.1f} s "
          f"({result.param_count} parameters)")
    print(f"  inputs:  {ins}\n  outputs: {outs}")
    print(f"  wrote {result.saved_model}, {result.keras_model}, {result.report}")
    return 0
