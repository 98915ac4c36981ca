"""Fixtures for the validation tests: the real-Caffe venv, real LeNet and CIFAR10-quick, conversions."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from validation.caffe_env import CaffeEnv, CaffeEnvError, ensure_caffe_env, find_python39
from validation.goldens import ZooGolden, load_zoo_golden, weights_digest
from zoo2tf.config import PROJECT_ROOT


@pytest.fixture(scope="session")
def caffe_env() -> CaffeEnv:
    """The real-Caffe venv: ZOO2TF_CAFFE_ENV when set, else <project>/data/caffe-py39, created
    on first use (15-100 s here, depending on load) and kept for later sessions: the session's
    temporary data dir would rebuild 320 MB every run. Skips where no Python 3.9 exists."""
    if find_python39() is None:
        pytest.skip("no Python 3.9 interpreter: real Caffe cannot be installed here")
    location = os.environ.get("ZOO2TF_CAFFE_ENV") or str(PROJECT_ROOT / "data" / "caffe-py39")
    try:
        env = ensure_caffe_env(Path(location))
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


def _golden_weights(snapshot_dir: Path, name: str, folder: Path) -> tuple[Path, Path, ZooGolden]:
    """A zoo golden's prototxt and its re-synthesized weights, checked to be the ones Caffe ran."""
    from caffe2tf.synth import write_synthetic_caffemodel

    golden = load_zoo_golden(name)
    prototxt = snapshot_dir / golden.prototxt
    caffemodel = write_synthetic_caffemodel(prototxt, folder / f"{name}.caffemodel", seed=golden.seed)
    assert weights_digest(caffemodel) == golden.weights_sha256, \
        "caffe2tf.synth changed since the goldens were made: rerun scripts/make_goldens.py --zoo"
    return prototxt, caffemodel, golden


@pytest.fixture
def golden_weights(snapshot_dir: Path, tmp_path: Path) -> Callable[[str], tuple[Path, Path, ZooGolden]]:
    """name -> (prototxt, caffemodel, golden) of a zoo golden, weights in the test's tmp_path."""
    return lambda name: _golden_weights(snapshot_dir, name, tmp_path)


@pytest.fixture(scope="module")
def vgg_cnn_f(snapshot_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """VGG_CNN_F with its zoo golden's weights, converted once per module:
    (prototxt, caffemodel, converted dir, golden). Removed afterwards (about 700 MB)."""
    from caffe2tf.convert import convert

    folder = tmp_path_factory.mktemp("vgg_cnn_f")
    prototxt, caffemodel, golden = _golden_weights(snapshot_dir, "vgg_cnn_f", folder)
    convert(prototxt, caffemodel, folder / "converted")
    yield prototxt, caffemodel, folder / "converted", golden
    shutil.rmtree(folder, ignore_errors=True)
