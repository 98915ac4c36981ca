"""Every fault mode, driven with `requests` over real sockets."""
from __future__ import annotations

import hashlib
import http.client
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.mirror.urls import LENET_URL_PATH
from zoo_mirror import SNAPSHOT_DIR
from zoo_mirror.server import MirrorServer

LENET_BYTES = (SNAPSHOT_DIR / "weights/lenet_mnist/lenet_iter_10000.caffemodel").read_bytes()
SIZE = len(LENET_BYTES)


def _raw_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and whatever body bytes arrive before the server closes (no length check)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
    response = conn.getresponse()
    received = b""
    try:
        while chunk := response.read1(65536):
            received += chunk
    except http.client.IncompleteRead as err:
        received += err.partial
    conn.close()
    return response.status, dict(response.headers), received


def test_404(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=404")
    assert [requests.get(lenet_url, timeout=10).status_code for _ in range(2)] == [404, 404]
    assert requests.get(mirror.catalog_url, timeout=10).status_code == 200, "other paths unaffected"


def test_500_n_times_then_success(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=500:2")
    statuses = [requests.get(lenet_url, timeout=10).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_429_with_retry_after(mirror: MirrorServer) -> None:
    mirror.set_faults("/api/gists/*=429:7:2")
    url = f"{mirror.github_api_base}/gists/mirror-lenet-mnist"
    replies = [requests.get(url, timeout=10) for _ in range(3)]
    assert [r.status_code for r in replies] == [429, 429, 200]
    assert replies[0].headers["Retry-After"] == "7"
    mirror.set_faults("/api/gists/*=429:3")
    assert [requests.get(url, timeout=10).status_code for _ in range(2)] == [429, 200], "N defaults to 1"


def test_drop_after_k_bytes_then_range_resumes(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=drop:50%")
    status, headers, partial = _raw_get(lenet_url)
    assert status == 200 and int(headers["Content-Length"]) == SIZE
    assert partial == LENET_BYTES[:SIZE // 2]
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        mirror.set_faults("*.caffemodel=drop:1000")
        requests.get(lenet_url, timeout=10)
    rest = requests.get(lenet_url, headers={"Range": f"bytes={len(partial)}-"}, timeout=10)
    assert rest.status_code == 206 and partial + rest.content == LENET_BYTES


def test_drop_for_n_requests(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=drop:100:2")
    sizes = [len(_raw_get(lenet_url)[2]) for _ in range(3)]
    assert sizes == [100, 100, SIZE]


def test_slow_body(mirror: MirrorServer) -> None:
    mirror.set_faults("*/Model-Zoo.md=slow:100000")
    began = time.monotonic()
    reply = requests.get(mirror.catalog_url, timeout=10)
    took = time.monotonic() - began
    assert reply.status_code == 200 and len(reply.content) > 50_000
    # 51 kB at 100 kB/s cannot arrive in much under half a second; this checks throttling
    # happens at all, not how fast the machine is.
    assert took >= 0.4


def test_wrongbytes_keeps_length_and_breaks_sha1(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=wrongbytes")
    reply = requests.get(lenet_url, timeout=10)
    assert reply.status_code == 200 and len(reply.content) == SIZE
    assert hashlib.sha1(reply.content).hexdigest() != hashlib.sha1(LENET_BYTES).hexdigest()
    assert all(a != b for a, b in zip(reply.content[:1000], LENET_BYTES[:1000]))


def test_html200_error_page(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=html200")
    reply = requests.get(lenet_url, timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.content.lstrip().lower().startswith(b"<!doctype html>")


def test_truncate_always(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=truncate:1000")
    for _ in range(2):
        status, headers, body = _raw_get(lenet_url)
        assert (status, int(headers["Content-Length"]), body) == (200, SIZE, LENET_BYTES[:1000])


def test_redirect_chain(mirror: MirrorServer, lenet_url: str) -> None:
    mirror.set_faults("*.caffemodel=redirect:3")
    reply = requests.get(lenet_url, timeout=10)
    assert [r.status_code for r in reply.history] == [302, 302, 302]
    assert reply.status_code == 200 and reply.content == LENET_BYTES
    session = requests.Session()
    session.max_redirects = 2
    with pytest.raises(requests.exceptions.TooManyRedirects):
        session.get(lenet_url, timeout=10)


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/lenet.caffemodel"])
def test_redirect_to_foreign_scheme(mirror: MirrorServer, lenet_url: str, target: str) -> None:
    mirror.set_faults(f"*.caffemodel=redirect-to:{target}")
    reply = requests.get(lenet_url, allow_redirects=False, timeout=10)
    assert reply.status_code == 302 and reply.headers["Location"] == target
    with pytest.raises(requests.exceptions.InvalidSchema):
        requests.get(lenet_url, timeout=10)


def test_faults_match_on_path_globs_only(mirror: MirrorServer) -> None:
    mirror.set_faults(LENET_URL_PATH + "=404;/api/*=500:1")
    assert requests.get(mirror.base_url + LENET_URL_PATH, timeout=10).status_code == 404
    assert requests.get(mirror.catalog_url, timeout=10).status_code == 200
    assert requests.get(f"{mirror.github_api_base}/gists/mirror-lenet-mnist", timeout=10).status_code == 500
