"""Sample inputs for validation, chosen by the model's input signature, and their preprocessing.

3-channel image inputs get the bundled natural images (CIFAR images for 3x32x32), 1x28x28
inputs get the labelled MNIST digits, anything else gets seeded random tensors. How an image
becomes the input blob (channel order, 0..255 range, mean, scale, resize/crop) is an
InputPreprocessing, derived from the net's data layer when it has one, else from the input
shape's conventions; it is recorded with every validation and reused by `zoo2tf predict`.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from caffe2tf.ir import Graph, Preprocessing
from zoo_mirror import SNAPSHOT_DIR

NATURAL_IMAGES = ("cat.jpg", "fish-bike.jpg", "space_shuttle.jpg")
CIFAR_DIR = SNAPSHOT_DIR / "weights" / "cifar10_quick"
MNIST_DIR = SNAPSHOT_DIR / "images" / "mnist"
IMAGENET_MEAN = SNAPSHOT_DIR / "reference" / "ilsvrc_2012_mean.npy"
SYNSET_WORDS = SNAPSHOT_DIR / "labels" / "synset_words.txt"
RANDOM_SAMPLES = 2


@dataclass(frozen=True)
class InputPreprocessing:
    """image (H x W x 3 BGR uint8, or H x W gray) -> one NCHW float32 input blob.

    Order as in Caffe's DataTransformer: resize, center crop, (pixel - mean) * scale.
    """

    channels: int  # 3 (BGR order) or 1 (gray)
    resize: tuple[int, int]  # (height, width) the image is resized to
    crop: tuple[int, int] | None  # centered crop after the resize
    mean_values: tuple[float, ...]  # per channel, in the blob's channel order; () = none
    mean_source: str | None  # where the mean came from
    scale: float
    source: str  # why these settings: the data layer, or the convention assumed for the shape
    notes: tuple[str, ...] = ()

    def apply(self, image: np.ndarray) -> np.ndarray:
        import cv2

        if self.channels == 1 and image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        elif self.channels == 3 and image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        height, width = self.resize
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        if self.crop:
            top, left = (height - self.crop[0]) // 2, (width - self.crop[1]) // 2
            image = image[top:top + self.crop[0], left:left + self.crop[1]]
        blob = image.astype(np.float32)
        blob = blob[None] if blob.ndim == 2 else blob.transpose(2, 0, 1)
        if self.mean_values:
            blob = blob - np.asarray(self.mean_values, np.float32).reshape(-1, 1, 1)
        return (blob * np.float32(self.scale))[None].astype(np.float32)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> InputPreprocessing:
        values = dict(data)
        for key in ("resize", "crop", "mean_values", "notes"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class Sample:
    name: str
    inputs: Mapping[str, np.ndarray] = field(repr=False)  # Caffe input blob -> NCHW float32
    kind: str  # "image", "mnist", "cifar" or "random"
    label: int | None = None  # known class, when the sample has one
    source: str | None = None  # file the sample was made from

    @property
    def natural(self) -> bool:
        return self.kind in ("image", "mnist", "cifar")


def image_input(graph: Graph) -> tuple[str, tuple[int, ...]] | None:
    """The net's single image-like input (N x 1|3 x H x W), or None."""
    candidates = [(name, shape) for name, shape in graph.inputs.items()
                  if len(shape) == 4 and shape[1] in (1, 3) and shape[2] >= 8 and shape[3] >= 8]
    return candidates[0] if len(graph.inputs) == 1 and candidates else None


def preprocessing_for(graph: Graph) -> InputPreprocessing | None:
    """How images become this net's input, or None when its input is not an image."""
    found = image_input(graph)
    if found is None:
        return None
    _, (_, channels, height, width) = found
    declared = graph.preprocessing
    if declared is not None:
        return _from_data_layer(declared, graph, channels, height, width)
    if channels == 1:
        # LeNet's convention: gray 0..255 scaled by 1/256 (its train net's transform scale).
        scale, source = (0.00390625, "convention for 1x28x28 input (MNIST, LeNet: gray / 256)") \
            if (height, width) == (28, 28) else (1.0, "convention for 1-channel input: gray 0..255")
        return InputPreprocessing(1, (height, width), None, (), None, scale, source)
    if (height, width) == (32, 32):
        return InputPreprocessing(3, (32, 32), None, (), None, 1.0,
                                  "convention for 3x32x32 input (CIFAR): BGR 0..255, no mean",
                                  ("the training mean is not published with the model",))
    return InputPreprocessing(3, (height, width), None, imagenet_mean_pixel(), IMAGENET_MEAN.name, 1.0,
                              "convention for 3-channel image input: BGR 0..255 minus the "
                              "ILSVRC-2012 mean pixel")


def _from_data_layer(declared: Preprocessing, graph: Graph, channels: int, height: int,
                     width: int) -> InputPreprocessing:
    notes: list[str] = []
    mean_values: tuple[float, ...] = tuple(declared.mean_values)
    mean_source = "transform_param.mean_value" if mean_values else None
    if declared.mean_file:
        path = Path(declared.mean_file)
        path = path if path.is_absolute() else Path(graph.source).parent / path
        if declared.mean_file_found and path.is_file():
            from caffe2tf.caffemodel import read_blobproto

            mean = read_blobproto(path)
            mean_values = tuple(float(v) for v in mean.reshape(channels, -1).mean(axis=1))
            mean_source = str(declared.mean_file)
            notes.append("mean image reduced to its per-channel mean pixel")
        elif channels == 3 and min(height, width) >= 64:
            mean_values, mean_source = imagenet_mean_pixel(), IMAGENET_MEAN.name
            notes.append(f"mean file '{declared.mean_file}' not available: "
                         "the ILSVRC-2012 mean pixel is used instead")
        else:
            notes.append(f"mean file '{declared.mean_file}' not available: no mean subtracted")
    if len(mean_values) == 1 and channels == 3:
        mean_values = mean_values * 3
    resize, crop = (height, width), None
    if declared.crop_size:
        # Caffe's ImageNet recipe: images stored at 256x256, the crop taken at the centre.
        side = max(256, declared.crop_size)
        resize, crop = (side, side), (declared.crop_size, declared.crop_size)
    return InputPreprocessing(channels, resize, crop, mean_values, mean_source,
                              float(declared.scale) if declared.scale is not None else 1.0,
                              f"data layer '{declared.source_layer}' transform_param", tuple(notes))


def imagenet_mean_pixel() -> tuple[float, float, float]:
    mean = np.load(IMAGENET_MEAN)  # 3 x 256 x 256, BGR
    return tuple(float(v) for v in mean.reshape(3, -1).mean(axis=1))


def read_image(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def choose_samples(graph: Graph, preprocessing: InputPreprocessing | None, *,
                   seed: int = 0) -> list[Sample]:
    """The sample inputs for `graph`, batch 1 each."""
    found = image_input(graph)
    if found is None or preprocessing is None:
        return random_samples(graph, seed=seed)
    name, (_, channels, height, width) = found
    if channels == 1 and (height, width) == (28, 28):
        files = sorted(MNIST_DIR.glob("img_*.png"))
        return [Sample(p.stem, {name: preprocessing.apply(read_image(p))}, "mnist",
                       int(p.stem.split("_")[1]), _relative(p)) for p in files]
    if channels == 3 and (height, width) == (32, 32):
        expected = json.loads((CIFAR_DIR / "expected_predictions.json").read_text())
        return [Sample(Path(item["image"]).stem,
                       {name: preprocessing.apply(read_image(CIFAR_DIR / item["image"]))}, "cifar",
                       int(item["argmax_class"]), _relative(CIFAR_DIR / item["image"]))
                for item in expected["predictions"]]
    images = [SNAPSHOT_DIR / "images" / f for f in NATURAL_IMAGES]
    return [Sample(p.stem, {name: preprocessing.apply(read_image(p))}, "image", None, _relative(p))
            for p in images]


def random_samples(graph: Graph, *, seed: int = 0, count: int = RANDOM_SAMPLES) -> list[Sample]:
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        inputs = {}
        for name, shape in graph.inputs.items():
            batch_one = (1, *shape[1:]) if shape else shape
            inputs[name] = rng.standard_normal(batch_one).astype(np.float32)
        samples.append(Sample(f"random_{seed}_{index}", inputs, "random"))
    return samples


def class_names(num_classes: int, input_shape: tuple[int, ...] | None) -> list[str] | None:
    """Label names for a classifier of `num_classes`, when the input shape tells the dataset."""
    if num_classes == 1000:
        return [line.strip() for line in SYNSET_WORDS.read_text().splitlines() if line.strip()]
    if num_classes == 10 and input_shape is not None and len(input_shape) == 4:
        if tuple(input_shape[1:]) == (1, 28, 28):
            return [str(d) for d in range(10)]
        if tuple(input_shape[1:]) == (3, 32, 32):
            return list(json.loads((CIFAR_DIR / "expected_predictions.json").read_text())["class_names"])
    return None


def _relative(path: Path) -> str:
    return str(path.relative_to(SNAPSHOT_DIR))
