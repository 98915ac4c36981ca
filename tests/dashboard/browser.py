"""Serving the dashboard and driving Debian's chromium, for the browser test and the
README screenshot."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
START_TIMEOUT_S = 90
RENDER_TIMEOUT_MS = 60_000
# Streamlit scrolls inside its main block, so a "full page" screenshot is the viewport.
VIEWPORT = {"width": 1400, "height": 2400}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DashboardFailed(RuntimeError):
    """`zoo2tf dashboard` exited or never became healthy."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_dashboard(db_url: str) -> Iterator[str]:
    """`zoo2tf dashboard --db URL --port <free>` until the block ends; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zoo2tf", "dashboard", "--db", db_url, "--port", str(port)],
            cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, base, log)
            yield base
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_healthy(proc: subprocess.Popen, base: str, log) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise DashboardFailed(f"zoo2tf dashboard exited with {proc.returncode}:\n"
                                  f"{log.read()}")
        try:
            if requests.get(f"{base}/_stcore/health", timeout=2).text == "ok":
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise DashboardFailed(f"zoo2tf dashboard not healthy after {START_TIMEOUT_S} s")
        time.sleep(0.25)


_DRAWN = """() => {
    if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]'))
        return false;
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    return charts.every(chart => chart.querySelector("canvas, svg"));
}"""


def settle(page) -> None:
    """Wait until the script run is over and every chart is drawn."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached",
                           timeout=RENDER_TIMEOUT_MS)
    page.wait_for_function(_DRAWN, timeout=RENDER_TIMEOUT_MS)
