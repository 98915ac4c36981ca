"""A readable summary of a Caffe net as the reader sees it (the `zoo2tf inspect` report).

Without a caffemodel the parameter counts are those Caffe would create for the net;
with one they are the blobs actually attached.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from caffe2tf.ir import Graph, Shape
from caffe2tf.net import load_net
from caffe2tf.params import expected_param_shapes
from caffe2tf.shapes import SHAPE_RULES


@dataclass(frozen=True)
class LayerReport:
    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    top_shapes: tuple[Shape | None, ...]  # None: unknown (downstream of a fork layer)
    param_shapes: tuple[Shape, ...] | None  # None: unknown
    param_count: int | None


@dataclass(frozen=True)
class NetReport:
    source: str
    caffemodel: str | None
    name: str
    format_version: str
    inputs: dict[str, Shape]
    outputs: tuple[str, ...]
    layers: tuple[LayerReport, ...]
    param_count: int
    unknown_types: dict[str, list[str]]
    foreign_fields: dict[str, list[str]]
    warnings: tuple[str, ...]
    preprocessing: dict | None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def inspect_net(prototxt: str | Path, caffemodel: str | Path | None = None, *,
                input_shapes: Mapping[str, Shape] | None = None,
                stages: Sequence[str] = ()) -> NetReport:
    graph = load_net(prototxt, caffemodel, input_shapes=input_shapes, stages=stages)
    layers = tuple(_layer_report(graph, layer, caffemodel is not None) for layer in graph.layers)
    return NetReport(
        source=graph.source,
        caffemodel=str(caffemodel) if caffemodel is not None else None,
        name=graph.name,
        format_version=graph.format_version,
        inputs=dict(graph.inputs),
        outputs=tuple(graph.blob_names[o] for o in graph.outputs),
        layers=layers,
        param_count=sum(layer.param_count or 0 for layer in layers),
        unknown_types=dict(graph.unknown_types),
        foreign_fields=dict(graph.foreign_fields),
        warnings=tuple(graph.warnings),
        preprocessing=(dataclasses.asdict(graph.preprocessing)
                       if graph.preprocessing is not None else None),
    )


def _layer_report(graph: Graph, layer, with_weights: bool) -> LayerReport:
    if with_weights:
        shapes: tuple[Shape, ...] | None = tuple(tuple(b.shape) for b in layer.blobs)
    elif layer.type in SHAPE_RULES and all(b in graph.shapes for b in layer.bottoms):
        shapes = tuple(expected_param_shapes(layer, [graph.shapes[b] for b in layer.bottoms]))
    else:
        shapes = None
    return LayerReport(
        name=layer.name, type=layer.type,
        bottoms=tuple(graph.blob_names[b] for b in layer.bottoms),
        tops=tuple(graph.blob_names[t] for t in layer.tops),
        top_shapes=tuple(graph.shapes.get(t) for t in layer.tops),
        param_shapes=shapes,
        param_count=None if shapes is None else sum(math.prod(s) for s in shapes),
    )


def _shape(shape: Shape | None) -> str:
    return "?" if shape is None else "x".join(str(d) for d in shape)


def format_table(report: NetReport) -> str:
    """The report as aligned plain text."""
    lines = [
        f"net {report.name or '(unnamed)'}  [{report.format_version}]  {report.source}",
        "inputs: " + ", ".join(f"{k} {_shape(v)}" for k, v in report.inputs.items()),
        f"outputs: {', '.join(report.outputs)}",
    ]
    if report.caffemodel:
        lines.append(f"weights: {report.caffemodel}")
    rows = [("layer", "type", "bottoms", "tops", "top shapes", "params")]
    for layer in report.layers:
        rows.append((layer.name, layer.type, ",".join(layer.bottoms), ",".join(layer.tops),
                     " ".join(_shape(s) for s in layer.top_shapes),
                     "?" if layer.param_count is None else f"{layer.param_count:,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    kind = "attached" if report.caffemodel else "expected"
    lines.append(f"parameters ({kind}): {report.param_count:,}")
    if report.unknown_types:
        lines.append("unknown (non-BVLC) layer types: " + ", ".join(
            f"{t} ({len(n)})" for t, n in sorted(report.unknown_types.items())))
    for layer, fields in report.foreign_fields.items():
        lines.append(f"fork fields ignored in {layer}: {', '.join(fields)}")
    if report.preprocessing:
        set_fields = {k: v for k, v in report.preprocessing.items() if v not in (None, (), False)}
        lines.append("preprocessing: " + ", ".join(f"{k}={v}" for k, v in set_fields.items()))
    lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines)
