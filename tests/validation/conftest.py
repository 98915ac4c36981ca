"""Fixtures for the validation tests: the real-Caffe venv, real LeNet and CIFAR10-quick, conversions."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from validation.caffe_env import CaffeEnv, CaffeEnvError, ensure_caffe_env, find_python39


@pytest.fixture(scope="session")
def caffe_env() -> CaffeEnv:
    """The real-Caffe venv: ZOO2TF_CAFFE_ENV when set, else created in the session's data dir
    (about 11 s from the local package index here). Skips where no Python 3.9 exists."""
    if find_python39() is None:
        pytest.skip("no Python 3.9 interpreter: real Caffe cannot be installed here")
    try:
        env = ensure_caffe_env()
    except CaffeEnvError as err:
        pytest.skip(f"real-Caffe venv unavailable: {err}")
    os.environ["ZOO2TF_CAFFE_ENV"] = str(env.path)  # the library finds the same venv
    return env


@pytest.fixture(scope="session")
def lenet(snapshot_dir: Path) -> tuple[Path, Path]:
    folder = snapshot_dir / "weights" / "lenet_mnist"
    return folder / "lenet.prototxt", folder / "lenet_iter_10000.caffemodel"


@pytest.fixture(scope="session")
def cifar10_quick(snapshot_dir: Path) -> tuple[Path, Path]:
    return (snapshot_dir / "prototxts" / "cifar10_quick.prototxt",
            snapshot_dir / "weights" / "cifar10_quick" / "cifar10_quick_iter_5000.caffemodel")


@pytest.fixture(scope="session")
def convert_to(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """convert(prototxt, caffemodel, **options) into a fresh folder; returns the folder."""
    from caffe2tf.convert import convert

    def run(prototxt: Path, caffemodel: Path | None, **options) -> Path:
        out = tmp_path_factory.mktemp(Path(prototxt).stem)
        convert(prototxt, caffemodel, out, **options)
        return out

    return run


@pytest.fixture(scope="session")
def converted_lenet(lenet, convert_to) -> Path:
    return convert_to(*lenet)
