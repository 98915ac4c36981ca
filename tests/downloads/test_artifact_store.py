"""ArtifactStore on a local directory, a file:// URL and fsspec's memory filesystem."""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.artifacts import ArtifactStore, Digests, StoreError, safe_join, safe_name


@pytest.fixture(params=["path", "file-url", "memory"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    parts = tmp_path / "parts"
    if request.param == "path":
        return ArtifactStore(tmp_path / "store")
    if request.param == "file-url":
        return ArtifactStore((tmp_path / "store").as_uri(), part_dir=parts)
    return ArtifactStore(f"memory://zoo2tf-{uuid.uuid4().hex}/store", part_dir=parts)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_put_open_exists_roundtrip(any_store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    key = any_store.put_file(write(tmp_path / "in" / "a.caffemodel", data))
    assert key == hashlib.sha256(data).hexdigest()
    assert any_store.exists(key) and any_store.has(key) and key in any_store
    assert any_store.location(key).endswith(f"sha256/{key[:2]}/{key[2:4]}/{key}")
    with any_store.open(key) as handle:
        assert handle.read() == data
    assert any_store.size(key) == len(data) and list(any_store.keys()) == [key]
    assert (tmp_path / "in" / "a.caffemodel").exists(), "put_file without move keeps the source"


def test_identical_files_are_stored_once(any_store: ArtifactStore, tmp_path: Path) -> None:
    data = b"same weights shared by two models" * 1000
    first = any_store.put_file(write(tmp_path / "model-a.caffemodel", data))
    second = any_store.put_file(write(tmp_path / "model-b.caffemodel", data), move=True)
    assert first == second and list(any_store.keys()) == [first]
    assert not (tmp_path / "model-b.caffemodel").exists()


def test_moved_file_with_known_sha256(any_store: ArtifactStore, tmp_path: Path) -> None:
    data = b"hashed while streaming"
    part = write(any_store.part_dir / "x.part", data)
    key = any_store.put_file(part, sha256=Digests.of_file(part).sha256, move=True)
    assert not part.exists() and any_store.exists(key)


def test_missing_and_malformed_keys(any_store: ArtifactStore) -> None:
    assert not any_store.exists("0" * 64) and "0" * 64 not in any_store and "../x" not in any_store
    with pytest.raises(StoreError, match="no artifact"):
        any_store.open("0" * 64)
    with pytest.raises(StoreError, match="not a sha256 key"):
        any_store.exists("../../etc/passwd")


def test_quarantine_keeps_bytes_and_reason_outside_the_keys(any_store: ArtifactStore, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.part", b"not what the readme promised")
    kept = any_store.quarantine(bad, name="../../evil.caffemodel", reason={"category": "checksum mismatch"})
    assert not bad.exists() and list(any_store.keys()) == []
    names = any_store.quarantined()
    assert len(names) == 1 and names[0].endswith("evil.caffemodel") and "/" not in names[0]
    assert kept.location.rsplit("/", 2)[-2] == "quarantine"
    assert kept.reason_location.endswith(".reason.json")


def test_sweep_removes_only_stale_parts(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "store")
    stale = [write(store.part_dir / name, b"x") for name in ("a.part", "a.part.json", "a.lock")]
    fresh = write(store.part_dir / "b.part", b"y")
    other = write(store.part_dir / "notes.txt", b"z")
    old = time.time() - 7200
    for path in stale + [other]:
        os.utime(path, (old, old))
    removed = store.sweep_parts(older_than_s=3600)
    assert sorted(removed) == sorted(str(p) for p in stale)
    assert fresh.exists() and other.exists()


def test_crash_before_rename_leaves_nothing_complete_looking(tmp_path: Path) -> None:
    # A writer killed mid-file leaves its bytes only under parts/: the key is not there.
    store = ArtifactStore(tmp_path / "store")
    data = os.urandom(10_000)
    write(store.part_dir / "killed.part", data[:5000])
    key = hashlib.sha256(data).hexdigest()
    assert not store.exists(key) and list(store.keys()) == []


def test_path_for_needs_a_local_store(tmp_path: Path) -> None:
    remote = ArtifactStore(f"memory://zoo2tf-{uuid.uuid4().hex}", part_dir=tmp_path)
    with pytest.raises(StoreError, match="local store"):
        remote.path_for("0" * 64)


@pytest.mark.parametrize(("name", "expected"), [
    ("../../x", "x"),
    ("..", "_"),
    (".", "_"),
    ("", "_"),
    ("/etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("deploy.prototxt", "deploy.prototxt"),
    (".hidden", "hidden"),
    ("name with spaces;rm -rf.caffemodel", "name_with_spaces_rm_-rf.caffemodel"),
    ("nul\x00byte", "nulbyte"),
])
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_safe_name_keeps_the_extension_of_long_names() -> None:
    cleaned = safe_name("a" * 500 + ".caffemodel")
    assert len(cleaned) <= 200 and cleaned.endswith(".caffemodel")


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=80))
def test_gist_file_names_cannot_escape_the_folder(name: str) -> None:
    folder = Path("/tmp/zoo2tf-store-gist").resolve()
    target = safe_join(folder, name)
    assert target.parent == folder and target.name not in ("", ".", "..")


def test_traversal_name_writes_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "store" / "gists" / "abc"
    folder.mkdir(parents=True)
    target = safe_join(folder, "../../x")
    target.write_text("gist file")
    assert target == folder / "x"
    assert not (tmp_path / "store" / "x").exists() and not (tmp_path / "x").exists()
