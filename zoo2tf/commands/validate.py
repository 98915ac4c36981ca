"""`zoo2tf validate`: check a converted model against OpenCV dnn or real Caffe on sample inputs.

Exit status: 0 passed, 1 failed, 2 bad input, 4 known reference defect, 5 reference unavailable.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_CODES = {"passed": 0, "failed": 1, "known_reference_defect": 4, "reference_unavailable": 5}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="compare a converted model with a Caffe runtime",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("converted_dir", type=Path, metavar="CONVERTED_DIR")
    parser.add_argument("prototxt", type=Path, metavar="PROTOTXT")
    parser.add_argument("caffemodel", type=Path, nargs="?", metavar="CAFFEMODEL")
    parser.add_argument("--reference", choices=("opencv", "caffe"), default="opencv",
                        help="reference runtime (caffe needs `zoo2tf caffe-env`)")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="pass when max|d| <= TOL * max(1, max|ref|) (default 1e-4)")
    parser.add_argument("--no-top1", action="store_true",
                        help="do not require top-1 agreement on natural samples")
    parser.add_argument("--no-diagnosis", action="store_true", help="skip the per-layer diagnosis")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from caffe2tf.errors import Caffe2TFError
    from validation.caffe_env import CaffeEnvError
    from validation.converted import ConvertedModelError
    from validation.metrics import Thresholds
    from validation.validate import validate_model

    thresholds = Thresholds(rel_tolerance=args.tolerance, require_top1=not args.no_top1)
    try:
        report = validate_model(args.prototxt, args.caffemodel, args.converted_dir,
                                reference=args.reference, thresholds=thresholds,
                                diagnose=not args.no_diagnosis)
    except (Caffe2TFError, ConvertedModelError, CaffeEnvError, FileNotFoundError) as err:
        print(f"zoo2tf validate: {err}", file=sys.stderr)
        return 2
    for sample in report.samples:
        worst = max(sample.outputs, key=lambda o: o.max_rel_error)
        top = f"  top-1 {sample.converted_top5[0].label or sample.converted_top5[0].index}" \
            if sample.converted_top5 else ""
        print(f"{sample.sample:<20} {'ok' if sample.passed else 'DIFF':<4} max|d| {worst.max_abs_error:.3g}"
              f"  rel {worst.max_rel_error:.3g}  cos {worst.cosine_similarity:.6f}{top}")
    print(f"{report.status}: {report.reason}")
    print(f"reference {report.reference} {report.reference_version}; report {Path(args.converted_dir) / 'validation.json'}")
    return EXIT_CODES[report.status]
