"""The learned blobs Caffe creates for a layer, and their shapes.

Used to check the blobs of a caffemodel against its prototxt and to synthesise weights.
"""
from __future__ import annotations

import math

from caffe2tf.ir import Layer, Shape
from caffe2tf.shapes import canonical_axis, conv_geometry


def expected_param_shapes(layer: Layer, bottom_shapes: list[Shape]) -> list[Shape]:
    """Shapes of `layer`'s learned blobs in Caffe's layout, given its bottoms' shapes."""
    p = layer.param
    kind = layer.type
    if kind in ("Convolution", "Deconvolution"):
        cp = p.convolution_param
        bottom = bottom_shapes[0]
        axis = canonical_axis(cp.axis, len(bottom))
        channels = bottom[axis]
        kernel = conv_geometry(cp, len(bottom) - axis - 1)[0]
        if kind == "Convolution":
            weight = (cp.num_output, channels // cp.group, *kernel)
        else:
            weight = (channels, cp.num_output // cp.group, *kernel)
        return [weight, (cp.num_output,)] if cp.bias_term else [weight]
    if kind == "InnerProduct":
        ip = p.inner_product_param
        bottom = bottom_shapes[0]
        k = math.prod(bottom[canonical_axis(ip.axis, len(bottom)):])
        weight = (k, ip.num_output) if ip.transpose else (ip.num_output, k)
        return [weight, (ip.num_output,)] if ip.bias_term else [weight]
    if kind == "BatchNorm":
        channels = bottom_shapes[0][1] if len(bottom_shapes[0]) > 1 else 1
        return [(channels,), (channels,), (1,)]
    if kind in ("Scale", "Bias"):
        sp = p.scale_param if kind == "Scale" else p.bias_param
        if len(bottom_shapes) > 1:  # the second bottom is the multiplier (or the bias)
            return [tuple(bottom_shapes[1])] if kind == "Scale" and sp.bias_term else []
        bottom = bottom_shapes[0]
        axis = canonical_axis(sp.axis, len(bottom)) if bottom else 0
        end = len(bottom) if sp.num_axes == -1 else axis + sp.num_axes
        shape = tuple(bottom[axis:end])
        if kind == "Bias" or not sp.bias_term:
            return [shape]
        return [shape, shape]
    if kind == "PReLU":
        if p.prelu_param.channel_shared:
            return [()]  # Caffe makes a 0-d blob for one shared slope
        return [(bottom_shapes[0][1],)]
    if kind == "Embed":
        ep = p.embed_param
        weight = (ep.input_dim, ep.num_output)
        return [weight, (ep.num_output,)] if ep.bias_term else [weight]
    if kind == "Parameter":
        return [tuple(int(d) for d in p.parameter_param.shape.dim)]
    return []

