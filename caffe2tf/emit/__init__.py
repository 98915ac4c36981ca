"""The TensorFlow emitter: Graph IR -> Keras model / SavedModel (imports TensorFlow).

Importing the package registers every converter; `SUPPORTED_TYPES` lists their Caffe types.
"""
from caffe2tf.emit import activations, conv, normalization, pooling, structure  # noqa: F401
from caffe2tf.emit.model import (
    PASS_THROUGH,
    BuiltModel,
    LayerRecord,
    build_model,
    resolve_outputs,
    unsupported_layers,
)
from caffe2tf.emit.registry import REGISTRY, Op, converter

SUPPORTED_TYPES: frozenset[str] = frozenset(REGISTRY) | frozenset(PASS_THROUGH)

__all__ = ["SUPPORTED_TYPES", "BuiltModel", "LayerRecord", "Op", "build_model", "converter",
           "resolve_outputs", "unsupported_layers"]
