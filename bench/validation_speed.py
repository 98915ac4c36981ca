"""Validation time per zoo architecture: reference + converted model + comparison (+ diagnosis).

For every prototxt in the bundled snapshot (seeded synthetic weights; the real LeNet and
CIFAR10-quick weights for those two), in a fresh child process each: synthesize the weights,
convert (timed separately, not part of validation), then validate_model against the
reference on the model's sample inputs. Each row records the status and reason, so the table
is also the list of which zoo architectures validate and why the others do not.
Results go to bench/results/validation_speed.json.

    .venv/bin/python -m bench.validation_speed [--models vgg_cnn_f,resnet_50] [--reference opencv]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zoo_mirror import SNAPSHOT_DIR

RESULTS = Path(__file__).resolve().parent / "results" / "validation_speed.json"
REAL_WEIGHTS = {
    "lenet_mnist/lenet": ("weights/lenet_mnist/lenet.prototxt", "weights/lenet_mnist/lenet_iter_10000.caffemodel"),
    "cifar10_quick": ("prototxts/cifar10_quick.prototxt", "weights/cifar10_quick/cifar10_quick_iter_5000.caffemodel"),
}
PROTOTXT_SUFFIXES = (".prototxt", ".protxt")


def zoo_prototxts() -> dict[str, str]:
    """Model key -> prototxt path relative to the snapshot, for every net in it."""
    found = {}
    for path in sorted([*SNAPSHOT_DIR.glob("models/*/*/*"), *SNAPSHOT_DIR.glob("prototxts/*")]):
        if path.suffix in PROTOTXT_SUFFIXES or path.name == "deploy.txt":
            relative = path.relative_to(SNAPSHOT_DIR)
            key = str(relative.parent.relative_to("models")) + "/" + path.stem \
                if relative.parts[0] == "models" else path.stem
            found[key] = str(relative)
    return found


def child(prototxt: str, caffemodel: str | None, reference: str) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from caffe2tf.convert import convert
    from caffe2tf.errors import Caffe2TFError
    from caffe2tf.synth import write_synthetic_caffemodel
    from validation.validate import validate_model

    row: dict = {"prototxt": prototxt, "weights": "real" if caffemodel else "synthetic"}
    with tempfile.TemporaryDirectory(prefix="zoo2tf-bench-") as tmp:
        source = SNAPSHOT_DIR / prototxt
        try:
            weights = SNAPSHOT_DIR / caffemodel if caffemodel else \
                write_synthetic_caffemodel(source, Path(tmp) / "w.caffemodel", seed=0)
            start = time.perf_counter()
            convert(source, weights, Path(tmp) / "out")
            row["convert_s"] = round(time.perf_counter() - start, 3)
        except (Caffe2TFError, ValueError, KeyError) as err:
            row.update(status="not converted", reason=str(err).splitlines()[0][:300])
            return row
        start = time.perf_counter()
        report = validate_model(source, weights, Path(tmp) / "out", reference=reference, write=False)
        row["validate_wall_s"] = round(time.perf_counter() - start, 3)
    timings = report.timings
    row.update(status=report.status, reason=report.reason[:300], samples=len(report.samples),
               reference_s=round(timings.reference_s, 3), converted_s=round(timings.converted_s, 3),
               compare_s=round(timings.compare_s, 4), diagnosis_s=round(timings.diagnosis_s, 3),
               validation_s=round(timings.total_s, 3),
               first_divergent_layer=report.first_divergence.layer if report.first_divergence else None,
               known_defects=sorted({h.rule_id for h in report.known_defects}))
    return row


def run_child(prototxt: str, caffemodel: str | None, reference: str, timeout: float) -> dict:
    command = [sys.executable, "-m", "bench.validation_speed", "--child", prototxt,
               "--caffemodel", caffemodel or "", "--reference", reference]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                cwd=Path(__file__).resolve().parent.parent)
    except subprocess.TimeoutExpired:
        return {"prototxt": prototxt, "status": "timeout", "reason": f"over {timeout:.0f} s"}
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"prototxt": prototxt, "status": "crashed", "reason": tail[:300]}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated substrings of model keys")
    parser.add_argument("--reference", choices=("opencv", "caffe"), default="opencv")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--caffemodel", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.caffemodel or None, args.reference)))
        return 0
    models = {key: (proto, None) for key, proto in zoo_prototxts().items()}
    models.update({key: (proto, weights) for key, (proto, weights) in REAL_WEIGHTS.items()})
    if args.models:
        wanted = args.models.split(",")
        models = {k: v for k, v in models.items() if any(w in k for w in wanted)}
    rows = {}
    print(f"{'model':<58} {'status':<24} {'valid. s':>8} {'ref s':>7} {'tf s':>7} {'n':>3}")
    for key, (prototxt, caffemodel) in sorted(models.items()):
        row = run_child(prototxt, caffemodel, args.reference, args.timeout)
        rows[key] = row
        print(f"{key[:58]:<58} {row['status']:<24} {row.get('validation_s', float('nan')):>8.2f} "
              f"{row.get('reference_s', float('nan')):>7.2f} {row.get('converted_s', float('nan')):>7.2f} "
              f"{row.get('samples', 0):>3}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() and args.models else {}
    merged = {**previous.get("models", {}), **rows} if previous.get("reference") == args.reference else rows
    counts: dict[str, int] = {}
    for row in merged.values():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    RESULTS.write_text(json.dumps({"reference": args.reference, "cpu_count": os.cpu_count(),
                                   "status_counts": counts, "models": merged}, indent=1) + "\n")
    print("status counts:", counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
