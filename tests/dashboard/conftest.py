"""Dashboard fixtures: a seeded SQLite catalog (read only by the tests) and an empty one."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_data import populate
from storage.catalog import Catalog


@pytest.fixture(scope="session")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("dashboard-catalog")
    url = f"sqlite:///{folder / 'catalog.sqlite'}"
    with Catalog.open(url) as catalog:
        populate(catalog, folder / "models")
    return url


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A catalog with its tables but no model."""
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    Catalog.open(url).close()
    yield url
