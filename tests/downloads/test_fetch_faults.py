"""download() against the offline mirror's fault modes, over real loopback sockets."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
import requests

from dl_testdata import CIFAR_PATH, CIFAR_SHA1, CIFAR_SIZE, LENET_PATH, LENET_SHA1, LENET_SIZE, stored_files
from downloads.errors import DownloadError
from downloads.fetch import download
from downloads.partfile import PartFile
from storage.artifacts import ArtifactStore
from zoo_mirror.server import MirrorServer


def lenet(mirror: MirrorServer) -> str:
    return mirror.base_url + LENET_PATH


def statuses(mirror: MirrorServer, path: str = LENET_PATH) -> list[int]:
    return [status for _method, logged, status in mirror.request_log if logged.endswith(path)]


def test_clean_download_lands_in_store_under_sha256(faults: MirrorServer, store: ArtifactStore,
                                                     session: requests.Session) -> None:
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    assert (result.sha1, result.size, result.resumed_bytes) == (LENET_SHA1, LENET_SIZE, 0)
    assert result.key == result.sha256 and store.exists(result.key)
    assert store.size(result.key) == LENET_SIZE
    assert Path(result.location) == store.path_for(result.key)
    assert result.etag == f'"{LENET_SHA1}"'
    assert not list(store.part_dir.glob("*.part*")), "part file and sidecar are gone once stored"


@pytest.mark.parametrize("percent", [10, 50, 99])
def test_dropped_connection_resumes_with_range_and_exact_sha1(faults: MirrorServer, store: ArtifactStore,
                                                              session: requests.Session, percent: int) -> None:
    faults.set_faults(f"*/files/*=drop:{percent}%")
    before = len(faults.request_log)
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    assert result.sha1 == LENET_SHA1
    assert result.resumed_bytes == LENET_SIZE * percent // 100
    assert result.bytes_received == LENET_SIZE
    assert statuses(faults)[before - len(faults.request_log):] == [200, 206]


def test_repeated_drops_resume_each_time(faults: MirrorServer, store: ArtifactStore,
                                         session: requests.Session) -> None:
    faults.set_faults("*/files/*=drop:30%:3")
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    assert result.sha1 == LENET_SHA1 and result.attempts == 4
    assert statuses(faults)[-4:] == [200, 206, 206, 206]


def test_500_twice_then_ok_is_retried(faults: MirrorServer, store: ArtifactStore,
                                      session: requests.Session) -> None:
    faults.set_faults("*/files/*=500:2")
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    assert result.sha1 == LENET_SHA1 and result.attempts == 3
    assert statuses(faults)[-3:] == [500, 500, 200]


def test_429_waits_for_retry_after(faults: MirrorServer, store: ArtifactStore,
                                   session: requests.Session) -> None:
    faults.set_faults("*/files/*=429:2:1")
    started = time.monotonic()
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    waited = time.monotonic() - started
    assert result.sha1 == LENET_SHA1 and statuses(faults)[-2:] == [429, 200]
    # The session's own backoff is 0.05 s here: only Retry-After explains a 2 s pause.
    assert 1.9 <= waited < 30


@pytest.mark.parametrize(("spec", "category"), [
    ("html200", "html instead of binary"),
    ("truncate:40%", "truncated"),
    ("wrongbytes", "checksum mismatch"),
    ("404", "dead link"),
    ("500:100", "http error"),
])
def test_bad_answers_end_as_categorised_errors_with_nothing_stored(
        faults: MirrorServer, store: ArtifactStore, session: requests.Session, spec: str, category: str) -> None:
    faults.set_faults(f"*/files/*={spec}")
    with pytest.raises(DownloadError) as caught:
        download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    err = caught.value
    assert err.category == category and err.url == lenet(faults)
    assert category in str(err) and lenet(faults) in str(err)
    assert stored_files(store) == [] and list(store.keys()) == []


def test_checksum_mismatch_quarantines_bytes_with_a_reason(faults: MirrorServer, store: ArtifactStore,
                                                           session: requests.Session) -> None:
    faults.set_faults("*/files/*=wrongbytes")
    with pytest.raises(DownloadError) as caught:
        download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    kept = Path(caught.value.quarantined)
    assert kept.parent.name == "quarantine" and kept.stat().st_size == LENET_SIZE
    reason = json.loads(kept.with_name(kept.name + ".reason.json").read_text())
    assert reason["category"] == "checksum mismatch" and reason["expected_sha1"] == LENET_SHA1
    assert reason["sha1"] != LENET_SHA1 and store.quarantined() == [kept.name]
    assert not list(store.part_dir.glob("*.part")), "quarantined bytes are moved, not left to resume"


def test_html_page_is_sniffed_for_text_kinds(faults: MirrorServer, store: ArtifactStore,
                                             session: requests.Session) -> None:
    # A prototxt may come with any text/* type, so only its first bytes can give an error page away.
    faults.set_faults("*/files/*=html200")
    with pytest.raises(DownloadError) as caught:
        download([lenet(faults)], store, session=session, kind="prototxt")
    assert caught.value.category == "html instead of binary"
    assert "sent an HTML/XML page" in caught.value.message


def test_later_candidate_used_when_first_is_dead(faults: MirrorServer, store: ArtifactStore,
                                                 session: requests.Session) -> None:
    dead = faults.base_url + "/files/dl.caffe.berkeleyvision.org/gone.caffemodel"
    result = download([dead, faults.base_url + CIFAR_PATH], store, expected_sha1=CIFAR_SHA1, session=session)
    assert (result.sha1, result.size) == (CIFAR_SHA1, CIFAR_SIZE)
    assert [(f.url, f.category) for f in result.failures] == [(dead, "dead link")]


def test_all_candidates_failing_lists_every_failure(faults: MirrorServer, store: ArtifactStore,
                                                    session: requests.Session) -> None:
    dead = faults.base_url + "/files/dl.caffe.berkeleyvision.org/gone.caffemodel"
    with pytest.raises(DownloadError) as caught:
        download(["ftp://example.invalid/x.caffemodel", dead], store, session=session)
    assert [f.category for f in caught.value.failures] == ["refused url", "dead link"]
    assert caught.value.category == "dead link" and "all 2 candidate URLs failed" in str(caught.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://ftp.example.invalid/model.caffemodel",
                                 "javascript:alert(1)", "//no-scheme.example/x", "http:///no-host"])
def test_non_http_urls_are_refused_without_a_request(faults: MirrorServer, store: ArtifactStore,
                                                     session: requests.Session, url: str) -> None:
    before = len(faults.request_log)
    with pytest.raises(DownloadError) as caught:
        download([url], store, session=session)
    assert caught.value.category == "refused url" and caught.value.url == url
    assert len(faults.request_log) == before


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://ftp.example.invalid/lenet.caffemodel"])
def test_redirect_to_other_scheme_is_refused(faults: MirrorServer, store: ArtifactStore,
                                             session: requests.Session, target: str) -> None:
    faults.set_faults(f"*/files/*=redirect-to:{target}")
    with pytest.raises(DownloadError) as caught:
        download([lenet(faults)], store, session=session)
    assert caught.value.category == "refused url" and target in caught.value.message
    assert stored_files(store) == []


def test_redirects_followed_up_to_the_hop_limit(faults: MirrorServer, store: ArtifactStore,
                                                session: requests.Session) -> None:
    faults.set_faults("*/files/*=redirect:3")
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session, max_redirects=3)
    assert result.sha1 == LENET_SHA1 and "/_hop/3/" in result.final_url
    faults.set_faults("*/files/*=redirect:4")
    with pytest.raises(DownloadError) as caught:
        download([lenet(faults)], store, session=session, max_redirects=3)
    assert caught.value.category == "too many redirects"


def test_size_cap_stops_before_the_body(faults: MirrorServer, store: ArtifactStore,
                                        session: requests.Session) -> None:
    with pytest.raises(DownloadError) as caught:
        download([lenet(faults)], store, session=session, size_cap=LENET_SIZE - 1)
    assert caught.value.category == "size cap" and str(LENET_SIZE) in caught.value.message
    assert stored_files(store) == [] and not list(store.part_dir.glob("*.part"))


def test_part_with_stale_validator_restarts_cleanly_on_200(faults: MirrorServer, store: ArtifactStore,
                                                           session: requests.Session) -> None:
    part = PartFile(store.part_dir, lenet(faults))
    part.path.write_bytes(b"\x00" * 1000)   # bytes of some older version of the file
    part.save(validator='"an-older-etag"', total=LENET_SIZE, bytes_done=1000)
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    assert result.sha1 == LENET_SHA1 and result.resumed_bytes == 0
    assert statuses(faults)[-1] == 200


def test_part_left_by_an_earlier_run_is_resumed(faults: MirrorServer, store: ArtifactStore,
                                                session: requests.Session) -> None:
    faults.set_faults("*/files/*=truncate:25%")
    with pytest.raises(DownloadError):
        download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session, max_resumes=0)
    kept = PartFile(store.part_dir, lenet(faults))
    assert kept.size() == LENET_SIZE // 4 and kept.load() is not None
    faults.set_faults(None)
    result = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    assert result.sha1 == LENET_SHA1 and result.resumed_bytes == LENET_SIZE // 4
    assert result.bytes_received == LENET_SIZE - LENET_SIZE // 4


def test_identical_files_from_two_models_are_stored_once(faults: MirrorServer, store: ArtifactStore,
                                                         session: requests.Session) -> None:
    first = download([lenet(faults)], store, expected_sha1=LENET_SHA1, session=session)
    # The same bytes under another URL: the mirror answers a redirect chain to the same file.
    faults.set_faults("*/files/*=redirect:1")
    second = download([lenet(faults) + "?mirror=2"], store, expected_sha1=LENET_SHA1, session=session)
    assert first.key == second.key and first.url != second.url
    assert len(stored_files(store)) == 1


def test_download_into_an_fsspec_store(faults: MirrorServer, tmp_path: Path, session: requests.Session) -> None:
    remote = ArtifactStore(f"memory://zoo2tf-{tmp_path.name}/store", part_dir=tmp_path / "parts")
    faults.set_faults("*/files/*=drop:50%")
    result = download([lenet(faults)], remote, expected_sha1=LENET_SHA1, session=session)
    assert result.location.startswith("memory://") and remote.exists(result.key)
    with remote.open(result.key) as handle:
        assert hashlib.sha1(handle.read()).hexdigest() == LENET_SHA1
    assert not list((tmp_path / "parts").glob("*.part"))
