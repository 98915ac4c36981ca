"""`zoo2tf predict`: classify images with a converted model (top-5 classes with probabilities)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="classify images with a converted model",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("model", metavar="MODEL",
                        help="a converted-model folder, or a catalog model id")
    parser.add_argument("images", type=Path, nargs="+", metavar="IMAGE")
    parser.add_argument("-k", "--top", type=int, default=5, help="how many classes to print")
    parser.add_argument("--db", help="catalog database URL for a model id (env ZOO2TF_DB_URL)")
    parser.set_defaults(func=run)


def resolve_model_dir(model: str, db_url: str | None = None) -> Path:
    """A converted-model folder as given, else the folder of the catalog model's latest
    successful conversion."""
    path = Path(model)
    if (path / "conversion.json").is_file():
        return path
    if path.exists() or "/" in model:
        raise FileNotFoundError(f"{model}: not a converted-model folder (no conversion.json)")
    from storage.catalog import Catalog

    with Catalog.open(db_url) as catalog:
        outputs = catalog.latest_outputs(model)
    reports = [o.path for o in outputs if o.kind == "conversion_report"]
    if not reports:
        raise FileNotFoundError(f"{model}: neither a converted-model folder nor a model the "
                                "catalog has converted (see `zoo2tf ls --status converted`)")
    return Path(reports[0]).parent


def run(args: argparse.Namespace) -> int:
    from caffe2tf.errors import Caffe2TFError
    from storage.errors import CatalogError
    from validation.converted import ConvertedModelError
    from validation.predict import predict_images

    try:
        predictions = predict_images(resolve_model_dir(args.model, args.db), args.images,
                                     k=args.top)
    except (Caffe2TFError, ConvertedModelError, CatalogError, FileNotFoundError,
            ValueError) as err:
        print(f"zoo2tf predict: {err}", file=sys.stderr)
        return 2
    for prediction in predictions:
        kind = "softmax of scores" if prediction.softmax_applied else "probability"
        print(f"{prediction.image} ({prediction.output}, {kind}):")
        for rank, guess in enumerate(prediction.top, 1):
            print(f"  {rank}. {guess.probability:8.4f}  {guess.label if guess.label else f'class {guess.index}'}")
    return 0
