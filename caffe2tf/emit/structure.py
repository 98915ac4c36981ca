"""Layers that move data around: Concat, Slice, Crop, Flatten, Reshape, Softmax, ArgMax."""
from __future__ import annotations

import math

import tensorflow as tf

from caffe2tf.emit.registry import Op, converter


def _keeps_batch(op: Op) -> bool:
    return op.in_shapes[0][:1] == op.out_shapes[0][:1]


def _reshape_to(op: Op, x):
    out = list(op.out_shapes[0])
    if out and _keeps_batch(op):
        out[0] = -1  # the converted model takes any batch size
    return tf.reshape(x, out)


@converter("Concat", tf_ops=("ConcatV2",))
def concat(op: Op, inputs):
    cp = op.param.concat_param
    axis = cp.concat_dim if cp.HasField("concat_dim") else cp.axis
    if len(inputs) == 1:
        return [inputs[0]]
    return [tf.concat(list(inputs), axis=op.axis(axis))]


@converter("Slice", tf_ops=("Split",))
def slice_(op: Op, inputs):
    sp = op.param.slice_param
    caffe_axis = sp.slice_dim if sp.HasField("slice_dim") else sp.axis
    caffe_axis %= len(op.in_shapes[0])
    sizes = [shape[caffe_axis] for shape in op.out_shapes]
    return list(tf.split(inputs[0], sizes, axis=op.axis(caffe_axis)))


@converter("Crop", tf_ops=("StridedSlice",))
def crop(op: Op, inputs):
    cp = op.param.crop_param
    x = inputs[0]
    src, ref = op.in_shapes[0], op.in_shapes[1]
    rank = len(src)
    start = cp.axis % rank
    offsets = list(cp.offset)
    index = [slice(None)] * rank
    for i in range(start, rank):
        off = offsets[0] if len(offsets) == 1 else (offsets[i - start] if offsets else 0)
        index[op.axis(i)] = slice(off, off + ref[i])
    return [x[tuple(index)]]


@converter("Flatten", layout="caffe", tf_ops=("Reshape",))
def flatten(op: Op, inputs):
    return [_reshape_to(op, inputs[0])]


@converter("Reshape", layout="caffe", tf_ops=("Reshape",))
def reshape(op: Op, inputs):
    return [_reshape_to(op, inputs[0])]


@converter("Softmax", tf_ops=("Softmax",))
def softmax(op: Op, inputs):
    return [tf.nn.softmax(inputs[0], axis=op.axis(op.param.softmax_param.axis))]


def _top_k_like_caffe(x, k: int):
    """top_k over the last axis, ties broken as Caffe's partial_sort of (value, index) pairs
    with std::greater does: the larger index first (TF's top_k prefers the smaller)."""
    size = x.shape[-1]
    values, reversed_indices = tf.math.top_k(tf.reverse(x, axis=[-1]), k=k)
    return values, (size - 1) - reversed_indices


@converter("ArgMax", layout="caffe", tf_ops=("ReverseV2", "TopKV2", "Cast"))
def argmax(op: Op, inputs):
    ap = op.param.argmax_param
    x = inputs[0]
    shape = op.in_shapes[0]
    k = ap.top_k
    if ap.HasField("axis"):
        axis = ap.axis % len(shape)
        perm = [i for i in range(len(shape)) if i != axis] + [axis]
        values, indices = _top_k_like_caffe(tf.transpose(x, perm), k)
        picked = values if ap.out_max_val else tf.cast(indices, x.dtype)
        back = [perm.index(i) for i in range(len(shape))]
        return [tf.transpose(picked, back)]
    values, indices = _top_k_like_caffe(tf.reshape(x, [-1, math.prod(shape[1:])]), k)
    indices = tf.cast(indices, x.dtype)
    planes = [indices, values] if ap.out_max_val else [indices]
    y = tf.stack(planes, axis=1)  # (N, 1 or 2, top_k): Caffe's (N, 1|2, top_k, 1...)
    return [tf.reshape(y, [-1, *op.out_shapes[0][1:]])]
