"""Fixtures for the nightly-flow tests: one Prefect test harness, one mirror on loopback
with synthesis limited to a few small architectures, and per-test databases and stores."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from zoo2tf.pipeline.options import RunOptions
from zoo_mirror.server import MirrorServer

LENET = "gist-mirror-lenet-mnist"
CIFAR = "gist-mirror-cifar10-quick"
GENDER = "gist-c9e99062283c719c03de-gender-net"
AGE = "gist-c9e99062283c719c03de-age-net"
PARSENET = "gist-45e9e8de2c13af6476ca"
FLOWERS = "gist-0179e52305ca768a601f"
RESNET = "gh-kaiminghe-deep-residual-networks"

GENDER_URL = "https://dl.dropboxusercontent.com/u/38822310/gender_net.caffemodel"
AGE_URL = "https://dl.dropboxusercontent.com/u/38822310/age_net.caffemodel"
AGE_PATH = "/files/dl.dropboxusercontent.com/u/38822310/age_net.caffemodel"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def flow_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    cache = tmp_path_factory.mktemp("flow-mirror-cache")
    with MirrorServer(weights="synth", cache_dir=cache, synth_only=[GENDER_URL, AGE_URL],
                      rate_limit=100_000) as server:
        yield server


@pytest.fixture
def mirror(flow_mirror: MirrorServer) -> Iterator[MirrorServer]:
    flow_mirror.set_faults(None)
    flow_mirror.set_wiki_revision("latest")
    yield flow_mirror
    flow_mirror.set_faults(None)
    flow_mirror.set_wiki_revision("latest")


def make_options(tmp: Path, mirror: MirrorServer, **overrides) -> RunOptions:
    values = dict(
        db_url=f"sqlite:///{tmp / 'catalog.sqlite'}", store_url=str(tmp / "store"),
        models_dir=str(tmp / "models"), cache_dir=str(tmp / "cache"),
        catalog_url=mirror.catalog_url, github_api_base=mirror.github_api_base,
        workers=2, timeout_s=300.0, memory_cap_mb=6144)
    values.update(overrides)
    return RunOptions(**values)
