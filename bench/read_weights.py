"""Reading a VGG16-sized caffemodel: zero-copy reader vs `cat` vs protobuf + np.array.

Synthesizes VGG16's weights (138M parameters, about 528 MB) into a temporary folder,
then runs every method in a fresh process, several times, with the file in the page
cache (warm; the first `cat` is reported separately as "cold-ish" since the file was
just written and nothing is dropped). Each run's wall time and peak RSS come from the
parent (os.wait4 gives the child's own rusage); the child also reports the time spent
after its imports. Results go to bench/results/read_weights.json.

    .venv/bin/python -m bench.read_weights [--runs 5] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOTXT = (ROOT / "zoo_mirror/snapshot/models/community/vgg_ilsvrc_16"
            / "VGG_ILSVRC_16_layers_deploy.prototxt")
RESULTS = ROOT / "bench/results/read_weights.json"
PAGE_FLOATS = 4096 // 4

# method -> what it measures
METHODS = {
    "cat": "cat FILE > /dev/null (the floor: reading every byte once)",
    "python_startup": "interpreter + numpy + caffe2tf.caffemodel imports, nothing read",
    "zero_copy_open": "read_caffemodel: walk the wire format, map the file, no array touched",
    "zero_copy_touch_pages": "read_caffemodel + one float per 4 KiB page of every array",
    "zero_copy_read_all": "read_caffemodel + max() of every array (every byte read)",
    "naive_protobuf": "caffe_pb2 ParseFromString(file bytes), then np.array(blob.data) and "
                      "max() per blob",
}


def _child(method: str, path: str) -> None:
    """Runs inside the measured process; prints the post-import time and a checksum.

    The checksum (sum of every array's max) reads every byte of every array; it costs
    the same in both read-all methods, so the comparison stays fair.
    """
    import numpy as np

    if method == "synthesize":
        from caffe2tf.synth import write_synthetic_caffemodel

        start = time.perf_counter()
        write_synthetic_caffemodel(PROTOTXT, path, seed=0)
        print(json.dumps({"inproc_s": time.perf_counter() - start}))
        return
    if method.startswith("zero_copy") or method == "python_startup":
        from caffe2tf.caffemodel import read_caffemodel
    else:
        from caffe2tf.proto import caffe_pb2
    start = time.perf_counter()
    checksum = 0.0
    count = 0
    if method == "python_startup":
        pass
    elif method.startswith("zero_copy"):
        weights = read_caffemodel(path)
        for name in weights:
            for array in weights[name]:
                count += array.size
                if method == "zero_copy_touch_pages":
                    checksum += float(array.reshape(-1)[::PAGE_FLOATS].sum(dtype=np.float64))
                elif method == "zero_copy_read_all":
                    checksum += float(array.max())
    else:
        net = caffe_pb2.NetParameter()
        with open(path, "rb") as fh:
            net.ParseFromString(fh.read())
        for layer in net.layer:
            for blob in layer.blobs:
                array = np.array(blob.data, dtype=np.float32)
                count += array.size
                checksum += float(array.max())
    elapsed = time.perf_counter() - start
    print(json.dumps({"inproc_s": elapsed, "checksum": checksum, "params": count}))


def _run_once(method: str, path: Path) -> dict:
    if method == "cat":
        argv = ["sh", "-c", f'exec cat "{path}" > /dev/null']
    else:
        argv = [sys.executable, "-m", "bench.read_weights", "--child", method, str(path)]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{method} failed with exit code {proc.returncode}")
    result = {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}
    if out.strip():
        result.update(json.loads(out))
    return result


def _summary(runs: list[dict]) -> dict:
    out = {"runs": len(runs),
           "wall_s": statistics.median(r["wall_s"] for r in runs),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    if "inproc_s" in runs[0]:
        out["inproc_s"] = statistics.median(r["inproc_s"] for r in runs)
        out["checksum"] = runs[0]["checksum"]
        out["params"] = runs[0]["params"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None,
                        help="folder for the synthesized caffemodel (kept; default: a temp dir)")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    folder = args.keep or Path(tempfile.mkdtemp(prefix="zoo2tf-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vgg16_synthetic.caffemodel"
    try:
        # In a child too: the parent must stay small, since a forked child's peak RSS
        # starts from its parent's.
        synth_s = _run_once("synthesize", path)["inproc_s"]
        size_mb = path.stat().st_size / 2**20

        cold_cat = _run_once("cat", path)
        results = {m: _summary([_run_once(m, path) for _ in range(args.runs)]) for m in METHODS}
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    floor = results["cat"]["wall_s"]
    read_all = results["zero_copy_read_all"]
    naive = results["naive_protobuf"]
    report = {
        "file_mib": round(size_mb, 1),
        "params": read_all["params"],
        "synthesize_s": round(synth_s, 2),
        "cat_cold_ish_wall_s": round(cold_cat["wall_s"], 3),
        "methods": {m: {"what": METHODS[m], **{k: (round(v, 3) if isinstance(v, float) else v)
                                               for k, v in r.items()}}
                    for m, r in results.items()},
        "ratios": {
            "read_all_wall_vs_cat": round(read_all["wall_s"] / floor, 2),
            "read_all_inproc_vs_cat": round(read_all["inproc_s"] / floor, 2),
            "read_all_peak_rss_vs_file": round(read_all["peak_rss_mb"] / size_mb, 3),
            "naive_vs_read_all_wall": round(naive["wall_s"] / read_all["wall_s"], 1),
            "naive_vs_read_all_inproc": round(naive["inproc_s"] / read_all["inproc_s"], 1),
        },
        "targets": {"read_all_vs_cat_max": 2.0, "peak_rss_vs_file_max": 1.3,
                    "naive_vs_read_all_min": 20.0},
        "checksums_agree": read_all["checksum"] == naive["checksum"],
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                    "load_average_1m_after": round(os.getloadavg()[0], 2)},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")

    print(f"VGG16 synthetic caffemodel: {size_mb:.0f} MiB, {report['params']:,} params, "
          f"synthesized in {synth_s:.1f} s")
    print(f"{'method':<24}{'wall s':>9}{'in-proc s':>11}{'peak RSS MiB':>14}")
    for m, r in results.items():
        inproc = f"{r['inproc_s']:.3f}" if "inproc_s" in r else "-"
        print(f"{m:<24}{r['wall_s']:>9.3f}{inproc:>11}{r['peak_rss_mb']:>14.0f}")
    print(f"cat cold-ish (first read after writing): {cold_cat['wall_s']:.3f} s")
    for k, v in report["ratios"].items():
        print(f"{k}: {v}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
