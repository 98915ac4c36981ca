"""Running a converted model folder (conversion.json + saved_model/ + model.keras) on Caffe-layout inputs.

Net outputs come from the SavedModel, the artifact users get. Per-layer values come from the
Keras model in the same folder (its layers are the Caffe layers), so a diagnosis looks at the
emitted weights themselves, not at a fresh conversion of the caffemodel.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from validation.references import LayerOutputs


class ConvertedModelError(ValueError):
    """A converted-model folder that is incomplete or unreadable."""


def read_conversion_report(converted_dir: Path) -> dict:
    path = Path(converted_dir) / "conversion.json"
    if not path.is_file():
        raise ConvertedModelError(f"{converted_dir}: no conversion.json (not a converted-model folder)")
    return json.loads(path.read_text())


def _to_signature(value: np.ndarray, layout: str) -> np.ndarray:
    return value.transpose(0, 2, 3, 1) if layout == "NHWC" else value


def _from_signature(value: np.ndarray, layout: str) -> np.ndarray:
    return value.transpose(0, 3, 1, 2) if layout == "NHWC" else value


class ConvertedModel:
    def __init__(self, converted_dir: Path):
        import tensorflow as tf

        self.dir = Path(converted_dir)
        self.report = read_conversion_report(self.dir)
        self.inputs = self.report["inputs"]  # [{blob, key, shape, layout}]
        self.outputs = self.report["outputs"]
        self.tf_version = tf.__version__
        saved = self.dir / "saved_model"
        if not saved.is_dir():
            raise ConvertedModelError(f"{self.dir}: no saved_model/ folder")
        self._loaded = tf.saved_model.load(str(saved))
        self._serve = self._loaded.signatures[self.report.get("signature", "serving_default")]
        self._keras = None

    @property
    def output_blobs(self) -> list[str]:
        return [o["blob"] for o in self.outputs]

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Caffe input blob -> NCHW array in; Caffe output blob -> array in Caffe's layout out."""
        import tensorflow as tf

        feed = {i["key"]: tf.constant(_to_signature(np.asarray(inputs[i["blob"]], np.float32), i["layout"]))
                for i in self.inputs}
        result = self._serve(**feed)
        return {o["blob"]: _from_signature(result[o["key"]].numpy(), o["layout"]) for o in self.outputs}

    def layer_outputs(self, inputs: Mapping[str, np.ndarray]) -> LayerOutputs:
        """Emitted layer name (a Caffe layer, "bn+scale" for a folded pair, or the Keras name
        where the net repeats a layer name) -> its tops, NCHW."""
        import keras
        from google.protobuf import text_format

        import caffe2tf.emit  # noqa: F401  (registers the custom Keras layers)
        from caffe2tf.emit.keras_layers import CaffeLayer
        from caffe2tf.proto import caffe_pb2

        model = self._keras_model()
        layers = [layer for layer in model.layers if isinstance(layer, CaffeLayer)]
        tensors, owners = [], []
        for layer in layers:
            outs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
            tensors.extend(outs)
            owners.append((layer, len(outs)))
        probe = keras.Model(inputs=model.inputs, outputs=tensors)
        feed = [np.asarray(inputs[i["blob"]], np.float32) for i in self.inputs]
        feed = [_to_signature(v, i["layout"]) for v, i in zip(feed, self.inputs)]
        computed = probe(feed, training=False)
        values = iter(computed if isinstance(computed, (list, tuple)) else [computed])
        names = [text_format.Parse(layer.param_text, caffe_pb2.LayerParameter()).name or layer.name
                 for layer, _ in owners]
        result: LayerOutputs = {}
        for (layer, count), name in zip(owners, names):
            if names.count(name) > 1:
                name = layer.name  # a repeated Caffe name: the Keras name is the unique one
            tops = []
            for shape in layer.out_shapes[:count]:
                value = np.asarray(next(values))
                tops.append(value.transpose(0, 3, 1, 2) if layer.nhwc and len(shape) == 4 else value)
            result[name] = tuple(tops)
        return result

    def _keras_model(self):
        import keras

        if self._keras is None:
            path = self.dir / "model.keras"
            if not path.is_file():
                raise ConvertedModelError(f"{self.dir}: no model.keras (needed for per-layer diagnosis)")
            self._keras = keras.models.load_model(path, compile=False)
        return self._keras
