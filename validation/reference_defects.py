"""Known defects of the reference runtimes: layers they compute differently from Caffe.

Real Caffe is the truth. When a reference is known to deviate on a layer with certain
parameters and the outputs disagree, the validation is classified as a known reference defect
(with the rule that explains it), never as a converter failure and never silently as a pass.
Each rule was confirmed against real Caffe goldens (tests/goldens/layers, opencv_known_defect).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from caffe2tf.ir import Layer


@dataclass(frozen=True)
class DefectRule:
    id: str
    reference: str  # the runtime that has the defect
    layer_type: str
    rule: str  # one sentence: what the runtime does instead of Caffe
    triggers: Callable[[Layer], bool]


@dataclass(frozen=True)
class DefectHit:
    rule_id: str
    reference: str
    layer: str
    layer_type: str
    rule: str


def _lrn_k(layer: Layer) -> bool:
    p = layer.param.lrn_param
    return p.norm_region == 0 and p.k != 1.0  # ACROSS_CHANNELS


def _mvn_eps(layer: Layer) -> bool:
    # The two formulas differ by about eps / std: invisible at the default eps (1e-9).
    p = layer.param.mvn_param
    return p.normalize_variance and p.eps >= MVN_EPS_VISIBLE


MVN_EPS_VISIBLE = 1e-6


def _ip_transpose(layer: Layer) -> bool:
    return layer.param.inner_product_param.transpose


def _log_params(layer: Layer) -> bool:
    p = layer.param.log_param
    return p.base != -1.0 or p.scale != 1.0 or p.shift != 0.0


RULES: tuple[DefectRule, ...] = (
    DefectRule("lrn_k", "opencv", "LRN",
               "OpenCV 4.14 ignores LRN k in ACROSS_CHANNELS mode (it always uses k = 1)", _lrn_k),
    DefectRule("mvn_eps", "opencv", "MVN",
               "OpenCV 4.14 MVN divides by sqrt(var + eps); Caffe divides by sqrt(var) + eps", _mvn_eps),
    DefectRule("ip_transpose", "opencv", "InnerProduct",
               "OpenCV 4.14 ignores InnerProduct transpose (reads the weights as N x K)", _ip_transpose),
    DefectRule("log_params", "opencv", "Log",
               "OpenCV 4.14 Log ignores base, scale and shift (computes the natural log of x)",
               _log_params),
)


def defect_hits(layers: Iterable[Layer], reference: str) -> tuple[DefectHit, ...]:
    """Every layer whose parameters trigger a known defect of `reference`."""
    hits = []
    for layer in layers:
        for rule in RULES:
            if rule.reference == reference and layer.type == rule.layer_type and rule.triggers(layer):
                hits.append(DefectHit(rule.id, reference, layer.name, layer.type, rule.rule))
    return tuple(hits)
