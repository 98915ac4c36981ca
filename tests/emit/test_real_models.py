"""Real trained weights: LeNet on the bundled MNIST digits, CIFAR10-quick on its 3 images."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from google.protobuf import text_format

from caffe2tf.deploy import deploy_net_parameter
from caffe2tf.net import load_net
from emit.harness import converted_forward, opencv_forward, within_tolerance

LAYOUTS = ("nhwc", "nchw")


@pytest.fixture(scope="module")
def mnist(snapshot_dir: Path) -> tuple[np.ndarray, list[int]]:
    paths = sorted((snapshot_dir / "images" / "mnist").glob("img_*_*.png"))
    assert len(paths) == 10
    labels = [int(p.stem.split("_")[1]) for p in paths]
    # LeNet was trained on gray levels scaled by 1/256 (transform_param scale 0.00390625)
    images = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths])
    return (images.astype(np.float32) / 256)[:, None], labels


@pytest.mark.parametrize("io_layout", LAYOUTS)
def test_lenet_classifies_every_mnist_digit(mnist, snapshot_dir: Path, io_layout: str) -> None:
    folder = snapshot_dir / "weights" / "lenet_mnist"
    prototxt, caffemodel = folder / "lenet.prototxt", folder / "lenet_iter_10000.caffemodel"
    graph = load_net(prototxt, caffemodel)
    images, labels = mnist
    converted = converted_forward(graph, {"data": images}, io_layout, ["prob"])["prob"]
    assert converted.argmax(axis=1).tolist() == labels
    reference = opencv_forward(prototxt, caffemodel, {"data": images}, ["prob"], graph)["prob"]
    ok, diff, allowed = within_tolerance(converted, reference)
    assert ok, f"max|diff| {diff:.3g} > {allowed:.3g}"


# CIFAR-10 training-set mean per BGR channel: the net's mean.binaryproto is not published,
# so its per-pixel mean image is approximated by the channel means.
CIFAR_MEAN_BGR = np.array([113.9, 123.0, 125.3], np.float32)


@pytest.mark.parametrize("io_layout", LAYOUTS)
def test_cifar10_quick_agrees_with_opencv(snapshot_dir: Path, tmp_path: Path, io_layout: str) -> None:
    folder = snapshot_dir / "weights" / "cifar10_quick"
    caffemodel = folder / "cifar10_quick_iter_5000.caffemodel"
    graph = load_net(folder / "prediction_example.prototxt", caffemodel)  # V1, IMAGE_DATA input
    expected = json.loads((folder / "expected_predictions.json").read_text())["predictions"]
    images = [cv2.imread(str(folder / p["image"])) for p in expected]
    batch = np.stack([(im.astype(np.float32) - CIFAR_MEAN_BGR).transpose(2, 0, 1) for im in images])

    converted = converted_forward(graph, {"data": batch}, io_layout, ["prob", "argmax"])
    assert converted["prob"].argmax(axis=1).tolist() == [p["argmax_class"] for p in expected]

    # OpenCV has no ArgMax layer: it runs the deploy form of the net up to "prob"
    deploy = deploy_net_parameter(graph)
    kept = [layer for layer in deploy.layer if layer.type != "ArgMax"]
    del deploy.layer[:]
    deploy.layer.extend(kept)
    prototxt = tmp_path / "cifar10_quick_deploy.prototxt"
    prototxt.write_text(text_format.MessageToString(deploy))
    reference = opencv_forward(prototxt, caffemodel, {"data": batch}, ["prob"], graph)["prob"]
    ok, diff, allowed = within_tolerance(converted["prob"], reference)
    assert ok, f"max|diff| {diff:.3g} > {allowed:.3g}"
    # Caffe's ArgMax (top_k 5): the five best classes, best first, as floats
    top5 = np.argsort(-reference.reshape(len(images), -1), axis=1)[:, :5]
    np.testing.assert_array_equal(converted["argmax"].reshape(len(images), 5), top5)
