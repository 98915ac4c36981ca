"""Pooling (Caffe's ceil/clip output rule and AVE divisor) and LRN."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from caffe2tf.emit.registry import Op, converter
from caffe2tf.shapes import pool_geometry


def _pool_geometry(op: Op):
    _, _, h, w = op.in_shapes[0]
    return pool_geometry(op.param.pooling_param, h, w)


def _ave_divisor(size: int, out: int, k: int, s: int, p: int) -> np.ndarray:
    """Caffe's per-window divisor: the window clipped to the padded extent [−p, size + p)."""
    starts = np.arange(out) * s - p
    return (np.minimum(starts + k, size + p) - starts).astype(np.float32)


def _check_pooling(op: Op) -> str | None:
    pp = op.param.pooling_param
    if pp.pool not in (type(pp).MAX, type(pp).AVE):
        return "STOCHASTIC pooling"
    return None


@converter("Pooling", layout="nhwc", check=_check_pooling, tf_ops=("Pad", "MaxPool|AvgPool", "Mul"))
def pooling(op: Op, inputs):
    pp = op.param.pooling_param
    (x,) = inputs
    _, _, h, w = op.in_shapes[0]
    _, _, oh, ow = op.out_shapes[0]
    kernel, stride, pad = _pool_geometry(op)
    is_max = pp.pool == type(pp).MAX
    if (kernel, stride, pad) == ((h, w), (1, 1), (0, 0)):
        reduce = tf.reduce_max if is_max else tf.reduce_mean
        return [reduce(x, axis=[1, 2], keepdims=True)]
    # pad the far side so that exactly `out` VALID windows fit, ceil overhang included
    after = [max(0, (o - 1) * s + k - n - p) for o, s, k, n, p in
             zip((oh, ow), stride, kernel, (h, w), pad)]
    padding = [[0, 0], [pad[0], after[0]], [pad[1], after[1]], [0, 0]]
    if any(pad) or any(after):
        x = tf.pad(x, padding, constant_values=-np.inf if is_max else 0.0)
    window = [1, kernel[0], kernel[1], 1]
    strides = [1, stride[0], stride[1], 1]
    if is_max:
        y = tf.nn.max_pool2d(x, window, strides, "VALID")
    else:
        y = tf.nn.avg_pool2d(x, window, strides, "VALID")
        divisor = np.outer(_ave_divisor(h, oh, kernel[0], stride[0], pad[0]),
                           _ave_divisor(w, ow, kernel[1], stride[1], pad[1]))
        area = float(kernel[0] * kernel[1])
        if not np.all(divisor == area):
            y = y * tf.constant((area / divisor)[None, :, :, None])
    return [y[:, :oh, :ow, :]]


def _check_lrn(op: Op) -> str | None:
    return "even local_size" if op.param.lrn_param.local_size % 2 == 0 else None


@converter("LRN", layout="nhwc", check=_check_lrn, tf_ops=("LRN|AvgPool", "Pow", "Mul"))
def lrn(op: Op, inputs):
    lp = op.param.lrn_param
    (x,) = inputs
    n = lp.local_size
    if lp.norm_region == type(lp).ACROSS_CHANNELS:
        return [tf.nn.local_response_normalization(
            x, depth_radius=(n - 1) // 2, bias=lp.k, alpha=lp.alpha / n, beta=lp.beta)]
    # WITHIN_CHANNEL: zero-padded n x n average of x^2 (always divided by n^2); k unused
    half = (n - 1) // 2
    sq = tf.pad(tf.square(x), [[0, 0], [half, half], [half, half], [0, 0]])
    mean = tf.nn.avg_pool2d(sq, [1, n, n, 1], [1, 1, 1, 1], "VALID")
    return [x * tf.pow(1.0 + lp.alpha * mean, -lp.beta)]
