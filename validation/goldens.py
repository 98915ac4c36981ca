"""Helpers shared by the golden generator (scripts/make_goldens.py) and the tests that read goldens.

Zoo goldens store no weights: they are re-synthesized (caffe2tf.synth) from the recorded seed,
and `weights_digest` (over layer names and blob values, not file bytes, so a change in how the
caffemodel is serialised does not matter) proves they are the weights Caffe ran.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from caffe2tf.caffemodel import read_caffemodel

GOLDENS_DIR = Path(__file__).resolve().parent.parent / "tests" / "goldens"
# (uint8 - 128) / 64 is exact in float32 and keeps the input O(1), as the synthesized weights
# assume; storing uint8 keeps each golden's input at one byte per value.
ZOO_INPUT_TRANSFORM = "float32(input) / 64 - 2"


def zoo_input(uint8_input: np.ndarray) -> np.ndarray:
    return uint8_input.astype(np.float32) / np.float32(64) - np.float32(2)


def weights_digest(caffemodel: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    weights = read_caffemodel(caffemodel)
    for name in sorted(weights):
        for blob in weights[name]:
            digest.update(name.encode() + b"\0" + str(blob.shape).encode())
            digest.update(np.ascontiguousarray(blob, "<f4").tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ZooGolden:
    name: str
    prototxt: str  # relative to the bundled snapshot
    seed: int
    weights_sha256: str
    input_blob: str
    outputs: dict[str, list[int]]

    @property
    def folder(self) -> Path:
        return GOLDENS_DIR / "zoo" / self.name

    def input(self) -> np.ndarray:
        return zoo_input(np.load(self.folder / "input.npy"))

    def output(self, blob: str) -> np.ndarray:
        return np.load(self.folder / f"output_{blob}.npy")


def load_zoo_golden(name: str) -> ZooGolden:
    data = json.loads((GOLDENS_DIR / "zoo" / name / "golden.json").read_text())
    return ZooGolden(name, data["prototxt"], data["seed"], data["weights_sha256"], data["input_blob"],
                     data["outputs"])
