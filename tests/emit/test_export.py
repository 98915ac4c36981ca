"""The conversion's products: SavedModel (loadable without caffe2tf), model.keras, report, CLI."""
from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from caffe2tf.convert import SUPPORTED_TYPES, convert
from caffe2tf.errors import UnsupportedLayers
from caffe2tf.net import load_net
from emit.harness import load_with_synthetic_weights
from zoo2tf.cli import main as cli_main

# A small net with awkward blob names, a BatchNorm+Scale pair, an in-place ReLU,
# a Dropout and a Slice feeding two outputs.
NET = """
name: "awkward"
input: "in.put-1" input_shape { dim: 2 dim: 3 dim: 9 dim: 9 }
layer { name: "conv/a" type: "Convolution" bottom: "in.put-1" top: "conv/a"
        convolution_param { num_output: 6 kernel_size: 3 stride: 2 pad: 1 } }
layer { name: "bn" type: "BatchNorm" bottom: "conv/a" top: "conv/a" }
layer { name: "sc" type: "Scale" bottom: "conv/a" top: "conv/a" scale_param { bias_term: true } }
layer { name: "relu" type: "ReLU" bottom: "conv/a" top: "conv/a" }
layer { name: "drop" type: "Dropout" bottom: "conv/a" top: "conv/a" }
layer { name: "pool" type: "Pooling" bottom: "conv/a" top: "pool"
        pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layer { name: "split" type: "Slice" bottom: "pool" top: "left:0" top: "right"
        slice_param { slice_point: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "right" top: "fc" inner_product_param { num_output: 4 } }
"""

# Only these may be on sys.path in the "machine without zoo2tf": the venv's site-packages,
# with .pth files (an editable install's finder) not processed (-S).
FRESH_LOADER = r"""
import json, sys
sys.path.extend(json.loads(sys.argv[4]))
try:
    import caffe2tf  # noqa: F401
    sys.exit("caffe2tf is importable: not a clean environment")
except ImportError:
    pass
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
serve = model.signatures["serving_default"]
feeds = {k: tf.constant(np.load(v)) for k, v in json.loads(sys.argv[2]).items()}
out = serve(**feeds)
for key, value in out.items():
    np.save(f"{sys.argv[3]}/{key.replace('/', '_')}.npy", value.numpy())
print(json.dumps(sorted(out)))
"""


@pytest.fixture(scope="module")
def awkward(tmp_path_factory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("awkward")
    prototxt = work / "net.prototxt"
    prototxt.write_text(NET)
    _, caffemodel = load_with_synthetic_weights(prototxt, work, seed=1)
    return prototxt, caffemodel


@pytest.fixture(scope="module")
def converted(awkward, tmp_path_factory):
    prototxt, caffemodel = awkward
    out = tmp_path_factory.mktemp("converted")
    return convert(prototxt, caffemodel, out, io_layout="nchw")


def _reference(awkward, x: np.ndarray) -> dict[str, np.ndarray]:
    from caffe2tf.emit import build_model

    built = build_model(load_net(*awkward), io_layout="nchw", outputs=["left:0", "fc", "conv/a"])
    return {k: np.asarray(v) for k, v in built.model({"in.put-1": x}).items()}


def test_saved_model_runs_without_caffe2tf(converted, awkward, tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((3, 3, 9, 9)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", FRESH_LOADER, str(converted.saved_model),
         json.dumps({"in_put_1": str(tmp_path / "x.npy")}), str(tmp_path),
         json.dumps(site.getsitepackages())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["fc", "left_0"]
    expected = _reference(awkward, x)
    np.testing.assert_allclose(np.load(tmp_path / "left_0.npy"), expected["left:0"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.load(tmp_path / "fc.npy"), expected["fc"], rtol=1e-5, atol=1e-5)


def test_keras_model_reloads(converted, awkward) -> None:
    model = keras.models.load_model(converted.keras_model)
    x = np.random.default_rng(1).standard_normal((1, 3, 9, 9)).astype(np.float32)
    got = model({"in.put-1": x})
    expected = _reference(awkward, x)
    for blob in ("left:0", "fc"):
        np.testing.assert_allclose(np.asarray(got[blob]), expected[blob], rtol=1e-5, atol=1e-5)


def test_conversion_report(converted) -> None:
    report = json.loads(converted.report.read_text())
    assert report["io_layout"] == "nchw"
    assert [(t["blob"], t["key"]) for t in report["inputs"]] == [("in.put-1", "in_put_1")]
    assert [(t["blob"], t["key"]) for t in report["outputs"]] == [("left:0", "left_0"), ("fc", "fc")]
    assert report["inputs"][0]["shape"] == [None, 3, 9, 9]
    by_name = {layer["name"]: layer for layer in report["layers"]}
    assert "bn" not in by_name and by_name["bn+sc"]["caffe_type"] == "Scale"  # folded
    assert by_name["pool"]["out_shapes"] == [[2, 6, 2, 2]]  # Caffe's ceil rule: ceil((5 - 3) / 2) + 1
    assert by_name["conv/a"]["tf_ops"] == ["Conv2D", "BiasAdd"]
    assert report["dropped_layers"] == ["drop"]
    assert report["layer_types"]["BatchNorm"] == 1
    assert set(report["timings_s"]) >= {"read", "build", "save_keras", "save_saved_model", "total"}
    assert report["versions"]["tensorflow"] and report["param_count"] == converted.param_count > 0


def test_nhwc_signature_and_intermediate_outputs(awkward, tmp_path: Path) -> None:
    import tensorflow as tf

    result = convert(*awkward, tmp_path, outputs=["conv/a", "pool"],
                     input_shapes={"in.put-1": (5, 3, 9, 9)})
    assert [(t.key, t.shape, t.layout) for t in result.outputs] == [
        ("conv_a", (None, 5, 5, 6), "NHWC"), ("pool", (None, 2, 2, 6), "NHWC")]
    serve = tf.saved_model.load(str(result.saved_model)).signatures["serving_default"]
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 9)).astype(np.float32)
    got = serve(in_put_1=tf.constant(x.transpose(0, 2, 3, 1)))
    from caffe2tf.emit import build_model
    built = build_model(load_net(*awkward), io_layout="nchw", outputs=["conv/a"])
    expected = np.asarray(built.model({"in.put-1": x})["conv/a"])
    np.testing.assert_allclose(got["conv_a"].numpy().transpose(0, 3, 1, 2), expected,
                               rtol=1e-5, atol=1e-5)


def test_xla_saved_model_matches(awkward, tmp_path: Path) -> None:
    import tensorflow as tf

    result = convert(*awkward, tmp_path, io_layout="nchw", jit_compile=True)
    serve = tf.saved_model.load(str(result.saved_model)).signatures["serving_default"]
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 9)).astype(np.float32)
    got = serve(in_put_1=tf.constant(x))
    expected = _reference(awkward, x)
    np.testing.assert_allclose(got["fc"].numpy(), expected["fc"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got["left_0"].numpy(), expected["left:0"], rtol=1e-4, atol=1e-4)


def test_every_unsupported_type_is_listed(tmp_path: Path) -> None:
    prototxt = tmp_path / "fork.prototxt"
    prototxt.write_text("""
        input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
        layer { name: "p1" type: "Permute" bottom: "data" top: "p1" }
        layer { name: "n1" type: "Normalize" bottom: "p1" top: "n1" }
        layer { name: "p2" type: "Permute" bottom: "n1" top: "p2" }
        layer { name: "r" type: "ReLU" bottom: "p2" top: "r" }
    """)
    with pytest.raises(UnsupportedLayers) as raised:
        convert(prototxt, None, tmp_path / "out")
    assert raised.value.types == {"Normalize": ["n1"], "Permute": ["p1", "p2"]}
    assert len(raised.value.problems()) == 2
    assert {"Convolution", "Pooling", "Dropout", "Split", "Input", "ArgMax"} <= SUPPORTED_TYPES


def test_unsupported_parameters_are_named(tmp_path: Path) -> None:
    prototxt = tmp_path / "odd.prototxt"
    prototxt.write_text("""
        input: "data" input_shape { dim: 1 dim: 4 dim: 8 dim: 8 }
        layer { name: "sp" type: "Pooling" bottom: "data" top: "sp"
                pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 } }
        layer { name: "lrn" type: "LRN" bottom: "sp" top: "lrn" lrn_param { local_size: 4 } }
        layer { name: "conv" type: "Convolution" bottom: "lrn" top: "conv"
                convolution_param { num_output: 2 kernel_size: 1 axis: 0 } }
        layer { name: "drop" type: "Dropout" bottom: "conv" top: "conv"
                dropout_param { dropout_ratio: 0.5 scale_train: false } }
    """)
    with pytest.raises(UnsupportedLayers) as raised:
        convert(prototxt, None, tmp_path / "out")
    assert raised.value.types == {"Convolution (channel axis other than 1)": ["conv"],
                                  "Dropout (fork fields dropout_param.scale_train)": ["drop"],
                                  "LRN (even local_size)": ["lrn"],
                                  "Pooling (STOCHASTIC pooling)": ["sp"]}


def test_cli_convert(awkward, tmp_path: Path, capsys) -> None:
    prototxt, caffemodel = awkward
    out = tmp_path / "cli"
    assert cli_main(["convert", str(prototxt), str(caffemodel), "-o", str(out),
                     "--outputs", "fc", "--input-shape", "in.put-1=1,3,9,9"]) == 0
    assert (out / "saved_model" / "saved_model.pb").exists() and (out / "model.keras").exists()
    report = json.loads((out / "conversion.json").read_text())
    assert [t["key"] for t in report["outputs"]] == ["fc"]
    assert report["io_layout"] == "nhwc" and report["inputs"][0]["shape"] == [None, 9, 9, 3]


def test_cli_reports_every_problem(snapshot_dir: Path, tmp_path: Path, capsys) -> None:
    ssd = snapshot_dir / "prototxts" / "VGG_VOC0712_SSD_300x300_deploy.prototxt"
    assert cli_main(["convert", str(ssd), "-o", str(tmp_path / "ssd")]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4 and all("unsupported layer type" in line for line in lines)
    assert {line.split("'")[1] for line in lines} == {
        "DetectionOutput", "NormalizeBBox", "Permute", "PriorBox"}
    lenet = snapshot_dir / "weights" / "lenet_mnist" / "lenet.prototxt"
    assert cli_main(["convert", str(lenet), "-o", str(tmp_path / "lenet")]) != 0
    assert "no caffemodel given" in capsys.readouterr().err
    assert cli_main(["convert", str(lenet), str(tmp_path / "missing.caffemodel"),
                     "-o", str(tmp_path / "lenet")]) != 0
    assert "missing.caffemodel" in capsys.readouterr().err
