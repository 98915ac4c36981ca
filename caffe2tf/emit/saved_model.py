"""SavedModel export with a `serving_default` signature keyed by Caffe blob names.

The SavedModel holds only traced TensorFlow graphs and variables, so plain
`tf.saved_model.load` works where caffe2tf is not installed.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from caffe2tf.emit.model import BuiltModel
from caffe2tf.errors import GraphError


@dataclass(frozen=True)
class SignatureTensor:
    blob: str  # Caffe blob name
    key: str  # signature key
    shape: tuple[int | None, ...]  # as the signature takes/returns it (batch None)
    layout: str  # "NHWC", "NCHW" or "Caffe" (other ranks)


def output_key(blob: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", blob)


def input_key(blob: str) -> str:
    """Signature inputs are function arguments: TF allows only Python identifiers there."""
    key = re.sub(r"\W", "_", blob, flags=re.ASCII)
    if not key or key[0].isdigit() or keyword.iskeyword(key):
        key = f"_{key}"
    return key


def _describe(built: BuiltModel, blob: str, tensor, key: str) -> SignatureTensor:
    shape = (None, *tensor.shape[1:])
    if len(shape) != 4:
        layout = "Caffe"
    else:
        layout = "NHWC" if built.io_layout == "nhwc" else "NCHW"
    return SignatureTensor(blob, key, tuple(shape), layout)


def signature_tensors(built: BuiltModel) -> tuple[list[SignatureTensor], list[SignatureTensor]]:
    model = built.model
    ins = [_describe(built, name, model.input[name], input_key(name)) for name in built.inputs]
    outs = [_describe(built, name, model.output[name], output_key(name)) for name in built.outputs]
    for kind, records in (("input", ins), ("output", outs)):
        keys = [r.key for r in records]
        clash = sorted({k for k in keys if keys.count(k) > 1})
        if clash:
            raise GraphError(f"{kind} blobs map to the same signature key: {', '.join(clash)}")
    return ins, outs


def serving_function(built: BuiltModel, *, jit_compile: bool = False):
    """The tf.function behind `serving_default` (also handy to time the exported graph)."""
    ins, outs = signature_tensors(built)
    model = built.model
    specs = [tf.TensorSpec(r.shape, tf.float32, name=r.key) for r in ins]

    @tf.function(input_signature=specs, jit_compile=jit_compile, autograph=False)
    def serve(*tensors):
        result = model({r.blob: t for r, t in zip(ins, tensors)}, training=False)
        return {r.key: result[r.blob] for r in outs}

    return serve


def export_saved_model(built: BuiltModel, path: str | Path, *, jit_compile: bool = False) -> Path:
    path = Path(path)
    holder = tf.Module()
    holder.variables_ = list(built.model.weights)  # the only state the graph needs
    serve = serving_function(built, jit_compile=jit_compile)
    holder.serve = serve
    tf.saved_model.save(holder, str(path),
                        signatures={"serving_default": serve.get_concrete_function()})
    return path
