"""Weight files the offline mirror serves with real bytes, and a look into a store's complete files."""
from __future__ import annotations

import csv
from pathlib import Path

from storage.artifacts import ArtifactStore
from zoo_mirror import SNAPSHOT_DIR

LENET_PATH = ("/files/github.com/ethereon/caffe-tensorflow/raw/d870c51e8fa3452cb210b378c78be7ba4dcc8cf0"
              "/examples/mnist/lenet_iter_10000.caffemodel")
CIFAR_PATH = ("/files/github.com/ikkiChung/Prediction-Example-With-Caffe/raw/"
              "62b1712cb9c4242ad561cc74b583cc2006a2a8c7/examples/cifar10/cifar10_quick_iter_5000.caffemodel")


def manifest_entry(path: str) -> tuple[int, str]:
    """(size, sha1) of a snapshot file, from MANIFEST.tsv."""
    with open(SNAPSHOT_DIR / "MANIFEST.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["path"] == path:
                return int(row["size"]), row["sha1"]
    raise KeyError(path)


LENET_SIZE, LENET_SHA1 = manifest_entry("weights/lenet_mnist/lenet_iter_10000.caffemodel")
CIFAR_SIZE, CIFAR_SHA1 = manifest_entry("weights/cifar10_quick/cifar10_quick_iter_5000.caffemodel")


def stored_files(store: ArtifactStore) -> list[Path]:
    """Every file under the store's sha256/ tree: what a reader would take as complete."""
    top = store.path_for("0" * 64).parents[2]
    return sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
