"""Fields from Caffe forks: which layer each belongs to, and the few with an exact BVLC
equivalent (a fork's `pooling_param { ceil_mode: false }` is BVLC's `round_mode: FLOOR`).

The parser skips every field the BVLC schema lacks; a skipped field inside a BVLC-typed
layer (DeepLab's `convolution_param.filter_stride`, ParseNet's `pooling_param.bin_size`)
may change what the layer computes, so the Graph lists them per layer instead of
silently converting the layer as if they were absent.
"""
from __future__ import annotations

from caffe2tf.proto import caffe_pb2
from caffe2tf.prototxt import ParsedPrototxt

_TRUE = {"true", "t", "1"}


def foreign_fields_by_layer(parsed: ParsedPrototxt) -> dict[str, dict[str, str | None]]:
    """Caffe layer name -> {field path inside the layer: raw value (None for a block)}."""
    out: dict[str, dict[str, str | None]] = {}
    for skipped in parsed.skipped:
        if skipped.entry is None or skipped.entry[0] not in ("layer", "layers"):
            continue
        kind, index = skipped.entry
        entry = getattr(parsed.net, kind)[index]
        path = skipped.entry_path
        if kind == "layers" and entry.HasField("layer") and path.startswith("layer."):
            name, path = entry.layer.name, path[len("layer."):]  # V0: layers { layer { ... } }
        else:
            name = entry.name
        out.setdefault(name, {})[path] = skipped.value
    return out


def apply_bvlc_equivalents(net: caffe_pb2.NetParameter,
                           foreign: dict[str, dict[str, str | None]]) -> dict[str, list[str]]:
    """Rewrite fork fields that BVLC can express into `net` (V2); return the rest by layer."""
    rest: dict[str, list[str]] = {}
    for layer in net.layer:
        fields = foreign.get(layer.name, {})
        for path, value in fields.items():
            if path == "pooling_param.ceil_mode" and value is not None:
                pp = layer.pooling_param
                pp.round_mode = pp.CEIL if value.lower() in _TRUE else pp.FLOOR
                continue
            rest.setdefault(layer.name, []).append(path)
    return rest
