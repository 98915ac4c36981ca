"""The converter against real Caffe: committed golden outputs made by pycaffe.

tests/goldens/layers/<case>/ holds a one-layer net, Caffe's own filled weights, a seeded
input and Caffe's output (scripts/make_goldens.py); tests/goldens/zoo/<model>/ holds a zoo
architecture's seed (its weights are re-synthesized here and checked by sha256), an input
and Caffe's outputs. Pass: max|tf - caffe| <= 1e-4 * max(1, max|caffe|), both I/O layouts.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from caffe2tf.net import load_net
from caffe2tf.synth import write_synthetic_caffemodel
from emit.harness import converted_forward, within_tolerance
from validation.goldens import load_zoo_golden, weights_digest

GOLDENS = Path(__file__).resolve().parent.parent / "goldens"
LAYER_CASES = json.loads((GOLDENS / "layers" / "cases.json").read_text())
ZOO_CASES = sorted(p.parent.name for p in (GOLDENS / "zoo").glob("*/golden.json"))


def _assert_match(name: str, graph, inputs: dict[str, np.ndarray],
                  expected: dict[str, np.ndarray], layouts=("nhwc", "nchw")) -> None:
    failures = []
    for io_layout in layouts:
        converted = converted_forward(graph, inputs, io_layout, list(expected))
        for blob, reference in expected.items():
            ok, diff, allowed = within_tolerance(converted[blob], reference)
            if not ok:
                failures.append(f"{io_layout}/{blob}: max|diff| {diff:.3g} > {allowed:.3g}")
    assert not failures, f"{name}: " + "; ".join(failures)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_golden(case: str) -> None:
    folder = GOLDENS / "layers" / case
    meta = LAYER_CASES[case]
    caffemodel = folder / "weights.caffemodel"
    graph = load_net(folder / "net.prototxt", caffemodel if caffemodel.exists() else None)
    inputs = {blob: np.load(folder / f"input_{blob}.npy") for blob in meta["inputs"]}
    expected = {blob: np.load(folder / f"output_{blob}.npy") for blob in meta["outputs"]}
    _assert_match(case, graph, inputs, expected)


@pytest.mark.parametrize("model", ZOO_CASES)
def test_zoo_golden(model: str, snapshot_dir: Path, tmp_path: Path) -> None:
    golden = load_zoo_golden(model)
    prototxt = snapshot_dir / golden.prototxt
    caffemodel = write_synthetic_caffemodel(prototxt, tmp_path / "w.caffemodel", seed=golden.seed)
    if weights_digest(caffemodel) != golden.weights_sha256:
        pytest.skip(f"stale golden: caffe2tf.synth now writes other weights for {model}; "
                    "regenerate with scripts/make_goldens.py --zoo")
    inputs = {golden.input_blob: golden.input()}
    graph = load_net(prototxt, caffemodel,
                     input_shapes={golden.input_blob: inputs[golden.input_blob].shape})
    expected = {blob: golden.output(blob) for blob in golden.outputs}
    _assert_match(model, graph, inputs, expected, layouts=("nhwc",))
