"""The isolated half of a model's night: convert, then validate. Runs inside a
zoo2tf.isolation worker process (it imports TensorFlow and OpenCV), and returns plain
JSON so that a crash of this process can never corrupt the caller's state.
"""
from __future__ import annotations

import gc
import hashlib
import os
import shutil
import signal
import time
import traceback
from pathlib import Path
from typing import Any

# A test hook: ZOO2TF_TEST_FAULTS="model-a=segv,model-b=hang" makes those models' jobs
# crash or hang, so that the isolation and recovery paths are exercised end to end.
TEST_FAULTS_ENV = "ZOO2TF_TEST_FAULTS"

PASSING_VALIDATIONS = ("passed", "known_reference_defect", "reference_unavailable")


def _test_fault(model_id: str) -> None:
    for rule in filter(None, os.environ.get(TEST_FAULTS_ENV, "").split(",")):
        target, _, fault = rule.partition("=")
        if target != model_id:
            continue
        if fault == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif fault == "hang":
            time.sleep(10**6)
        elif fault == "oom":
            hoard = []
            while True:
                hoard.append(bytearray(256 << 20))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _outputs(outdir: Path) -> list[dict[str, str]]:
    files = [("saved_model", outdir / "saved_model" / "saved_model.pb"),
             ("keras", outdir / "model.keras"), ("conversion_report", outdir / "conversion.json"),
             ("validation_report", outdir / "validation.json")]
    return [{"kind": kind, "path": str(path), "sha256": _sha256_file(path)}
            for kind, path in files if path.is_file()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_partials(final: Path) -> None:
    """Remove half-built folders of `final` left by workers that no longer exist (and
    this process's own, from an earlier call)."""
    for stale in final.parent.glob(f"{final.name}.partial-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or not _pid_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


def _publish(built: Path, final: Path) -> None:
    """Replace `final` with the completed folder `built` (a rename, never a copy)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(built, final)


# The category of an error that carries none of its own (a converter or runtime bug).
UNCATEGORIZED = {"parse": "parse error", "convert": "convert error",
                 "validate": "runtime error"}


def _failure(stage: str, err: BaseException) -> dict[str, Any]:
    return {"ok": False, "stage": stage,
            "category": getattr(err, "category", None) or UNCATEGORIZED[stage],
            "message": str(err) or type(err).__name__,
            "traceback": traceback.format_exc()[-4000:]}


def _stage_of(err: BaseException) -> str:
    from caffe2tf.errors import GraphError, ParseError, WeightMismatch

    return "parse" if isinstance(err, (ParseError, GraphError, WeightMismatch)) else "convert"


def preflight(model_id: str, prototxt: str) -> dict[str, Any]:
    """Read the network definition and check every layer type is convertible, before
    anyone downloads weights for a model that cannot be converted."""
    from caffe2tf.convert import check_supported
    from caffe2tf.errors import Caffe2TFError
    from caffe2tf.net import load_net

    try:
        graph = load_net(prototxt)
        check_supported(graph)
    except Caffe2TFError as err:
        failure = _failure("parse" if _stage_of(err) == "parse" else "convert", err)
        failure["problems"] = err.problems()
        return failure
    except Exception as err:
        return _failure("parse", err)
    return {"ok": True, "warnings": list(graph.warnings)}


def convert_and_validate(model_id: str, prototxt: str, caffemodel: str | None, outdir: str,
                         reference: str = "opencv") -> dict[str, Any]:
    """Convert one model into `outdir` and validate it; a JSON-ready outcome either way."""
    try:
        return _convert_and_validate(model_id, prototxt, caffemodel, outdir, reference)
    finally:
        import keras

        # The worker serves the next model: drop this one's graphs and weights.
        keras.backend.clear_session()
        gc.collect()


def _convert_and_validate(model_id: str, prototxt: str, caffemodel: str | None, outdir: str,
                          reference: str) -> dict[str, Any]:
    from caffe2tf.convert import convert
    from caffe2tf.errors import Caffe2TFError
    from validation.validate import validate_model

    _test_fault(model_id)
    timings: dict[str, float] = {}
    final = Path(outdir)
    # Build beside the final folder and rename it into place when complete, so that a
    # killed run never leaves a converted model that looks whole.
    _sweep_partials(final)
    partial = final.with_name(f"{final.name}.partial-{os.getpid()}")
    start = time.perf_counter()
    try:
        result = convert(prototxt, caffemodel, partial)
    except Caffe2TFError as err:
        failure = _failure(_stage_of(err), err)
        failure["problems"] = err.problems()
        return failure
    except Exception as err:  # a converter bug is this model's failure, not the night's
        return _failure("convert", err)
    finally:
        if not (partial / "conversion.json").is_file():
            shutil.rmtree(partial, ignore_errors=True)
    _publish(partial, final)
    timings["convert"] = round(time.perf_counter() - start, 3)
    conversion = {"layer_type_counts": dict(result.layer_types),
                  "param_count": int(result.param_count), "warnings": list(result.warnings),
                  "timings": dict(result.timings)}
    start = time.perf_counter()
    try:
        report = validate_model(prototxt, caffemodel, final, reference=reference)
    except Exception as err:
        failure = _failure("validate", err)
        failure.update(conversion=conversion, timings=timings, outputs=_outputs(final))
        return failure
    timings["validate"] = round(time.perf_counter() - start, 3)
    passed = report.status in PASSING_VALIDATIONS
    return {"ok": passed, "stage": None if passed else "validate",
            "category": None if passed else "numeric mismatch",
            "message": report.reason, "validation_status": report.status,
            "validation_rows": report.rows(), "conversion": conversion, "timings": timings,
            "outputs": _outputs(final)}
