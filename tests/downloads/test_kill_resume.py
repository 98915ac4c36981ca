"""SIGKILL in the middle of a download: nothing complete-looking is left, the next run resumes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from dl_testdata import LENET_PATH, LENET_SHA1, LENET_SIZE, stored_files
from downloads.fetch import download
from downloads.partfile import PartFile
from storage.artifacts import ArtifactStore
from zoo_mirror.server import MirrorServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from downloads.fetch import download
from storage.artifacts import ArtifactStore
download([sys.argv[1]], ArtifactStore(sys.argv[2]), expected_sha1=sys.argv[3], chunk_size=16384)
print("finished")
"""


def test_sigkill_mid_download_leaves_a_resumable_part(faults: MirrorServer, tmp_path: Path,
                                                      session: requests.Session) -> None:
    url = faults.base_url + LENET_PATH
    root = tmp_path / "store"
    faults.set_faults("*/files/*=slow:400000")   # about 4 s for the whole file
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(root), LENET_SHA1], cwd=PROJECT_ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    part = PartFile(root / "parts", url)
    try:
        deadline = time.monotonic() + 60
        while part.size() < 200_000 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.poll() is None, f"child ended before it could be killed: {child.communicate()}"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    left = part.size()
    assert 0 < left < LENET_SIZE
    store = ArtifactStore(root)
    assert stored_files(store) == [] and list(store.keys()) == []
    assert part.load() is not None and part.load().url == url

    faults.set_faults(None)
    result = download([url], store, expected_sha1=LENET_SHA1, session=session)
    assert result.sha1 == LENET_SHA1 and result.resumed_bytes == left > 0
    assert result.bytes_received == LENET_SIZE - left
    assert [status for _m, path, status in faults.request_log if path == LENET_PATH][-1] == 206
    assert len(stored_files(store)) == 1 and not part.path.exists()
