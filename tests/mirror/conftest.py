"""One real mirror on loopback for the mirror tests, reset to a clean state before each test.

Synthesis is limited to a few small architectures (SMALL_SYNTH) so that the suite stays
fast; the full-catalog weight check lives in test_full_catalog.py behind `-m slow`.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mirror.urls import LENET_URL_PATH, SMALL_SYNTH
from zoo_mirror.server import MirrorServer


@pytest.fixture(scope="session")
def mirror_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mirror-cache")


@pytest.fixture(scope="session")
def running_mirror(mirror_cache: Path) -> Iterator[MirrorServer]:
    with MirrorServer(weights="synth", cache_dir=mirror_cache, synth_only=SMALL_SYNTH,
                      rate_limit=100_000) as server:
        yield server


@pytest.fixture
def mirror(running_mirror: MirrorServer) -> Iterator[MirrorServer]:
    running_mirror.set_faults(None)
    running_mirror.set_wiki_revision("latest")
    yield running_mirror
    running_mirror.set_faults(None)
    running_mirror.set_wiki_revision("latest")


@pytest.fixture
def lenet_url(mirror: MirrorServer) -> str:
    return mirror.base_url + LENET_URL_PATH
