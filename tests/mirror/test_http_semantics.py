"""HTTP behaviour over real sockets: conditional GET, Range / If-Range, HEAD, wiki revisions."""
from __future__ import annotations

import hashlib
import logging
import time

import pytest
import requests

from zoo_mirror import SNAPSHOT_DIR
from zoo_mirror.content import EXTRAS_HEADING
from zoo_mirror.server import MirrorServer

LENET_BYTES = (SNAPSHOT_DIR / "weights/lenet_mnist/lenet_iter_10000.caffemodel").read_bytes()


def test_wiki_is_raw_markdown_with_validators(mirror: MirrorServer) -> None:
    reply = requests.get(mirror.catalog_url, timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.headers["Last-Modified"] == "Thu, 25 Apr 2019 06:29:38 GMT"
    original = (SNAPSHOT_DIR / "wiki/Model-Zoo.md").read_bytes()
    assert reply.content.startswith(original.rstrip(b"\r\n"))
    assert EXTRAS_HEADING in reply.text and "mirror-lenet-mnist" in reply.text
    assert reply.headers["ETag"] == f'"{hashlib.sha1(reply.content).hexdigest()}"'


def test_conditional_get_gives_304(mirror: MirrorServer) -> None:
    first = requests.get(mirror.catalog_url, timeout=10)
    by_etag = requests.get(mirror.catalog_url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    by_date = requests.get(mirror.catalog_url,
                           headers={"If-Modified-Since": first.headers["Last-Modified"]}, timeout=10)
    stale = requests.get(mirror.catalog_url, headers={"If-None-Match": '"0000"'}, timeout=10)
    older = requests.get(mirror.catalog_url,
                         headers={"If-Modified-Since": "Wed, 27 Sep 2017 20:18:18 GMT"}, timeout=10)
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert by_etag.headers["ETag"] == first.headers["ETag"]
    assert by_date.status_code == 304
    assert stale.status_code == 200 and stale.content == first.content
    assert older.status_code == 200


def test_gist_api_etag_gives_304(mirror: MirrorServer) -> None:
    url = f"{mirror.github_api_base}/gists/mirror-lenet-mnist"
    first = requests.get(url, timeout=10)
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert first.status_code == 200 and again.status_code == 304


def test_older_wiki_revision_can_be_served(mirror: MirrorServer) -> None:
    latest = requests.get(mirror.catalog_url, timeout=10)
    mirror.set_wiki_revision("2017-09-27")
    old = requests.get(mirror.catalog_url, headers={"If-None-Match": latest.headers["ETag"]}, timeout=10)
    assert old.status_code == 200, "a changed page must not answer 304 to last night's ETag"
    history = (SNAPSHOT_DIR / "wiki/history/Model-Zoo.2017-09-27.md").read_bytes()
    assert old.content.startswith(history.rstrip(b"\r\n"))
    assert old.headers["Last-Modified"] == "Wed, 27 Sep 2017 20:18:18 GMT"
    with pytest.raises(ValueError, match="unknown wiki revision '1999-01-01'"):
        mirror.set_wiki_revision("1999-01-01")


@pytest.mark.parametrize("header, start, stop", [
    ("bytes=0-99", 0, 100),
    ("bytes=1000-", 1000, len(LENET_BYTES)),
    ("bytes=-512", len(LENET_BYTES) - 512, len(LENET_BYTES)),
    ("bytes=1724000-99999999", 1724000, len(LENET_BYTES)),
])
def test_range_gives_206_with_the_right_bytes(lenet_url: str, header: str, start: int, stop: int) -> None:
    reply = requests.get(lenet_url, headers={"Range": header}, timeout=10)
    assert reply.status_code == 206
    assert reply.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(LENET_BYTES)}"
    assert reply.content == LENET_BYTES[start:stop]


def test_unsatisfiable_range_gives_416(lenet_url: str) -> None:
    reply = requests.get(lenet_url, headers={"Range": f"bytes={len(LENET_BYTES)}-"}, timeout=10)
    assert reply.status_code == 416
    assert reply.headers["Content-Range"] == f"bytes */{len(LENET_BYTES)}"


def test_if_range_resumes_only_the_same_file(lenet_url: str) -> None:
    etag = requests.head(lenet_url, timeout=10).headers["ETag"]
    same = requests.get(lenet_url, headers={"Range": "bytes=10-", "If-Range": etag}, timeout=10)
    changed = requests.get(lenet_url, headers={"Range": "bytes=10-", "If-Range": '"other"'}, timeout=10)
    assert same.status_code == 206 and same.content == LENET_BYTES[10:]
    assert changed.status_code == 200 and changed.content == LENET_BYTES


def test_head_and_whole_file(lenet_url: str) -> None:
    head = requests.head(lenet_url, timeout=10)
    whole = requests.get(lenet_url, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(LENET_BYTES)
    assert head.headers["Accept-Ranges"] == "bytes"
    assert whole.content == LENET_BYTES
    assert whole.headers["ETag"] == f'"{hashlib.sha1(LENET_BYTES).hexdigest()}"'


def test_request_log_records_method_path_status(mirror: MirrorServer) -> None:
    requests.get(mirror.base_url + "/no/such/thing", timeout=10)
    assert mirror.request_log[-1] == ("GET", "/no/such/thing", 404)


def test_client_disconnects_leave_no_traces(mirror: MirrorServer, lenet_url: str,
                                            caplog: pytest.LogCaptureFixture,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    mirror.set_faults("*.caffemodel=slow:1000000")
    for _ in range(3):
        with requests.get(lenet_url, stream=True, timeout=10) as reply:
            assert len(reply.raw.read(100)) == 100
    time.sleep(2)  # let the handler threads reach the closed sockets (a 1.7 s body at most)
    mirror.set_faults(None)
    assert requests.get(lenet_url, timeout=10).content == LENET_BYTES
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "Traceback" not in capfd.readouterr().err
