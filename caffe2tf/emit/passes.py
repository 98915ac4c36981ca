"""Graph passes run before emission: IR in, IR out, the input graph left untouched.

- `drop_identities`: Dropout (a copy at test time) and Split (a fan-out) emit nothing;
  their tops become aliases of their bottom.
- `fold_batch_norm`: a BatchNorm whose only consumer is a per-channel Scale becomes one
  Scale layer holding the combined multiply-add.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from caffe2tf.emit.normalization import batch_norm_affine
from caffe2tf.ir import Layer
from caffe2tf.proto import caffe_pb2

IDENTITY_TYPES = ("Dropout", "Split")


def drop_identities(layers: list[Layer]) -> tuple[list[Layer], dict[str, str]]:
    """Layers without identities, and each dropped top's source blob."""
    alias: dict[str, str] = {}
    kept = []
    for layer in layers:
        bottoms = [alias.get(b, b) for b in layer.bottoms]
        if layer.type in IDENTITY_TYPES and len(bottoms) == 1:
            alias.update((top, bottoms[0]) for top in layer.tops)
            continue
        kept.append(replace(layer, bottoms=bottoms) if bottoms != layer.bottoms else layer)
    return kept, alias


def _is_channel_scale(layer: Layer, rank: int) -> bool:
    sp = layer.param.scale_param
    return (layer.type == "Scale" and len(layer.bottoms) == 1 and sp.num_axes == 1
            and rank >= 2 and sp.axis % rank == 1)


def fold_batch_norm(layers: list[Layer], shapes: dict[str, tuple[int, ...]],
                    keep: Collection[str]) -> tuple[list[Layer], list[str]]:
    """Layers with BatchNorm+Scale pairs merged, and a note per merge."""
    consumers: dict[str, list[Layer]] = {}
    for layer in layers:
        for b in layer.bottoms:
            consumers.setdefault(b, []).append(layer)
    merged: dict[str, Layer] = {}  # Scale layer name -> merged layer
    dropped: set[str] = set()
    notes = []
    for bn in layers:
        if bn.type != "BatchNorm" or len(bn.tops) != 1 or bn.tops[0] in keep or not bn.blobs:
            continue
        users = consumers.get(bn.tops[0], [])
        if len(users) != 1 or not _is_channel_scale(users[0], len(shapes[bn.tops[0]])):
            continue
        sc = users[0]
        scale, bias = batch_norm_affine(bn.blobs, bn.param.batch_norm_param.eps)
        gamma = sc.blobs[0].reshape(-1)
        beta = sc.blobs[1].reshape(-1) if len(sc.blobs) > 1 else 0.0
        param = caffe_pb2.LayerParameter(name=f"{bn.name}+{sc.name}", type="Scale")
        param.scale_param.axis = 1
        param.scale_param.num_axes = 1
        param.scale_param.bias_term = True
        merged[sc.name] = Layer(param.name, "Scale", list(bn.bottoms), list(sc.tops), param,
                                [scale * gamma, bias * gamma + beta])
        dropped.add(bn.name)
        notes.append(f"folded BatchNorm '{bn.name}' into Scale '{sc.name}'")
    out = [merged.get(layer.name, layer) for layer in layers if layer.name not in dropped]
    return out, notes
