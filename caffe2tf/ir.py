"""The graph IR shared by the reader (caffe2tf.net) and the emitter (caffe2tf.emit).

Blobs are named in SSA form: every blob name is written by exactly one layer (or is a
net input). An in-place Caffe layer (top == bottom) gets a fresh top name; `blob_names`
maps every SSA name back to the Caffe blob name it stands for. Shapes are Caffe's
(NCHW for 4-D blobs), inferred with Caffe's own rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Preprocessing:
    """What a data layer's transform_param says to do to an image before the net.

    Recorded as metadata, never baked into the graph: the converted model's input is
    exactly the Caffe net's data blob.
    """

    scale: float | None = None
    mean_values: tuple[float, ...] = ()
    mean_file: str | None = None
    mean_file_found: bool | None = None
    crop_size: int | None = None
    mirror: bool = False
    force_color: bool | None = None
    source_layer: str | None = None


@dataclass
class Layer:
    name: str
    type: str  # V2 type string, e.g. "Convolution"
    bottoms: list[str]
    tops: list[str]
    param: Any  # caffe_pb2.LayerParameter (V2 form): the source of truth for options
    blobs: list[np.ndarray] = field(default_factory=list)  # learned params, Caffe layout


@dataclass
class Graph:
    name: str
    source: str  # path of the prototxt it was read from
    format_version: str  # "V0", "V1" or "V2" as found in the file
    inputs: dict[str, Shape]  # net input blobs, in declaration order
    layers: list[Layer]  # topological order; training-only layers removed
    shapes: dict[str, Shape]  # every SSA blob -> Caffe shape
    outputs: list[str]  # blobs that no layer consumes
    blob_names: dict[str, str]  # SSA name -> Caffe blob name
    preprocessing: Preprocessing | None = None
    warnings: list[str] = field(default_factory=list)
    unknown_types: dict[str, list[str]] = field(default_factory=dict)  # type -> layer names
    # layer -> fields from a Caffe fork the reader ignored (e.g. "pooling_param.bin_size"):
    # a BVLC-typed layer listed here may not compute what the fork's Caffe computed
    foreign_fields: dict[str, list[str]] = field(default_factory=dict)

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def consumers(self, blob: str) -> list[Layer]:
        return [layer for layer in self.layers if blob in layer.bottoms]

    def param_count(self) -> int:
        return int(sum(b.size for layer in self.layers for b in layer.blobs))
