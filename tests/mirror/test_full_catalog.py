"""The whole 2019 catalog with every synthetic weight file (about 9 GB in all).

Each folder is fetched through the API, which synthesizes its weights; each weight file is
then downloaded over HTTP and its sha1 compared with the served readme, and the folder's
cache files are deleted before the next one so that the disk never holds more than one
folder's weights (the emotion gist, 5 x 500 MB, is the largest).

It takes about 110 s on 2 cores (45 s of synthesis, 9 GB written, read back and hashed),
more than the mirror's share of the suite's time, so it runs only when
ZOO2TF_MIRROR_FULL_CATALOG=1; the default suite checks every folder with a few small
synthetic architectures (test_catalog.py::test_served_catalog_in_this_session).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import requests

from tests.mirror.served_catalog import download_sha1, readme_weights
from zoo_mirror.readme_rewrite import mirror_file_url
from zoo_mirror.server import MirrorServer


def _folder_readmes(mirror: MirrorServer) -> list[tuple[str, str]]:
    """(where, served readme text) for every gist and repository folder that has a readme."""
    found = []
    for gist_id, folder in mirror.content.gists.items():
        if folder.readme:
            document = requests.get(f"{mirror.github_api_base}/gists/{gist_id}", timeout=120).json()
            found.append((gist_id, document["files"][folder.readme]["content"]))
    for repo, folders in mirror.content.repos.items():
        for prefix, folder in folders.items():
            if folder.readme:
                path = f"{prefix}/{folder.readme}" if prefix else folder.readme
                found.append((f"{repo}/{path}", requests.get(
                    f"{mirror.base_url}/raw/{repo}/master/{path}", timeout=120).text))
    return found


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("ZOO2TF_MIRROR_FULL_CATALOG") != "1",
                    reason="about 110 s and 9 GB of I/O: set ZOO2TF_MIRROR_FULL_CATALOG=1")
def test_every_available_architecture_gets_weights_matching_its_readme(tmp_path: Path) -> None:
    checked: dict[str, str] = {}
    unavailable: set[str] = set()
    with MirrorServer(weights="synth", cache_dir=tmp_path, rate_limit=100_000) as mirror:
        for where, readme in _folder_readmes(mirror):
            for model in readme_weights(where, readme, mirror.base_url):
                if model.url in checked:
                    assert model.sha1 == checked[model.url], f"{where}: same URL, other sha1"
                    continue
                status, sha1 = download_sha1(model.url)
                if model.synthetic or status == 200:
                    assert (status, sha1) == (200, model.sha1), f"{where}: {model.url}"
                    checked[model.url] = sha1
                else:
                    assert status == 404, model.url
                    unavailable.add(model.url)
            for cached in tmp_path.glob("*.caffemodel"):
                cached.unlink()
        named = {u for u in mirror.weights.sources
                 if any(u.endswith(x.split("/files/", 1)[1]) for x in [*checked, *unavailable])}
        for url in set(mirror.weights.sources) - named:  # linked by the wiki only: no readme sha1
            reply = requests.get(mirror_file_url(mirror.base_url, url), timeout=120)
            assert reply.status_code == 200 and reply.headers["ETag"] == f'"{sha1_of(reply.content)}"'
            checked[url] = sha1_of(reply.content)
        failures = dict(mirror.weights.failures)
    offered = {u for u, s in mirror.weights.sources.items() if s.prototxt or s.real}
    assert len(checked) >= 30
    # Whatever is not served had no prototxt, or synthesis refused it (with a reason on record).
    assert all(any(u.endswith(x.split("/files/", 1)[1]) for x in unavailable) for u in failures)
    assert len(checked) + len(failures) == len(offered)


def sha1_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
