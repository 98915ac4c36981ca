"""Per-layer diagnosis: the first layer whose converted output leaves the reference's."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from caffe2tf.ir import Graph
from validation.metrics import Thresholds
from validation.references import LayerOutputs


@dataclass(frozen=True)
class LayerDivergence:
    layer: str
    layer_type: str
    top: str  # Caffe blob name of the diverging top
    max_abs_error: float
    max_rel_error: float  # relative to the largest magnitude among the layer's inputs and outputs
    sample: str
    layers_compared: int  # layers checked up to and including this one


def _by_caffe_layer(graph: Graph, converted: LayerOutputs) -> LayerOutputs:
    """Converted layer outputs keyed by the Caffe layer whose tops they hold.

    A folded pair "bn+scale" computes the Scale layer's tops; the BatchNorm alone has no output.
    Layers whose Caffe name repeats come keyed by their Keras name (the Graph's unique name,
    made Keras-safe).
    """
    names = {layer.name for layer in graph.layers}
    keras_names = {_keras_safe(name): name for name in names}
    result = {}
    for name, values in converted.items():
        if name not in names and "+" in name and name.rsplit("+", 1)[1] in names:
            name = name.rsplit("+", 1)[1]
        result[name if name in names else keras_names.get(name, name)] = values
    return result


def _keras_safe(name: str) -> str:
    # How the emitter names Keras layers after Caffe layers (caffe2tf.emit.model).
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "layer"


def first_divergence(graph: Graph, reference: LayerOutputs, converted: LayerOutputs,
                     thresholds: Thresholds, sample: str,
                     inputs: Mapping[str, np.ndarray] | None = None) -> tuple[LayerDivergence | None, int]:
    """The first layer (in execution order) with a top beyond tolerance, and how many were compared.

    A layer's tolerance scales with the largest magnitude among its reference inputs and outputs:
    float32 rounding of a large input legitimately reaches a small output (a sigmoid of values
    in the thousands), and only an error beyond that is the layer's own.
    """
    converted = _by_caffe_layer(graph, converted)
    magnitude = {name: _max_abs(value) for name, value in (inputs or {}).items()}
    compared = 0
    for layer in graph.layers:
        # Magnitudes from the reference, or from the converted model for a layer the reference
        # does not expose (OpenCV fuses some layers into others).
        for top, value in zip(layer.tops, reference.get(layer.name) or converted.get(layer.name) or ()):
            magnitude[top] = _max_abs(value)
        if layer.name not in reference or layer.name not in converted:
            continue
        scale = max([1.0] + [magnitude.get(b, 0.0) for b in layer.bottoms + layer.tops])
        counted = False
        for index, (ref, got) in enumerate(zip(reference[layer.name], converted[layer.name])):
            if ref.size != got.size:
                continue  # a runtime that keeps another shape for the blob (e.g. flattened)
            counted = True
            diff = _max_abs(got.reshape(ref.shape) - np.asarray(ref, np.float64))
            if diff > thresholds.rel_tolerance * scale:
                top = graph.blob_names.get(layer.tops[index], layer.tops[index])
                return LayerDivergence(layer.name, layer.type, top, diff, diff / scale, sample,
                                       compared + 1), compared + 1
        compared += counted
    return None, compared


def _max_abs(value: np.ndarray) -> float:
    return float(np.max(np.abs(value))) if value.size else 0.0
