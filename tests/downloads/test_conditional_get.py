"""fetch_text revalidates cached catalog files: an unchanged night transfers no body."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from downloads.conditional import ConditionalCache, fetch_text
from downloads.errors import DownloadError
from zoo_mirror.server import CATALOG_PATH, MirrorServer


def test_second_fetch_is_a_304_with_no_body(faults: MirrorServer, tmp_path: Path,
                                           session: requests.Session) -> None:
    cache = ConditionalCache(tmp_path / "http-cache")
    first = fetch_text(faults.catalog_url, session=session, cache=cache)
    assert first.status == 200 and not first.from_cache and first.bytes_received > 10_000
    assert "Model Zoo" in first.text or "model zoo" in first.text.lower()
    assert first.etag and first.last_modified

    again = fetch_text(faults.catalog_url, session=session, cache=ConditionalCache(tmp_path / "http-cache"))
    assert again.status == 304 and again.from_cache and again.bytes_received == 0
    assert again.content == first.content
    assert faults.request_log[-1] == ("GET", CATALOG_PATH, 304)


def test_changed_page_is_downloaded_again(faults: MirrorServer, tmp_path: Path,
                                          session: requests.Session) -> None:
    cache = ConditionalCache(tmp_path / "http-cache")
    older = sorted(faults.content.wiki)[0]
    faults.set_wiki_revision(older)
    try:
        first = fetch_text(faults.catalog_url, session=session, cache=cache)
        faults.set_wiki_revision("latest")
        second = fetch_text(faults.catalog_url, session=session, cache=cache)
    finally:
        faults.set_wiki_revision("latest")
    assert second.status == 200 and second.content != first.content
    assert faults.request_log[-1] == ("GET", CATALOG_PATH, 200)
    assert cache.get(faults.catalog_url).content == second.content


def test_dead_catalog_file_is_a_dead_link(faults: MirrorServer, tmp_path: Path,
                                          session: requests.Session) -> None:
    with pytest.raises(DownloadError) as caught:
        fetch_text(faults.base_url + "/raw/nobody/nothing/master/readme.md", session=session,
                   cache=ConditionalCache(tmp_path))
    assert caught.value.category == "dead link"
