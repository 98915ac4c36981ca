"""Seeded random weights for any net the reader understands, scaled to keep activations O(1).

The point is to exercise every zoo architecture without its real weights, so outputs
must be numerically meaningful in float32 even 150 layers deep (ResNet-152).
The mean and second moment of every blob are estimated layer by layer (net inputs:
mean 0, E[x^2] = 1, so an O(1) input is assumed). Convolutions and inner products use
He scaling from their fan-in divided by their input's RMS, and each BatchNorm's
stored statistics are set from the estimate, so that it renormalises its input to
about unit scale as a trained one would. The estimate has to be unbiased: every
BatchNorm trusts it, so a bias of a few percent per layer (ReLU after a residual sum
keeps far more than half of a mostly positive input; max pooling multiplies E[x^2]
by about 5) would compound to an overflow by the end of a deep net.

Every layer draws from its own generator, seeded from (seed, layer name), so a
layer's weights do not depend on the layers before it.
"""
from __future__ import annotations

import functools
import math
import os
import warnings
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from caffe2tf.caffemodel import write_caffemodel
from caffe2tf.errors import GraphError
from caffe2tf.ir import Graph, Layer, Shape
from caffe2tf.net import load_net
from caffe2tf.params import expected_param_shapes

# Bump whenever the synthesized values change: caches of synthetic weights (the offline
# mirror's) are keyed by it, so stale files from an older synthesizer are never served.
SYNTH_VERSION = 2
_BN_MEAN_STD = 0.1  # stored mean, relative to the input's RMS
_BIAS_STD = 0.1  # biases, relative to the output's RMS
_MAX_POOL_DAMPING = 0.65  # see _pooling


class SynthesisWarning(UserWarning):
    """A layer that got no synthetic weights (unknown type or unknown input shape)."""


def synthesize_weights(graph: Graph, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Layer name -> float32 blobs in Caffe's layout, for every layer that learns any.

    Layers whose parameter shapes cannot be known (fork types, or downstream of an
    unknown shape) are skipped with a SynthesisWarning. `seed` must be non-negative.
    """
    return {name: blobs for name, _, blobs in _synthetic_layers(graph, seed) if blobs}


def write_synthetic_caffemodel(prototxt: str | os.PathLike, out_path: str | os.PathLike,
                               *, seed: int = 0,
                               input_shapes: Mapping[str, Shape] | None = None) -> Path:
    """Write a V2 caffemodel of seeded random weights for `prototxt`; returns its path.

    `input_shapes` overrides or supplies net input shapes (a train_val net's Data layer
    reading an LMDB has none in the prototxt). Layers are generated and written one at a
    time, so memory stays at one layer's size.
    """
    graph = load_net(prototxt, input_shapes=input_shapes)
    out = Path(out_path)
    write_caffemodel(out, graph.name, _synthetic_layers(graph, seed))
    return out


class Moments(NamedTuple):
    """Population mean and second moment E[x^2] of a blob's values."""

    mean: float
    sq: float

    @property
    def var(self) -> float:
        return max(self.sq - self.mean ** 2, 1e-6 * self.sq)


_UNIT = Moments(0.0, 1.0)


def _synthetic_layers(graph: Graph, seed: int) -> Iterator[tuple[str, str, list[np.ndarray]]]:
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    moments: dict[str, Moments] = {blob: _UNIT for blob in graph.inputs}
    for kind, names in graph.unknown_types.items():
        _warn(graph, f"layers of unknown type '{kind}' ({', '.join(names)}) get no weights: "
                     "their parameter shapes are unknown")
    unknown = {name for names in graph.unknown_types.values() for name in names}
    for layer in graph.layers:
        ins = [moments.get(b, _UNIT) for b in layer.bottoms]
        bottom_shapes = [graph.shapes.get(b) for b in layer.bottoms]
        shapes: list[Shape] = []
        if layer.name in unknown:
            pass
        elif any(s is None for s in bottom_shapes):
            if _learns(layer):
                missing = next(b for b, s in zip(layer.bottoms, bottom_shapes) if s is None)
                _warn(graph, f"layer '{layer.name}' ({layer.type}) gets no weights: the shape "
                             f"of its input '{graph.blob_names.get(missing, missing)}' is unknown")
        else:
            try:
                shapes = expected_param_shapes(layer, bottom_shapes)
            except ValueError as exc:
                raise GraphError(str(exc), file=graph.source, layer=layer.name) from None
        rng = np.random.default_rng([seed, zlib.crc32(layer.name.encode())])
        filler = _FILLERS.get(layer.type)
        if filler is not None and shapes:
            blobs, out = filler(layer, shapes, ins, graph, rng)
        else:
            blobs = [_normal(rng, s, 1.0 / math.sqrt(_fan_in(s))) for s in shapes]
            out = _through(layer, ins, bottom_shapes)
        if not (math.isfinite(out.mean) and math.isfinite(out.sq) and out.sq > 0):
            out = _UNIT
        moments.update((top, out) for top in layer.tops)
        yield layer.name, layer.type, blobs  # every layer, as Caffe's Net::ToProto writes


def _learns(layer: Layer) -> bool:
    return layer.type in _FILLERS or layer.type in ("Embed", "Parameter")


def _warn(graph: Graph, message: str) -> None:
    warnings.warn(f"{graph.source}: {message}", SynthesisWarning, stacklevel=2)


def _normal(rng: np.random.Generator, shape: Shape, std: float) -> np.ndarray:
    out = rng.standard_normal(shape, dtype=np.float32)
    out *= np.float32(std)
    return out


def _uniform(rng: np.random.Generator, shape: Shape, low: float, high: float) -> np.ndarray:
    return rng.uniform(low, high, shape).astype(np.float32)


def _fan_in(shape: Shape) -> int:
    return max(1, math.prod(shape[1:])) if len(shape) > 1 else 1


def _mean(array: np.ndarray) -> float:
    return float(np.mean(array, dtype=np.float64))


def _mean_square(array: np.ndarray) -> float:
    flat = array.reshape(-1)
    return float(np.dot(flat, flat)) / max(1, flat.size)


# Each filler returns the moments its output will have given the values it drew,
# not the values it meant to draw.

def _weights_and_bias(rng: np.random.Generator, shapes: list[Shape], fan_in: float,
                      x: Moments) -> tuple[list[np.ndarray], Moments]:
    # He scaling, divided by the input's RMS: every output is O(1) whatever came before,
    # as in a trained net, also in nets without BatchNorm (VGG, GoogLeNet).
    fan_in = max(fan_in, 1.0)
    weight = _normal(rng, shapes[0], math.sqrt(2.0 / (fan_in * x.sq)))
    mean = x.mean * fan_in * _mean(weight)
    sq = x.sq * fan_in * _mean_square(weight)
    blobs = [weight]
    if len(shapes) > 1:
        bias = _normal(rng, shapes[1], _BIAS_STD * math.sqrt(sq))
        blobs.append(bias)
        mean += _mean(bias)
        sq += _mean_square(bias)
    return blobs, Moments(mean, sq)


def _convolution(layer, shapes, ins, graph, rng):
    return _weights_and_bias(rng, shapes, _fan_in(shapes[0]), ins[0])


def _deconvolution(layer, shapes, ins, graph, rng):
    # Each output sums over (channels/group) * kernel inputs, thinned by the stride:
    # the spatial size ratio of bottom to top measures that thinning exactly on average.
    weight = shapes[0]
    group = max(1, layer.param.convolution_param.group)
    top = graph.shapes.get(layer.tops[0])
    bottom = graph.shapes[layer.bottoms[0]]
    ratio = math.prod(bottom[2:]) / math.prod(top[2:]) if top and len(top) > 2 else 1.0
    fan_in = weight[0] / group * math.prod(weight[2:]) * ratio
    return _weights_and_bias(rng, shapes, fan_in, ins[0])


def _inner_product(layer, shapes, ins, graph, rng):
    weight = shapes[0]
    fan_in = weight[0] if layer.param.inner_product_param.transpose else weight[1]
    return _weights_and_bias(rng, shapes, fan_in, ins[0])


def _batch_norm(layer, shapes, ins, graph, rng):
    # Stored as running sums divided by the scale factor (blob 2), which is 1 here.
    x = ins[0]
    mean = _normal(rng, shapes[0], _BN_MEAN_STD * math.sqrt(x.var))
    mean += np.float32(x.mean)
    variance = _uniform(rng, shapes[1], 0.5 * x.var, 1.5 * x.var)
    inv_std = 1.0 / np.sqrt(variance.astype(np.float64) + layer.param.batch_norm_param.eps)
    centred = x.mean - mean.astype(np.float64)
    out = Moments(float(np.mean(centred * inv_std)),
                  float(np.mean((x.var + centred ** 2) * inv_std ** 2)))
    return [mean, variance, np.ones(shapes[2], np.float32)], out


def _scale(layer, shapes, ins, graph, rng):
    x = ins[0]
    if len(ins) > 1:  # the multiplier is the second bottom; only a bias is learned
        blobs, out = [], Moments(x.mean * ins[1].mean, x.sq * ins[1].sq)
    else:
        gamma = _uniform(rng, shapes[0], 0.8, 1.2)
        blobs, out = [gamma], Moments(x.mean * _mean(gamma), x.sq * _mean_square(gamma))
    if len(shapes) > len(blobs):
        beta = _normal(rng, shapes[len(blobs)], _BIAS_STD * math.sqrt(out.sq))
        blobs.append(beta)
        out = _add_bias(out, beta)
    return blobs, out


def _bias(layer, shapes, ins, graph, rng):
    bias = _normal(rng, shapes[0], _BIAS_STD * math.sqrt(ins[0].sq))
    return [bias], _add_bias(ins[0], bias)


def _add_bias(x: Moments, bias: np.ndarray) -> Moments:
    b = _mean(bias)
    return Moments(x.mean + b, x.sq + 2 * x.mean * b + _mean_square(bias))


def _prelu(layer, shapes, ins, graph, rng):
    slopes = _uniform(rng, shapes[0], 0.1, 0.3)
    return [slopes], _relu(ins[0], _mean(slopes))


_FILLERS = {
    "Convolution": _convolution,
    "Deconvolution": _deconvolution,
    "InnerProduct": _inner_product,
    "BatchNorm": _batch_norm,
    "Scale": _scale,
    "Bias": _bias,
    "PReLU": _prelu,
}


def _relu(x: Moments, slope: float = 0.0) -> Moments:
    """Moments of max(y, 0) + slope * min(y, 0) for y Gaussian with x's moments."""
    std = math.sqrt(x.var)
    a = x.mean / std
    cdf = 0.5 * (1.0 + math.erf(a / math.sqrt(2.0)))
    pdf = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    pos_mean = x.mean * cdf + std * pdf
    pos_sq = x.sq * cdf + x.mean * std * pdf
    return Moments(pos_mean + slope * (x.mean - pos_mean),
                   pos_sq + slope * slope * (x.sq - pos_sq))


def _through(layer: Layer, ins: list[Moments], bottom_shapes: list[Shape | None]) -> Moments:
    """Moments of the output of a layer without learned scaling, from its inputs'."""
    if not ins:
        return _UNIT
    x = ins[0]
    kind = layer.type
    if kind == "ReLU":
        return _relu(x, layer.param.relu_param.negative_slope)
    if kind == "Sigmoid":
        return Moments(0.5, 0.25 + 0.25 * min(x.var, 1.0) / 4)
    if kind == "TanH":
        return Moments(0.0, min(x.sq, 1.0))
    if kind == "Power":
        pp = layer.param.power_param
        if pp.power == 1:
            return Moments(pp.shift + pp.scale * x.mean,
                           pp.scale ** 2 * x.sq + 2 * pp.scale * pp.shift * x.mean + pp.shift ** 2)
    if kind == "Eltwise":
        ep = layer.param.eltwise_param
        if ep.operation == ep.PROD:
            return Moments(math.prod(m.mean for m in ins), math.prod(m.sq for m in ins))
        if ep.operation == ep.MAX:
            return Moments(max(m.mean for m in ins), max(m.sq for m in ins))
        coeffs = list(ep.coeff) or [1.0] * len(ins)
        mean = sum(c * m.mean for c, m in zip(coeffs, ins))
        return Moments(mean, sum(c * c * m.var for c, m in zip(coeffs, ins)) + mean ** 2)
    if kind == "Pooling" and bottom_shapes[0] is not None:
        return _pooling(layer.param.pooling_param, bottom_shapes[0], x)
    if kind == "Concat" and all(s is not None for s in bottom_shapes):
        sizes = [math.prod(s) for s in bottom_shapes]
        total = max(1, sum(sizes))
        return Moments(sum(m.mean * n for m, n in zip(ins, sizes)) / total,
                       sum(m.sq * n for m, n in zip(ins, sizes)) / total)
    return x


def _pooling(pp, bottom: Shape, x: Moments) -> Moments:
    """Moments after a pooling window.

    Max pooling over independent ReLU'd values raises E[x^2] by 3x (2x2) to 5x (3x3),
    which OpenCV measures on AlexNet's first pool. Deeper features are spatially
    correlated and gain less (1.3x to 1.6x for VGG19's 2x2 pools 2 to 5), so the
    independent gain is damped by an exponent that keeps both families within a few x.
    """
    if pp.global_pooling:
        window = math.prod(bottom[2:])
    elif pp.HasField("kernel_h") or pp.HasField("kernel_w"):
        window = max(1, pp.kernel_h) * max(1, pp.kernel_w)
    else:
        window = max(1, pp.kernel_size) ** (len(bottom) - 2)
    if pp.pool == pp.MAX:
        gain = _max_gain(min(window, 4096)) ** _MAX_POOL_DAMPING
        return Moments(x.mean * math.sqrt(gain), x.sq * gain)
    if pp.pool == pp.AVE:
        return Moments(x.mean, x.mean ** 2 + x.var / window)
    return x


@functools.lru_cache(maxsize=None)
def _max_gain(window: int) -> float:
    # E[max(0, Z_1..Z_n)^2] / E[max(0, Z)^2] for iid standard normal Z, by quadrature:
    # max pooling mostly follows a ReLU.
    z = np.linspace(0.0, 12.0, 4001)
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    pdf = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    moment = np.trapezoid(z * z * window * pdf * cdf ** (window - 1), z)
    return float(2.0 * moment)
