"""Weights attached by layer name: real LeNet and CIFAR10-quick, legacy blob shapes, and
the typed errors for weights that do not fit."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2tf.caffemodel import read_caffemodel, write_caffemodel
from caffe2tf.errors import ParseError, WeightMismatch
from caffe2tf.net import load_net
from caffe2tf.params import expected_param_shapes
from caffe2tf.proto import caffe_pb2
from zoo_mirror import SNAPSHOT_DIR

LENET = SNAPSHOT_DIR / "weights/lenet_mnist/lenet.prototxt"
LENET_WEIGHTS = SNAPSHOT_DIR / "weights/lenet_mnist/lenet_iter_10000.caffemodel"
CIFAR = SNAPSHOT_DIR / "weights/cifar10_quick/prediction_example.prototxt"
CIFAR_WEIGHTS = SNAPSHOT_DIR / "weights/cifar10_quick/cifar10_quick_iter_5000.caffemodel"


def _lenet_layers(**changes):
    weights = read_caffemodel(LENET_WEIGHTS)
    for name in weights:
        if name in changes:
            if changes[name] is not None:
                yield name, weights.layer_type(name), changes[name]
        elif len(weights[name]):
            yield name, weights.layer_type(name), weights[name]


def test_real_lenet_loads_with_its_weights():
    graph = load_net(LENET, LENET_WEIGHTS)
    assert graph.param_count() == 431080
    for layer in graph.layers:
        shapes = expected_param_shapes(layer, [graph.shapes[b] for b in layer.bottoms])
        assert [b.shape for b in layer.blobs] == shapes
        for blob in layer.blobs:  # views of the memory-mapped file, not copies
            assert blob.dtype == np.float32 and not blob.flags.owndata
    assert graph.layer("ip1").blobs[0].shape == (500, 800)
    assert abs(float(graph.layer("conv1").blobs[0].sum())) > 0


def test_real_cifar10_quick_v1_with_image_data_layer_loads_with_its_weights():
    graph = load_net(CIFAR, CIFAR_WEIGHTS)
    assert graph.format_version == "V1"
    assert graph.inputs == {"data": (3, 3, 32, 32)}
    assert graph.param_count() == 145578
    assert graph.layer("ip1").blobs[0].shape == (64, 1024)
    assert graph.preprocessing.mean_file == "./examples/cifar10/mean.binaryproto"
    assert graph.preprocessing.mean_file_found is False
    assert graph.outputs == ["argmax"]


def test_old_4d_inner_product_blobs_and_legacy_dims_are_accepted(tmp_path: Path):
    weights = read_caffemodel(LENET_WEIGHTS)
    w1, b1 = weights["ip1"]
    net = caffe_pb2.NetParameter(name="LeNet")
    for name in weights:
        blobs = weights[name]
        if not len(blobs):
            continue
        layer = net.layer.add(name=name, type=weights.layer_type(name))
        for blob in blobs:
            proto = layer.blobs.add()
            if name == "ip2":  # legacy num/channels/height/width instead of shape
                dims = (1,) * (4 - blob.ndim) + blob.shape
                proto.num, proto.channels, proto.height, proto.width = dims
            elif name == "ip1":  # a 4-D (1, 1, out, K) blob as very old models store it
                proto.shape.dim.extend((1, 1) + blob.shape if blob.ndim == 2 else (1, 1, 1) + blob.shape)
            else:
                proto.shape.dim.extend(blob.shape)
            proto.data.extend(blob.ravel().tolist())
    path = tmp_path / "legacy.caffemodel"
    path.write_bytes(net.SerializeToString())
    graph = load_net(LENET, path)
    assert graph.layer("ip1").blobs[0].shape == (500, 800)
    assert graph.layer("ip2").blobs[0].shape == (10, 500)
    np.testing.assert_array_equal(graph.layer("ip1").blobs[0], w1)
    np.testing.assert_array_equal(graph.layer("ip1").blobs[1], b1)


def test_wrong_shaped_blob(tmp_path: Path):
    conv2 = read_caffemodel(LENET_WEIGHTS)["conv2"]
    bad = tmp_path / "bad.caffemodel"
    write_caffemodel(bad, "LeNet", _lenet_layers(conv2=[np.zeros((50, 20, 3, 3), np.float32), conv2[1]]))
    with pytest.raises(WeightMismatch) as err:
        load_net(LENET, bad)
    assert err.value.layer == "conv2" and err.value.file == str(bad)
    assert err.value.expected == (50, 20, 5, 5) and err.value.got == (50, 20, 3, 3)


def test_missing_blobs_for_a_layer(tmp_path: Path):
    path = tmp_path / "partial.caffemodel"
    write_caffemodel(path, "LeNet", _lenet_layers(ip2=None))
    with pytest.raises(WeightMismatch) as err:
        load_net(LENET, path)
    assert err.value.layer == "ip2" and str(path) in str(err.value)


def test_wrong_blob_count(tmp_path: Path):
    path = tmp_path / "nobias.caffemodel"
    write_caffemodel(path, "LeNet", _lenet_layers(ip1=read_caffemodel(LENET_WEIGHTS)["ip1"][:1]))
    with pytest.raises(WeightMismatch, match="1 blobs instead of 2") as err:
        load_net(LENET, path)
    assert err.value.layer == "ip1"


def test_weights_of_a_different_network():
    with pytest.raises(WeightMismatch, match="different network") as err:
        load_net(LENET, CIFAR_WEIGHTS)
    assert err.value.file == str(CIFAR_WEIGHTS) and str(LENET) in str(err.value)


def test_extra_layers_in_the_caffemodel_are_a_warning(tmp_path: Path):
    path = tmp_path / "extra.caffemodel"
    extra = [("loss_helper", "InnerProduct", [np.ones((2, 2), np.float32)])]
    write_caffemodel(path, "LeNet", list(_lenet_layers()) + extra)
    graph = load_net(LENET, path)
    assert any("loss_helper" in w for w in graph.warnings)


def test_truncated_caffemodel_is_a_parse_error(tmp_path: Path):
    path = tmp_path / "truncated.caffemodel"
    path.write_bytes(LENET_WEIGHTS.read_bytes()[:200_000])
    with pytest.raises(ParseError) as err:
        load_net(LENET, path)
    assert err.value.file == str(path) and err.value.layer
