"""Convolution, Deconvolution and InnerProduct."""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from caffe2tf.emit.registry import Op, converter
from caffe2tf.shapes import conv_geometry


def _geometry(op: Op):
    return conv_geometry(op.param.convolution_param, 2)


def _check_conv(op: Op) -> str | None:
    if op.param.convolution_param.axis % 4 != 1:
        return "channel axis other than 1"
    return None


def _dilate(kernel: np.ndarray, dilation: list[int]) -> np.ndarray:
    """An HW.. kernel with (d-1) zeros between taps: dilation baked into the weights."""
    if dilation == [1, 1]:
        return kernel
    kh, kw = kernel.shape[:2]
    out = np.zeros(((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1, *kernel.shape[2:]),
                   dtype=kernel.dtype)
    out[::dilation[0], ::dilation[1]] = kernel
    return out


def _prepare_conv(op: Op, blobs: list[np.ndarray]) -> list[np.ndarray]:
    kernel, stride, _, dilation = _geometry(op)
    cp = op.param.convolution_param
    weight = blobs[0].reshape(cp.num_output, -1, *kernel)
    if _depthwise(op):
        hwio = weight.transpose(2, 3, 0, 1)  # (kh, kw, C, 1)
    else:
        hwio = weight.transpose(2, 3, 1, 0)  # (kh, kw, C/group, O)
    if _bakes_dilation(op):
        hwio = _dilate(hwio, dilation)
    out = [np.ascontiguousarray(hwio)]
    if cp.bias_term:
        out.append(blobs[1].reshape(-1))
    return out


def _bakes_dilation(op: Op) -> bool:
    """Dilation goes into the kernel where TF's CPU kernels lack strided or grouped dilation."""
    _, stride, _, dilation = _geometry(op)
    return dilation != [1, 1] and (stride != [1, 1] or op.param.convolution_param.group > 1)


def _depthwise(op: Op) -> bool:
    cp = op.param.convolution_param
    channels = op.in_shapes[0][1]
    return cp.group > 1 and cp.group == channels == cp.num_output


@converter("Convolution", layout="nhwc", weights=_prepare_conv, check=_check_conv, tf_ops=("Conv2D", "BiasAdd"))
def convolution(op: Op, inputs):
    _, stride, pad, dilation = _geometry(op)
    cp = op.param.convolution_param
    kernel = op.weights[0]
    rates = [1, 1] if _bakes_dilation(op) else dilation
    padding = [[0, 0], [pad[0], pad[0]], [pad[1], pad[1]], [0, 0]]
    strides = [1, stride[0], stride[1], 1]
    outs = []
    for x in inputs:
        if _depthwise(op):
            if pad != [0, 0]:
                x = tf.pad(x, padding)
            y = tf.nn.depthwise_conv2d(x, kernel, strides, "VALID", dilations=rates)
        elif cp.group > 1:
            # One conv per group: TF's native grouped conv2d fails at run time under the
            # Eigen fused-conv kernel (TF_ENABLE_ONEDNN_OPTS=0, or a build without oneDNN).
            ys = [tf.nn.conv2d(xg, kg, strides, padding, dilations=[1, *rates, 1])
                  for xg, kg in zip(tf.split(x, cp.group, axis=3),
                                    tf.split(kernel, cp.group, axis=3))]
            y = tf.concat(ys, axis=3)
        else:
            y = tf.nn.conv2d(x, kernel, strides, padding, dilations=[1, *rates, 1])
        if cp.bias_term:
            y = tf.nn.bias_add(y, op.weights[1])
        outs.append(y)
    return outs


def _prepare_deconv(op: Op, blobs: list[np.ndarray]) -> list[np.ndarray]:
    kernel, _, _, dilation = _geometry(op)
    cp = op.param.convolution_param
    channels = op.in_shapes[0][1]
    weight = blobs[0].reshape(channels, cp.num_output // cp.group, *kernel)
    # conv2d_transpose wants (kh, kw, out, in) per group; groups are stacked on `in`
    hwoi = _dilate(weight.transpose(2, 3, 1, 0), dilation)
    out = [np.ascontiguousarray(hwoi)]
    if cp.bias_term:
        out.append(blobs[1].reshape(-1))
    return out


@converter("Deconvolution", layout="nhwc", weights=_prepare_deconv, check=_check_conv,
           tf_ops=("Conv2DBackpropInput", "StridedSlice", "BiasAdd"))
def deconvolution(op: Op, inputs):
    _, stride, pad, _ = _geometry(op)
    cp = op.param.convolution_param
    kernel = op.weights[0]
    kh, kw = kernel.shape[:2]
    group = cp.group
    per_group_out = cp.num_output // group
    outs = []
    for x, in_shape, shape in zip(inputs, op.in_shapes, op.out_shapes):
        h, w = in_shape[2], in_shape[3]
        full_h, full_w = stride[0] * (h - 1) + kh, stride[1] * (w - 1) + kw
        batch = tf.shape(x)[0]
        xs = tf.split(x, group, axis=3) if group > 1 else [x]
        ks = tf.split(kernel, group, axis=3) if group > 1 else [kernel]
        ys = [tf.nn.conv2d_transpose(xg, kg, tf.stack([batch, full_h, full_w, per_group_out]),
                                     [1, stride[0], stride[1], 1], "VALID")
              for xg, kg in zip(xs, ks)]
        y = tf.concat(ys, axis=3) if group > 1 else ys[0]
        y = y[:, pad[0]:pad[0] + shape[2], pad[1]:pad[1] + shape[3], :]
        if cp.bias_term:
            y = tf.nn.bias_add(y, op.weights[1])
        outs.append(y)
    return outs


def _prepare_inner_product(op: Op, blobs: list[np.ndarray]) -> list[np.ndarray]:
    ip = op.param.inner_product_param
    shape = op.in_shapes[0]
    k = math.prod(shape[ip.axis % len(shape):])
    # old models store a 4-D (1, 1, out, K) blob: a view, never a copy
    weight = blobs[0].reshape((k, ip.num_output) if ip.transpose else (ip.num_output, k))
    out = [weight]
    if ip.bias_term:
        out.append(blobs[1].reshape(-1))
    return out


@converter("InnerProduct", layout="caffe", weights=_prepare_inner_product,
           tf_ops=("Reshape", "MatMul", "BiasAdd"))
def inner_product(op: Op, inputs):
    ip = op.param.inner_product_param
    (x,) = inputs
    shape = op.in_shapes[0]
    axis = ip.axis % len(shape)
    k = math.prod(shape[axis:])
    lead = [tf.shape(x)[0], *shape[1:axis]] if axis > 0 else []
    # Caffe's (out, K) weight is used as stored (transpose_b): no copy of a 400 MB fc6
    y = tf.matmul(tf.reshape(x, [-1, k]), op.weights[0], transpose_b=not ip.transpose)
    if ip.bias_term:
        y = tf.nn.bias_add(y, op.weights[1])
    if axis == 0:
        return [tf.reshape(y, [ip.num_output])]
    if axis == 1:
        return [y]
    return [tf.reshape(y, tf.stack([*lead, ip.num_output]))]
