"""Moving 4-D tensors between Caffe's NCHW order and TensorFlow's NHWC order.

Convention of the emitter: a 4-D blob is NHWC inside the model when the layer that made
it ran with `Op.nhwc`; every other blob is in Caffe's order. Only 4-D blobs are permuted.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

TO_NHWC = (0, 2, 3, 1)
TO_NCHW = (0, 3, 1, 2)


def relayout(x, *, from_nhwc: bool, to_nhwc: bool):
    if from_nhwc == to_nhwc or len(x.shape) != 4:
        return x
    return tf.transpose(x, TO_NHWC if to_nhwc else TO_NCHW)


def spanning(values: np.ndarray, axis: int, rank: int, nhwc: bool) -> np.ndarray:
    """Reshape an array over Caffe axes [axis, axis + values.ndim) to broadcast on a tensor."""
    full = [1] * rank
    full[axis:axis + values.ndim] = values.shape
    out = np.reshape(values, full)
    if nhwc and rank == 4:
        out = np.ascontiguousarray(out.transpose(TO_NHWC))
    return out


def spanning_tensor(values, axis: int, rank: int, nhwc: bool):
    """`spanning` for a tensor whose leading dimension is a (dynamic) batch only when axis == 0."""
    shape = list(values.shape)
    full = [1] * rank
    full[axis:axis + len(shape)] = [-1 if d is None else d for d in shape]
    out = tf.reshape(values, full)
    if nhwc and rank == 4:
        out = tf.transpose(out, TO_NHWC)
    return out
