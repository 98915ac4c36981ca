"""Convert a Caffe net into a TensorFlow SavedModel, a Keras model and a conversion report.

    result = convert("deploy.prototxt", "weights.caffemodel", "out/")

writes out/saved_model/, out/model.keras and out/conversion.json. Imports TensorFlow.
"""
from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from caffe2tf.emit import SUPPORTED_TYPES, build_model, unsupported_layers
from caffe2tf.emit.model import BuiltModel
from caffe2tf.emit.saved_model import SignatureTensor, export_saved_model, signature_tensors
from caffe2tf.errors import UnsupportedLayers, WeightMismatch
from caffe2tf.ir import Graph, Shape

__all__ = ["ConversionResult", "SUPPORTED_TYPES", "build_model", "convert", "check_supported"]


@dataclass(frozen=True)
class ConversionResult:
    outdir: Path
    saved_model: Path
    keras_model: Path
    report: Path  # conversion.json
    io_layout: str
    inputs: tuple[SignatureTensor, ...]
    outputs: tuple[SignatureTensor, ...]
    timings: Mapping[str, float]  # seconds per stage
    warnings: tuple[str, ...]
    layer_types: Mapping[str, int]
    param_count: int


def check_supported(graph: Graph) -> None:
    """Raise UnsupportedLayers listing every layer type of the net that cannot be emitted."""
    unsupported = unsupported_layers(graph)
    if unsupported:
        raise UnsupportedLayers(unsupported, file=graph.source)


def convert(prototxt: str | os.PathLike, caffemodel: str | os.PathLike | None = None,
            outdir: str | os.PathLike = "converted", *, io_layout: str = "nhwc",
            outputs: Sequence[str] | None = None,
            input_shapes: Mapping[str, Shape] | None = None,
            jit_compile: bool = False) -> ConversionResult:
    """Convert one net. Raises the caffe2tf errors (ParseError, GraphError, WeightMismatch,
    UnsupportedLayers), each naming the file and layer."""
    from caffe2tf.attach import attach_weights
    from caffe2tf.net import load_net

    timings: dict[str, float] = {}
    start = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    graph = load_net(prototxt, input_shapes=input_shapes)
    check_supported(graph)  # before the weights: a net we cannot convert needs no caffemodel
    if caffemodel is not None:
        attach_weights(graph, caffemodel)
    lap("read")
    if caffemodel is None and (learners := _learners(graph)):
        raise WeightMismatch(f"no caffemodel given, but {len(learners)} layers have "
                             f"parameters: {', '.join(learners[:5])}", file=str(prototxt))
    built = build_model(graph, io_layout=io_layout, outputs=outputs)
    param_count = graph.param_count()
    for layer in graph.layers:
        layer.blobs = []  # the model holds its own copies: let the caffemodel's mapping go
    lap("build")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    keras_path = out / "model.keras"
    built.model.save(keras_path)
    lap("save_keras")
    saved = export_saved_model(built, out / "saved_model", jit_compile=jit_compile)
    lap("save_saved_model")
    timings["total"] = round(time.perf_counter() - start, 4)
    ins, outs = signature_tensors(built)
    result = ConversionResult(
        outdir=out, saved_model=saved, keras_model=keras_path, report=out / "conversion.json",
        io_layout=io_layout, inputs=tuple(ins), outputs=tuple(outs), timings=timings,
        warnings=tuple(graph.warnings), layer_types=dict(Counter(l.type for l in graph.layers)),
        param_count=param_count)
    _write_report(result, graph, built, prototxt, caffemodel)
    return result


def _learners(graph: Graph) -> list[str]:
    """Layers that need learned blobs (checked when no caffemodel is given)."""
    from caffe2tf.params import expected_param_shapes

    return [layer.name for layer in graph.layers
            if all(b in graph.shapes for b in layer.bottoms)
            and expected_param_shapes(layer, [graph.shapes[b] for b in layer.bottoms])]


def _write_report(result: ConversionResult, graph: Graph, built: BuiltModel, prototxt,
                  caffemodel) -> None:
    import keras
    import numpy as np
    import tensorflow as tf

    from zoo2tf import __version__

    report = {
        "source": {"prototxt": str(prototxt), "caffemodel": None if caffemodel is None else str(caffemodel),
                   "format_version": graph.format_version, "net_name": graph.name},
        "io_layout": result.io_layout,
        "inputs": [asdict(t) for t in result.inputs],
        "outputs": [asdict(t) for t in result.outputs],
        "signature": "serving_default",
        "layers": [asdict(r) for r in built.layers],
        "dropped_layers": built.dropped,
        "passes": built.notes,
        "warnings": list(result.warnings),
        "layer_types": result.layer_types,
        "param_count": result.param_count,
        "timings_s": dict(result.timings),
        "preprocessing": asdict(graph.preprocessing) if graph.preprocessing else None,
        "versions": {"zoo2tf": __version__, "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    result.report.write_text(json.dumps(report, indent=1, default=list) + "\n")
