"""Every converter against OpenCV 4.14 on one generated single-layer net per edge case.

Each case is prototxt text (an Input layer, then the layer under test) with seeded
synthetic weights and a seeded input; both I/O layouts must match OpenCV within
1e-4 * max(1, max|ref|). Where OpenCV is known to compute something else than Caffe
(validation.reference_defects), the case records the measured deviation and is skipped
with that reason: the real-Caffe goldens (test_goldens.py) are the judge there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from emit.harness import (
    OpenCVUnavailable,
    converted_forward,
    load_with_synthetic_weights,
    opencv_forward,
    within_tolerance,
)
from caffe2tf.net import load_net
from validation.reference_defects import defect_hits


@dataclass(frozen=True)
class Case:
    name: str
    inputs: dict[str, tuple[int, ...]]
    body: str
    positive: bool = False
    opencv_defect: str | None = None  # a deviation of OpenCV not in validation.reference_defects


def _layer(name: str, kind: str, params: str = "", bottoms=("data",), tops=None) -> str:
    tops = tops or (name,)
    b = " ".join(f'bottom: "{x}"' for x in bottoms)
    t = " ".join(f'top: "{x}"' for x in tops)
    return f'layer {{ name: "{name}" type: "{kind}" {b} {t} {params} }}'


def _conv(params: str, kind: str = "Convolution") -> str:
    return _layer("out", kind, f"convolution_param {{ {params} }}")


def _pool(params: str) -> str:
    return _layer("out", "Pooling", f"pooling_param {{ {params} }}")


X = {"data": (2, 3, 8, 8)}
X7 = {"data": (2, 3, 7, 7)}
X6 = {"data": (2, 6, 7, 9)}
T = {"data": (2, 3, 4, 5)}

CASES = [
    # pooling: Caffe's ceil rounding, the padding clip rule and the AVE divisor
    Case("pool_max_ceil_overhang_nopad", X, _pool("pool: MAX kernel_size: 3 stride: 2")),
    Case("pool_max_ceil_overhang_pad", X, _pool("pool: MAX kernel_size: 3 stride: 2 pad: 1")),
    Case("pool_ave_ceil_overhang_nopad", X, _pool("pool: AVE kernel_size: 3 stride: 2")),
    Case("pool_ave_ceil_overhang_pad", X, _pool("pool: AVE kernel_size: 3 stride: 2 pad: 1")),
    Case("pool_ave_pad", X7, _pool("pool: AVE kernel_size: 3 stride: 2 pad: 1")),
    Case("pool_ave_pad_clip", X7, _pool("pool: AVE kernel_size: 2 stride: 2 pad: 1")),
    Case("pool_max_pad_clip", X7, _pool("pool: MAX kernel_size: 2 stride: 2 pad: 1")),
    Case("pool_max_asym", X6, _pool("pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 "
                                    "pad_h: 1 pad_w: 0")),
    Case("pool_ave_asym", X6, _pool("pool: AVE kernel_h: 2 kernel_w: 3 stride_h: 1 stride_w: 2 "
                                    "pad_h: 0 pad_w: 1")),
    Case("pool_global_max", X6, _pool("pool: MAX global_pooling: true")),
    Case("pool_global_ave", X6, _pool("pool: AVE global_pooling: true")),
    # convolution: per-axis geometry, groups, dilation, depthwise, no bias
    Case("conv_asym", X6, _conv("num_output: 4 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 "
                                "pad_h: 1 pad_w: 0")),
    Case("conv_group3", {"data": (2, 6, 7, 7)}, _conv("num_output: 9 kernel_size: 3 pad: 1 group: 3")),
    Case("conv_dilation2", X, _conv("num_output: 4 kernel_size: 3 dilation: 2 pad: 2")),
    Case("conv_dilation2_stride2", {"data": (1, 3, 11, 11)},
         _conv("num_output: 4 kernel_size: 3 dilation: 2 stride: 2 pad: 1")),
    Case("conv_depthwise", {"data": (2, 4, 7, 7)},
         _conv("num_output: 4 kernel_size: 3 pad: 1 stride: 2 group: 4")),
    Case("conv_no_bias", X, _conv("num_output: 5 kernel_size: 3 stride: 2 bias_term: false")),
    Case("conv_1x1", X, _conv("num_output: 5 kernel_size: 1")),
    # deconvolution
    Case("deconv_s2_p1", {"data": (2, 3, 5, 5)}, _conv("num_output: 4 kernel_size: 4 stride: 2 pad: 1",
                                                       "Deconvolution")),
    Case("deconv_asym_nobias", {"data": (2, 3, 5, 4)},
         _conv("num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 0 "
               "bias_term: false", "Deconvolution")),
    Case("deconv_group2", {"data": (1, 4, 5, 5)},
         _conv("num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 2", "Deconvolution")),
    Case("deconv_dilation2", {"data": (1, 3, 5, 5)},
         _conv("num_output: 2 kernel_size: 3 stride: 2 dilation: 2 pad: 1", "Deconvolution"),
         opencv_defect="OpenCV 4.14 ignores Deconvolution dilation (9x9 output where Caffe's "
                       "s(H-1) + d(k-1) + 1 - 2p gives 11x11)"),
    Case("conv_group2_dilation2", {"data": (1, 4, 9, 9)},
         _conv("num_output: 6 kernel_size: 3 dilation: 2 group: 2 pad: 1")),
    Case("conv_depthwise_dilation2", {"data": (1, 4, 9, 9)},
         _conv("num_output: 4 kernel_size: 3 dilation: 2 group: 4 pad: 2")),
    # inner product: axis and the NCHW flatten order
    Case("ip_axis1", T, _layer("out", "InnerProduct", "inner_product_param { num_output: 6 }")),
    Case("ip_axis2", T, _layer("out", "InnerProduct", "inner_product_param { num_output: 6 axis: 2 }")),
    Case("ip_axis3", T, _layer("out", "InnerProduct", "inner_product_param { num_output: 6 axis: 3 }")),
    Case("ip_no_bias_2d", {"data": (3, 7)},
         _layer("out", "InnerProduct", "inner_product_param { num_output: 4 bias_term: false }")),
    Case("ip_transpose", T, _layer("out", "InnerProduct",
                                   "inner_product_param { num_output: 6 transpose: true }")),
    # normalization
    Case("lrn_across", {"data": (2, 7, 5, 5)},
         _layer("out", "LRN", "lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 }")),
    Case("lrn_across_k2", {"data": (2, 7, 5, 5)},
         _layer("out", "LRN", "lrn_param { local_size: 5 alpha: 0.5 beta: 0.75 k: 2 }")),
    Case("lrn_within", {"data": (2, 3, 6, 6)},
         _layer("out", "LRN", "lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 "
                              "norm_region: WITHIN_CHANNEL }")),
    Case("batchnorm_scale_folded", X, _layer("bn", "BatchNorm", "batch_norm_param { eps: 0.001 }",
                                             tops=("data",))
         + _layer("sc", "Scale", "scale_param { bias_term: true }", tops=("data",))
         + _layer("out", "ReLU")),
    Case("batchnorm_alone", X, _layer("out", "BatchNorm")),
    Case("scale_axis2", T, _layer("out", "Scale", "scale_param { axis: 2 num_axes: 1 }")),
    Case("scale_two_dims_bias", T, _layer("out", "Scale",
                                          "scale_param { axis: 1 num_axes: 2 bias_term: true }")),
    Case("scale_two_bottom", {"data": (2, 3, 4, 5), "s": (2, 3)},
         _layer("out", "Scale", "scale_param { axis: 0 }", bottoms=("data", "s"))),
    Case("scale_two_bottom_full_rank", {"data": (2, 3, 4, 5), "s": (2, 3, 4, 5)},
         _layer("out", "Scale", "scale_param { axis: 0 }", bottoms=("data", "s"))),
    Case("bias_two_bottom", {"data": (2, 3, 4, 5), "b": (3,)},
         _layer("out", "Bias", "bias_param { axis: 1 }", bottoms=("data", "b"))),
    Case("bias_learned", T, _layer("out", "Bias")),
    Case("mvn", T, _layer("out", "MVN")),
    Case("mvn_across", T, _layer("out", "MVN", "mvn_param { across_channels: true }")),
    Case("mvn_mean_only", T, _layer("out", "MVN", "mvn_param { normalize_variance: false }")),
    Case("mvn_large_eps", T, _layer("out", "MVN", "mvn_param { eps: 0.5 }")),
    # activations and element-wise maths
    Case("relu_slope", T, _layer("out", "ReLU", "relu_param { negative_slope: 0.1 }")),
    Case("prelu_channel", T, _layer("out", "PReLU")),
    Case("prelu_shared", T, _layer("out", "PReLU", "prelu_param { channel_shared: true }")),
    Case("elu", T, _layer("out", "ELU", "elu_param { alpha: 0.5 }")),
    Case("sigmoid", T, _layer("out", "Sigmoid")),
    Case("tanh", T, _layer("out", "TanH")),
    Case("absval", T, _layer("out", "AbsVal")),
    Case("bnll", {"data": (2, 3, 4, 5)}, _layer("out", "BNLL")),
    Case("power", T, _layer("out", "Power", "power_param { power: 2 scale: 0.5 shift: 1 }")),
    Case("power_sqrt", T, _layer("out", "Power", "power_param { power: 0.5 scale: 2 shift: 0.5 }"),
         positive=True),
    Case("exp", T, _layer("out", "Exp", "exp_param { base: 2 scale: 0.5 shift: 0.1 }")),
    Case("log", T, _layer("out", "Log"), positive=True),
    Case("log_base10", T, _layer("out", "Log", "log_param { base: 10 scale: 2 shift: 1 }"),
         positive=True),
    Case("threshold", T, _layer("out", "Threshold", "threshold_param { threshold: 0.2 }")),
    Case("dropout", T, _layer("out", "Dropout", "dropout_param { dropout_ratio: 0.3 }")),
    Case("softmax_axis1", T, _layer("out", "Softmax")),
    Case("softmax_axis2", T, _layer("out", "Softmax", "softmax_param { axis: 2 }")),
    Case("softmax_2d", {"data": (3, 10)}, _layer("out", "Softmax")),
    # structure
    Case("concat_axis1", {"data": (2, 3, 4, 5), "b": (2, 2, 4, 5)},
         _layer("out", "Concat", bottoms=("data", "b"))),
    Case("concat_axis3", {"data": (2, 3, 4, 5), "b": (2, 3, 4, 2)},
         _layer("out", "Concat", "concat_param { axis: 3 }", bottoms=("data", "b"))),
    Case("slice_points", {"data": (2, 7, 4, 5)},
         _layer("sl", "Slice", "slice_param { slice_point: 2 slice_point: 5 }",
                tops=("a", "b", "c"))),
    Case("slice_axis2", {"data": (2, 3, 6, 5)},
         _layer("sl", "Slice", "slice_param { axis: 2 }", tops=("a", "b"))),
    Case("eltwise_sum_coeff", {"data": (2, 3, 4, 5), "b": (2, 3, 4, 5)},
         _layer("out", "Eltwise", "eltwise_param { operation: SUM coeff: 1 coeff: -1 }",
                bottoms=("data", "b"))),
    Case("eltwise_prod", {"data": (2, 3, 4, 5), "b": (2, 3, 4, 5)},
         _layer("out", "Eltwise", "eltwise_param { operation: PROD }", bottoms=("data", "b"))),
    Case("eltwise_max", {"data": (2, 3, 4, 5), "b": (2, 3, 4, 5), "c": (2, 3, 4, 5)},
         _layer("out", "Eltwise", "eltwise_param { operation: MAX }", bottoms=("data", "b", "c"))),
    Case("flatten", T, _layer("out", "Flatten")),
    Case("flatten_axis2", T, _layer("out", "Flatten", "flatten_param { axis: 2 }")),
    Case("reshape_0_-1", T, _layer("out", "Reshape",
                                   "reshape_param { shape { dim: 0 dim: -1 dim: 4 } }")),
    Case("reshape_axis1", T, _layer("out", "Reshape",
                                    "reshape_param { shape { dim: 12 dim: 5 } axis: 1 }")),
    Case("crop_offsets", {"data": (2, 3, 8, 9), "ref": (2, 3, 5, 4)},
         _layer("out", "Crop", "crop_param { axis: 2 offset: 1 offset: 2 }", bottoms=("data", "ref"))),
    Case("crop_axis1_one_offset", {"data": (2, 5, 8, 9), "ref": (2, 3, 5, 4)},
         _layer("out", "Crop", "crop_param { axis: 1 offset: 1 }", bottoms=("data", "ref"))),
    Case("argmax_axis1_top2", T, _layer("out", "ArgMax", "argmax_param { axis: 1 top_k: 2 }")),
    Case("argmax_out_max_val", {"data": (2, 10)},
         _layer("out", "ArgMax", "argmax_param { top_k: 3 out_max_val: true }")),
    # a layer fed by an NHWC layer, then a Caffe-order layer: the layout bookkeeping
    Case("conv_then_flatten_ip", X, _conv("num_output: 4 kernel_size: 3")
         .replace('top: "out"', 'top: "c"').replace('name: "out"', 'name: "c"')
         + _layer("out", "InnerProduct", "inner_product_param { num_output: 5 }", bottoms=("c",))),
]


def _prototxt(case: Case) -> str:
    inputs = "".join(
        f'input: "{name}" input_shape {{ {" ".join(f"dim: {d}" for d in shape)} }}\n'
        for name, shape in case.inputs.items())
    return f'name: "{case.name}"\n{inputs}{case.body}\n'


def _inputs(case: Case, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in case.inputs.items():
        value = rng.uniform(0.1, 2.0, shape) if case.positive else rng.standard_normal(shape)
        out[name] = value.astype(np.float32)
    return out


def caffe_deconvolution(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int,
                        pad: int, dilation: int) -> np.ndarray:
    """Caffe's Deconvolution by its definition: every input pixel scatters its weighted kernel."""
    n, c, h, w = x.shape
    out_c, k = weight.shape[1], weight.shape[2]
    full = stride * (h - 1) + dilation * (k - 1) + 1
    y = np.zeros((n, out_c, full, stride * (w - 1) + dilation * (k - 1) + 1), np.float64)
    for i in range(h):
        for j in range(w):
            for a in range(k):
                for b in range(k):
                    y[:, :, i * stride + a * dilation, j * stride + b * dilation] += \
                        x[:, :, i, j] @ weight[:, :, a, b]
    y = y[:, :, pad:full - pad, pad:y.shape[3] - pad] + bias[None, :, None, None]
    return y.astype(np.float32)


def test_deconvolution_dilation_matches_caffe_definition(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "deconv_dilation2")
    prototxt = tmp_path / "net.prototxt"
    prototxt.write_text(_prototxt(case))
    graph, _ = load_with_synthetic_weights(prototxt, tmp_path, seed=7)
    weight, bias = graph.layer("out").blobs
    x = _inputs(case, seed=11)
    expected = caffe_deconvolution(x["data"], weight, bias, stride=2, pad=1, dilation=2)
    for io_layout in ("nhwc", "nchw"):
        got = converted_forward(graph, x, io_layout, ["out"])["out"]
        ok, diff, allowed = within_tolerance(got, expected)
        assert ok, f"{io_layout}: max|diff| {diff:.3g} > {allowed:.3g}"


def test_argmax_ties_go_to_the_larger_index(tmp_path: Path) -> None:
    # Caffe partial-sorts (value, index) pairs with std::greater: among equal values the
    # larger index ranks first. ReLU outputs (many exact zeros) make such ties common.
    prototxt = tmp_path / "net.prototxt"
    prototxt.write_text('input: "data" input_shape { dim: 2 dim: 6 }\n'
                        + _layer("out", "ArgMax", "argmax_param { top_k: 3 out_max_val: true }"))
    graph = load_net(prototxt)
    x = np.array([[0, 3, 0, 3, 0, 1], [0, 0, 0, 0, 0, 0]], np.float32)
    got = converted_forward(graph, {"data": x}, "nchw", ["out"])["out"]
    np.testing.assert_array_equal(got[:, 0, :], [[3, 1, 5], [5, 4, 3]])
    np.testing.assert_array_equal(got[:, 1, :], [[3, 3, 1], [0, 0, 0]])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_layer_matches_opencv(case: Case, tmp_path: Path) -> None:
    prototxt = tmp_path / "net.prototxt"
    prototxt.write_text(_prototxt(case))
    graph, caffemodel = load_with_synthetic_weights(prototxt, tmp_path, seed=7)
    inputs = _inputs(case, seed=11)
    blobs = [graph.blob_names[b] for b in graph.outputs]
    try:
        reference = opencv_forward(prototxt, caffemodel, inputs, blobs, graph)
    except OpenCVUnavailable as err:
        pytest.skip(f"OpenCV 4.14 cannot run this net: {err}; real-Caffe golden decides")
    defects = defect_hits(graph.layers, "opencv")
    report = []
    for io_layout in ("nhwc", "nchw"):
        converted = converted_forward(graph, inputs, io_layout, blobs)
        for blob in blobs:
            ok, diff, allowed = within_tolerance(converted[blob], reference[blob])
            report.append((io_layout, blob, ok, diff, allowed))
    failures = [r for r in report if not r[2]]
    if case.opencv_defect and failures:
        pytest.skip(f"OpenCV deviates from Caffe: {case.opencv_defect}; checked against Caffe's "
                    "definition elsewhere")
    if defects and failures:
        pytest.skip(f"OpenCV known defect {defects[0].rule_id} ({defects[0].rule}): max |diff| "
                    f"{max(r[3] for r in failures):.3g}; real-Caffe golden decides")
    assert not failures, f"{case.name}: " + "; ".join(
        f"{io}/{blob}: max|diff| {diff:.3g} > {allowed:.3g}" for io, blob, _, diff, allowed in failures)
