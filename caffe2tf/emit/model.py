"""From a Graph to a Keras model: passes, layout planning, one CaffeLayer per Caffe layer."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from google.protobuf import text_format

from caffe2tf.emit.keras_layers import CaffeLayer, Relayout
from caffe2tf.emit.passes import IDENTITY_TYPES, drop_identities, fold_batch_norm
from caffe2tf.emit.registry import REGISTRY, Op
from caffe2tf.errors import GraphError, UnsupportedLayers, WeightMismatch
from caffe2tf.ir import Graph, Layer

IO_LAYOUTS = ("nhwc", "nchw")
PASS_THROUGH = ("Input",) + IDENTITY_TYPES  # emit nothing


@dataclass(frozen=True)
class LayerRecord:
    """How one Caffe layer was emitted (for conversion.json)."""

    name: str
    caffe_type: str
    tf_ops: tuple[str, ...]
    in_shapes: tuple[tuple[int, ...], ...]
    out_shapes: tuple[tuple[int, ...], ...]
    internal_layout: str


@dataclass
class BuiltModel:
    model: keras.Model
    inputs: dict[str, str]  # Caffe input blob name -> SSA blob
    outputs: dict[str, str]  # Caffe output blob name -> SSA blob
    io_layout: str
    layers: list[LayerRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _keras_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "layer"
    candidate, i = base, 1
    while candidate in used:
        i += 1
        candidate = f"{base}_{i}"
    used.add(candidate)
    return candidate


def resolve_outputs(graph: Graph, outputs: Sequence[str] | None) -> dict[str, str]:
    """Requested blobs (Caffe names, or SSA names) -> the SSA blob holding the final value."""
    last: dict[str, str] = {}
    for ssa in list(graph.inputs) + [t for layer in graph.layers for t in layer.tops]:
        last[graph.blob_names.get(ssa, ssa)] = ssa
    if outputs is None:
        return {graph.blob_names.get(b, b): b for b in graph.outputs}
    resolved, missing = {}, []
    for name in outputs:
        if name in last:
            resolved[name] = last[name]
        elif name in graph.shapes:
            resolved[name] = name
        else:
            missing.append(name)
    if missing:
        raise GraphError(f"no blob named {', '.join(map(repr, missing))} in the net",
                         file=graph.source)
    return resolved


def _needed(layers: list[Layer], targets: set[str]) -> list[Layer]:
    wanted, kept = set(targets), []
    for layer in reversed(layers):
        if wanted.intersection(layer.tops):
            kept.append(layer)
            wanted.update(layer.bottoms)
    return kept[::-1]


def _internal_nhwc(kind: str, in_shapes, in_nhwc) -> bool:
    layout = REGISTRY[kind].layout
    if layout == "caffe":
        return False
    if layout == "nhwc":
        return True
    return bool(in_shapes) and len(in_shapes[0]) == 4 and in_nhwc[0]


def build_model(graph: Graph, *, io_layout: str = "nhwc",
                outputs: Sequence[str] | None = None) -> BuiltModel:
    """A Keras model computing the requested blobs (default: the net's outputs).

    The model takes and returns dicts keyed by Caffe blob names.

    `io_layout="nhwc"` takes and returns 4-D blobs as NHWC; "nchw" exactly as Caffe's
    blobs. Other ranks are always in Caffe's order. The batch dimension is free.
    Raises UnsupportedLayers (every unsupported type the outputs depend on), GraphError
    (unknown shapes, unknown output names) and WeightMismatch (a layer without its weights).
    """
    if io_layout not in IO_LAYOUTS:
        raise ValueError(f"io_layout must be one of {IO_LAYOUTS}, got {io_layout!r}")
    io_nhwc = io_layout == "nhwc"
    requested = resolve_outputs(graph, outputs)
    needed = _needed(graph.layers, set(requested.values()))
    unsupported = unsupported_layers(graph, needed)
    if unsupported:
        raise UnsupportedLayers(unsupported, file=graph.source)
    layers, alias = drop_identities(needed)
    targets = {alias.get(b, b) for b in requested.values()}
    layers, notes = fold_batch_norm(layers, graph.shapes, targets)

    used: set[str] = set()
    tensors: dict[str, tuple[object, bool]] = {}
    model_inputs = {}
    for blob, shape in graph.inputs.items():
        nhwc = io_nhwc and len(shape) == 4
        dims = (shape[2], shape[3], shape[1]) if nhwc else tuple(shape[1:])
        name = graph.blob_names.get(blob, blob)
        tensor = keras.Input(shape=dims, batch_size=None, name=_keras_name(name, used))
        model_inputs[name] = (blob, tensor)
        tensors[blob] = (tensor, nhwc)

    records = []
    for layer in layers:
        if layer.type == "Input":
            continue
        missing = [b for b in layer.bottoms + layer.tops if b not in graph.shapes]
        if missing:
            raise GraphError(f"shape of blob '{missing[0]}' is unknown", file=graph.source,
                             layer=layer.name)
        in_shapes = tuple(tuple(graph.shapes[b]) for b in layer.bottoms)
        out_shapes = tuple(tuple(graph.shapes[t]) for t in layer.tops)
        in_nhwc = [tensors[b][1] for b in layer.bottoms]
        nhwc = _internal_nhwc(layer.type, in_shapes, in_nhwc)
        conv = REGISTRY[layer.type]
        op = Op(layer.name, layer.type, layer.param, in_shapes, out_shapes, nhwc)
        try:
            blobs = conv.prepare(op, list(layer.blobs)) if conv.prepare else list(layer.blobs)
        except (ValueError, IndexError) as exc:
            raise WeightMismatch(f"{layer.type} weights missing or ill-shaped ({exc})",
                                 file=graph.source, layer=layer.name) from None
        keras_layer = CaffeLayer(
            layer.type, text_format.MessageToString(_without_blobs(layer.param)), in_shapes,
            out_shapes, in_nhwc, nhwc, [np.shape(b) for b in blobs],
            weight_values=[np.asarray(b, dtype=np.float32) for b in blobs],
            name=_keras_name(layer.name, used))
        ins = [tensors[b][0] for b in layer.bottoms]
        outs = keras_layer(ins if len(ins) > 1 else ins[0])
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for top, shape, tensor in zip(layer.tops, out_shapes, outs):
            tensors[top] = (tensor, nhwc and len(shape) == 4)
        records.append(LayerRecord(layer.name, layer.type, conv.tf_ops, in_shapes, out_shapes,
                                   "NHWC" if nhwc else "Caffe"))

    model_outputs = {}
    for name, blob in requested.items():
        tensor, nhwc = tensors[alias.get(blob, blob)]
        rank = len(graph.shapes[blob])
        out = Relayout(nhwc, io_nhwc and rank == 4, name=_keras_name(f"out_{name}", used))(tensor)
        model_outputs[name] = out
    model = keras.Model(inputs={n: t for n, (_, t) in model_inputs.items()},
                        outputs=model_outputs, name=_keras_name(graph.name or "net", set()))
    dropped = [layer.name for layer in graph.layers if layer.type in IDENTITY_TYPES]
    return BuiltModel(model, {n: b for n, (b, _) in model_inputs.items()}, requested,
                      io_layout, records, notes, dropped)


def unsupported_layers(graph: Graph, layers: list[Layer] | None = None) -> dict[str, list[str]]:
    """Type (with the reason when only some parameters are the problem) -> layer names,
    for every layer (of `layers`, default the whole net) that cannot be emitted."""
    found: dict[str, list[str]] = {}
    for layer in graph.layers if layers is None else layers:
        conv = REGISTRY.get(layer.type)
        fork = graph.foreign_fields.get(layer.param.name or layer.name)
        if conv is None and layer.type not in PASS_THROUGH:
            key = layer.type
        elif fork:  # e.g. a fork's Dropout scale_train: not the identity any more
            key = f"{layer.type} (fork fields {', '.join(sorted(fork))})"
        elif layer.type in PASS_THROUGH:
            key = None
        else:
            reason = _check_reason(graph, layer, conv)
            key = f"{layer.type} ({reason})" if reason else None
        if key:
            found.setdefault(key, []).append(layer.name)
    return found


def _check_reason(graph: Graph, layer: Layer, conv) -> str | None:
    if any(b not in graph.shapes for b in layer.bottoms + layer.tops):
        return None
    if conv.layout == "nhwc" and any(len(graph.shapes[b]) != 4 for b in layer.bottoms):
        return "needs 4-D bottoms"
    if conv.check is None:
        return None
    op = Op(layer.name, layer.type, layer.param, tuple(graph.shapes[b] for b in layer.bottoms),
            tuple(graph.shapes[t] for t in layer.tops), conv.layout == "nhwc")
    return conv.check(op)


def _without_blobs(param):
    if not param.blobs:
        return param
    clone = type(param)()
    clone.CopyFrom(param)
    del clone.blobs[:]
    return clone
