"""Conversion speed and memory, and inference latency of the converted model vs OpenCV dnn.

For each architecture (full input size, seeded synthetic weights):
  - conversion: wall time of caffe2tf.convert.convert (read + build + model.keras +
    SavedModel) and the converting process's peak RSS (and its RSS before converting,
    i.e. Python + TensorFlow), in a fresh child process;
  - inference: median latency of the SavedModel's serving_default (plain and
    jit_compile=True) and of cv2.dnn on the original prototxt + caffemodel, batch 1 and 8,
    both limited to the same thread count, timed in alternation, in another fresh child.
Results go to bench/results/convert_speed.json.

    .venv/bin/python -m bench.convert_speed [--models vgg16,resnet50] [--threads 2] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zoo_mirror import SNAPSHOT_DIR

RESULTS = Path(__file__).resolve().parent / "results" / "convert_speed.json"
MODELS = {
    "lenet": "prototxts/lenet.prototxt",
    "cifar10_quick": "prototxts/cifar10_quick.prototxt",
    "caffenet": "models/bvlc/bvlc_reference_caffenet/deploy.prototxt",
    "squeezenet": "models/community/squeezenet/deploy.prototxt",
    "googlenet": "models/bvlc/bvlc_googlenet/deploy.prototxt",
    "resnet50": "models/community/resnet/ResNet-50-deploy.prototxt",
    "resnet152": "models/community/resnet/ResNet-152-deploy.prototxt",
    "vgg16": "models/community/vgg_ilsvrc_16/VGG_ILSVRC_16_layers_deploy.prototxt",
}
BATCHES = (1, 8)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def child_synthesize(prototxt: str, caffemodel: str) -> dict:
    from caffe2tf.synth import write_synthetic_caffemodel

    write_synthetic_caffemodel(prototxt, caffemodel, seed=0)
    return {"caffemodel_mb": round(os.path.getsize(caffemodel) / 1e6, 1)}


def child_convert(prototxt: str, caffemodel: str, outdir: str, jit: bool) -> dict:
    import tensorflow as tf  # noqa: F401  (imported first: its cost is not conversion time)

    from caffe2tf.convert import convert

    before = _current_rss_mb()
    start = time.perf_counter()
    result = convert(prototxt, caffemodel, outdir, jit_compile=jit)
    wall = time.perf_counter() - start
    return {"convert_s": round(wall, 3), "stages_s": dict(result.timings),
            "rss_before_mb": round(before, 1), "peak_rss_mb": round(_peak_rss_mb(), 1),
            "params": result.param_count}


def _interleaved_medians(runs: dict, rounds: int) -> dict[str, float]:
    """Median seconds per call of each runner, alternating runners within every round so
    that load from other processes hits them alike."""
    for run in runs.values():
        run()
        run()  # warm-up: first calls trace/compile and allocate
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def child_latency(prototxt: str, caffemodel: str, saved: dict[str, str], threads: int,
                  rounds: int) -> dict:
    import cv2
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    cv2.setNumThreads(threads)
    from caffe2tf.net import load_net

    graph = load_net(prototxt)
    (name, shape), = graph.inputs.items()
    net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    loaded = {variant: tf.saved_model.load(path).signatures["serving_default"]
              for variant, path in saved.items()}
    out: dict[str, dict] = {}
    for batch in BATCHES:
        x = np.random.default_rng(0).standard_normal((batch, *shape[1:])).astype(np.float32)
        nhwc = tf.constant(x.transpose(0, 2, 3, 1))
        key = list(loaded["plain"].structured_input_signature[1])[0]

        def opencv():
            net.setInput(x, name)
            net.forward()

        runs = {"opencv_s": opencv}
        runs.update({f"tf_{variant}_s": (lambda s=serve: s(**{key: nhwc}))
                     for variant, serve in loaded.items()})
        row: dict = _interleaved_medians(runs, rounds)
        best = min(row[f"tf_{v}_s"] for v in loaded)
        row["ratio_best_tf_over_opencv"] = round(best / row["opencv_s"], 3)
        out[f"batch{batch}"] = {k: round(v, 5) if isinstance(v, float) else v for k, v in row.items()}
    return out


CHILDREN = {"synthesize": child_synthesize, "convert": child_convert, "latency": child_latency}


def _in_child(kind: str, *args) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "bench.convert_speed", "--child", kind,
                           json.dumps(args)], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} failed: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_model(name: str, threads: int, rounds: int, work: Path) -> dict:
    prototxt = str(SNAPSHOT_DIR / MODELS[name])
    caffemodel = str(work / f"{name}.caffemodel")
    row = {"prototxt": MODELS[name], **_in_child("synthesize", prototxt, caffemodel)}
    row["conversion"] = _in_child("convert", prototxt, caffemodel, str(work / f"{name}_plain"), False)
    _in_child("convert", prototxt, caffemodel, str(work / f"{name}_xla"), True)
    saved = {"plain": str(work / f"{name}_plain" / "saved_model"),
             "xla": str(work / f"{name}_xla" / "saved_model")}
    row["latency"] = _in_child("latency", prototxt, caffemodel, saved, threads, rounds)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](*json.loads(args.args))))
        return 0
    results = {"threads": args.threads, "rounds": args.rounds, "cpu_count": os.cpu_count(),
               "models": {}}
    print(f"{'model':14} {'params':>11} {'convert s':>9} {'peak MB':>8} "
          f"{'b1 tf/cv ms':>17} {'b8 tf/cv ms':>19} {'ratio b1/b8':>12}")
    with tempfile.TemporaryDirectory(prefix="zoo2tf-bench-") as tmp:
        for name in args.models.split(","):
            row = bench_model(name, args.threads, args.rounds, Path(tmp))
            results["models"][name] = row
            conv, lat = row["conversion"], row["latency"]
            cells = []
            for b in ("batch1", "batch8"):
                tf_best = min(lat[b]["tf_plain_s"], lat[b]["tf_xla_s"])
                cells.append(f"{tf_best * 1e3:8.1f}/{lat[b]['opencv_s'] * 1e3:8.1f}")
            print(f"{name:14} {conv['params']:11d} {conv['convert_s']:9.2f} {conv['peak_rss_mb']:8.0f} "
                  f"{cells[0]:>17} {cells[1]:>19} "
                  f"{lat['batch1']['ratio_best_tf_over_opencv']:5.2f}/{lat['batch8']['ratio_best_tf_over_opencv']:.2f}")
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
