"""The known-reference-defect rules, checked against the real-Caffe layer goldens.

For every golden case OpenCV must either reproduce Caffe within tolerance, or deviate on a case
whose layer triggers one of the rules (and be flagged by defect_hits), or refuse the net with
the layer named. A rule that fires on a case OpenCV gets right, or a deviation no rule explains,
fails the test.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from caffe2tf.net import load_net
from validation.metrics import Thresholds
from validation.reference_defects import RULES, defect_hits
from validation.references import OpenCVReference, ReferenceUnavailable

GOLDENS = Path(__file__).resolve().parents[1] / "goldens" / "layers"
CASES = json.loads((GOLDENS / "cases.json").read_text())
# OpenCV 4.14 cannot run these nets at all (missing layer types, unparsed parameters).
OPENCV_CANNOT_RUN = {"argmax", "argmax_axis1", "argmax_out_max_val", "bias_axis2", "bias_two_bottom",
                     "threshold", "pool_max_floor", "pool_ave_floor_pad", "slice_axis2_even"}


def _opencv_vs_golden(case: str) -> float:
    folder = GOLDENS / case
    graph = load_net(folder / "net.prototxt")
    reference = OpenCVReference(graph, folder / "weights.caffemodel")
    inputs = {name: np.load(folder / f"input_{name}.npy") for name in CASES[case]["inputs"]}
    outputs = reference.outputs(inputs, list(CASES[case]["outputs"]))
    worst = 0.0
    for blob, value in outputs.items():
        golden = np.load(folder / f"output_{blob}.npy")
        worst = max(worst, float(np.abs(value.reshape(golden.shape) - golden).max()
                                 / max(1.0, float(np.abs(golden).max()))))
    return worst


@pytest.mark.parametrize("case", sorted(CASES))
def test_opencv_matches_caffe_or_a_known_rule_explains_why_not(case: str):
    rule = CASES[case]["opencv_known_defect"]
    hits = defect_hits(load_net(GOLDENS / case / "net.prototxt").layers, "opencv")
    assert {h.rule_id for h in hits} == ({rule} if rule else set())
    if case in OPENCV_CANNOT_RUN:
        with pytest.raises(ReferenceUnavailable) as caught:
            _opencv_vs_golden(case)
        assert "\n" not in str(caught.value) and "OpenCV" in str(caught.value)
        return
    error = _opencv_vs_golden(case)
    if rule:
        assert error > Thresholds().rel_tolerance, f"rule {rule} fires but OpenCV agrees with Caffe"
    else:
        assert error <= Thresholds().rel_tolerance


def test_every_rule_is_backed_by_a_golden_case():
    assert {r.id for r in RULES} == {c["opencv_known_defect"] for c in CASES.values()} - {None}


@pytest.mark.parametrize("case, layer, kind", [("argmax", "am", "ArgMax"), ("threshold", "thr", "Threshold"),
                                              ("bias_two_bottom", "bias", "Bias")])
def test_missing_layer_type_is_named(case: str, layer: str, kind: str):
    with pytest.raises(ReferenceUnavailable) as caught:
        _opencv_vs_golden(case)
    assert caught.value.layer == layer and caught.value.layer_type == kind
