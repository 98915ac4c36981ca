"""Legacy formats, the four input forms, data layers, phase rules, SSA and Split."""
from __future__ import annotations

from pathlib import Path

import pytest

from caffe2tf.errors import GraphError
from caffe2tf.net import load_net
from caffe2tf.upgrade import format_version
from caffe2tf.prototxt import parse_prototxt
from tests.reader.opencv_shapes import (
    graph_layer_shapes, opencv_layer_shapes, write_shape_only_caffemodel,
)

V0_NET = '''
name: "tiny_v0"
input: "data"
input_dim: 1 input_dim: 3 input_dim: 10 input_dim: 10
layers { layer { name: "pad1" type: "padding" pad: 2 } bottom: "data" top: "pad1" }
layers {
  layer { name: "conv1" type: "conv" num_output: 4 kernelsize: 3 stride: 1 blobs_lr: 1 blobs_lr: 2 }
  bottom: "pad1" top: "conv1"
}
layers { layer { name: "relu1" type: "relu" } bottom: "conv1" top: "conv1" }
layers { layer { name: "pool1" type: "pool" pool: AVE kernelsize: 3 stride: 2 } bottom: "conv1" top: "pool1" }
layers { layer { name: "norm1" type: "lrn" local_size: 3 alpha: 0.1 beta: 0.5 } bottom: "pool1" top: "norm1" }
layers { layer { name: "fc" type: "innerproduct" num_output: 5 biasterm: false } bottom: "norm1" top: "fc" }
layers { layer { name: "drop" type: "dropout" dropout_ratio: 0.3 } bottom: "fc" top: "fc" }
layers { layer { name: "prob" type: "softmax" } bottom: "fc" top: "prob" }
'''


def _write(tmp_path: Path, text: str, name: str = "net.prototxt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_v0_net_with_padding_layer(tmp_path: Path):
    path = _write(tmp_path, V0_NET)
    graph = load_net(path)
    assert graph.format_version == "V0"
    assert [layer.name for layer in graph.layers] == [
        "conv1", "relu1", "pool1", "norm1", "fc", "drop", "prob"]
    conv = graph.layer("conv1")
    assert conv.type == "Convolution" and conv.bottoms == ["data"]
    assert list(conv.param.convolution_param.pad) == [2]
    assert list(conv.param.convolution_param.kernel_size) == [3]
    assert not conv.param.param  # blobs_lr is training-only
    assert graph.layer("pool1").param.pooling_param.pool == graph.layer("pool1").param.pooling_param.AVE
    assert graph.layer("norm1").param.lrn_param.alpha == pytest.approx(0.1)
    assert graph.layer("fc").param.inner_product_param.bias_term is False
    assert graph.layer("drop").param.dropout_param.dropout_ratio == pytest.approx(0.3)
    assert graph.shapes["conv1"] == (1, 4, 12, 12)
    assert graph.shapes["pool1"] == (1, 4, 6, 6)  # ceil((12 - 3) / 2) + 1
    assert graph.outputs == ["prob"]
    # OpenCV's importer upgrades V0 nets on its own: an independent check of the upgrade
    model = write_shape_only_caffemodel(graph, tmp_path / "w.caffemodel")
    reference = opencv_layer_shapes(path, model, [graph.inputs["data"]])
    assert [r[2] for r in reference] == [m[2] for m in graph_layer_shapes(graph)]


V1_TRAIN_VAL = '''
name: "v1"
layers {
  name: "data" type: DATA top: "data" top: "label"
  data_param { source: "train_lmdb" batch_size: 64 crop_size: 28 scale: 0.5 mirror: true }
  include { phase: TRAIN }
}
layers {
  name: "data" type: DATA top: "data" top: "label"
  data_param { source: "test_lmdb" batch_size: 8 crop_size: 24 scale: 0.00390625 mean_file: "mean.binaryproto" }
  include: { phase: TEST }
}
layers { name: "conv" type: CONVOLUTION bottom: "data" top: "conv" blobs_lr: 1 weight_decay: 1
  convolution_param { num_output: 6 kernel_size: 5 } }
layers { name: "relu" type: RELU bottom: "conv" top: "conv" }
layers { name: "split" type: SPLIT bottom: "conv" top: "conv_a" top: "conv_b" }
layers { name: "sum" type: ELTWISE bottom: "conv_a" bottom: "conv_b" top: "sum" }
layers { name: "ip" type: INNER_PRODUCT bottom: "sum" top: "ip" inner_product_param { num_output: 10 } }
layers { name: "train_only" type: DROPOUT bottom: "ip" top: "ip" include { phase: TRAIN } }
layers { name: "not_in_test" type: RELU bottom: "ip" top: "ip" exclude { phase: TEST } }
layers { name: "accuracy" type: ACCURACY bottom: "ip" bottom: "label" top: "accuracy" }
layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" top: "loss" }
layers { name: "silence" type: SILENCE bottom: "sum" }
'''


def test_v1_train_val_becomes_an_inference_graph(tmp_path: Path):
    (tmp_path / "mean.binaryproto").write_bytes(b"")
    graph = load_net(_write(tmp_path, V1_TRAIN_VAL))
    assert graph.format_version == "V1"
    assert graph.inputs == {"data": (8, 3, 24, 24)}
    assert [(layer.name, layer.type) for layer in graph.layers] == [
        ("conv", "Convolution"), ("relu", "ReLU"), ("sum", "Eltwise"), ("ip", "InnerProduct")]
    # in-place ReLU gets an SSA name; the Split is read through
    assert graph.layer("relu").tops == ["conv@relu"]
    assert graph.layer("sum").bottoms == ["conv@relu", "conv@relu"]
    assert graph.blob_names["conv@relu"] == "conv"
    assert graph.outputs == ["ip"]
    assert "label" not in graph.blob_names
    pre = graph.preprocessing
    assert pre is not None and pre.source_layer == "data"
    assert pre.scale == pytest.approx(0.00390625) and pre.crop_size == 24
    assert pre.mean_file == "mean.binaryproto" and pre.mean_file_found is True
    assert pre.mirror is False
    dropped = next(w for w in graph.warnings if w.startswith("dropped"))
    for name in ("train_only", "not_in_test", "accuracy", "loss", "silence"):
        assert name in dropped


@pytest.mark.parametrize("declaration, expected", [
    ('input: "data" input_dim: 2 input_dim: 3 input_dim: 9 input_dim: 9', (2, 3, 9, 9)),
    ('input: "data" input_shape { dim: 2 dim: 3 dim: 9 dim: 9 }', (2, 3, 9, 9)),
    ('layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 7 dim: 7 } } }',
     (1, 3, 7, 7)),
    ('layer { name: "d" type: "Data" top: "data" top: "label" '
     'transform_param { crop_size: 11 mean_value: 104 mean_value: 117 mean_value: 123 } '
     'data_param { batch_size: 4 } }', (4, 3, 11, 11)),
    ('layer { name: "d" type: "ImageData" top: "data" top: "label" '
     'image_data_param { batch_size: 2 new_height: 12 new_width: 10 is_color: false } }', (2, 1, 12, 10)),
    ('layer { name: "d" type: "MemoryData" top: "data" top: "label" '
     'memory_data_param { batch_size: 5 channels: 3 height: 8 width: 6 } }', (5, 3, 8, 6)),
    ('layer { name: "d" type: "WindowData" top: "data" top: "label" '
     'transform_param { crop_size: 9 } window_data_param { batch_size: 3 } }', (3, 3, 9, 9)),
])
def test_input_forms(declaration: str, expected, tmp_path: Path):
    text = declaration + '\nlayer { name: "r" type: "ReLU" bottom: "data" top: "out" }\n'
    graph = load_net(_write(tmp_path, text))
    assert graph.inputs == {"data": expected}
    assert graph.shapes["out"] == expected
    assert [layer.name for layer in graph.layers] == ["r"]


def test_data_layer_preprocessing_and_missing_mean_file(tmp_path: Path):
    text = ('layer { name: "d" type: "Data" top: "data" top: "label" '
            'transform_param { crop_size: 5 mean_file: "gone/mean.binaryproto" scale: 0.017 '
            'mirror: true force_color: true } data_param { batch_size: 1 } }\n'
            'layer { name: "r" type: "ReLU" bottom: "data" top: "out" }\n')
    graph = load_net(_write(tmp_path, text))
    pre = graph.preprocessing
    assert pre.mean_file == "gone/mean.binaryproto" and pre.mean_file_found is False
    assert pre.scale == pytest.approx(0.017) and pre.mirror and pre.force_color is True
    assert any("gone/mean.binaryproto" in w and "not found" in w for w in graph.warnings)


def test_data_layer_without_size_needs_input_shapes(tmp_path: Path):
    text = ('layer { name: "d" type: "HDF5Data" top: "data" hdf5_data_param { batch_size: 2 } }\n'
            'layer { name: "r" type: "ReLU" bottom: "data" top: "out" }\n')
    path = _write(tmp_path, text)
    graph = load_net(path)
    assert graph.inputs == {} and "out" not in graph.shapes
    assert any("input_shapes" in w for w in graph.warnings)
    graph = load_net(path, input_shapes={"data": (2, 16)})
    assert graph.shapes["out"] == (2, 16)
    with pytest.raises(GraphError, match="not a net input"):
        load_net(path, input_shapes={"nope": (1,)})


def test_stage_rules(tmp_path: Path):
    text = ('input: "x" input_shape { dim: 1 dim: 4 }\n'
            'layer { name: "a" type: "ReLU" bottom: "x" top: "y" include { stage: "deploy" } }\n'
            'layer { name: "b" type: "TanH" bottom: "x" top: "y" exclude { stage: "deploy" } }\n')
    path = _write(tmp_path, text)
    assert [layer.name for layer in load_net(path).layers] == ["b"]
    assert [layer.name for layer in load_net(path, stages=["deploy"]).layers] == ["a"]


def test_missing_bottom_names_file_and_layer(tmp_path: Path):
    path = _write(tmp_path, 'input: "x" input_shape { dim: 1 dim: 4 }\n'
                            'layer { name: "bad" type: "ReLU" bottom: "nothere" top: "y" }\n')
    with pytest.raises(GraphError) as err:
        load_net(path)
    assert err.value.layer == "bad" and err.value.file == str(path)
    assert "nothere" in str(err.value)


def test_in_place_chain_and_repeated_layer_names(tmp_path: Path):
    text = ('input: "x" input_shape { dim: 1 dim: 4 }\n'
            'layer { name: "a" type: "ReLU" bottom: "x" top: "x" }\n'
            'layer { name: "a" type: "TanH" bottom: "x" top: "x" }\n'
            'layer { name: "c" type: "Sigmoid" bottom: "x" top: "z" }\n')
    graph = load_net(_write(tmp_path, text))
    assert [layer.name for layer in graph.layers] == ["a", "a#2", "c"]
    assert [layer.tops[0] for layer in graph.layers] == ["x@a", "x@a#2", "z"]
    assert graph.layer("c").bottoms == ["x@a#2"]
    assert graph.layer("a#2").param.name == "a"
    assert {graph.blob_names[t] for t in ("x@a", "x@a#2")} == {"x"}


def test_format_detection(tmp_path: Path):
    assert format_version(parse_prototxt(_write(tmp_path, V0_NET)).net) == "V0"
    assert format_version(parse_prototxt(_write(tmp_path, V1_TRAIN_VAL)).net) == "V1"
    assert format_version(parse_prototxt(_write(tmp_path, 'layer { name: "a" }')).net) == "V2"


def test_fork_fields_are_listed_per_layer_and_ceil_mode_is_translated(tmp_path: Path):
    text = ('input: "x" input_shape { dim: 1 dim: 1 dim: 14 dim: 14 }\n'
            'layer { name: "p" type: "Pooling" bottom: "x" top: "p"\n'
            '  pooling_param { pool: MAX kernel_size: 3 stride: 2 ceil_mode: false } }\n'
            'layer { name: "c" type: "Convolution" bottom: "p" top: "c"\n'
            '  convolution_param { num_output: 2 kernel_size: 3 hole: 2 } }\n'
            'layer { name: "n" type: "Normalize" bottom: "c" top: "n" norm_param { eps: 1 } }\n')
    graph = load_net(_write(tmp_path, text))
    assert graph.shapes["p"] == (1, 1, 6, 6)  # floor((14 - 3) / 2) + 1; ceil would give 7
    assert graph.foreign_fields == {"c": ["convolution_param.hole"], "n": ["norm_param"]}
    assert any("'c' (Convolution) has Caffe-fork fields" in w for w in graph.warnings)


def test_fork_fields_of_a_v0_layer(tmp_path: Path):
    text = V0_NET.replace('kernelsize: 3 stride: 1', 'kernelsize: 3 stride: 1 hole: 2')
    graph = load_net(_write(tmp_path, text))
    assert graph.foreign_fields == {"conv1": ["hole"]}
