"""Whole-catalog scans over HTTP against the offline mirror on loopback (no patched requests)."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from downloads.session import make_session
from zoo_catalog.errors import WikiParseError
from zoo_catalog.gists import ETAG_CACHE_FILE
from zoo_catalog.records import (STATUS_GIST_UNAVAILABLE, STATUS_INCOMPLETE, STATUS_NO_METADATA,
                                 STATUS_NOT_FETCHED, STATUS_OK, CatalogScan, count_by_status)
from zoo_catalog.scan import scan_catalog
from zoo_mirror.server import MirrorServer

CARS_URL = "http://mmlab.ie.cuhk.edu.hk/datasets/comp_cars/googlenet_finetune_web_car_iter_10000.caffemodel"
# The 2019 page: 63 wiki models, age/gender split in two and emotion in five (+1 +4), the
# mirror's two extra gists with real weights, and three BVLC models bundled with Caffe that
# the page does not link (googlenet is linked; finetune_flickr_style is the linked gist 034c...).
EXPECTED_STATUSES = {STATUS_OK: 34, STATUS_NO_METADATA: 34, STATUS_GIST_UNAVAILABLE: 3, STATUS_INCOMPLETE: 2}
BUNDLED = ["bvlc-alexnet", "bvlc-reference-caffenet", "bvlc-reference-rcnn-ilsvrc13"]
NOT_MIRRORED = {"gist-7ea9f8ac0da259866b854460f4526034", "gist-1bf3aa1e0b8e788d7e1d",
                "gist-339fd0a938ed026692267a60b44c0c58"}


def _scan(mirror: MirrorServer, cache_dir: Path | None = None, **kwargs) -> CatalogScan:
    session = kwargs.pop("session", None) or make_session(backoff_factor=0.05)
    return scan_catalog(mirror.catalog_url, mirror.github_api_base, session=session,
                        cache_dir=cache_dir, **kwargs)


def _essence(scan: CatalogScan) -> dict[str, tuple]:
    return {e.model_id: (e.status, e.caffemodel, e.caffemodel_url, e.sha1, e.deploy, e.gist_revision)
            for e in scan.entries}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    with MirrorServer(weights="none", cache_dir=tmp_path_factory.mktemp("weights"),
                      rate_limit=100_000) as server:
        yield server


@pytest.fixture(scope="module")
def full_scan(mirror: MirrorServer) -> CatalogScan:
    return _scan(mirror)


def test_full_scan(mirror: MirrorServer, full_scan: CatalogScan) -> None:
    assert len(full_scan.entries) == 73
    assert [e.model_id for e in full_scan.entries[-3:]] == BUNDLED
    assert count_by_status(full_scan.entries) == EXPECTED_STATUSES
    assert {e.model_id for e in full_scan.entries if e.status == STATUS_GIST_UNAVAILABLE} == NOT_MIRRORED
    page = requests.get(mirror.catalog_url, timeout=10).content
    assert full_scan.revision == hashlib.sha1(page).hexdigest()
    by_id = full_scan.by_id()

    age, gender = by_id["gist-c9e99062283c719c03de-age-net"], by_id["gist-c9e99062283c719c03de-gender-net"]
    assert (age.name, age.deploy.name, gender.deploy.name) == \
        ("Age Classification CNN", "deploy_age.prototxt", "deploy_gender.prototxt")
    assert age.caffemodel_url == f"{mirror.base_url}/files/dl.dropboxusercontent.com/u/38822310/age_net.caffemodel"
    assert age.mean_file is not None and age.mean_file.name == "mean.binaryproto"
    assert len([e for e in full_scan.entries if e.gist_id == "54aee1b8b0397721aa4b"]) == 5

    flickr = by_id["gist-034c6ac3865563b69e60"]
    assert flickr.deploy.name == "val.prototxt" and flickr.deploy.is_train_val
    assert flickr.sha1 == "b61b5cef7d771b53b0c488e78d35ccadc073e9cf"
    gist = requests.get(f"{mirror.github_api_base}/gists/034c6ac3865563b69e60", timeout=10).json()
    assert flickr.gist_revision == gist["history"][0]["version"]

    googlenet = by_id["bvlc-googlenet"]
    assert (googlenet.status, googlenet.source, googlenet.deploy.name) == (STATUS_OK, "repo", "deploy.prototxt")
    assert googlenet.sha1 == "405fc5acd08a3bb12de8ee5e23a96bec22f08204"

    for nin, other in (("gist-d802a5849de39225bcc6", "gist-e56253735ef32c3c296d"),
                       ("gist-e56253735ef32c3c296d", "gist-d802a5849de39225bcc6")):
        assert any(w.startswith("sha1 8e89c8fcd46e02780e16c867a5308e7bb7af0803 is also given for " + other)
                   for w in by_id[nin].warnings)
    assert by_id["gh-kaiminghe-deep-residual-networks"].status == STATUS_NO_METADATA
    alexnet = by_id["bvlc-alexnet"]
    assert (alexnet.section, alexnet.status, alexnet.sha1) == \
        ("Berkeley-trained models", STATUS_OK, "9116a64c0fbe4459d18f4bb6b56d647b63920377")
    assert not any(e.synthetic_weights for e in full_scan.entries), "weights=none serves nothing synthetic"
    assert CatalogScan.from_json(full_scan.to_json()) == full_scan


def test_etag_cache_is_persisted_and_answers_304(mirror: MirrorServer, full_scan: CatalogScan,
                                                 tmp_path: Path) -> None:
    first = _scan(mirror, tmp_path)
    cache = json.loads((tmp_path / ETAG_CACHE_FILE).read_text())
    assert mirror.catalog_url in cache and f"{mirror.github_api_base}/gists/034c6ac3865563b69e60" in cache
    before = len(mirror.request_log)
    second = _scan(mirror, tmp_path)
    statuses = [status for _, _, status in mirror.request_log[before:]]
    assert first.requests["not_modified"] == 0
    assert second.requests["requests"] == first.requests["requests"] == len(statuses)
    # Everything that was there is answered "not modified"; only the missing stays 404.
    assert set(statuses) == {304, 404} and statuses.count(304) == second.requests["not_modified"] >= 35
    assert _essence(second) == _essence(first) == _essence(full_scan)


def test_rate_limit_exhaustion_waits_until_reset(full_scan: CatalogScan, tmp_path: Path) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path, rate_limit=25, rate_window_s=2.0) as limited:
        started = time.monotonic()
        scan = _scan(limited, max_rate_limit_wait_s=30)
        elapsed = time.monotonic() - started
        assert 403 in {status for _, path, status in limited.request_log if path.startswith("/api/")}
    assert scan.requests["rate_limit_waits"] >= 1 and elapsed > 1.0
    assert {k: v[0] for k, v in _essence(scan).items()} == {k: v[0] for k, v in _essence(full_scan).items()}


def test_rate_limit_beyond_the_wait_keeps_wiki_view(tmp_path: Path) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path, rate_limit=3) as limited:
        scan = _scan(limited, max_rate_limit_wait_s=1)
        with_token = _scan(limited, token="nightly-token")
    statuses = [e.status for e in scan.entries if e.gist_id or (e.repo and e.repo.path)]
    assert statuses[:3] == [STATUS_OK, STATUS_OK, STATUS_OK]
    assert statuses[3:] and set(statuses[3:]) == {STATUS_NOT_FETCHED}
    assert any("rate limit exhausted" in w for w in scan.warnings)
    assert all(any("rate limit exhausted" in w for w in e.warnings)
               for e in scan.entries if e.status == STATUS_NOT_FETCHED)
    assert count_by_status(with_token.entries) == EXPECTED_STATUSES, "a token gets the higher limit"


def test_truncated_gist_files_come_from_raw_url(full_scan: CatalogScan, tmp_path: Path) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path, truncate_over=300, rate_limit=100_000) as small:
        document = requests.get(f"{small.github_api_base}/gists/b90eb88e31cd745525ae", timeout=10).json()
        assert document["files"]["readme.md"]["truncated"] is True
        scan = _scan(small)
    assert scan.requests["raw_fetches"] >= 25
    assert {k: v[:4] for k, v in _essence(scan).items()} == \
        {k: (v[0], v[1], v[2].replace(_base(full_scan), _base(scan)) if v[2] else v[2], v[3])
         for k, v in _essence(full_scan).items()}


def _base(scan: CatalogScan) -> str:
    return scan.source.split("/raw/")[0]


def test_error_page_is_not_an_empty_catalog(mirror: MirrorServer) -> None:
    mirror.set_faults("/raw/wiki/*=html200")
    try:
        with pytest.raises(WikiParseError, match="no model sections: this is not the Model Zoo page"):
            _scan(mirror)
    finally:
        mirror.set_faults(None)


def test_broken_gists_are_isolated(mirror: MirrorServer) -> None:
    mirror.set_faults("/api/gists/d802a5849de39225bcc6=404;/api/gists/e56253735ef32c3c296d=500:2")
    try:
        scan = _scan(mirror)
    finally:
        mirror.set_faults(None)
    by_id = scan.by_id()
    assert by_id["gist-d802a5849de39225bcc6"].status == STATUS_GIST_UNAVAILABLE
    assert "not found (HTTP 404)" in by_id["gist-d802a5849de39225bcc6"].warnings[0]
    assert by_id["gist-e56253735ef32c3c296d"].status == STATUS_OK, "5xx retried by the session"


def test_synthetic_weights_flag_from_the_mirror(tmp_path: Path) -> None:
    with MirrorServer(weights="synth", cache_dir=tmp_path, synth_only=[CARS_URL], rate_limit=100_000) as synth:
        scan = _scan(synth)
    cars = scan.by_id()["gist-b90eb88e31cd745525ae"]
    assert cars.synthetic_weights and cars.sha1 is not None and cars.status == STATUS_OK
    assert [e.model_id for e in scan.entries if e.synthetic_weights] == ["gist-b90eb88e31cd745525ae"]


def test_older_revision_has_labels_file(mirror: MirrorServer) -> None:
    mirror.set_wiki_revision("2016-03-02")
    try:
        scan = _scan(mirror)
    finally:
        mirror.set_wiki_revision("latest")
    fcn = scan.by_id()["gist-91eece041c19ff8968ee"]
    assert fcn.status == STATUS_OK and fcn.labels_file is not None and fcn.labels_file.name == "legend.txt"
    assert fcn.sha1 == "591e7d8bbc1c55ff151b6984bde85ff5160aee31"
