"""make_session: User-Agent, a default timeout on every call, connection retries."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from downloads.session import default_user_agent, make_session
from zoo2tf import __version__


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback socket that accepts, records what the client sent, and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            received.append(conn.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/", received
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


def test_every_call_gets_the_default_timeout_and_user_agent(silent_server: tuple[str, list[bytes]]) -> None:
    url, received = silent_server
    session = make_session(timeout=(2, 0.3), total_retries=0)
    with pytest.raises(requests.exceptions.ConnectionError, match="timed out"):
        session.get(url)
    assert f"User-Agent: zoo2tf/{__version__}".encode() in received[0]
    assert default_user_agent().startswith(f"zoo2tf/{__version__} (")


def test_read_timeouts_are_retried_for_get(silent_server: tuple[str, list[bytes]]) -> None:
    url, received = silent_server
    session = make_session(timeout=(2, 0.2), total_retries=2, backoff_factor=0.01, backoff_jitter=0.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(url)
    assert len(received) == 3


def test_refused_connection_is_a_connection_error() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    session = make_session(total_retries=1, backoff_factor=0.01)
    with pytest.raises(requests.exceptions.ConnectionError):
        session.get(f"http://127.0.0.1:{port}/")


def test_retry_policy_covers_429_and_5xx_for_get_and_head_only() -> None:
    retry = make_session().adapters["https://"].max_retries
    assert {429, 500, 502, 503, 504} <= set(retry.status_forcelist)
    assert set(retry.allowed_methods) == {"GET", "HEAD"}
    assert retry.respect_retry_after_header and retry.backoff_jitter > 0
