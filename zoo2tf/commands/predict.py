"""`zoo2tf predict`: classify images with a converted model (top-5 classes with probabilities)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="classify images with a converted model",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("model", metavar="MODEL", help="a converted-model folder")
    parser.add_argument("images", type=Path, nargs="+", metavar="IMAGE")
    parser.add_argument("-k", "--top", type=int, default=5, help="how many classes to print")
    parser.set_defaults(func=run)


def resolve_model_dir(model: str) -> Path:
    path = Path(model)
    if not (path / "conversion.json").is_file():
        raise FileNotFoundError(f"{model}: not a converted-model folder (no conversion.json)")
    return path


def run(args: argparse.Namespace) -> int:
    from caffe2tf.errors import Caffe2TFError
    from validation.converted import ConvertedModelError
    from validation.predict import predict_images

    try:
        predictions = predict_images(resolve_model_dir(args.model), args.images, k=args.top)
    except (Caffe2TFError, ConvertedModelError, FileNotFoundError, ValueError) as err:
        print(f"zoo2tf predict: {err}", file=sys.stderr)
        return 2
    for prediction in predictions:
        kind = "softmax of scores" if prediction.softmax_applied else "probability"
        print(f"{prediction.image} ({prediction.output}, {kind}):")
        for rank, guess in enumerate(prediction.top, 1):
            print(f"  {rank}. {guess.probability:8.4f}  {guess.label if guess.label else f'class {guess.index}'}")
    return 0
