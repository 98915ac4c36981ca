"""The mirror serves the 2019 catalog: gists, repository folders, extras and their weights."""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest
import requests

from tests.mirror.served_catalog import download_sha1, readme_weights, served_models
from tests.mirror.urls import SMALL_SYNTH
from zoo_mirror import SNAPSHOT_DIR
from zoo_mirror.readme_rewrite import mirror_file_url
from zoo_mirror.server import MirrorServer

WIKI_GIST = re.compile(r"gist\.github\.com/([\w-]+)/([0-9a-z-]{16,40})")


def test_every_gist_of_the_snapshot_resolves(mirror: MirrorServer) -> None:
    assert len(mirror.content.gists) >= 28
    for gist_id, folder in mirror.content.gists.items():
        reply = requests.get(f"{mirror.github_api_base}/gists/{gist_id}", timeout=30)
        assert reply.status_code == 200, gist_id
        document = reply.json()
        assert document["id"] == gist_id and document["history"][0]["version"] == folder.version
        assert set(document["files"]) == set(folder.files)
        for name, entry in document["files"].items():
            assert entry["truncated"] is False
            raw = requests.get(entry["raw_url"], timeout=30)
            assert raw.status_code == 200 and raw.text == entry["content"], (gist_id, name)
            assert entry["size"] == len(raw.content)


def test_wiki_gist_links_resolve_when_the_snapshot_holds_them(mirror: MirrorServer) -> None:
    wiki = requests.get(mirror.catalog_url, timeout=10).text
    linked = {gist_id for _, gist_id in WIKI_GIST.findall(wiki)}
    held = linked & set(mirror.content.gists)
    assert {"mirror-lenet-mnist", "mirror-cifar10-quick", "211839e770f7b538e2d8"} <= held
    for gist_id in sorted(linked):
        status = requests.get(f"{mirror.github_api_base}/gists/{gist_id}", timeout=30).status_code
        assert status == (200 if gist_id in held else 404), gist_id


def test_bvlc_models_through_the_contents_api(mirror: MirrorServer) -> None:
    api = f"{mirror.github_api_base}/repos/BVLC/caffe/contents"
    listing = requests.get(f"{api}/models", timeout=10).json()
    names = sorted(entry["name"] for entry in listing)
    assert names == sorted(p.name for p in (SNAPSHOT_DIR / "models/bvlc").iterdir())
    assert {entry["type"] for entry in listing} == {"dir"}
    files = requests.get(f"{api}/models/bvlc_googlenet", timeout=10).json()
    by_name = {entry["name"]: entry for entry in files}
    deploy = (SNAPSHOT_DIR / "models/bvlc/bvlc_googlenet/deploy.prototxt").read_bytes()
    assert requests.get(by_name["deploy.prototxt"]["download_url"], timeout=10).content == deploy
    single = requests.get(f"{api}/models/bvlc_googlenet/deploy.prototxt", timeout=10).json()
    assert base64.b64decode(single["content"]) == deploy and single["sha"] == by_name["deploy.prototxt"]["sha"]
    assert requests.get(f"{api}/models/no_such_model", timeout=10).status_code == 404


def test_readme_weight_urls_move_onto_the_mirror(mirror: MirrorServer) -> None:
    document = requests.get(f"{mirror.github_api_base}/gists/211839e770f7b538e2d8", timeout=10).json()
    readme = document["files"]["readme.md"]["content"]
    original = "http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel"
    assert f"caffemodel_url: {mirror_file_url(mirror.base_url, original)}" in readme
    assert original not in readme


def test_synthetic_weights_match_the_served_sha1(mirror: MirrorServer) -> None:
    cars = requests.get(f"{mirror.github_api_base}/gists/b90eb88e31cd745525ae", timeout=60).json()
    assert cars["zoo2tf_mirror"] == {"synthetic_weights": True}
    ages = requests.get(f"{mirror.github_api_base}/gists/c9e99062283c719c03de", timeout=60).json()
    models = (readme_weights("cars", cars["files"]["readme.md"]["content"], mirror.base_url)
              + readme_weights("ages", ages["files"]["README.md"]["content"], mirror.base_url))
    assert len(models) == 3 and all(m.synthetic and m.sha1 for m in models)
    assert len({m.sha1 for m in models}) == 3, "each URL gets its own seed"
    for model in models:
        assert download_sha1(model.url) == (200, model.sha1), model.url


def test_real_extras_match_their_sha1(mirror: MirrorServer) -> None:
    for gist_id in ("mirror-lenet-mnist", "mirror-cifar10-quick"):
        document = requests.get(f"{mirror.github_api_base}/gists/{gist_id}", timeout=10).json()
        assert "zoo2tf_mirror" not in document
        [model] = readme_weights(gist_id, document["files"]["readme.md"]["content"], mirror.base_url)
        assert not model.synthetic
        assert download_sha1(model.url) == (200, model.sha1)


def test_unavailable_architectures_and_unknown_files_are_404(mirror: MirrorServer) -> None:
    models = {m.url: m for m in served_models(mirror)}
    yearbook = next(m for url, m in models.items() if "yearbook_cleaned" in url)
    assert not yearbook.synthetic and download_sha1(yearbook.url)[0] == 404, "Data layer: no shapes"
    nin = next(m for url, m in models.items() if "cifar10_nin" in url)
    assert download_sha1(nin.url)[0] == 404, "no deploy prototxt in the snapshot"
    assert requests.get(mirror.base_url + "/files/example.org/x.caffemodel", timeout=10).status_code == 404


def test_served_catalog_in_this_session(mirror: MirrorServer) -> None:
    """Every readme's weights: the subset synthesized in this session and the real ones match
    their sha1; everything else answers 404 (test_full_catalog checks all under -m slow)."""
    offered = {mirror_file_url(mirror.base_url, url) for url in SMALL_SYNTH}
    for model in served_models(mirror):
        status, sha1 = download_sha1(model.url) if model.url in offered or not model.synthetic \
            else (None, None)
        if model.synthetic:
            assert model.url in offered and (status, sha1) == (200, model.sha1), model
        elif status == 200:
            assert sha1 == model.sha1, model


@pytest.mark.parametrize("mode, lenet, cars", [("none", 404, 404), ("real", 200, 404)])
def test_weight_modes(tmp_path: Path, mode: str, lenet: int, cars: int) -> None:
    with MirrorServer(weights=mode, cache_dir=tmp_path) as mirror:
        document = requests.get(f"{mirror.github_api_base}/gists/b90eb88e31cd745525ae", timeout=10).json()
        assert "zoo2tf_mirror" not in document
        [model] = readme_weights("cars", document["files"]["readme.md"]["content"], mirror.base_url)
        [lenet_model] = readme_weights("lenet", requests.get(
            f"{mirror.github_api_base}/gists/mirror-lenet-mnist", timeout=10).json()["files"]["readme.md"]["content"],
            mirror.base_url)
        assert download_sha1(lenet_model.url)[0] == lenet
        assert download_sha1(model.url)[0] == cars
    assert not list(tmp_path.iterdir()), "nothing synthesized"


def test_synthetic_cache_is_reused_across_starts(tmp_path: Path) -> None:
    cars = SMALL_SYNTH[0]
    with MirrorServer(cache_dir=tmp_path, synth_only=[cars]) as first:
        first_file = first.weights.resolve(cars)
    cached = sorted(tmp_path.iterdir())
    stamp = first_file.path.stat().st_mtime_ns
    with MirrorServer(cache_dir=tmp_path, synth_only=[cars]) as second:
        second_file = second.weights.resolve(cars)
    assert second_file == first_file and second_file.path.stat().st_mtime_ns == stamp
    assert sorted(tmp_path.iterdir()) == cached and len(cached) == 2  # caffemodel + sidecar


def test_gist_truncation_is_configurable(tmp_path: Path) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path, truncate_over=100) as mirror:
        entry = requests.get(f"{mirror.github_api_base}/gists/mirror-lenet-mnist",
                             timeout=10).json()["files"]["readme.md"]
        assert entry["truncated"] is True and len(entry["content"].encode()) == 100
        full = requests.get(entry["raw_url"], timeout=10)
        assert entry["size"] == len(full.content) > 100 and full.text.startswith(entry["content"])


def test_rate_limit_like_github(tmp_path: Path) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path, rate_limit=3) as mirror:
        url = f"{mirror.github_api_base}/gists/mirror-lenet-mnist"
        replies = [requests.get(url, timeout=10) for _ in range(3)]
        assert [r.headers["X-RateLimit-Remaining"] for r in replies] == ["2", "1", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in replies} == {"3"}
        again = requests.get(url, headers={"If-None-Match": replies[0].headers["ETag"]}, timeout=10)
        assert again.status_code == 403, "exhausted: even conditional requests are refused"
        refused = requests.get(url, timeout=10)
        assert refused.status_code == 403 and refused.headers["X-RateLimit-Remaining"] == "0"
        assert "API rate limit exceeded" in refused.json()["message"]
        assert int(refused.headers["X-RateLimit-Reset"]) > 0
        for auth in ("token abc", "Bearer abc"):
            token = requests.get(url, headers={"Authorization": auth}, timeout=10)
            assert token.status_code == 200 and token.headers["X-RateLimit-Limit"] == "5000"
        assert requests.get(mirror.catalog_url, timeout=10).status_code == 200, "raw hosts are not limited"


def test_conditional_api_requests_do_not_spend_the_limit(tmp_path: Path) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path, rate_limit=2) as mirror:
        url = f"{mirror.github_api_base}/gists/mirror-lenet-mnist"
        first = requests.get(url, timeout=10)
        cached = [requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
                  for _ in range(3)]
        assert [r.status_code for r in cached] == [304, 304, 304]
        assert cached[-1].headers["X-RateLimit-Remaining"] == "1"


def test_files_the_wiki_links_directly(mirror: MirrorServer) -> None:
    wiki = requests.get(mirror.catalog_url, timeout=10).text
    prototxt = next(u for u in re.findall(r"https?://[^\s)]+", wiki) if u.endswith("deploy_x30.prototxt"))
    reply = requests.get(mirror_file_url(mirror.base_url, prototxt), timeout=10)
    expected = (SNAPSHOT_DIR / "models/community/pascal_voc/deploy_x30.prototxt").read_bytes()
    assert reply.status_code == 200 and reply.content == expected


def test_prefetch_synthesizes_in_the_background(tmp_path: Path) -> None:
    vanilla = SMALL_SYNTH[3]
    with MirrorServer(cache_dir=tmp_path, synth_only=[vanilla], prefetch=True) as mirror:
        assert requests.get(mirror.catalog_url, timeout=10).status_code == 200
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("*.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        [sidecar] = tmp_path.glob("*.json")
        assert json.loads(sidecar.read_text())["sha1"] == mirror.weights.resolve(vanilla).sha1


def test_mean_file_urls_move_onto_the_mirror_and_answer_404(mirror: MirrorServer) -> None:
    ages = requests.get(f"{mirror.github_api_base}/gists/c9e99062283c719c03de", timeout=60).json()
    readme = ages["files"]["README.md"]["content"]
    mean = f"{mirror.base_url}/files/dl.dropboxusercontent.com/u/38822310/mean.binaryproto"
    assert f"mean_file_proto: {mean}" in readme
    assert "https://dl.dropboxusercontent.com" not in readme
    assert requests.get(mean, timeout=60).status_code == 404
