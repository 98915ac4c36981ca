"""Per-layer diagnosis: the first layer whose converted output leaves the reference's."""
from __future__ import annotations

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
    max_rel_error: float
    sample: str
    layers_compared: int  # layers checked up to and including this one


def _by_caffe_layer(graph: Graph, converted: LayerOutputs) -> LayerOutputs:
    """Converted layer outputs keyed by the Caffe layer whose tops they hold.

    A folded pair "bn+scale" computes the Scale layer's tops; the BatchNorm alone has no output.
    """
    names = {layer.name for layer in graph.layers}
    result = {}
    for name, values in converted.items():
        if name not in names and "+" in name and name.rsplit("+", 1)[1] in names:
            name = name.rsplit("+", 1)[1]
        result[name] = values
    return result


def first_divergence(graph: Graph, reference: LayerOutputs, converted: LayerOutputs,
                     thresholds: Thresholds, sample: str) -> tuple[LayerDivergence | None, int]:
    """The first layer (in execution order) with a top beyond tolerance, and how many were compared."""
    converted = _by_caffe_layer(graph, converted)
    compared = 0
    for layer in graph.layers:
        if layer.name not in reference or layer.name not in converted:
            continue
        counted = False
        for index, (ref, got) in enumerate(zip(reference[layer.name], converted[layer.name])):
            if ref.size != got.size:
                continue  # a runtime that keeps another shape for the blob (e.g. flattened)
            counted = True
            ref64 = np.asarray(ref, np.float64)
            diff = float(np.max(np.abs(got.reshape(ref.shape) - ref64))) if ref.size else 0.0
            if diff > thresholds.tolerance(ref64):
                top = graph.blob_names.get(layer.tops[index], layer.tops[index])
                scale = max(1.0, float(np.max(np.abs(ref64))))
                return LayerDivergence(layer.name, layer.type, top, diff, diff / scale, sample,
                                       compared + 1), compared + 1
        compared += counted
    return None, compared
