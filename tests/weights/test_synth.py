"""Synthetic weights: OpenCV 4.14 loads them and runs, activations stay O(1), seeds repeat."""
from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from caffe2tf.caffemodel import read_caffemodel
from caffe2tf.errors import Caffe2TFError
from caffe2tf.net import load_net
from caffe2tf.synth import SynthesisWarning, synthesize_weights, write_synthetic_caffemodel
from zoo2tf.cli import main

NETS = {
    "lenet": "weights/lenet_mnist/lenet.prototxt",
    "cifar10_quick_v1": "prototxts/cifar10_quick.prototxt",
    "alexnet": "models/bvlc/bvlc_alexnet/deploy.prototxt",
    "squeezenet": "models/community/squeezenet/deploy.prototxt",
    "resnet50": "models/community/resnet/ResNet-50-deploy.prototxt",
    "resnet152": "models/community/resnet/ResNet-152-deploy.prototxt",
    "vgg19": "models/community/vgg_ilsvrc_19/VGG_ILSVRC_19_layers_deploy.prototxt",
    "googlenet": "models/bvlc/bvlc_googlenet/deploy.prototxt",
}


def _opencv_forward(prototxt: Path, caffemodel: Path, blobs: list[str]) -> list[np.ndarray]:
    graph = load_net(prototxt)
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    rng = np.random.default_rng(0)
    for name, shape in graph.inputs.items():
        net.setInput(rng.standard_normal((1, *shape[1:])).astype(np.float32), name)
    return [np.asarray(out) for out in net.forward(blobs)]


def _logits_layer(prototxt: Path) -> tuple[str, str]:
    """(layer feeding the final Softmax, the Softmax layer) of a classifier."""
    graph = load_net(prototxt)
    softmax = graph.layers[-1]
    assert softmax.type == "Softmax"
    producer = next(layer for layer in graph.layers if softmax.bottoms[0] in layer.tops)
    return producer.name, softmax.name


@pytest.mark.parametrize("net", ["lenet", "cifar10_quick_v1", "alexnet", "squeezenet", "resnet50"])
def test_opencv_loads_and_runs_synthetic_weights(net: str, snapshot_dir: Path,
                                                  tmp_path: Path) -> None:
    prototxt = snapshot_dir / NETS[net]
    out = write_synthetic_caffemodel(prototxt, tmp_path / f"{net}.caffemodel", seed=3)
    logits_name, prob_name = _logits_layer(prototxt)
    logits, prob = _opencv_forward(prototxt, out, [logits_name, prob_name])
    assert np.isfinite(logits).all()
    assert logits.std() > 1e-3
    assert 0.05 < float(np.sqrt(np.mean(logits.astype(np.float64) ** 2))) < 20
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-4)
    # The reader accepts what was written: names and shapes match the prototxt.
    graph = load_net(prototxt, out)
    assert graph.param_count() == read_caffemodel(out).param_count() > 0


@pytest.mark.parametrize("net", ["resnet152", "vgg19", "googlenet"])
def test_deep_nets_stay_order_one(net: str, snapshot_dir: Path, tmp_path: Path) -> None:
    prototxt = snapshot_dir / NETS[net]
    out = write_synthetic_caffemodel(prototxt, tmp_path / f"{net}.caffemodel")
    logits_name, prob_name = _logits_layer(prototxt)
    logits, prob = _opencv_forward(prototxt, out, [logits_name, prob_name])
    rms = float(np.sqrt(np.mean(logits.astype(np.float64) ** 2)))
    assert np.isfinite(logits).all() and 0.1 < rms < 10, rms
    assert prob.max() < 0.5  # not saturated to one class


def test_batchnorm_and_scale_blobs(snapshot_dir: Path) -> None:
    graph = load_net(snapshot_dir / NETS["resnet50"])
    weights = synthesize_weights(graph, seed=1)
    batchnorms = [layer.name for layer in graph.layers if layer.type == "BatchNorm"]
    scales = [layer.name for layer in graph.layers if layer.type == "Scale"]
    assert len(batchnorms) == len(scales) == 53
    for name in batchnorms:
        mean, variance, factor = weights[name]
        assert (variance > 0).all() and np.isfinite(mean).all()
        np.testing.assert_array_equal(factor, [1.0])
    gammas = np.concatenate([weights[name][0] for name in scales])
    assert 0.8 <= gammas.min() and gammas.max() <= 1.2
    assert all(b.dtype == np.float32 for blobs in weights.values() for b in blobs)
    # Every learned layer gets exactly the blobs Caffe expects.
    learned = {layer.name for layer in graph.layers
               if layer.type in ("Convolution", "InnerProduct", "BatchNorm", "Scale")}
    assert set(weights) == learned


def test_same_seed_same_bytes_other_seed_other_values(snapshot_dir: Path, tmp_path: Path) -> None:
    prototxt = snapshot_dir / NETS["cifar10_quick_v1"]
    a = write_synthetic_caffemodel(prototxt, tmp_path / "a.caffemodel", seed=5)
    b = write_synthetic_caffemodel(prototxt, tmp_path / "b.caffemodel", seed=5)
    c = write_synthetic_caffemodel(prototxt, tmp_path / "c.caffemodel", seed=6)
    assert a.read_bytes() == b.read_bytes()
    assert a.stat().st_size == c.stat().st_size and a.read_bytes() != c.read_bytes()
    graph = load_net(prototxt)
    in_memory = synthesize_weights(graph, seed=5)
    on_disk = read_caffemodel(a)
    assert list(on_disk) == [layer.name for layer in graph.layers]
    assert list(in_memory) == [name for name in on_disk if on_disk[name]]
    for name, blobs in in_memory.items():
        for x, y in zip(blobs, on_disk[name], strict=True):
            np.testing.assert_array_equal(x, y)


def test_unknown_fork_layers_are_skipped_with_a_warning(snapshot_dir: Path,
                                                        tmp_path: Path) -> None:
    prototxt = snapshot_dir / "prototxts" / "VGG_VOC0712_SSD_300x300_deploy.prototxt"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthesisWarning)
        out = write_synthetic_caffemodel(prototxt, tmp_path / "ssd.caffemodel")
    messages = [str(w.message) for w in caught if issubclass(w.category, SynthesisWarning)]
    assert any("unknown type 'NormalizeBBox' (conv4_3_norm)" in m for m in messages)
    assert any("'conv4_3_norm_mbox_loc' (Convolution) gets no weights: the shape of its "
               "input 'conv4_3_norm' is unknown" in m for m in messages)
    weights = read_caffemodel(out)
    assert weights["conv4_3_norm"] == weights["conv4_3_norm_mbox_loc"] == []
    assert [b.shape for b in weights["fc7_mbox_loc"]] == [(24, 1024, 3, 3), (24,)]
    assert [b.shape for b in weights["conv1_1"]] == [(64, 3, 3, 3), (64,)]
    assert "fc7" in weights  # the VGG trunk is complete


def test_cli_writes_a_caffemodel(snapshot_dir: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lenet.caffemodel"
    prototxt = snapshot_dir / NETS["lenet"]
    assert main(["synth-weights", str(prototxt), "-o", str(out), "--seed", "9"]) == 0
    assert str(out) in capsys.readouterr().out
    expected = tmp_path / "expected.caffemodel"
    write_synthetic_caffemodel(prototxt, expected, seed=9)
    assert out.read_bytes() == expected.read_bytes()
    with pytest.raises(SystemExit) as info:
        main(["synth-weights", str(prototxt), "-o", str(out), "--seed", "-1"])
    assert info.value.code == 2 and "non-negative" in capsys.readouterr().err


def test_cli_reports_a_bad_prototxt_in_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.prototxt"
    garbage.write_bytes(bytes(range(256)) * 4)
    assert main(["synth-weights", str(garbage), "-o", str(tmp_path / "x.caffemodel")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("zoo2tf synth-weights: ") for line in err)
    assert "garbage.prototxt" in err[0] and "Traceback" not in "".join(err)
    assert not (tmp_path / "x.caffemodel").exists()
    with pytest.raises(Caffe2TFError):
        write_synthetic_caffemodel(garbage, tmp_path / "y.caffemodel")


def test_input_shape_for_a_train_val_net_reading_an_lmdb(snapshot_dir: Path,
                                                         tmp_path: Path) -> None:
    prototxt = snapshot_dir / "models" / "community" / "nin-cifar10" / "train_val.prototxt"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthesisWarning)
        bare = write_synthetic_caffemodel(prototxt, tmp_path / "bare.caffemodel")
    assert any("the shape of its input 'data' is unknown" in str(w.message) for w in caught)
    assert read_caffemodel(bare)["conv1"] == []

    out = tmp_path / "nin.caffemodel"
    assert main(["synth-weights", str(prototxt), "-o", str(out),
                 "--input-shape", "data=1,3,32,32"]) == 0
    weights = read_caffemodel(out)
    assert weights["conv1"][0].shape[1:] == (3, 5, 5)
    graph = load_net(prototxt, out, input_shapes={"data": (1, 3, 32, 32)})
    assert graph.param_count() == weights.param_count()
