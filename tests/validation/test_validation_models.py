"""validate_model end to end: real LeNet / CIFAR10-quick, a deliberately broken conversion,
known reference defects, a reference that lacks a layer, synthesized zoo architectures."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from validation.converted import ConvertedModel
from validation.fault_injection import write_perturbed_caffemodel
from validation.goldens import ZooGolden
from validation.report import read_report
from validation.samples import Sample
from validation.validate import validate_model
from zoo2tf.cli import main

GOLDENS = Path(__file__).resolve().parents[1] / "goldens"
STORAGE_COLUMNS = {"sample", "output", "reference_runtime", "reference_version", "max_abs_error",
                   "max_rel_error", "cosine_similarity", "passed", "top1_agree", "top5_overlap",
                   "first_divergent_layer", "preprocessing"}


def test_real_lenet_validates_and_reads_every_digit(lenet, converted_lenet):
    report = validate_model(*lenet, converted_lenet)
    assert report.status == "passed", report.reason
    assert len(report.samples) == 10
    assert all(s.converted_label_correct for s in report.samples)
    assert all(o.top1_agree and o.cosine_similarity > 0.9999 for s in report.samples for o in s.outputs)
    stored = read_report(converted_lenet)
    assert stored["status"] == "passed" and stored["preprocessing"]["scale"] == 0.00390625
    assert stored["thresholds"] == {"rel_tolerance": 1e-4, "require_top1": True}
    rows = report.rows()
    assert len(rows) == 10 and set(rows[0]) == STORAGE_COLUMNS


def test_real_cifar10_quick_agrees_with_opencv(cifar10_quick, convert_to):
    report = validate_model(*cifar10_quick, convert_to(*cifar10_quick))
    assert report.status == "passed", report.reason
    assert [s.sample for s in report.samples] == ["dog10", "cat10", "truck10"]
    assert all(s.reference_top5[0].index == s.converted_top5[0].index for s in report.samples)
    assert report.samples[0].converted_top5[0].label == "dog"


@pytest.mark.parametrize("layer", ["conv2", "ip1"])
def test_broken_conversion_is_caught_at_the_perturbed_layer(lenet, convert_to, tmp_path, layer):
    prototxt, caffemodel = lenet
    broken = write_perturbed_caffemodel(caffemodel, tmp_path / "broken.caffemodel", layer, relative=0.05)
    report = validate_model(prototxt, caffemodel, convert_to(prototxt, broken))
    assert report.status == "failed"
    assert report.first_divergence is not None
    assert (report.first_divergence.layer, report.first_divergence.layer_type) == \
        (layer, {"conv2": "Convolution", "ip1": "InnerProduct"}[layer])
    assert f"first divergent layer '{layer}'" in report.reason


def _matches_caffe_golden(converted_dir: Path, golden: ZooGolden) -> None:
    outputs = ConvertedModel(converted_dir).run({golden.input_blob: golden.input()})
    for blob in golden.outputs:
        ref = golden.output(blob)
        assert np.abs(outputs[blob].reshape(ref.shape) - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())


def test_vgg_cnn_f_is_a_known_opencv_defect_yet_matches_real_caffe(vgg_cnn_f):
    prototxt, caffemodel, converted, golden = vgg_cnn_f
    report = validate_model(prototxt, caffemodel, converted, write=False)
    assert report.status == "known_reference_defect", report.reason
    assert {h.rule_id for h in report.known_defects} == {"lrn_k"}
    assert report.first_divergence.layer == "norm1"
    assert "ignores LRN k" in report.reason
    _matches_caffe_golden(converted, golden)


@pytest.mark.parametrize("name", ["squeezenet", "age_net"])
def test_synthesized_zoo_architectures_validate(golden_weights, convert_to, name):
    prototxt, caffemodel, golden = golden_weights(name)
    converted = convert_to(prototxt, caffemodel)
    report = validate_model(prototxt, caffemodel, converted)
    assert report.status == "passed", report.reason
    assert report.samples[0].reference_top5 and report.samples[0].sample == "cat"
    _matches_caffe_golden(converted, golden)


def test_mvn_with_large_eps_is_a_known_defect_not_a_failure(convert_to):
    folder = GOLDENS / "layers" / "mvn_large_eps"
    converted = convert_to(folder / "net.prototxt", None)
    sample = Sample("golden", {"data": np.load(folder / "input_data.npy")}, "random")
    report = validate_model(folder / "net.prototxt", None, converted, samples=[sample])
    assert report.status == "known_reference_defect" and report.first_divergence.layer == "mvn"
    caffe = np.load(folder / "output_mvn.npy")
    got = ConvertedModel(converted).run(sample.inputs)["mvn"]
    assert np.abs(got - caffe).max() <= 1e-4 * max(1.0, np.abs(caffe).max())


def test_reference_without_the_layer_is_unavailable_not_passed(snapshot_dir, convert_to):
    prototxt = snapshot_dir / "weights/cifar10_quick/prediction_example.prototxt"
    caffemodel = snapshot_dir / "weights/cifar10_quick/cifar10_quick_iter_5000.caffemodel"
    whole = validate_model(prototxt, caffemodel, convert_to(prototxt, caffemodel))
    assert whole.status == "reference_unavailable"
    assert (whole.unavailable_layer, whole.unavailable_layer_type) == ("argmax", "ArgMax")
    # The reference only runs the layers the converted outputs need: without the ArgMax, it can.
    prob_only = validate_model(prototxt, caffemodel, convert_to(prototxt, caffemodel, outputs=["prob"]))
    assert prob_only.status == "passed", prob_only.reason


def test_against_real_caffe(caffe_env, lenet, converted_lenet, vgg_cnn_f):
    assert validate_model(*lenet, converted_lenet, reference="caffe", write=False).status == "passed"
    prototxt, caffemodel, converted, _ = vgg_cnn_f
    report = validate_model(prototxt, caffemodel, converted, reference="caffe", write=False)
    assert report.status == "passed", report.reason
    assert report.known_defects == () and report.reference_version.startswith("kendryte-caffe")


def test_cli_validate_and_predict(lenet, converted_lenet, convert_to, tmp_path, snapshot_dir, capsys):
    assert main(["validate", str(converted_lenet), *map(str, lenet)]) == 0
    assert "passed:" in capsys.readouterr().out
    broken = write_perturbed_caffemodel(lenet[1], tmp_path / "broken.caffemodel", "conv1")
    assert main(["validate", str(convert_to(lenet[0], broken)), *map(str, lenet)]) == 1
    assert "first divergent layer 'conv1'" in capsys.readouterr().out
    digits = sorted((snapshot_dir / "images/mnist").glob("img_*.png"))[:3]
    assert main(["predict", str(converted_lenet), *map(str, digits), "-k", "2"]) == 0
    printed = capsys.readouterr().out
    for digit in digits:
        block = printed.split(str(digit))[1]
        assert block.splitlines()[1].split()[-1] == digit.stem.split("_")[1]
    assert main(["predict", str(tmp_path), str(digits[0])]) == 2
    assert "not a converted-model folder" in capsys.readouterr().err
