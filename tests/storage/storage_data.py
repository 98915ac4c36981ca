"""A small catalog with known content, shared by the storage tests."""
from __future__ import annotations

from datetime import datetime, timezone

from storage.catalog import Catalog
from storage.records import (
    ArtifactRecord,
    AttemptResult,
    ModelRecord,
    OutputFile,
    RunCounts,
    ValidationRecord,
)

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
MODELS = (
    ModelRecord("bvlc_alexnet", "BVLC AlexNet", "ImageNet", ("https://example.test/alexnet",),
                gist_id="g1", gist_revision="r1", licence="unrestricted"),
    ModelRecord("vgg16", "VGG 16", "ImageNet", licence="non-commercial", synthetic_weights=True),
    ModelRecord("fcn8s", "FCN-8s", "Segmentation", licence="unrestricted"),
    ModelRecord("nin", "Network in Network", "ImageNet"),
    ModelRecord("pct_net", "100%_net", "Misc"),
    ModelRecord("gone_net", "Gone Net", "Misc"),
)
ALEX_LAYERS = {"Convolution": 5, "ReLU": 7, "LRN": 2, "InnerProduct": 3, "Softmax": 1}


def populate(catalog: Catalog) -> Catalog:
    """A small catalog with one model in each interesting state.

    bvlc_alexnet: failed (timeout), then converted with a validation; vgg16: failed at
    validate (numeric mismatch); fcn8s: failed at convert (unsupported layer Crop);
    nin and pct_net: no attempt (pending); gone_net: converted, then removed from the zoo.
    """
    catalog.upsert_models(MODELS, NOW)
    run = catalog.start_run("flow-1", "wiki@1")

    def attempt(model: str, result: AttemptResult) -> int:
        attempt_id = catalog.queue_attempt(model, run, [f"{model}-sha"], "0.1", "2.21.0")
        catalog.mark_running(attempt_id)
        catalog.finish_attempt(attempt_id, result)
        return attempt_id

    attempt("bvlc_alexnet", AttemptResult("failed", "convert", "timeout", "took > 600 s"))
    alex = attempt("bvlc_alexnet", AttemptResult(
        "converted", stage_timings={"parse": 0.5, "convert": 4.0, "validate": 2.0},
        layer_type_counts=ALEX_LAYERS, param_count=60_965_224,
        outputs=(OutputFile("saved_model", "/models/alexnet/saved_model.tar", "a" * 64),)))
    catalog.record_validations(alex, [ValidationRecord(
        "cat.jpg", "prob", "opencv", "4.14.0", 2e-6, 3e-5, 0.99999, True, True, 1.0,
        preprocessing={"mean": [104, 117, 123], "scale": 1.0})])
    attempt("vgg16", AttemptResult(
        "failed", "validate", "numeric mismatch", "max abs error 0.3 on prob",
        layer_type_counts={"Convolution": 13, "ReLU": 15, "InnerProduct": 3}))
    attempt("fcn8s", AttemptResult(
        "failed", "convert", "unsupported layer", "unsupported layer types: Crop (2)",
        layer_type_counts={"Convolution": 16, "Crop": 2, "Deconvolution": 3}))
    attempt("gone_net", AttemptResult("converted", layer_type_counts={"Convolution": 1},
                                      stage_timings={"convert": 1.0}))
    catalog.record_artifact(ArtifactRecord(
        "bvlc_alexnet", "prototxt", "https://example.test/alexnet/deploy.prototxt", "ok", NOW,
        size=3629, sha256="b" * 64, store_path="/store/bb/bbbb"))
    catalog.mark_removed(["gone_net"])
    catalog.finish_run(run, RunCounts(new=6, converted=2, failed=3), "succeeded")
    return catalog
