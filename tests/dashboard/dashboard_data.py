"""A catalog with known content for the dashboard tests, written through `Catalog`.

Three nightly runs over ten zoo models. Latest statuses: converted 4 (bvlc_alexnet,
bvlc_googlenet, nin_imagenet, segnet_basic), failed 4 (vgg16, fcn8s_pascal, places205,
gender_net), skipped 1 (flickr_style), pending 1 (age_net). Validated (every sample within
tolerance): bvlc_alexnet, bvlc_googlenet, nin_imagenet. Run 2 fixed bvlc_googlenet and
broke vgg16 (first divergent layer conv5_1). bvlc_alexnet's latest attempt has real output
files, validation.json with top-5 classes included.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from storage.catalog import Catalog
from storage.records import (
    ArtifactRecord,
    AttemptResult,
    ModelRecord,
    OutputFile,
    RunCounts,
    ValidationRecord,
)

SEEN = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
IMAGENET = "BVLC reference models"
VGG = "Models used by the VGG team in ILSVRC-2014"
MODELS = (
    ModelRecord("bvlc_alexnet", "BVLC AlexNet", IMAGENET,
                ("https://example.test/BVLC/caffe/tree/master/models/bvlc_alexnet",),
                licence="unrestricted"),
    ModelRecord("bvlc_googlenet", "BVLC GoogLeNet", IMAGENET, licence="unrestricted"),
    ModelRecord("vgg16", "VGG ILSVRC-2014 16-layer", VGG,
                ("https://example.test/gist/ksimonyan/211839e770f7b538e2d8",),
                gist_id="211839e770f7b538e2d8", gist_revision="0067c9b", licence="CC BY 4.0"),
    ModelRecord("nin_imagenet", "Network in Network ImageNet", "Network in Network model"),
    ModelRecord("fcn8s_pascal", "FCN-8s PASCAL", "Fully Convolutional Networks",
                licence="unrestricted"),
    ModelRecord("places205", "Places205-AlexNet", "Places-CNN model from MIT."),
    ModelRecord("segnet_basic", "SegNet Basic", "SegNet", licence="non-commercial",
                synthetic_weights=True),
    ModelRecord("gender_net", "GenderNet", "Age and Gender Classification"),
    ModelRecord("flickr_style", "Finetuning on Flickr Style", "Berkeley-trained models"),
    ModelRecord("age_net", "AgeNet", "Age and Gender Classification"),
)
ALEX_LAYERS = {"Convolution": 5, "ReLU": 7, "LRN": 2, "Pooling": 3, "InnerProduct": 3,
               "Dropout": 2, "Softmax": 1}
TOP5 = [(281, 0.62, "tabby cat"), (282, 0.21, "tiger cat"), (285, 0.09, "Egyptian cat"),
        (287, 0.02, "lynx"), (728, 0.01, "plastic bag")]
EXPECTED_STATUS = {"converted": 4, "failed": 4, "skipped": 1, "pending": 1}


def _timings(convert: float, validate: float) -> dict[str, float]:
    return {"fetch": 0.4, "parse": 0.1, "convert": convert, "validate": validate}


def _validation(passed: bool, abs_err: float, divergent: str | None = None,
                sample: str = "cat.jpg") -> ValidationRecord:
    return ValidationRecord(sample, "prob", "opencv", "4.14.0", abs_err, abs_err * 10,
                            1 - abs_err, passed, passed, 1.0 if passed else 0.6, divergent,
                            {"resize": [256, 256], "crop": [227, 227]})


def alexnet_outputs(models_dir: Path) -> tuple[OutputFile, ...]:
    """Real files for bvlc_alexnet's converted model (validation.json with top-5)."""
    folder = models_dir / "bvlc_alexnet"
    (folder / "saved_model").mkdir(parents=True, exist_ok=True)
    (folder / "saved_model" / "saved_model.pb").write_bytes(b"\x08\x01" * 64)
    (folder / "model.keras").write_bytes(b"PK\x03\x04 not a real keras archive")
    (folder / "conversion.json").write_text(json.dumps({"layers": 23}))
    guesses = [{"index": i, "probability": p, "label": label} for i, p, label in TOP5]
    (folder / "validation.json").write_text(json.dumps({
        "status": "passed", "reference": "opencv", "samples": [
            {"sample": "cat.jpg", "kind": "image", "reference_top5": guesses,
             "converted_top5": guesses, "passed": True}]}))
    return tuple(OutputFile(kind, str(folder / name), "c" * 64) for kind, name in (
        ("saved_model", "saved_model/saved_model.pb"), ("keras", "model.keras"),
        ("conversion_report", "conversion.json"), ("validation_report", "validation.json")))


def populate(catalog: Catalog, models_dir: Path) -> Catalog:
    catalog.upsert_models(MODELS, SEEN)
    catalog.record_artifact(ArtifactRecord(
        "bvlc_alexnet", "caffemodel", "https://example.test/bvlc_alexnet.caffemodel", "ok",
        SEEN, size=243_862_414, sha1="9116a64c0fbe4459d18f4bb6b56d647b63920377",
        sha256="d" * 64, store_path="/store/d/dddd"))
    catalog.record_artifact(ArtifactRecord(
        "bvlc_alexnet", "prototxt", "https://example.test/deploy.prototxt", "ok", SEEN,
        size=3629, sha256="e" * 64))

    def attempt(run: int, model: str, result: AttemptResult,
                validations: tuple[ValidationRecord, ...] = ()) -> None:
        attempt_id = catalog.queue_attempt(model, run, [f"{model}-sha"], "0.1.0", "2.21.0")
        if result.status != "skipped":
            catalog.mark_running(attempt_id)
        catalog.finish_attempt(attempt_id, result)
        catalog.record_validations(attempt_id, validations)

    def converted(convert: float, **extra: object) -> AttemptResult:
        return AttemptResult("converted", stage_timings=_timings(convert, convert / 2),
                             **extra)

    run1 = catalog.start_run("flow-1", "wiki@1")
    attempt(run1, "bvlc_alexnet", converted(4.0, layer_type_counts=ALEX_LAYERS),
            (_validation(True, 3e-6),))
    attempt(run1, "bvlc_googlenet", AttemptResult(
        "failed", "convert", "unsupported layer", "unsupported layer types: LRN-cross (2)",
        stage_timings=_timings(1.0, 0.0)))
    attempt(run1, "vgg16", converted(30.0, layer_type_counts={"Convolution": 13}),
            (_validation(True, 2e-5),))
    attempt(run1, "nin_imagenet", converted(6.0, layer_type_counts={"Convolution": 12}),
            (_validation(True, 1e-6),))
    attempt(run1, "fcn8s_pascal", AttemptResult(
        "failed", "convert", "unsupported layer", "unsupported layer types: Crop (2)"))
    attempt(run1, "gender_net", AttemptResult(
        "failed", "parse", "parse error", "deploy.prototxt:12: expected '}'"))
    attempt(run1, "flickr_style", AttemptResult("skipped", message="no caffemodel published"))
    catalog.finish_run(run1, RunCounts(new=10, converted=3, failed=3, skipped=1), "succeeded")

    run2 = catalog.start_run("flow-2", "wiki@2")
    attempt(run2, "bvlc_googlenet", converted(9.0, layer_type_counts={"Convolution": 57}),
            (_validation(True, 4e-6),))
    attempt(run2, "vgg16", AttemptResult(
        "failed", "validate", "numeric mismatch", "max abs error 0.31 on prob (cat.jpg)",
        stage_timings=_timings(31.0, 12.0), layer_type_counts={"Convolution": 13, "ReLU": 15},
        param_count=138_357_544),
        (_validation(False, 0.31, "conv5_1"), _validation(False, 0.27, "conv5_1", "dog.jpg")))
    attempt(run2, "fcn8s_pascal", AttemptResult(
        "failed", "convert", "unsupported layer", "unsupported layer types: Crop (2)",
        traceback="Traceback (most recent call last):\n  ...\nUnsupportedLayer: Crop"))
    attempt(run2, "places205", AttemptResult(
        "failed", "fetch", "dead link", "HTTP 404 for places205.caffemodel"))
    attempt(run2, "segnet_basic", converted(12.0, layer_type_counts={"Convolution": 8,
                                                                     "Upsample": 4}))
    catalog.finish_run(run2, RunCounts(changed=1, converted=2, failed=3), "succeeded")

    run3 = catalog.start_run("flow-3", "wiki@2")
    attempt(run3, "bvlc_alexnet", converted(
        4.2, layer_type_counts=ALEX_LAYERS, param_count=60_965_224,
        outputs=alexnet_outputs(models_dir)), (_validation(True, 2.5e-6),))
    catalog.finish_run(run3, RunCounts(changed=1, converted=1), "succeeded")
    return catalog
