"""Real Caffe as a reference runtime: drives validation/caffe_runner.py in the py3.9 venv."""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from validation.caffe_env import CaffeEnv, CaffeEnvError, locate_caffe_env

RUNNER = Path(__file__).resolve().parent / "caffe_runner.py"
_UNKNOWN_TYPE = re.compile(r"Unknown layer type: (\S+)")


class CaffeRunError(RuntimeError):
    """Real Caffe refused the net or crashed; `unknown_layer_type` is set when it lacks a layer."""

    def __init__(self, message: str, *, unknown_layer_type: str | None = None):
        self.unknown_layer_type = unknown_layer_type
        super().__init__(message)


@dataclass(frozen=True)
class LayerOutput:
    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    outputs: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class CaffeForward:
    blobs: Mapping[str, np.ndarray]  # requested blob -> value after the whole forward pass
    layers: tuple[LayerOutput, ...]  # per-layer outputs in execution order (when asked for)
    net_inputs: tuple[str, ...]
    net_outputs: tuple[str, ...]


def require_env(env: CaffeEnv | None = None) -> CaffeEnv:
    found = env or locate_caffe_env()
    if found is None:
        raise CaffeEnvError("the real-Caffe venv does not exist; run `zoo2tf caffe-env` first")
    return found


def caffe_forward(prototxt: Path, caffemodel: Path | None, inputs: Mapping[str, np.ndarray], *,
                  blobs: Sequence[str] | None = None, per_layer: bool = False,
                  env: CaffeEnv | None = None, timeout: float = 600) -> CaffeForward:
    """Forward `inputs` through real Caffe; blobs=None returns the net's outputs."""
    return caffe_forward_many(prototxt, caffemodel, [inputs], blobs=blobs, per_layer=per_layer,
                              env=env, timeout=timeout)[0]


def caffe_forward_many(prototxt: Path, caffemodel: Path | None,
                       input_sets: Sequence[Mapping[str, np.ndarray]], *,
                       blobs: Sequence[str] | None = None, per_layer: bool = False,
                       env: CaffeEnv | None = None, timeout: float = 600) -> list[CaffeForward]:
    """One forward pass per input set, in one subprocess that loads the net once."""
    with tempfile.TemporaryDirectory(prefix="zoo2tf-caffe-") as tmp:
        work = Path(tmp)
        ins = [work / f"inputs_{i}.npz" for i in range(len(input_sets))]
        outs = [work / f"outputs_{i}.npz" for i in range(len(input_sets))]
        for path, inputs in zip(ins, input_sets):
            np.savez(path, **{k: np.asarray(v, np.float32) for k, v in inputs.items()})
        request = {
            "mode": "forward", "prototxt": str(Path(prototxt).resolve()),
            "caffemodel": str(Path(caffemodel).resolve()) if caffemodel else None,
            "inputs": [str(p) for p in ins], "outputs": [str(p) for p in outs],
            "blobs": list(blobs) if blobs else "net_outputs", "per_layer": per_layer,
        }
        response = _call(request, work, env, timeout)
        results = []
        for path, layer_items in zip(outs, response["layers"]):
            with np.load(path) as data:
                arrays = {key: np.array(data[key]) for key in data.files}
            layers = tuple(
                LayerOutput(name=item["name"], type=item["type"], bottoms=tuple(item["bottoms"]),
                            tops=tuple(item["tops"]), outputs=tuple(arrays[k] for k in item["keys"]))
                for item in layer_items)
            results.append(CaffeForward(
                blobs={name: arrays["blob:" + name] for name in response["blobs"]}, layers=layers,
                net_inputs=tuple(response["net_inputs"]), net_outputs=tuple(response["net_outputs"])))
    return results


def caffe_fill_weights(prototxt: Path, caffemodel_out: Path, *, seed: int = 0,
                       overrides: Mapping[str, np.ndarray] | None = None,
                       env: CaffeEnv | None = None) -> dict[str, list[list[int]]]:
    """Write a caffemodel filled by Caffe's own fillers (seeded); overrides: "layer/i" -> array."""
    with tempfile.TemporaryDirectory(prefix="zoo2tf-caffe-") as tmp:
        work = Path(tmp)
        override_path = None
        if overrides:
            override_path = str(work / "overrides.npz")
            np.savez(override_path, **{k: np.asarray(v, np.float32) for k, v in overrides.items()})
        request = {"mode": "fill", "prototxt": str(Path(prototxt).resolve()), "seed": seed,
                   "overrides": override_path, "caffemodel": str(Path(caffemodel_out).resolve())}
        return _call(request, work, env, timeout=600)["params"]


def _call(request: dict, work: Path, env: CaffeEnv | None, timeout: float) -> dict:
    python = require_env(env).python
    request["response"] = str(work / "response.json")
    (work / "request.json").write_text(json.dumps(request))
    run_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run_env["GLOG_minloglevel"] = "2"
    try:
        result = subprocess.run([str(python), str(RUNNER), str(work / "request.json")],
                                capture_output=True, text=True, env=run_env, timeout=timeout,
                                cwd=work)
    except subprocess.TimeoutExpired as err:
        raise CaffeRunError(f"real Caffe timed out after {timeout:.0f} s on {request['prototxt']}") from err
    if result.returncode != 0:
        raise _run_error(request["prototxt"], result)
    return json.loads((work / "response.json").read_text())


def _run_error(prototxt: str, result: subprocess.CompletedProcess) -> CaffeRunError:
    stderr = result.stderr or ""
    unknown = _UNKNOWN_TYPE.search(stderr)
    if unknown:
        layer_type = unknown.group(1).rstrip(" ,(")
        return CaffeRunError(f"{prototxt}: real Caffe has no layer type '{layer_type}'",
                             unknown_layer_type=layer_type)
    # glog's fatal lines start with "F"; the runner's own errors with "caffe-runner:".
    lines = [ln for ln in stderr.splitlines() if ln.startswith(("F", "caffe-runner:", "E"))]
    detail = (lines or stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
    return CaffeRunError(f"{prototxt}: real Caffe failed: {detail.strip()}")
