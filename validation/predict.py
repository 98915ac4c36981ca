"""Classify images with a converted model, applying the preprocessing recorded for it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from validation.converted import ConvertedModel, ConvertedModelError, read_conversion_report
from validation.metrics import is_classifier_output
from validation.report import ClassGuess, read_report
from validation.samples import InputPreprocessing, class_names, preprocessing_for, read_image


@dataclass(frozen=True)
class Prediction:
    image: str
    output: str  # the Caffe blob the classes come from
    top: tuple[ClassGuess, ...]
    softmax_applied: bool  # the output held scores, not probabilities


def recorded_preprocessing(converted_dir: Path) -> InputPreprocessing:
    """validation.json's preprocessing, else the one derived from the source prototxt."""
    report = read_report(converted_dir)
    if report and report.get("preprocessing"):
        return InputPreprocessing.from_dict(report["preprocessing"])
    from caffe2tf.net import load_net

    source = read_conversion_report(converted_dir)["source"]["prototxt"]
    found = preprocessing_for(load_net(source))
    if found is None:
        raise ConvertedModelError(f"{converted_dir}: the model's input is not an image")
    return found


def caffe_input_shape(signature_input: dict) -> tuple[int, ...]:
    shape = tuple(d if d is not None else 1 for d in signature_input["shape"])
    if signature_input["layout"] == "NHWC":
        return (shape[0], shape[3], shape[1], shape[2])
    return shape


def predict_images(converted_dir: Path, images: Sequence[Path], *, k: int = 5) -> list[Prediction]:
    from validation.validate import top_guesses

    converted_dir = Path(converted_dir)
    preprocessing = recorded_preprocessing(converted_dir)
    model = ConvertedModel(converted_dir)
    if len(model.inputs) != 1:
        raise ConvertedModelError(f"{converted_dir}: predict needs a single-input model")
    blob = model.inputs[0]["blob"]
    input_shape = caffe_input_shape(model.inputs[0])
    predictions = []
    for image in images:
        outputs = model.run({blob: preprocessing.apply(read_image(Path(image)))})
        name, scores = _class_output(outputs, converted_dir)
        vector = scores[0].reshape(-1).astype(np.float64)
        softmax = not is_classifier_output(scores)
        if softmax:
            vector = np.exp(vector - vector.max())
            vector /= vector.sum()
        names = class_names(vector.size, input_shape)
        predictions.append(Prediction(str(image), name, top_guesses(vector, names, k), softmax))
    return predictions


def _class_output(outputs: dict[str, np.ndarray], converted_dir: Path) -> tuple[str, np.ndarray]:
    for name, value in outputs.items():
        if value.ndim >= 2 and int(np.prod(value.shape[2:], dtype=np.int64)) == 1 and value.shape[1] >= 2:
            return name, value
    raise ConvertedModelError(f"{converted_dir}: no output is a class vector "
                              f"(outputs: {', '.join(f'{k} {v.shape}' for k, v in outputs.items())})")
