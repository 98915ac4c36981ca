"""The converter registry: one function per Caffe layer type, found by type string.

A converter is registered with `@converter("Type", layout=..., weights=...)`:
- `layout` says how 4-D tensors must be ordered when the function is called:
  "nhwc" (spatial ops on 4-D bottoms only: convolution, pooling, LRN), "caffe" (ops defined on Caffe's
  NCHW memory order: Flatten, Reshape, InnerProduct, ArgMax) or "any" (the function
  maps Caffe axes through `Op.axis` and works in either order).
- `weights(op, blobs)` turns the layer's Caffe blobs into the arrays the function
  uses (e.g. conv kernels to HWIO), once, at conversion time. Without it the Caffe
  blobs are used as they are.
- `check(op)` returns why a layer's parameters are beyond the converter (or None).
The function itself takes the `Op` (static facts about the layer) and the input
tensors and returns the output tensors, in the order of the layer's tops.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from caffe2tf.ir import Shape

LAYOUTS = ("nhwc", "caffe", "any")


@dataclass(frozen=True)
class Op:
    """What a converter knows about one layer when it runs.

    `nhwc` is True when this layer's 4-D inputs and outputs are ordered NHWC;
    shapes are always Caffe's (batch included, as the prototxt declares it).
    """

    name: str
    type: str
    param: Any  # caffe_pb2.LayerParameter
    in_shapes: tuple[Shape, ...]
    out_shapes: tuple[Shape, ...]
    nhwc: bool
    weights: tuple[Any, ...] = ()  # prepared arrays (numpy at preparation, tf variables at run)

    def axis(self, caffe_axis: int, rank: int | None = None) -> int:
        """The tensor axis that holds Caffe axis `caffe_axis` (negative counts from the end)."""
        rank = len(self.in_shapes[0]) if rank is None else rank
        axis = caffe_axis % rank
        if self.nhwc and rank == 4:
            return (0, 3, 1, 2)[axis]
        return axis


Function = Callable[[Op, Sequence[Any]], list[Any]]
Prepare = Callable[[Op, list[np.ndarray]], list[np.ndarray]]
Check = Callable[[Op], "str | None"]


@dataclass(frozen=True)
class Converter:
    type: str
    function: Function
    layout: str
    prepare: Prepare | None
    check: Check | None  # why this layer's parameters cannot be converted, or None
    tf_ops: tuple[str, ...]  # the TensorFlow ops it emits, for conversion.json


REGISTRY: dict[str, Converter] = {}


def converter(caffe_type: str, *, layout: str = "any", weights: Prepare | None = None,
              check: Check | None = None,
              tf_ops: Sequence[str] = ()) -> Callable[[Function], Function]:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")

    def register(function: Function) -> Function:
        if caffe_type in REGISTRY:
            raise ValueError(f"a converter for {caffe_type} is already registered")
        REGISTRY[caffe_type] = Converter(caffe_type, function, layout, weights, check, tuple(tf_ops))
        return function

    return register
