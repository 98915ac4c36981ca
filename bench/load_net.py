"""caffe2tf.load_net: every snapshot prototxt (no weights), and VGG16 with a 528 MB caffemodel.

The second number shows that attaching weights copies nothing: load_net's time and the
resident memory it adds stay tiny next to the file size, because every blob is a view
of the memory-mapped file. Results go to bench/results/load_net.json.

    .venv/bin/python -m bench.load_net [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "zoo_mirror/snapshot"
VGG16 = SNAPSHOT / "models/community/vgg_ilsvrc_16/VGG_ILSVRC_16_layers_deploy.prototxt"
RESULTS = ROOT / "bench/results/load_net.json"
NEEDS = {  # nets that need stages or input shapes to load (see tests/reader)
    "s2vt.prototxt": {"stages": ("test-on-val", "unfactored")},
    "poolmean.prototxt": {"stages": ("test-on-val", "factored")},
    "base_model.prototxt": None,  # a template fragment, not a net
}


def _all_prototxts(runs: int) -> dict:
    from caffe2tf.net import load_net

    paths = sorted(p for pattern in ("*.prototxt", "*.protxt") for p in SNAPSHOT.rglob(pattern)
                   if NEEDS.get(p.name, {}) is not None)
    totals, slowest = [], (0.0, "")
    for _ in range(runs):
        start = time.perf_counter()
        for path in paths:
            t = time.perf_counter()
            load_net(path, **(NEEDS.get(path.name) or {}))
            slowest = max(slowest, (time.perf_counter() - t, path.name))
        totals.append(time.perf_counter() - start)
    return {"nets": len(paths), "total_s": round(statistics.median(totals), 4),
            "slowest_net": slowest[1], "slowest_s": round(slowest[0], 4)}


def _vgg16(runs: int) -> dict:
    import psutil

    from caffe2tf.net import load_net
    from caffe2tf.synth import write_synthetic_caffemodel

    with tempfile.TemporaryDirectory(prefix="bench-load-net-") as tmp:
        model = Path(tmp) / "vgg16.caffemodel"
        write_synthetic_caffemodel(VGG16, model, seed=0)
        process = psutil.Process()
        times, rss = [], []
        for _ in range(runs):
            before = process.memory_info().rss
            start = time.perf_counter()
            graph = load_net(VGG16, model)
            times.append(time.perf_counter() - start)
            rss.append(process.memory_info().rss - before)
            copies = sum(b.flags.owndata for layer in graph.layers for b in layer.blobs)
            del graph
        return {"file_mb": round(model.stat().st_size / 1e6, 1), "params": 138_357_544,
                "load_s": round(statistics.median(times), 4),
                "rss_added_mb": round(max(rss) / 1e6, 1), "blobs_copied": copies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    result = {"all_snapshot_prototxts": _all_prototxts(args.runs), "vgg16_with_weights": _vgg16(args.runs)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for section, values in result.items():
        print(section)
        for key, value in values.items():
            print(f"  {key:<14} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
