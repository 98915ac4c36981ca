"""Choosing a model's files among a gist's, on the file lists the snapshot's gists really have."""
from __future__ import annotations

import pytest

from zoo_catalog.records import DeployNet, FileRef
from zoo_catalog.select import choose_deploy, choose_labels, choose_mean, extra_weights


def _refs(*names: str) -> list[FileRef]:
    return [FileRef(name, f"http://mirror/{name}") for name in names]


@pytest.mark.parametrize("names, hint, chosen, train_val", [
    (["readme.md", "deploy.prototxt", "train_val.prototxt", "solver.prototxt"], None, "deploy.prototxt", False),
    (["README.md", "deploy_age.prototxt", "deploy_gender.prototxt"], "age_net.caffemodel", "deploy_age.prototxt", False),
    (["README.md", "deploy_age.prototxt", "deploy_gender.prototxt"], "gender_net.caffemodel",
     "deploy_gender.prototxt", False),
    (["README.md", "deploy.txt"], None, "deploy.txt", False),
    (["readme", "deploy_places205.protxt", "train_val_places205.protxt"], None, "deploy_places205.protxt", False),
    (["readme.md", "VGG_CNN_S_deploy.prototxt"], None, "VGG_CNN_S_deploy.prototxt", False),
    (["readme.md", "train_val.prototxt", "solver.prototxt"], None, "train_val.prototxt", True),
    (["readme.md", "val.prototxt"], None, "val.prototxt", True),
    (["readme.md", "s2vt.prototxt", "s2vt_solver.prototxt"], None, "s2vt.prototxt", False),
    (["readme.md", "solver.prototxt", "labels.txt"], None, None, False),
])
def test_choose_deploy(names: list[str], hint: str | None, chosen: str | None, train_val: bool) -> None:
    expected = DeployNet(chosen, f"http://mirror/{chosen}", train_val) if chosen else None
    assert choose_deploy(_refs(*names), hint=hint) == expected


def test_mean_labels_and_extra_weights() -> None:
    files = _refs("readme.md", "deploy.prototxt", "legend.txt", "mean.binaryproto", "net.caffemodel",
                  "other.caffemodel", "categoryIndex_places205.csv")
    assert choose_mean(files) == FileRef("mean.binaryproto", "http://mirror/mean.binaryproto")
    assert choose_labels(files) == FileRef("legend.txt", "http://mirror/legend.txt")
    assert choose_labels(_refs("deploy.txt", "categoryIndex_places205.csv")).name == "categoryIndex_places205.csv"
    assert [f.name for f in extra_weights(files, "net.caffemodel")] == ["other.caffemodel"]
    assert choose_mean(_refs("deploy.prototxt")) is None and choose_labels(_refs("deploy.txt")) is None
