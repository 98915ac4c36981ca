"""Real Caffe (py3.9 venv) as a reference: venv creation, the runner, its error reporting."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from validation.caffe_env import CaffeEnvError, ensure_caffe_env, locate_caffe_env
from validation.caffe_reference import CaffeRunError, caffe_fill_weights, caffe_forward

GOLDENS = Path(__file__).resolve().parents[1] / "goldens" / "layers"


def test_env_is_reused_not_rebuilt(caffe_env):
    marker = caffe_env.created_marker.stat().st_mtime_ns
    assert ensure_caffe_env(caffe_env.path) == caffe_env
    assert caffe_env.created_marker.stat().st_mtime_ns == marker
    assert locate_caffe_env(caffe_env.path) == caffe_env


def test_missing_interpreter_is_one_clear_line(tmp_path):
    with pytest.raises(CaffeEnvError, match="creating venv") as caught:
        ensure_caffe_env(tmp_path / "env", python39=tmp_path / "no-python3.9")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("case", ["lrn_across_k2", "slice_points", "batchnorm_scale"])
def test_runner_reproduces_the_committed_goldens(caffe_env, case):
    folder = GOLDENS / case
    info = json.loads((GOLDENS / "cases.json").read_text())[case]
    inputs = {name: np.load(folder / f"input_{name}.npy") for name in info["inputs"]}
    result = caffe_forward(folder / "net.prototxt", folder / "weights.caffemodel", inputs, env=caffe_env)
    assert set(result.blobs) == set(info["outputs"])
    for blob, value in result.blobs.items():
        np.testing.assert_array_equal(value, np.load(folder / f"output_{blob}.npy"))


def test_per_layer_capture_keeps_values_before_in_place_layers(caffe_env, tmp_path):
    prototxt = tmp_path / "net.prototxt"
    prototxt.write_text(
        'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 } } }\n'
        'layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param {'
        ' num_output: 3 kernel_size: 3 weight_filler { type: "gaussian" std: 1 } } }\n'
        'layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }\n')
    caffemodel = tmp_path / "w.caffemodel"
    assert caffe_fill_weights(prototxt, caffemodel, seed=1, env=caffe_env)["conv"] == [[3, 2, 3, 3], [3]]
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    result = caffe_forward(prototxt, caffemodel, {"data": x}, per_layer=True, env=caffe_env)
    layers = {layer.name: layer for layer in result.layers}
    conv, relu = layers["conv"].outputs[0], layers["relu"].outputs[0]
    assert conv.min() < 0 and np.array_equal(relu, np.maximum(conv, 0))
    np.testing.assert_array_equal(result.blobs["conv"], relu)


def test_unknown_layer_type_is_reported_by_name(caffe_env, tmp_path):
    prototxt = tmp_path / "net.prototxt"
    prototxt.write_text(
        'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 2 dim: 2 } } }\n'
        'layer { name: "odd" type: "NotACaffeLayer" bottom: "data" top: "odd" }\n')
    with pytest.raises(CaffeRunError) as caught:
        caffe_forward(prototxt, None, {"data": np.zeros((1, 1, 2, 2), np.float32)}, env=caffe_env)
    assert caught.value.unknown_layer_type == "NotACaffeLayer"


def test_cli_caffe_env_reports_the_interpreter(caffe_env, tmp_path, capsys):
    from zoo2tf.cli import main

    assert main(["caffe-env", "--path", str(caffe_env.path)]) == 0
    assert str(caffe_env.python) in capsys.readouterr().out
    assert main(["caffe-env", "--path", str(tmp_path / "e"), "--python39", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.startswith("zoo2tf caffe-env: creating venv")
