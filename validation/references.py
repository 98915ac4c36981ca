"""The reference runtimes a converted model is checked against: OpenCV dnn and real Caffe.

Both run the original Caffe net (or, for a net with data layers, its deploy form written
from the Graph) and give (a) the net's output blobs and (b) each layer's outputs as computed
right after that layer, keyed by Caffe layer name, for per-layer diagnosis.
"""
from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from caffe2tf.ir import Graph

LayerOutputs = dict[str, tuple[np.ndarray, ...]]  # Caffe layer name -> its tops' values


class ReferenceUnavailable(Exception):
    """The reference cannot run this net (a layer it lacks, a parameter it rejects)."""

    def __init__(self, message: str, *, layer: str | None = None, layer_type: str | None = None):
        self.layer = layer
        self.layer_type = layer_type
        super().__init__(message)


class Reference(Protocol):
    name: str
    version: str

    def outputs(self, inputs: Mapping[str, np.ndarray], blobs: Sequence[str]) -> dict[str, np.ndarray]:
        """Final values of the Caffe blobs `blobs`."""

    def outputs_many(self, input_sets: Sequence[Mapping[str, np.ndarray]],
                     blobs: Sequence[str]) -> list[dict[str, np.ndarray]]:
        """outputs() for several input sets (real Caffe loads the net once for all of them)."""

    def layer_outputs(self, inputs: Mapping[str, np.ndarray]) -> LayerOutputs:
        """Every layer's outputs, as produced by that layer."""


@dataclass
class _NetFiles:
    prototxt: Path
    caffemodel: Path | None


def reference_net_files(graph: Graph, caffemodel: Path | None, workdir: Path,
                        outputs: Sequence[str] | None = None) -> _NetFiles:
    """The original prototxt for a deploy net the reference runs whole; otherwise a deploy form
    written from the Graph, holding only the layers `outputs` need (so a trailing layer the
    converted model does not output, e.g. an ArgMax, cannot make the reference unavailable).
    The deploy form also carries the Graph's unique layer names (a net may repeat a name; the
    per-layer diagnosis addresses layers by name)."""
    needed = _needed_layers(graph, outputs) if outputs else graph.layers
    renamed = any(layer.name != layer.param.name for layer in graph.layers)
    if graph.preprocessing is None and len(needed) == len(graph.layers) and not renamed:
        return _NetFiles(Path(graph.source), caffemodel)
    from dataclasses import replace

    from google.protobuf import text_format

    from caffe2tf.deploy import deploy_net_parameter

    path = workdir / "reference_deploy.prototxt"
    net = deploy_net_parameter(replace(graph, layers=needed))
    path.write_text(text_format.MessageToString(net))
    return _NetFiles(path, caffemodel)


def _needed_layers(graph: Graph, outputs: Sequence[str]) -> list:
    producers = _producers(graph)
    wanted = {graph.layer(producers[b][0]).tops[producers[b][1]] for b in outputs if b in producers}
    kept = []
    for layer in reversed(graph.layers):
        if wanted.intersection(layer.tops):
            kept.append(layer)
            wanted.update(layer.bottoms)
    return kept[::-1]


def _producers(graph: Graph) -> dict[str, tuple[str, int]]:
    """Caffe blob name -> (layer, top index) of its final writer."""
    last: dict[str, tuple[str, int]] = {}
    for layer in graph.layers:
        for index, top in enumerate(layer.tops):
            last[graph.blob_names.get(top, top)] = (layer.name, index)
    return last


class OpenCVReference:
    """OpenCV 4.14 dnn, in-process. Its blobs are addressed by layer name ("layer" or "layer.i")."""

    name = "opencv"

    def __init__(self, graph: Graph, caffemodel: Path | None, outputs: Sequence[str] | None = None):
        import cv2

        self.version = cv2.__version__
        self._graph = graph
        self._tmp = tempfile.TemporaryDirectory(prefix="zoo2tf-opencv-")
        self._files = reference_net_files(graph, caffemodel, Path(self._tmp.name), outputs)
        self._net = self._load()
        self._known = set(self._net.getLayerNames())

    def _load(self):
        import cv2

        try:
            net = cv2.dnn.readNetFromCaffe(str(self._files.prototxt), str(self._files.caffemodel or ""))
        except cv2.error as err:
            raise _opencv_unavailable(err) from None
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        return net

    def _forward(self, net, inputs: Mapping[str, np.ndarray], layers: list[str]) -> list[list[np.ndarray]]:
        """Every output of each named layer (forwardAndRetrieve: forward() gives only the first)."""
        import cv2

        for name, value in inputs.items():
            net.setInput(np.ascontiguousarray(value, np.float32), self._graph.blob_names.get(name, name))
        try:
            return [[np.array(a) for a in outs] for outs in net.forwardAndRetrieve(layers)]
        except cv2.error as err:
            raise _opencv_unavailable(err) from None

    def outputs(self, inputs: Mapping[str, np.ndarray], blobs: Sequence[str]) -> dict[str, np.ndarray]:
        producers = _producers(self._graph)
        layers = list(dict.fromkeys(producers[b][0] for b in blobs))
        values = dict(zip(layers, self._forward(self._net, inputs, layers)))
        return {b: values[producers[b][0]][producers[b][1]] for b in blobs}

    def outputs_many(self, input_sets: Sequence[Mapping[str, np.ndarray]],
                     blobs: Sequence[str]) -> list[dict[str, np.ndarray]]:
        return [self.outputs(inputs, blobs) for inputs in input_sets]

    def layer_outputs(self, inputs: Mapping[str, np.ndarray]) -> LayerOutputs:
        # A fresh net: OpenCV fuses layers (conv+BN+ReLU...) at its first forward, and a net
        # already set up for the final outputs returns fused values for intermediate layers.
        layers = [layer.name for layer in self._graph.layers if layer.name in self._known]
        return {name: tuple(values) for name, values in zip(layers, self._forward(self._load(), inputs, layers))}


_CV_CREATE = re.compile(r'Can\'t create layer "([^"]+)" of type "([^"]+)"')
_CV_LAYER = re.compile(r"\[(\w+)\]:\(([^)]+)\)")


def _opencv_unavailable(err: Exception) -> ReferenceUnavailable:
    text = str(err)
    created = _CV_CREATE.search(text)
    if created:
        layer, kind = created.groups()
        return ReferenceUnavailable(f"OpenCV has no layer type '{kind}' (layer '{layer}')",
                                    layer=layer, layer_type=kind)
    lines = [ln.strip() for ln in text.splitlines() if "error:" in ln] or [text.strip()]
    located = _CV_LAYER.search(text)
    return ReferenceUnavailable(f"OpenCV cannot run the net: {lines[-1][:300]}",
                                layer=located.group(2) if located else None,
                                layer_type=located.group(1) if located else None)


class CaffeReference:
    """Real pycaffe in its Python 3.9 venv, one subprocess per call."""

    name = "caffe"

    def __init__(self, graph: Graph, caffemodel: Path | None, outputs: Sequence[str] | None = None,
                 env=None):
        from validation.caffe_reference import require_env

        self._env = require_env(env)
        self.version = "kendryte-caffe 1.0.0.20210829"
        self._graph = graph
        self._tmp = tempfile.TemporaryDirectory(prefix="zoo2tf-caffe-ref-")
        self._files = reference_net_files(graph, caffemodel, Path(self._tmp.name), outputs)

    def _run(self, input_sets, **kwargs):
        from validation.caffe_reference import CaffeRunError, caffe_forward_many

        named = [{self._graph.blob_names.get(k, k): v for k, v in inputs.items()} for inputs in input_sets]
        try:
            return caffe_forward_many(self._files.prototxt, self._files.caffemodel, named,
                                      env=self._env, **kwargs)
        except CaffeRunError as err:
            raise ReferenceUnavailable(str(err), layer_type=err.unknown_layer_type) from None

    def outputs(self, inputs: Mapping[str, np.ndarray], blobs: Sequence[str]) -> dict[str, np.ndarray]:
        return self.outputs_many([inputs], blobs)[0]

    def outputs_many(self, input_sets: Sequence[Mapping[str, np.ndarray]],
                     blobs: Sequence[str]) -> list[dict[str, np.ndarray]]:
        return [dict(run.blobs) for run in self._run(input_sets, blobs=list(blobs))]

    def layer_outputs(self, inputs: Mapping[str, np.ndarray]) -> LayerOutputs:
        return {item.name: item.outputs for item in self._run([inputs], per_layer=True)[0].layers}


def open_reference(kind: str, graph: Graph, caffemodel: Path | None,
                   outputs: Sequence[str] | None = None) -> Reference:
    """The named reference runtime, set up to compute `outputs` (default: the whole net)."""
    if kind == "opencv":
        return OpenCVReference(graph, caffemodel, outputs)
    if kind == "caffe":
        return CaffeReference(graph, caffemodel, outputs)
    raise ValueError(f"unknown reference runtime {kind!r} (expected 'opencv' or 'caffe')")
