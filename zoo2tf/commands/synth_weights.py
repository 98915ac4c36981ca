"""`zoo2tf synth-weights`: a caffemodel of seeded random weights for a prototxt."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from zoo2tf.commands.arguments import blob_shape


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth-weights",
        help="write a caffemodel of seeded random weights for a prototxt",
        description="Write a V2 caffemodel of seeded random weights (He-scaled, BatchNorm "
                    "statistics that keep activations O(1)) for any prototxt the reader "
                    "understands. Layers of unknown fork types are skipped with a warning.")
    parser.add_argument("prototxt", type=Path, help="net definition (deploy or train_val)")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="caffemodel to write (replaced atomically)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed, a non-negative integer (default 0)")
    parser.add_argument("--input-shape", type=blob_shape, action="append", default=[],
                        metavar="BLOB=N,C,H,W",
                        help="shape of a net input the prototxt does not give (e.g. a Data "
                             "layer reading an LMDB); repeatable")
    parser.set_defaults(func=run)


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be non-negative, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from caffe2tf.errors import Caffe2TFError
    from caffe2tf.synth import SynthesisWarning, write_synthetic_caffemodel

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthesisWarning)
        try:
            out = write_synthetic_caffemodel(args.prototxt, args.output, seed=args.seed,
                                             input_shapes=dict(args.input_shape))
        except Caffe2TFError as err:
            for line in err.problems():
                print(f"zoo2tf synth-weights: {line}", file=sys.stderr)
            return 1
        except OSError as err:
            print(f"zoo2tf synth-weights: {args.output}: {err.strerror or err}", file=sys.stderr)
            return 1
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
