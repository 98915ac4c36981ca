"""`zoo2tf download` and `zoo2tf store-sweep` against the mirror."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dl_testdata import LENET_PATH, LENET_SHA1, LENET_SIZE
from storage.artifacts import ArtifactStore
from zoo2tf.cli import main
from zoo_mirror.server import MirrorServer


def test_download_command_stores_and_reports(faults: MirrorServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    dead = faults.base_url + "/files/example.org/gone.caffemodel"
    code = main(["download", dead, faults.base_url + LENET_PATH, "--sha1", LENET_SHA1,
                 "--store", str(tmp_path / "store")])
    out = capsys.readouterr().out
    assert code == 0 and f"{LENET_SIZE} bytes  sha1 {LENET_SHA1}" in out
    assert len(list(ArtifactStore(tmp_path / "store").keys())) == 1


def test_download_command_names_each_failure(faults: MirrorServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    faults.set_faults("*/files/*=wrongbytes")
    code = main(["download", "file:///etc/passwd", faults.base_url + LENET_PATH, "--sha1", LENET_SHA1,
                 "--store", str(tmp_path / "store")])
    err = capsys.readouterr().err
    assert code == 1
    assert "refused url: file:///etc/passwd" in err and "checksum mismatch: http://" in err
    assert "quarantine" in err


def test_store_sweep_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ArtifactStore(tmp_path / "store")
    stale = store.part_dir / "old.part"
    stale.write_bytes(b"x")
    old = time.time() - 3 * 86400
    os.utime(stale, (old, old))
    assert main(["store-sweep", "--store", str(tmp_path / "store")]) == 0
    assert not stale.exists() and "1 stale part file(s) removed" in capsys.readouterr().out
