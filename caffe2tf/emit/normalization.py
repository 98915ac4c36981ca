"""BatchNorm, Scale, Bias, MVN and PReLU: per-channel (or per-span) affine maps."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from caffe2tf.emit.layout import spanning, spanning_tensor
from caffe2tf.emit.registry import Op, converter


def batch_norm_affine(blobs: list[np.ndarray], eps: float) -> tuple[np.ndarray, np.ndarray]:
    """BatchNorm's inference map as y = x * scale + bias (float64 math, float32 result)."""
    factor = float(blobs[2].reshape(-1)[0]) if len(blobs) > 2 else 1.0
    inverse = 0.0 if factor == 0 else 1.0 / factor
    mean = blobs[0].astype(np.float64) * inverse
    var = blobs[1].astype(np.float64) * inverse
    scale = 1.0 / np.sqrt(var + eps)
    return scale.astype(np.float32), (-mean * scale).astype(np.float32)


def _prepare_batch_norm(op: Op, blobs: list[np.ndarray]) -> list[np.ndarray]:
    scale, bias = batch_norm_affine(blobs, op.param.batch_norm_param.eps)
    rank = len(op.in_shapes[0])
    return [spanning(scale, 1, rank, op.nhwc), spanning(bias, 1, rank, op.nhwc)]


@converter("BatchNorm", weights=_prepare_batch_norm, tf_ops=("Mul", "AddV2"))
def batch_norm(op: Op, inputs):
    return [inputs[0] * op.weights[0] + op.weights[1]]


def _span(op: Op, param) -> tuple[int, int]:
    rank = len(op.in_shapes[0])
    axis = param.axis % rank if rank else 0
    if len(op.in_shapes) > 1:
        return axis, len(op.in_shapes[1])
    return axis, (rank - axis if param.num_axes == -1 else param.num_axes)


def _second_bottom(op: Op, param, other):
    """The second bottom shaped to broadcast (a full-rank one arrives in the op's layout)."""
    rank = len(op.in_shapes[0])
    if len(op.in_shapes[1]) == rank:
        return other
    return spanning_tensor(other, _span(op, param)[0], rank, op.nhwc)


def _prepare_span(param_name: str):
    def prepare(op: Op, blobs: list[np.ndarray]) -> list[np.ndarray]:
        axis, count = _span(op, getattr(op.param, param_name))
        rank = len(op.in_shapes[0])
        shape = tuple(op.in_shapes[0][axis:axis + count])
        return [spanning(b.reshape(shape), axis, rank, op.nhwc) for b in blobs]
    return prepare


@converter("Scale", weights=_prepare_span("scale_param"), tf_ops=("Mul", "AddV2"))
def scale(op: Op, inputs):
    x = inputs[0]
    if len(inputs) > 1:
        y = x * _second_bottom(op, op.param.scale_param, inputs[1])
        bias = op.weights[0] if op.weights else None
    else:
        y = x * op.weights[0]
        bias = op.weights[1] if len(op.weights) > 1 else None
    return [y if bias is None else y + bias]


@converter("Bias", weights=_prepare_span("bias_param"), tf_ops=("AddV2",))
def bias(op: Op, inputs):
    x = inputs[0]
    if len(inputs) > 1:
        return [x + _second_bottom(op, op.param.bias_param, inputs[1])]
    return [x + op.weights[0]]


@converter("MVN", tf_ops=("Mean", "Sub", "Sqrt", "RealDiv"))
def mvn(op: Op, inputs):
    mp = op.param.mvn_param
    (x,) = inputs
    rank = len(op.in_shapes[0])
    first = 1 if mp.across_channels else 2
    axes = sorted({op.axis(a) for a in range(first, rank)})
    centred = x - tf.reduce_mean(x, axis=axes, keepdims=True)
    if not mp.normalize_variance:
        return [centred]
    std = tf.sqrt(tf.reduce_mean(tf.square(centred), axis=axes, keepdims=True))
    return [centred / (std + mp.eps)]  # Caffe adds eps to the std, not to the variance


def _prepare_prelu(op: Op, blobs: list[np.ndarray]) -> list[np.ndarray]:
    rank = len(op.in_shapes[0])
    slope = blobs[0].reshape(-1)
    if op.param.prelu_param.channel_shared or rank < 2:
        return [slope.reshape(())]
    return [spanning(slope, 1, rank, op.nhwc)]


@converter("PReLU", weights=_prepare_prelu, tf_ops=("Relu", "Mul", "AddV2"))
def prelu(op: Op, inputs):
    (x,) = inputs
    return [tf.nn.relu(x) + op.weights[0] * tf.minimum(x, 0.0)]
