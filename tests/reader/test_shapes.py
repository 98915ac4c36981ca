"""Caffe's shape rules, layer by layer, against OpenCV 4.14 (or Caffe's formula by hand)."""
from __future__ import annotations

from pathlib import Path

import pytest

from caffe2tf.errors import GraphError
from caffe2tf.net import load_net
from tests.reader.caffe_shapes import caffe_shapes, graph_blob_shapes, graph_param_shapes
from tests.reader.opencv_shapes import (
    graph_layer_shapes, opencv_layer_shapes, write_shape_only_caffemodel,
)


def _net(tmp_path: Path, shape: tuple[int, ...], body: str, *, extra_input: str = "") -> Path:
    dims = " ".join(f"dim: {d}" for d in shape)
    path = tmp_path / "net.prototxt"
    path.write_text(f'name: "t"\ninput: "x"\ninput_shape {{ {dims} }}\n{extra_input}{body}')
    return path


def _layer(kind: str, params: str = "", bottoms=("x",), tops=("y",), name: str = "l") -> str:
    b = " ".join(f'bottom: "{x}"' for x in bottoms)
    t = " ".join(f'top: "{x}"' for x in tops)
    return f'layer {{ name: "{name}" type: "{kind}" {b} {t} {params} }}\n'


CONV = "convolution_param {{ num_output: 4 {} }}"
POOL = "pooling_param {{ {} }}"

OPENCV_CASES = {
    "conv": ((1, 3, 11, 13), _layer("Convolution", CONV.format("kernel_size: 3 stride: 2 pad: 1"))),
    "conv_dilated": ((1, 3, 17, 17), _layer("Convolution", CONV.format("kernel_size: 3 dilation: 3"))),
    "conv_per_axis": ((1, 3, 15, 20), _layer("Convolution", CONV.format(
        "kernel_h: 3 kernel_w: 5 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 2"))),
    "conv_repeated": ((1, 3, 15, 20), _layer("Convolution", CONV.format(
        "kernel_size: 3 kernel_size: 1 pad: 2 pad: 0 stride: 1 stride: 2"))),
    "conv_group": ((2, 6, 9, 9), _layer("Convolution", CONV.format("kernel_size: 3 group: 2"))),
    "conv_no_bias": ((1, 3, 8, 8), _layer("Convolution", CONV.format("kernel_size: 1 bias_term: false"))),
    "deconv": ((1, 3, 7, 9), _layer("Deconvolution", CONV.format("kernel_size: 4 stride: 2 pad: 1"))),
    "deconv_group": ((1, 4, 5, 5), _layer("Deconvolution", CONV.format(
        "kernel_size: 3 stride: 3 group: 2"))),
    "pool_ceil": ((1, 2, 13, 13), _layer("Pooling", POOL.format("pool: MAX kernel_size: 3 stride: 2"))),
    "pool_clip": ((1, 2, 5, 5), _layer("Pooling", POOL.format("pool: AVE kernel_size: 2 stride: 2 pad: 1"))),
    "pool_per_axis": ((1, 2, 10, 15), _layer("Pooling", POOL.format(
        "pool: MAX kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 1"))),
    "pool_global": ((2, 5, 7, 9), _layer("Pooling", POOL.format("pool: AVE global_pooling: true"))),
    "inner_product": ((2, 3, 4, 5), _layer("InnerProduct", "inner_product_param { num_output: 7 }")),
    "inner_product_axis2": ((2, 3, 4, 5), _layer(
        "InnerProduct", "inner_product_param { num_output: 7 axis: 2 }")),
    "reshape": ((2, 3, 4, 5), _layer("Reshape", "reshape_param { shape { dim: 0 dim: -1 dim: 10 } }")),
    "reshape_axis": ((2, 3, 4, 5), _layer(
        "Reshape", "reshape_param { shape { dim: 2 dim: 2 } axis: 2 num_axes: 1 }")),
    "flatten": ((2, 3, 4, 5), _layer("Flatten")),
    "flatten_range": ((2, 3, 4, 5), _layer("Flatten", "flatten_param { axis: 1 end_axis: 2 }")),
    "concat": ((2, 3, 4, 5), _layer("Concat", "concat_param { axis: 1 }", bottoms=("x", "x"))),
    "slice_points": ((2, 9, 4, 5), _layer("Slice", "slice_param { axis: 1 slice_point: 2 slice_point: 7 }",
                                          tops=("a", "b", "c"))),
    "eltwise": ((2, 3, 4, 5), _layer("Eltwise", "eltwise_param { operation: MAX }", bottoms=("x", "x"))),
    "softmax": ((2, 3, 4, 5), _layer("Softmax", "softmax_param { axis: 2 }")),
    "lrn": ((2, 3, 4, 5), _layer("LRN", "lrn_param { local_size: 3 }")),
    "mvn": ((2, 3, 4, 5), _layer("MVN")),
    "batch_norm": ((2, 3, 4, 5), _layer("BatchNorm")),
    "scale": ((2, 3, 4, 5), _layer("Scale", "scale_param { bias_term: true }")),
    "scale_axes": ((2, 3, 4, 5), _layer("Scale", "scale_param { axis: 1 num_axes: 2 }")),
    "prelu": ((2, 3, 4, 5), _layer("PReLU")),
    "prelu_shared": ((2, 3, 4, 5), _layer("PReLU", "prelu_param { channel_shared: true }")),
    "crop": ((1, 3, 20, 20), _layer("Convolution", CONV.format("kernel_size: 5"), name="c", tops=("r",))
             + _layer("Crop", "crop_param { axis: 2 offset: 1 offset: 2 }", bottoms=("x", "r"))),
    "crop_axis1": ((1, 6, 20, 20), _layer("Convolution", CONV.format("kernel_size: 3"), name="c", tops=("r",))
                   + _layer("Crop", "crop_param { axis: 1 offset: 1 }", bottoms=("x", "r"))),
    "activations": ((2, 3, 4, 5), "".join(
        _layer(kind, name=f"l{i}", bottoms=("x" if i == 0 else f"t{i - 1}",), tops=(f"t{i}",))
        for i, kind in enumerate(["ReLU", "Sigmoid", "TanH", "AbsVal", "BNLL", "ELU", "Power",
                                  "Exp", "Log", "Dropout"]))),
    "in_place_chain": ((2, 3, 8, 8), _layer("Convolution", CONV.format("kernel_size: 3"), tops=("c",))
                       + _layer("ReLU", bottoms=("c",), tops=("c",), name="r")
                       + _layer("Dropout", bottoms=("c",), tops=("c",), name="d")),
}


@pytest.mark.parametrize("case", sorted(OPENCV_CASES))
def test_shape_rule_matches_opencv(case: str, tmp_path: Path):
    shape, body = OPENCV_CASES[case]
    prototxt = _net(tmp_path, shape, body)
    graph = load_net(prototxt)
    model = write_shape_only_caffemodel(graph, tmp_path / "w.caffemodel")
    mine = [m[2] for m in graph_layer_shapes(graph)]
    # OpenCV gives MAX pooling a second (argmax mask) output; compare the tops Caffe has
    reference = [r[2][:len(m)] for r, m in zip(opencv_layer_shapes(prototxt, model, [shape]), mine)]
    assert mine == reference


@pytest.mark.parametrize("size, expected", [(5, 3), (6, 4)])
def test_pool_clip_rule_drops_a_window_starting_in_the_padding(size: int, expected: int,
                                                               tmp_path: Path):
    # ceil((H + 2 - 2) / 2) + 1 = 4 for H = 5 and 6; for H = 5 the last window starts at
    # (4 - 1) * 2 = 6 >= H + pad = 6, inside the padding, so Caffe drops it
    graph = load_net(_net(tmp_path, (1, 1, size, size), OPENCV_CASES["pool_clip"][1]))
    assert graph.shapes["y"] == (1, 1, expected, expected)


def test_pool_clip_rule_applies_to_an_unpadded_axis_when_the_other_is_padded(tmp_path: Path):
    # Caffe's PoolingLayer::Reshape tests both axes `if (pad_h_ || pad_w_)`.
    # H: ceil((7 + 2 - 2) / 3) + 1 = 4, (4 - 1) * 3 = 9 >= 7 + 1: dropped -> 3
    # W: ceil((6 - 2) / 3) + 1 = 3, (3 - 1) * 3 = 6 >= 6 + 0: dropped -> 2 (OpenCV 4.14,
    # which tests each axis against its own padding only, keeps 3)
    body = CAFFE_ONLY_CASES["pool_clip_both_axes"][1]
    assert load_net(_net(tmp_path, (1, 1, 7, 6), body)).shapes["y"] == (1, 1, 3, 2)
    unpadded = _layer("Pooling", POOL.format("pool: MAX kernel_size: 2 stride: 3"))
    assert load_net(_net(tmp_path, (1, 1, 7, 6), unpadded)).shapes["y"] == (1, 1, 3, 3)


@pytest.mark.parametrize("round_mode, expected", [("CEIL", 7), ("FLOOR", 6)])
def test_pool_round_mode(round_mode: str, expected: int, tmp_path: Path):
    body = _layer("Pooling", POOL.format(f"kernel_size: 3 stride: 2 round_mode: {round_mode}"))
    assert load_net(_net(tmp_path, (1, 1, 14, 14), body)).shapes["y"] == (1, 1, expected, expected)


@pytest.mark.parametrize("params, expected", [
    ("", (2, 1, 1)),
    ("out_max_val: true top_k: 3", (2, 2, 3)),
    ("axis: 1 top_k: 2", (2, 2)),
])
def test_argmax(params: str, expected, tmp_path: Path):
    # Caffe's ArgMaxLayer::Reshape: without axis, (N, 1 or 2, top_k) padded to >= 3 axes
    body = _layer("ArgMax", f"argmax_param {{ {params} }}")
    assert load_net(_net(tmp_path, (2, 10), body)).shapes["y"] == expected


def test_argmax_4d_without_axis(tmp_path: Path):
    assert load_net(_net(tmp_path, (2, 3, 4, 5), _layer("ArgMax"))).shapes["y"] == (2, 1, 1, 1)


def test_scale_with_two_bottoms(tmp_path: Path):
    body = (_layer("Pooling", POOL.format("pool: AVE global_pooling: true"), tops=("s",), name="p")
            + _layer("Reshape", "reshape_param { shape { dim: 0 dim: -1 } }", bottoms=("s",),
                     tops=("s2",), name="r")
            + _layer("Scale", "scale_param { axis: 0 }", bottoms=("x", "s2")))
    graph = load_net(_net(tmp_path, (2, 3, 4, 5), body))
    assert graph.shapes["y"] == (2, 3, 4, 5)


# Types OpenCV 4.14 cannot build, or fields it ignores (concat_dim, slice_dim, deconvolution
# dilation): checked against Caffe's Reshape() formulas by hand.
@pytest.mark.parametrize("kind, params, expected", [
    ("Tile", "tile_param { axis: 1 tiles: 3 }", (2, 9, 4)),
    ("Reduction", "reduction_param { axis: 1 }", (2,)),
    ("Embed", "embed_param { num_output: 6 input_dim: 10 }", (2, 3, 4, 6)),
    ("Bias", "", (2, 3, 4)),
    ("Threshold", "", (2, 3, 4)),
    ("Concat", "concat_param { concat_dim: 2 }", (2, 3, 8)),
    ("Slice", "slice_param { slice_dim: 2 slice_point: 1 }", (2, 3, 1)),
    ("Slice", "slice_param { axis: 2 }", (2, 3, 2)),
])
def test_rules_opencv_lacks(kind: str, params: str, expected, tmp_path: Path):
    bottoms = ("x", "x") if kind == "Concat" else ("x",)
    tops = ("y", "y2") if kind == "Slice" else ("y",)
    graph = load_net(_net(tmp_path, (2, 3, 4), _layer(kind, params, bottoms=bottoms, tops=tops)))
    assert graph.shapes["y"] == expected


def test_deconvolution_dilation(tmp_path: Path):
    # stride * (H - 1) + dilation * (k - 1) + 1 - 2 * pad = 3 * 4 + 2 * 2 + 1 - 0 = 17
    body = _layer("Deconvolution", CONV.format("kernel_size: 3 stride: 3 dilation: 2"))
    assert load_net(_net(tmp_path, (1, 4, 5, 5), body)).shapes["y"] == (1, 4, 17, 17)


@pytest.mark.parametrize("body, message", [
    (_layer("Convolution", CONV.format("kernel_size: 9")), "output size"),
    (_layer("Convolution", "convolution_param { num_output: 4 kernel_size: 3 group: 2 }"), "group"),
    (_layer("Reshape", "reshape_param { shape { dim: 7 dim: -1 } }"), "-1"),
    (_layer("Concat", bottoms=("x", "z")), "differ"),
    (_layer("Slice", "slice_param { slice_point: 5 }", tops=("a", "b")), "slice points"),
    (_layer("Crop", bottoms=("z", "x")), "exceeds"),
    (_layer("Pooling", POOL.format("kernel_size: 2 pad: 2")), "smaller than the kernel"),
])
def test_impossible_shapes_are_graph_errors(body: str, message: str, tmp_path: Path):
    extra = 'input: "z"\ninput_shape { dim: 1 dim: 3 dim: 4 dim: 4 }\n'
    path = _net(tmp_path, (1, 3, 5, 5), body, extra_input=extra)
    with pytest.raises(GraphError) as err:
        load_net(path)
    assert err.value.layer == "l" and str(path) in str(err.value) and message in str(err.value)


# Where OpenCV departs from Caffe (or lacks the layer): real Caffe decides.
CAFFE_ONLY_CASES = {
    "pool_clip_both_axes": ((1, 1, 7, 6), _layer("Pooling", POOL.format(
        "pool: MAX kernel_size: 2 stride: 3 pad_h: 1 pad_w: 0"))),
    "pool_floor": ((1, 1, 14, 14), _layer("Pooling", POOL.format(
        "kernel_size: 3 stride: 2 round_mode: FLOOR"))),
    "deconv_dilated": ((1, 4, 5, 5), _layer("Deconvolution", CONV.format(
        "kernel_size: 3 stride: 3 dilation: 2 group: 2"))),
    "concat_dim": ((2, 3, 4, 5), _layer("Concat", "concat_param { concat_dim: 2 }", bottoms=("x", "x"))),
    "slice_dim": ((2, 3, 4, 6), _layer("Slice", "slice_param { slice_dim: 3 }", tops=("a", "b"))),
    "argmax": ((2, 10), _layer("ArgMax", "argmax_param { out_max_val: true top_k: 3 }")),
    "argmax_4d": ((2, 3, 4, 5), _layer("ArgMax")),
    "argmax_axis": ((2, 3, 4, 5), _layer("ArgMax", "argmax_param { axis: 2 top_k: 2 }")),
    "tile": ((2, 3, 4), _layer("Tile", "tile_param { axis: 1 tiles: 3 }")),
    "reduction": ((2, 3, 4), _layer("Reduction", "reduction_param { axis: 1 }")),
    "embed": ((2, 3), _layer("Embed", "embed_param { num_output: 6 input_dim: 10 }")),
    "bias": ((2, 3, 4, 5), _layer("Bias", "bias_param { axis: 1 num_axes: 2 }")),
    "threshold": ((2, 3), _layer("Threshold")),
    "ip_transpose": ((2, 3, 4), _layer("InnerProduct",
                                       "inner_product_param { num_output: 5 transpose: true }")),
    "scale_two_bottoms": ((2, 3, 4, 5),
                          _layer("Pooling", POOL.format("pool: AVE global_pooling: true"),
                                 tops=("s",), name="p")
                          + _layer("Reshape", "reshape_param { shape { dim: 0 dim: -1 } }",
                                   bottoms=("s",), tops=("s2",), name="r")
                          + _layer("Scale", "scale_param { axis: 0 bias_term: true }",
                                   bottoms=("x", "s2"))),
    "conv_3d": ((1, 2, 5, 6, 7), _layer("Convolution", CONV.format(
        "kernel_size: 3 kernel_size: 1 kernel_size: 2 stride: 2 pad: 1"))),
    "crop_offsets": ((1, 6, 20, 20), _layer("Convolution", CONV.format("kernel_size: 5"), name="c",
                                            tops=("r",))
                     + _layer("Crop", "crop_param { axis: 1 offset: 0 offset: 1 offset: 2 }",
                              bottoms=("x", "r"))),
}


def test_blob_and_param_shapes_match_real_caffe(caffe_env, tmp_path: Path):
    cases = {**OPENCV_CASES, **CAFFE_ONLY_CASES}
    graphs = {}
    for name, (shape, body) in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        path = _net(folder, shape, body)
        graphs[path] = (name, load_net(path))
    reference = caffe_shapes(caffe_env.python, list(graphs), tmp_path)
    for path, (name, graph) in graphs.items():
        blobs = {k: tuple(v) for k, v in reference[path.resolve()]["blobs"].items()}
        assert graph_blob_shapes(graph) == blobs, name
        params = {k: [tuple(s) for s in v] for k, v in reference[path.resolve()]["params"].items()}
        assert graph_param_shapes(graph) == params, name
