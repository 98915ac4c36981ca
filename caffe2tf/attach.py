"""A caffemodel's blobs attached to a Graph's layers by name, checked against the shapes
Caffe would create for each layer.

Caffe's own rules decide what fits: a blob of the expected shape, or a legacy 4-D blob
(num, channels, height, width) that equals it after left-padding with ones; very old
inner products stored as (1, 1, out, K) with the same element count are accepted too.
The arrays stay the reader's zero-copy views of the memory-mapped file (a reshape is a
view as well): a 528 MB VGG16 attaches without copying a weight.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from caffe2tf.caffemodel import CaffeModelWeights, fit_legacy_shape, read_caffemodel
from caffe2tf.errors import GraphError, WeightMismatch
from caffe2tf.ir import Graph, Layer, Shape
from caffe2tf.params import expected_param_shapes
from caffe2tf.shapes import SHAPE_RULES

# Below this fraction of parameter layers fitting, the file is for another network.
_MIN_FITTING_FRACTION = 0.5


def attach_weights(graph: Graph, caffemodel: str | Path) -> None:
    """Set `layer.blobs` of every layer with parameters; raise WeightMismatch if they don't fit."""
    path = str(caffemodel)
    weights = read_caffemodel(caffemodel)
    graph.warnings.extend(f"{path}: {w}" for w in weights.warnings)
    fitted: dict[str, list[np.ndarray]] = {}
    problems: list[WeightMismatch] = []
    n_learned = 0
    for layer in graph.layers:
        expected = _expected_shapes(graph, layer)
        blobs = weights.get(layer.param.name, [])
        if expected is None:  # fork layer or unknown input shape: nothing to check against
            fitted[layer.name] = list(blobs)
            n_learned += bool(blobs)
            continue
        if not expected:
            if blobs:
                graph.warnings.append(f"{path}: layer '{layer.name}' ({layer.type}) has "
                                      f"{len(blobs)} blobs but takes none; ignored")
            continue
        n_learned += 1
        try:
            fitted[layer.name] = _fit_layer(blobs, expected, path, layer.name)
        except WeightMismatch as exc:
            problems.append(exc)
    if problems and n_learned - len(problems) < _MIN_FITTING_FRACTION * n_learned:
        raise WeightMismatch(
            f"weights belong to a different network: {len(problems)} of the {n_learned} "
            f"layers with parameters in {graph.source} are missing or do not fit "
            f"(caffemodel net '{weights.net_name}', layers: {_names(weights)})", file=path)
    if problems:
        raise problems[0]
    for layer in graph.layers:
        if layer.name in fitted:
            layer.blobs = fitted[layer.name]
    used = {layer.param.name for layer in graph.layers}
    extra = [name for name in weights if name not in used and len(weights[name])]
    if extra:
        graph.warnings.append(f"{path}: blobs of layers not in the inference net ignored: "
                              f"{', '.join(extra)}")


def _expected_shapes(graph: Graph, layer: Layer) -> list[Shape] | None:
    if layer.type not in SHAPE_RULES or any(b not in graph.shapes for b in layer.bottoms):
        return None
    try:
        return expected_param_shapes(layer, [graph.shapes[b] for b in layer.bottoms])
    except ValueError as exc:
        raise GraphError(str(exc), file=graph.source, layer=layer.name) from None


def _fit_layer(blobs: list[np.ndarray], expected: list[Shape], path: str,
               layer: str) -> list[np.ndarray]:
    if not blobs:
        raise WeightMismatch("no weights for this layer in the caffemodel", file=path,
                             layer=layer, expected=expected, got=[])
    if len(blobs) != len(expected):
        raise WeightMismatch(f"{len(blobs)} blobs instead of {len(expected)}", file=path,
                             layer=layer, expected=expected, got=[tuple(b.shape) for b in blobs])
    return [_fit(blob, tuple(shape), path, layer, i)
            for i, (blob, shape) in enumerate(zip(blobs, expected))]


def _fit(blob: np.ndarray, shape: Shape, path: str, layer: str, index: int) -> np.ndarray:
    if blob.shape == shape:
        return blob
    fitted = fit_legacy_shape(blob, shape)
    if fitted is not None:
        return fitted
    if blob.ndim == 4 and blob.size == math.prod(shape):  # old (1, 1, out, K) style blobs
        return blob.reshape(shape)
    raise WeightMismatch(f"blob {index} has the wrong shape", file=path, layer=layer,
                         expected=shape, got=tuple(blob.shape))


def _names(weights: CaffeModelWeights, limit: int = 8) -> str:
    names = list(weights)
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
