"""Element-wise layers: activations, Power/Exp/Log/Threshold and Eltwise."""
from __future__ import annotations

import math

import tensorflow as tf

from caffe2tf.emit.registry import Op, converter


@converter("ReLU", tf_ops=("Relu|LeakyRelu",))
def relu(op: Op, inputs):
    slope = op.param.relu_param.negative_slope
    (x,) = inputs
    if slope == 0:
        return [tf.nn.relu(x)]
    return [tf.nn.relu(x) + slope * tf.minimum(x, 0.0)]


@converter("ELU", tf_ops=("Select", "Expm1"))
def elu(op: Op, inputs):
    (x,) = inputs
    alpha = op.param.elu_param.alpha
    return [tf.where(x > 0, x, alpha * tf.math.expm1(tf.minimum(x, 0.0)))]


@converter("Sigmoid", tf_ops=("Sigmoid",))
def sigmoid(op: Op, inputs):
    return [tf.sigmoid(inputs[0])]


@converter("TanH", tf_ops=("Tanh",))
def tanh(op: Op, inputs):
    return [tf.tanh(inputs[0])]


@converter("AbsVal", tf_ops=("Abs",))
def absval(op: Op, inputs):
    return [tf.abs(inputs[0])]


@converter("BNLL", tf_ops=("Softplus",))
def bnll(op: Op, inputs):
    return [tf.nn.softplus(inputs[0])]  # log(1 + e^x) without overflow


@converter("Power", tf_ops=("Mul", "AddV2", "Pow"))
def power(op: Op, inputs):
    pp = op.param.power_param
    (x,) = inputs
    if pp.power == 0:
        return [tf.ones_like(x)]
    y = x
    if pp.scale != 1:
        y = y * pp.scale
    if pp.shift != 0:
        y = y + pp.shift
    if pp.power == 1:
        return [y]
    if pp.power == 2:
        return [tf.square(y)]
    return [tf.pow(y, pp.power)]


def _log_base(base: float) -> float:
    return 1.0 if base == -1 else math.log(base)


@converter("Exp", tf_ops=("Mul", "Exp"))
def exp(op: Op, inputs):
    ep = op.param.exp_param
    log_base = _log_base(ep.base)
    outer = math.exp(ep.shift * log_base)
    y = tf.exp(inputs[0] * (ep.scale * log_base))
    return [y if outer == 1 else y * outer]


@converter("Log", tf_ops=("Mul", "AddV2", "Log"))
def log(op: Op, inputs):
    lp = op.param.log_param
    y = inputs[0]
    if lp.scale != 1:
        y = y * lp.scale
    if lp.shift != 0:
        y = y + lp.shift
    y = tf.math.log(y)
    base = _log_base(lp.base)
    return [y if base == 1 else y / base]


@converter("Threshold", tf_ops=("Greater", "Cast"))
def threshold(op: Op, inputs):
    x = inputs[0]
    return [tf.cast(x > op.param.threshold_param.threshold, x.dtype)]


@converter("Clip", tf_ops=("ClipByValue",))
def clip(op: Op, inputs):
    cp = op.param.clip_param
    return [tf.clip_by_value(inputs[0], cp.min, cp.max)]


@converter("Swish", tf_ops=("Sigmoid", "Mul"))
def swish(op: Op, inputs):
    x = inputs[0]
    return [x * tf.sigmoid(op.param.swish_param.beta * x)]


@converter("Eltwise", tf_ops=("AddN|Mul|Maximum",))
def eltwise(op: Op, inputs):
    ep = op.param.eltwise_param
    kind = type(ep)
    if ep.operation == kind.PROD:
        y = inputs[0]
        for x in inputs[1:]:
            y = y * x
        return [y]
    if ep.operation == kind.MAX:
        y = inputs[0]
        for x in inputs[1:]:
            y = tf.maximum(y, x)
        return [y]
    coeffs = list(ep.coeff) or [1.0] * len(inputs)
    if len(coeffs) != len(inputs):
        raise ValueError(f"Eltwise has {len(coeffs)} coefficients for {len(inputs)} bottoms")
    terms = [x if c == 1 else x * c for x, c in zip(inputs, coeffs)]
    return [tf.add_n(terms) if len(terms) > 1 else terms[0]]
