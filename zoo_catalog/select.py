"""Pick a model's files among a gist's (or repository folder's): deploy net, mean, labels, weights.

Deploy nets are named every which way in the zoo: deploy.prototxt, VGG_CNN_S_deploy.prototxt,
deploy_places205.protxt, deploy.txt. When a gist holds only a training net (train_val.prototxt,
val.prototxt) that is used instead and flagged `is_train_val`, so the converter knows to
strip data and loss layers.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from zoo_catalog.records import DeployNet, FileRef

_NET_SUFFIXES = (".prototxt", ".protxt", ".pbtxt")
_TRAINING_WORDS = {"train", "val", "trainval", "test", "solver"}
_LABEL_WORDS = re.compile(r"synset|label|categor|classes|legend|words|names", re.IGNORECASE)
_WEIGHT_SUFFIXES = (".caffemodel", ".caffemodel.h5")


def _words(name: str) -> set[str]:
    stem = PurePosixPath(name).name.lower()
    for suffix in (*_NET_SUFFIXES, *_WEIGHT_SUFFIXES, ".txt"):
        stem = stem.removesuffix(suffix)
    return {w for w in re.split(r"[^a-z0-9]+", stem) if w}


def is_net_file(name: str) -> bool:
    lower = name.lower()
    if "solver" in lower:
        return False
    return lower.endswith(_NET_SUFFIXES) or (lower.startswith("deploy") and lower.endswith(".txt"))


def choose_deploy(files: Sequence[FileRef], hint: str | None = None) -> DeployNet | None:
    """The deploy net; `hint` (e.g. the caffemodel name) picks among several (deploy_age/gender)."""
    hint_words = _words(hint) - {"net", "model", "caffemodel"} if hint else set()

    def rank(ref: FileRef) -> tuple[int, int, int, str]:
        words = _words(ref.name)
        if "deploy" in words or any(w.startswith("deploy") for w in words):
            kind = 0
        elif words & _TRAINING_WORDS:
            kind = 2
        else:
            kind = 1
        return kind, -len(words & hint_words), len(ref.name), ref.name

    nets = sorted((f for f in files if is_net_file(f.name)), key=rank)
    if not nets:
        return None
    best = nets[0]
    return DeployNet(name=best.name, url=best.url, is_train_val=rank(best)[0] == 2)


def choose_mean(files: Sequence[FileRef]) -> FileRef | None:
    means = [f for f in files if f.name.lower().endswith(".binaryproto")]
    means += [f for f in files if f.name.lower().endswith(".npy") and "mean" in f.name.lower()]
    return means[0] if means else None


def choose_labels(files: Sequence[FileRef]) -> FileRef | None:
    for ref in files:
        lower = ref.name.lower()
        if lower.endswith((".txt", ".csv", ".tsv")) and not is_net_file(ref.name) \
                and _LABEL_WORDS.search(lower):
            return ref
    return None


def extra_weights(files: Sequence[FileRef], primary: str | None) -> tuple[FileRef, ...]:
    """Weight files shipped in the gist itself, other than the readme's own caffemodel."""
    return tuple(f for f in files if f.name.lower().endswith(_WEIGHT_SUFFIXES)
                 and PurePosixPath(f.name).name != PurePosixPath(primary or "").name)
