"""The Keras layers a converted model is made of, serializable by `keras.models.load_model`.

`CaffeLayer` runs one registered converter: its config holds the Caffe type, the layer's
LayerParameter as protobuf text, the Caffe shapes and the layouts, so a saved model
re-creates the same computation; its weights are the prepared arrays.
"""
from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from google.protobuf import text_format

from caffe2tf.emit.layout import relayout
from caffe2tf.emit.registry import REGISTRY, Op
from caffe2tf.proto import caffe_pb2

PACKAGE = "caffe2tf"


def _constant(array: np.ndarray):
    def initializer(shape, dtype=None):
        return array
    return initializer


@keras.saving.register_keras_serializable(package=PACKAGE)
class CaffeLayer(keras.layers.Layer):
    def __init__(self, caffe_type: str, param_text: str, in_shapes: Sequence[Sequence[int]],
                 out_shapes: Sequence[Sequence[int]], in_nhwc: Sequence[bool], nhwc: bool,
                 weight_shapes: Sequence[Sequence[int]] = (), *,
                 weight_values: Sequence[np.ndarray] | None = None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.caffe_type = caffe_type
        self.param_text = param_text
        self.in_shapes = tuple(tuple(int(d) for d in s) for s in in_shapes)
        self.out_shapes = tuple(tuple(int(d) for d in s) for s in out_shapes)
        self.in_nhwc = tuple(bool(b) for b in in_nhwc)
        self.nhwc = bool(nhwc)
        self.weight_shapes = tuple(tuple(int(d) for d in s) for s in weight_shapes)
        self._converter = REGISTRY[caffe_type]
        self._param = text_format.Parse(param_text, caffe_pb2.LayerParameter())
        self._weights = [
            self.add_weight(name=f"w{i}", shape=shape, trainable=False,
                            initializer=_constant(weight_values[i]) if weight_values else "zeros")
            for i, shape in enumerate(self.weight_shapes)
        ]

    def op(self, weights: Sequence = ()) -> Op:
        return Op(self.name, self.caffe_type, self._param, self.in_shapes, self.out_shapes,
                  self.nhwc, tuple(weights))

    def call(self, inputs):
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        xs = [relayout(x, from_nhwc=was, to_nhwc=self.nhwc)
              for x, was in zip(inputs, self.in_nhwc)]
        outs = self._converter.function(self.op(self._weights), xs)
        for y, shape in zip(outs, self.out_shapes):
            static = list(shape)
            if len(static) == 4 and self.nhwc:
                static = [static[0], static[2], static[3], static[1]]
            if static and static[0] == self.in_shapes[0][0]:
                static[0] = None  # batch stays dynamic
            if isinstance(y, tf.Tensor) and not tf.executing_eagerly():
                y.set_shape(static)
        return outs if len(outs) > 1 else outs[0]

    def get_config(self):
        config = super().get_config()
        config.update(caffe_type=self.caffe_type, param_text=self.param_text,
                      in_shapes=[list(s) for s in self.in_shapes],
                      out_shapes=[list(s) for s in self.out_shapes],
                      in_nhwc=list(self.in_nhwc), nhwc=self.nhwc,
                      weight_shapes=[list(s) for s in self.weight_shapes])
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class Relayout(keras.layers.Layer):
    """Puts a blob into the requested I/O layout (a copy, so every output is its own tensor)."""

    def __init__(self, from_nhwc: bool, to_nhwc: bool, **kwargs):
        super().__init__(**kwargs)
        self.from_nhwc = bool(from_nhwc)
        self.to_nhwc = bool(to_nhwc)

    def call(self, x):
        return tf.identity(relayout(x, from_nhwc=self.from_nhwc, to_nhwc=self.to_nhwc))

    def get_config(self):
        config = super().get_config()
        config.update(from_nhwc=self.from_nhwc, to_nhwc=self.to_nhwc)
        return config
