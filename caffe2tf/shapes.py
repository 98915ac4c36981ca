"""Caffe's shape rules, one function per layer type.

Each rule takes the V2 LayerParameter and the bottom shapes and returns the top shapes,
computed exactly as Caffe's `Reshape()` does (ceil pooling with the padding clip rule,
dilated and per-axis convolution, Reshape's 0/-1, legacy concat_dim/slice_dim, ...).
A rule raises ShapeRuleError for a net Caffe itself would refuse; `infer_shapes`
turns it into a GraphError naming the layer. Types without a rule (fork layers,
Python layers) give unknown top shapes, and so does everything downstream of them.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from caffe2tf.errors import GraphError
from caffe2tf.ir import Layer, Shape

Rule = Callable[[object, list[Shape], int], list[Shape]]


class ShapeRuleError(ValueError):
    """A layer whose parameters do not fit its bottoms."""


def canonical_axis(axis: int, ndim: int) -> int:
    """Caffe's CanonicalAxisIndex: a negative axis counts from the end."""
    if not -ndim <= axis < ndim:
        raise ShapeRuleError(f"axis {axis} out of range for a {ndim}-D blob")
    return axis % ndim


def _prod(dims: Sequence[int]) -> int:
    return int(math.prod(dims))


def _same(p, bottoms: list[Shape], n_tops: int) -> list[Shape]:
    return [bottoms[0]] * n_tops


def _per_axis(values: Sequence[int], h: int | None, w: int | None, n: int, default: int,
              name: str) -> list[int]:
    if h is not None or w is not None:
        if n != 2:
            raise ShapeRuleError(f"{name}_h/{name}_w need 2 spatial axes, got {n}")
        return [h or 0, w or 0]
    if not values:
        return [default] * n
    if len(values) == 1:
        return [values[0]] * n
    if len(values) != n:
        raise ShapeRuleError(f"{len(values)} values of {name} for {n} spatial axes")
    return list(values)


def conv_geometry(cp, n_spatial: int) -> tuple[list[int], list[int], list[int], list[int]]:
    """kernel, stride, pad, dilation per spatial axis of a ConvolutionParameter."""

    def hw(field: str) -> tuple[int | None, int | None]:
        h, w = f"{field}_h", f"{field}_w"
        return (getattr(cp, h) if cp.HasField(h) else None,
                getattr(cp, w) if cp.HasField(w) else None)

    kernel = _per_axis(cp.kernel_size, *hw("kernel"), n_spatial, 0, "kernel")
    if any(k <= 0 for k in kernel):
        raise ShapeRuleError("kernel size must be given and positive")
    stride = _per_axis(cp.stride, *hw("stride"), n_spatial, 1, "stride")
    pad = _per_axis(cp.pad, *hw("pad"), n_spatial, 0, "pad")
    dilation = _per_axis(cp.dilation, None, None, n_spatial, 1, "dilation")
    return kernel, stride, pad, dilation


def _conv_like(p, bottoms: list[Shape], n_tops: int, *, transposed: bool) -> list[Shape]:
    cp = p.convolution_param
    ndim = len(bottoms[0])
    axis = canonical_axis(cp.axis, ndim)
    n_spatial = ndim - axis - 1
    kernel, stride, pad, dilation = conv_geometry(cp, n_spatial)
    if cp.num_output <= 0:
        raise ShapeRuleError("num_output must be positive")
    channels = bottoms[0][axis]
    if channels % cp.group or cp.num_output % cp.group:
        raise ShapeRuleError(f"channels {channels} / num_output {cp.num_output} "
                             f"not divisible by group {cp.group}")
    spatial = []
    for size, k, s, pd, d in zip(bottoms[0][axis + 1:], kernel, stride, pad, dilation):
        extent = d * (k - 1) + 1
        out = s * (size - 1) + extent - 2 * pd if transposed else (size + 2 * pd - extent) // s + 1
        if out <= 0:
            raise ShapeRuleError(f"output size {out} from input {size}, kernel {k}, stride {s}, pad {pd}")
        spatial.append(out)
    shapes = [tuple(b[:axis]) + (cp.num_output,) + tuple(spatial) for b in bottoms]
    return shapes[:n_tops]


def _convolution(p, bottoms, n_tops):
    return _conv_like(p, bottoms, n_tops, transposed=False)


def _deconvolution(p, bottoms, n_tops):
    return _conv_like(p, bottoms, n_tops, transposed=True)


def pool_geometry(pp, height: int, width: int) -> tuple[tuple[int, int], tuple[int, int],
                                                       tuple[int, int]]:
    """kernel, stride, pad as (h, w) pairs of a PoolingParameter over an H x W plane."""
    if pp.global_pooling:
        return (height, width), (1, 1), (0, 0)
    kernel = ((pp.kernel_h, pp.kernel_w) if pp.HasField("kernel_h") or pp.HasField("kernel_w")
              else (pp.kernel_size, pp.kernel_size))
    stride = ((pp.stride_h, pp.stride_w) if pp.HasField("stride_h") or pp.HasField("stride_w")
              else (pp.stride, pp.stride))
    pad = ((pp.pad_h, pp.pad_w) if pp.HasField("pad_h") or pp.HasField("pad_w")
           else (pp.pad, pp.pad))
    return kernel, stride, pad


def _pooling(p, bottoms, n_tops):
    pp = p.pooling_param
    n, c, h, w = _require_rank(bottoms[0], 4)
    kernel, stride, pad = pool_geometry(pp, h, w)
    if min(kernel) <= 0 or min(stride) <= 0:
        raise ShapeRuleError("pooling kernel and stride must be positive")
    if pp.global_pooling and (any(pad) or max(stride) > 1):
        raise ShapeRuleError("global pooling takes no pad and stride 1")
    if any(pd >= k for pd, k in zip(pad, kernel)):
        raise ShapeRuleError(f"pooling pad {pad} must be smaller than the kernel {kernel}")
    floor = pp.round_mode == type(pp).FLOOR
    out = []
    for size, k, s, pd in zip((h, w), kernel, stride, pad):
        span = size + 2 * pd - k
        o = (span // s if floor else -(-span // s)) + 1
        # Caffe checks both axes as soon as either has padding
        if any(pad) and (o - 1) * s >= size + pd:
            o -= 1  # the last window would start inside the padding
        if o <= 0:
            raise ShapeRuleError(f"pooling output size {o} from input {size}, kernel {k}")
        out.append(o)
    return [(n, c, out[0], out[1])] * min(n_tops, 2)


def _require_rank(shape: Shape, rank: int) -> Shape:
    if len(shape) != rank:
        raise ShapeRuleError(f"needs a {rank}-D bottom, got {len(shape)}-D {shape}")
    return shape


def _inner_product(p, bottoms, n_tops):
    ip = p.inner_product_param
    axis = canonical_axis(ip.axis, len(bottoms[0]))
    return [tuple(bottoms[0][:axis]) + (ip.num_output,)]


def _reshape(p, bottoms, n_tops):
    rp = p.reshape_param
    bottom = bottoms[0]
    ndim = len(bottom)
    start = rp.axis + ndim + 1 if rp.axis < 0 else rp.axis
    if not 0 <= start <= ndim:
        raise ShapeRuleError(f"reshape axis {rp.axis} out of range")
    end = ndim if rp.num_axes == -1 else start + rp.num_axes
    if rp.num_axes < -1 or end > ndim:
        raise ShapeRuleError(f"reshape num_axes {rp.num_axes} out of range")
    dims = list(rp.shape.dim)
    if list(dims).count(-1) > 1:
        raise ShapeRuleError("at most one -1 in reshape_param.shape")
    middle = []
    for i, d in enumerate(dims):
        if d == 0:
            if start + i >= ndim:
                raise ShapeRuleError("reshape dim 0 copies an axis the bottom does not have")
            middle.append(bottom[start + i])
        else:
            middle.append(d)
    out = list(bottom[:start]) + middle + list(bottom[end:])
    if -1 in out:
        known = _prod([d for d in out if d != -1])
        if known == 0 or _prod(bottom) % known:
            raise ShapeRuleError(f"cannot infer -1 reshaping {bottom} to {out}")
        out[out.index(-1)] = _prod(bottom) // known
    if _prod(out) != _prod(bottom):
        raise ShapeRuleError(f"reshape {bottom} -> {tuple(out)} changes the element count")
    return [tuple(out)]


def _flatten(p, bottoms, n_tops):
    fp = p.flatten_param
    bottom = bottoms[0]
    start = canonical_axis(fp.axis, len(bottom))
    end = canonical_axis(fp.end_axis, len(bottom))
    return [tuple(bottom[:start]) + (_prod(bottom[start:end + 1]),) + tuple(bottom[end + 1:])]


def _crop(p, bottoms, n_tops):
    if len(bottoms) != 2:
        raise ShapeRuleError("Crop needs two bottoms")
    cp = p.crop_param
    src, ref = bottoms
    if len(src) != len(ref):
        raise ShapeRuleError(f"Crop bottoms differ in rank: {src} vs {ref}")
    start = canonical_axis(cp.axis, len(src))
    n_crop = len(src) - start
    offsets = list(cp.offset)
    if len(offsets) > 1 and len(offsets) != n_crop:
        raise ShapeRuleError(f"{len(offsets)} crop offsets for {n_crop} cropped axes")
    out = list(src)
    for i in range(start, len(src)):
        off = offsets[0] if len(offsets) == 1 else (offsets[i - start] if offsets else 0)
        if src[i] < ref[i] + off:
            raise ShapeRuleError(f"crop of axis {i} ({ref[i]} at offset {off}) exceeds {src[i]}")
        out[i] = ref[i]
    return [tuple(out)]


def _concat(p, bottoms, n_tops):
    cp = p.concat_param
    ndim = len(bottoms[0])
    axis = canonical_axis(cp.concat_dim if cp.HasField("concat_dim") else cp.axis, ndim)
    for b in bottoms[1:]:
        if len(b) != ndim or any(b[i] != bottoms[0][i] for i in range(ndim) if i != axis):
            raise ShapeRuleError(f"Concat bottoms {bottoms[0]} and {b} differ off axis {axis}")
    out = list(bottoms[0])
    out[axis] = sum(b[axis] for b in bottoms)
    return [tuple(out)]


def _slice(p, bottoms, n_tops):
    sp = p.slice_param
    bottom = bottoms[0]
    axis = canonical_axis(sp.slice_dim if sp.HasField("slice_dim") else sp.axis, len(bottom))
    size = bottom[axis]
    points = list(sp.slice_point)
    if points:
        if len(points) != n_tops - 1:
            raise ShapeRuleError(f"{len(points)} slice points for {n_tops} tops")
        bounds = [0] + points + [size]
        sizes = [b - a for a, b in zip(bounds, bounds[1:])]
        if any(s <= 0 for s in sizes):
            raise ShapeRuleError(f"slice points {points} do not split {size}")
    else:
        if size % n_tops:
            raise ShapeRuleError(f"axis size {size} not divisible into {n_tops} slices")
        sizes = [size // n_tops] * n_tops
    return [tuple(bottom[:axis]) + (s,) + tuple(bottom[axis + 1:]) for s in sizes]


def _eltwise(p, bottoms, n_tops):
    for b in bottoms[1:]:
        if b != bottoms[0]:
            raise ShapeRuleError(f"Eltwise bottoms differ: {bottoms[0]} vs {b}")
    return [bottoms[0]]


def _argmax(p, bottoms, n_tops):
    ap = p.argmax_param
    bottom = bottoms[0]
    if ap.HasField("axis"):
        axis = canonical_axis(ap.axis, len(bottom))
        if ap.top_k > bottom[axis]:
            raise ShapeRuleError(f"top_k {ap.top_k} larger than axis size {bottom[axis]}")
        out = list(bottom)
        out[axis] = ap.top_k
        return [tuple(out)]
    if ap.top_k > _prod(bottom[1:]):
        raise ShapeRuleError(f"top_k {ap.top_k} larger than {_prod(bottom[1:])}")
    out = [1] * max(len(bottom), 3)
    out[0] = bottom[0]
    out[2] = ap.top_k
    if ap.out_max_val:
        out[1] = 2
    return [tuple(out)]


def _softmax(p, bottoms, n_tops):
    canonical_axis(p.softmax_param.axis, len(bottoms[0]))
    return [bottoms[0]]


def _scale_like(param_name: str) -> Rule:
    def rule(p, bottoms, n_tops):
        sp = getattr(p, param_name)
        bottom = bottoms[0]
        axis = canonical_axis(sp.axis, len(bottom)) if bottom else 0
        if len(bottoms) == 2:
            other = bottoms[1]
            if tuple(bottom[axis:axis + len(other)]) != tuple(other):
                raise ShapeRuleError(f"{other} does not match {bottom} from axis {axis}")
        elif sp.num_axes < -1 or (sp.num_axes != -1 and axis + sp.num_axes > len(bottom)):
            raise ShapeRuleError(f"num_axes {sp.num_axes} out of range for {bottom}")
        return [bottom]
    return rule


def _one_per_top(shapes: list[Shape], n_tops: int, what: str) -> list[Shape]:
    """Source layers give one shape per top, or one shape for every top."""
    if len(shapes) == 1:
        shapes = shapes * n_tops
    if len(shapes) != n_tops:
        raise ShapeRuleError(f"{len(shapes)} {what} shapes for {n_tops} tops")
    return shapes


def _input(p, bottoms, n_tops):
    return _one_per_top([tuple(int(d) for d in s.dim) for s in p.input_param.shape], n_tops, "input")


def _dummy_data(p, bottoms, n_tops):
    dp = p.dummy_data_param
    if dp.shape:
        shapes = [tuple(int(d) for d in s.dim) for s in dp.shape]
    else:
        shapes = [tuple(int(v) for v in dims)
                  for dims in zip(dp.num, dp.channels, dp.height, dp.width)]
    return _one_per_top(shapes, n_tops, "dummy data")


def _tile(p, bottoms, n_tops):
    tp = p.tile_param
    axis = canonical_axis(tp.axis, len(bottoms[0]))
    out = list(bottoms[0])
    out[axis] *= tp.tiles
    return [tuple(out)]


def _reduction(p, bottoms, n_tops):
    axis = canonical_axis(p.reduction_param.axis, len(bottoms[0]))
    return [tuple(bottoms[0][:axis])]


def _embed(p, bottoms, n_tops):
    return [tuple(bottoms[0]) + (p.embed_param.num_output,)]


def _recurrent(p, bottoms, n_tops):
    t, n = bottoms[0][:2]
    out = p.recurrent_param.num_output
    return [(t, n, out)] + [(1, n, out)] * (n_tops - 1)  # exposed hidden states


def _parameter(p, bottoms, n_tops):
    return [tuple(int(d) for d in p.parameter_param.shape.dim)]


def _spp(p, bottoms, n_tops):
    n, c, _, _ = _require_rank(bottoms[0], 4)
    bins = sum(4 ** level for level in range(p.spp_param.pyramid_height))
    return [(n, c * bins)]


def _split(p, bottoms, n_tops):
    return [bottoms[0]] * n_tops


_ELEMENTWISE = (
    "AbsVal", "BNLL", "BatchNorm", "Clip", "Dropout", "ELU", "Exp", "LRN", "Log",
    "MVN", "PReLU", "Power", "ReLU", "Sigmoid", "Swish", "TanH", "Threshold",
)

SHAPE_RULES: dict[str, Rule] = {
    **{t: _same for t in _ELEMENTWISE},
    "ArgMax": _argmax,
    "Bias": _scale_like("bias_param"),
    "Concat": _concat,
    "Convolution": _convolution,
    "Crop": _crop,
    "Deconvolution": _deconvolution,
    "DummyData": _dummy_data,
    "Eltwise": _eltwise,
    "Embed": _embed,
    "Flatten": _flatten,
    "InnerProduct": _inner_product,
    "Input": _input,
    "LSTM": _recurrent,
    "Parameter": _parameter,
    "Pooling": _pooling,
    "RNN": _recurrent,
    "Reduction": _reduction,
    "Reshape": _reshape,
    "Scale": _scale_like("scale_param"),
    "Slice": _slice,
    "Softmax": _softmax,
    "SPP": _spp,
    "Split": _split,
    "Tile": _tile,
}


def layer_output_shapes(layer: Layer, bottoms: list[Shape], *, source: str = "") -> list[Shape] | None:
    """Top shapes of one layer; None when its type has no rule. Raises GraphError."""
    rule = SHAPE_RULES.get(layer.type)
    if rule is None:
        return None
    try:
        tops = rule(layer.param, bottoms, len(layer.tops))
    except (ShapeRuleError, IndexError, ZeroDivisionError) as exc:
        raise GraphError(f"{layer.type}: {exc or type(exc).__name__} (bottoms {bottoms})",
                         file=source, layer=layer.name) from None
    if len(tops) < len(layer.tops):
        raise GraphError(f"{layer.type} makes {len(tops)} tops, prototxt names {len(layer.tops)}",
                         file=source, layer=layer.name)
    for shape in tops:
        if any(d <= 0 for d in shape):
            raise GraphError(f"{layer.type}: non-positive output shape {shape}",
                             file=source, layer=layer.name)
    return tops[:len(layer.tops)]


def infer_shapes(inputs: dict[str, Shape], layers: list[Layer], *,
                 source: str = "") -> tuple[dict[str, Shape], list[str]]:
    """Shapes of every blob that can be known, and a warning per layer whose can't."""
    shapes = dict(inputs)
    warnings: list[str] = []
    for layer in layers:
        if any(b not in shapes for b in layer.bottoms):
            continue  # downstream of an unknown shape: stays unknown
        tops = layer_output_shapes(layer, [shapes[b] for b in layer.bottoms], source=source)
        if tops is None:
            warnings.append(f"layer '{layer.name}' ({layer.type}): output shape unknown, "
                            "so are the shapes of every layer after it")
            continue
        shapes.update(zip(layer.tops, tops))
    return shapes, warnings
