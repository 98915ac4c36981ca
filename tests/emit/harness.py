"""Shared steps of the emitter tests: synthesize weights, run OpenCV, run the converted model.

OpenCV 4.14 runs the original prototxt (for deploy nets) or the Graph's deploy form (for
train_val nets, whose data layers OpenCV cannot run); caffe2tf runs the same caffemodel.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
from google.protobuf import text_format

from caffe2tf.caffemodel import write_caffemodel
from caffe2tf.deploy import deploy_net_parameter
from caffe2tf.emit import build_model
from caffe2tf.ir import Graph
from caffe2tf.net import load_net
from caffe2tf.synth import synthesize_weights

RTOL = 1e-4


def within_tolerance(converted: np.ndarray, reference: np.ndarray) -> tuple[bool, float, float]:
    """(passes, max |diff|, allowed): max|tf - ref| <= 1e-4 * max(1, max|ref|)."""
    converted = np.asarray(converted, np.float32)
    reference = np.asarray(reference, np.float32)
    if converted.size != reference.size:
        return False, float("inf"), 0.0
    diff = float(np.max(np.abs(converted.reshape(reference.shape) - reference), initial=0.0))
    allowed = RTOL * max(1.0, float(np.max(np.abs(reference), initial=0.0)))
    return diff <= allowed, diff, allowed


def write_synthetic_weights(graph: Graph, path: Path, seed: int = 0) -> Path | None:
    """A caffemodel of seeded random weights for `graph`; None when no layer learns."""
    weights = synthesize_weights(graph, seed)
    if not weights:
        return None
    types = {layer.name: layer.type for layer in graph.layers}
    write_caffemodel(path, graph.name, ((name, types[name], blobs) for name, blobs in weights.items()))
    return path


def opencv_prototxt(graph: Graph, workdir: Path) -> Path:
    """What OpenCV should read: the original net, or a deploy form when it has data layers."""
    if graph.preprocessing is None:
        return Path(graph.source)
    path = workdir / "opencv_deploy.prototxt"
    path.write_text(text_format.MessageToString(deploy_net_parameter(graph)))
    return path


class OpenCVUnavailable(Exception):
    """OpenCV cannot run this net (a layer type it lacks, a parameter it rejects)."""


def opencv_forward(prototxt: Path, caffemodel: Path | None, inputs: Mapping[str, np.ndarray],
                   blobs: Sequence[str], graph: Graph) -> dict[str, np.ndarray]:
    """Final values of Caffe blobs, read from the outputs of the layer that last wrote each."""
    writer: dict[str, tuple[str, int]] = {}
    for layer in graph.layers:
        for i, top in enumerate(layer.tops):
            writer[graph.blob_names.get(top, top)] = (layer.name, i)
    try:
        net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel) if caffemodel else "")
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        for name, value in inputs.items():
            net.setInput(np.ascontiguousarray(value, np.float32), name)
        layers = sorted({writer[b][0] for b in blobs})
        values = dict(zip(layers, net.forwardAndRetrieve(layers)))
    except cv2.error as err:
        lines = [ln for ln in str(err).splitlines() if "error:" in ln] or [str(err)]
        raise OpenCVUnavailable(lines[-1].split("error:", 1)[-1].strip()[:200]) from None
    return {b: np.array(values[writer[b][0]][writer[b][1]]) for b in blobs}


def to_io(array: np.ndarray, io_layout: str) -> np.ndarray:
    return array.transpose(0, 2, 3, 1) if io_layout == "nhwc" and array.ndim == 4 else array


def from_io(array, io_layout: str) -> np.ndarray:
    array = np.asarray(array)
    return array.transpose(0, 3, 1, 2) if io_layout == "nhwc" and array.ndim == 4 else array


def converted_forward(graph: Graph, inputs: Mapping[str, np.ndarray], io_layout: str,
                      outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The converted model's values of `outputs` (Caffe NCHW order whatever the I/O layout)."""
    built = build_model(graph, io_layout=io_layout, outputs=outputs)
    feed = {name: to_io(inputs[name], io_layout) for name in built.inputs}
    result = built.model(feed)
    return {name: from_io(value, io_layout) for name, value in result.items()}


def load_with_synthetic_weights(prototxt: Path, workdir: Path, *, seed: int = 0,
                                input_shapes: Mapping[str, tuple[int, ...]] | None = None
                                ) -> tuple[Graph, Path | None]:
    """The net with seeded random weights written to a caffemodel and read back from it."""
    shaped = load_net(prototxt, input_shapes=input_shapes)
    caffemodel = write_synthetic_weights(shaped, workdir / "synthetic.caffemodel", seed)
    return load_net(prototxt, caffemodel, input_shapes=input_shapes), caffemodel
