"""Fixtures for the download tests: one offline mirror with real weights, a fast-retrying session."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from downloads.session import make_session
from storage.artifacts import ArtifactStore
from zoo_mirror.server import MirrorServer


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    with MirrorServer(host="127.0.0.1", port=0, weights="real",
                      cache_dir=tmp_path_factory.mktemp("mirror-cache")) as server:
        yield server


@pytest.fixture
def faults(mirror: MirrorServer) -> Iterator[MirrorServer]:
    """The mirror, with its fault rules cleared after the test."""
    yield mirror
    mirror.set_faults(None)


@pytest.fixture
def session() -> requests.Session:
    return make_session(backoff_factor=0.05, backoff_jitter=0.05, timeout=(5, 20))


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store")
