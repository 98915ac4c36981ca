"""`zoo2tf inspect` on real snapshot files."""
from __future__ import annotations

import json
from pathlib import Path

from zoo2tf.cli import main
from zoo_mirror import SNAPSHOT_DIR

LENET = SNAPSHOT_DIR / "weights/lenet_mnist/lenet.prototxt"
LENET_WEIGHTS = SNAPSHOT_DIR / "weights/lenet_mnist/lenet_iter_10000.caffemodel"
SSD = SNAPSHOT_DIR / "prototxts/VGG_VOC0712_SSD_300x300_deploy.prototxt"


def test_table_with_weights(capsys):
    assert main(["inspect", str(LENET), str(LENET_WEIGHTS)]) == 0
    out = capsys.readouterr().out
    assert "[V2]" in out and "inputs: data 64x1x28x28" in out
    assert "parameters (attached): 431,080" in out
    assert any(line.split()[:2] == ["ip1", "InnerProduct"] and "64x500" in line and "400,500" in line
               for line in out.splitlines())


def test_json_lists_fork_types_and_unknown_shapes(capsys):
    assert main(["inspect", str(SSD), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format_version"] == "V2"
    assert set(report["unknown_types"]) == {"NormalizeBBox", "Permute", "PriorBox", "DetectionOutput"}
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["conv1_1"]["top_shapes"] == [[1, 64, 300, 300]]
    assert layers["conv1_1"]["param_count"] == 64 * 3 * 9 + 64
    assert layers["detection_out"]["top_shapes"] == [None]
    assert report["param_count"] > 20_000_000


def test_legacy_train_val_with_input_shape_and_preprocessing(capsys):
    path = SNAPSHOT_DIR / "models/community/nin-cifar10/train_val.prototxt"
    assert main(["inspect", str(path), "--input-shape", "data=1,3,32,32", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format_version"] == "V1" and report["inputs"] == {"data": [1, 3, 32, 32]}
    assert report["preprocessing"]["source_layer"] == "cifar"
    assert all(layer["type"] not in ("Accuracy", "SoftmaxWithLoss") for layer in report["layers"])


def test_errors_are_one_line_and_exit_1(tmp_path: Path, capsys):
    garbage = tmp_path / "garbage.prototxt"
    garbage.write_bytes(LENET_WEIGHTS.read_bytes()[:1000])
    assert main(["inspect", str(garbage)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("zoo2tf inspect: ") and str(garbage) in err and len(err.splitlines()) == 1
    assert main(["inspect", str(LENET), str(SNAPSHOT_DIR / "weights/cifar10_quick/cifar10_quick_iter_5000.caffemodel")]) == 1
    assert "different network" in capsys.readouterr().err
