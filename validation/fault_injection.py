"""A deliberately broken conversion, for testing that validation catches and locates faults.

The weights of one layer are perturbed in a copy of the caffemodel; converting that copy gives
a model that is wrong at exactly that layer while the original caffemodel stays the reference.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from caffe2tf.caffemodel import read_caffemodel, write_caffemodel


def write_perturbed_caffemodel(caffemodel: str | os.PathLike, out: str | os.PathLike, layer: str, *,
                               blob: int = 0, relative: float = 0.5, seed: int = 0) -> Path:
    """Copy `caffemodel` to `out` with blob `blob` of `layer` plus noise of std
    `relative` * that blob's std (at least `relative`, so an all-zero blob changes too)."""
    weights = read_caffemodel(caffemodel)
    if layer not in weights or len(weights[layer]) <= blob:
        raise KeyError(f"{caffemodel}: layer '{layer}' has no blob {blob}")
    rng = np.random.default_rng(seed)

    def layers():
        for name in weights:
            blobs = [np.array(b, np.float32) for b in weights[name]]
            if name == layer:
                target = blobs[blob]
                spread = max(float(target.std()), 1.0) * relative
                blobs[blob] = target + rng.normal(0.0, spread, target.shape).astype(np.float32)
            yield name, weights.layer_type(name), blobs

    write_caffemodel(out, weights.net_name, layers())
    return Path(out)
