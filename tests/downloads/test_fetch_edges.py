"""Cases the mirror does not produce: no Content-Length, nothing listening."""
from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from dl_testdata import stored_files
from downloads.errors import DownloadError
from downloads.fetch import download
from downloads.session import make_session
from storage.artifacts import ArtifactStore

BODY = bytes(range(256)) * 400   # 100 KiB


class _NoLengthHandler(BaseHTTPRequestHandler):
    """HTTP/1.0 answers without Content-Length: the body ends when the connection closes."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def no_length_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoLengthHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/model.caffemodel"
    server.shutdown()
    server.server_close()


def test_body_without_content_length_is_accepted_by_its_sha1(no_length_server: str, store: ArtifactStore,
                                                           session: requests.Session) -> None:
    result = download([no_length_server], store, expected_sha1=hashlib.sha1(BODY).hexdigest(), session=session)
    assert result.size == len(BODY) and result.etag is None


def test_size_cap_is_enforced_while_streaming(no_length_server: str, store: ArtifactStore,
                                              session: requests.Session) -> None:
    with pytest.raises(DownloadError) as caught:
        download([no_length_server], store, session=session, size_cap=len(BODY) // 2, chunk_size=8192)
    assert caught.value.category == "size cap"
    assert stored_files(store) == [] and not list(store.part_dir.glob("*.part"))


def test_nothing_listening_is_a_network_error(store: ArtifactStore) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(DownloadError) as caught:
        download([f"http://127.0.0.1:{port}/x.caffemodel"], store,
                 session=make_session(total_retries=1, backoff_factor=0.01))
    assert caught.value.category == "network" and str(port) in str(caught.value)
