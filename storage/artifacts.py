"""The content-addressed artifact store: every downloaded file kept once, under its sha256.

Layout under the store root:

    sha256/ab/cd/<sha256>      complete, verified files (only ever created by an atomic rename)
    parts/                     partial downloads and their sidecars (local stores)
    tmp/                       uploads in flight to a remote store
    quarantine/                bytes that failed verification, each with a JSON reason file

A crash at any moment leaves either nothing or an unfinished file under parts/ or tmp/,
never a file under sha256/ that looks complete.  The root is a local directory or any
fsspec URL (``s3://bucket/zoo``, ``memory://store`` in tests, ``file:///...``); the
local case is handled with plain os calls so that fsync and os.replace give real
crash-safety on disk.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import fsspec

from zoo2tf.config import data_dir

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_MAX_NAME = 200
_COPY_CHUNK = 4 << 20
PART_SUFFIXES = (".part", ".part.json", ".lock", ".tmp")


class StoreError(Exception):
    """A bad key or an operation the store's backend cannot do; names the key or path."""


def safe_name(name: str) -> str:
    """A file name derived from an untrusted name that cannot leave the folder it is joined to.

    Only the last path component survives (both / and \\ count as separators), characters
    outside [A-Za-z0-9._+-] become '_', leading dots are dropped (no '..', no hidden
    files) and the result is at most 200 characters, keeping the extension.
    """
    last = re.split(r"[/\\]", name.replace("\x00", ""))[-1]
    cleaned = _UNSAFE.sub("_", last).lstrip(".")
    if len(cleaned) > _MAX_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext[:20] if dot else ""
        cleaned = (stem if dot else cleaned)[: _MAX_NAME - len(ext) - 1] + (f".{ext}" if ext else "")
    return cleaned or "_"


def safe_join(folder: str | os.PathLike[str], name: str) -> Path:
    """`folder / safe_name(name)`, checked to resolve inside `folder`."""
    base = Path(folder).resolve()
    target = (base / safe_name(name)).resolve()
    if target.parent != base:
        raise StoreError(f"{name!r}: file name escapes {base}")
    return target


class Digests:
    """sha1 and sha256 of a byte stream, updated as the bytes go by."""

    def __init__(self) -> None:
        self._sha1 = hashlib.sha1()
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._sha1.update(data)
        self._sha256.update(data)
        self.size += len(data)

    @property
    def sha1(self) -> str:
        return self._sha1.hexdigest()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    @classmethod
    def of_file(cls, path: str | os.PathLike[str], limit: int | None = None) -> "Digests":
        """Digests of the first `limit` bytes of a file (all of it when None)."""
        digests = cls()
        with open(path, "rb") as handle:
            remaining = limit
            while remaining is None or remaining > 0:
                chunk = handle.read(_COPY_CHUNK if remaining is None else min(_COPY_CHUNK, remaining))
                if not chunk:
                    break
                digests.update(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
        return digests


def _check_key(key: str) -> str:
    if not _HEX64.match(key):
        raise StoreError(f"{key!r}: not a sha256 key (64 lower-case hex digits)")
    return key


def object_path(key: str) -> str:
    """The store-relative path of a key: sha256/ab/cd/<key>."""
    _check_key(key)
    return f"sha256/{key[:2]}/{key[2:4]}/{key}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class QuarantinedFile:
    """Where rejected bytes went and the JSON file saying why."""

    location: str
    reason_location: str


class ArtifactStore:
    """Content-addressed files under a local directory or an fsspec URL.

    `part_dir` is where downloads keep partial files; it is always local (streaming
    writes and resumes need a real file).  It defaults to `<root>/parts` for a local
    store and to `<data dir>/parts` for a remote one.
    """

    def __init__(self, url_or_path: str | os.PathLike[str], *, part_dir: str | os.PathLike[str] | None = None):
        text = os.fspath(url_or_path)
        self.url = text
        if "://" in text:
            self._fs, root = fsspec.core.url_to_fs(text)
            self._root = root.rstrip("/") or "/"
            self._local_root: Path | None = None
            self._fs.makedirs(self._root, exist_ok=True)
        else:
            self._fs = None
            self._root = str(Path(text).resolve())
            self._local_root = Path(self._root)
            self._local_root.mkdir(parents=True, exist_ok=True)
        default_parts = self._local_root / "parts" if self._local_root else data_dir() / "parts"
        self.part_dir = Path(part_dir).resolve() if part_dir is not None else default_parts
        self.part_dir.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"

    @property
    def is_local(self) -> bool:
        return self._local_root is not None

    def _join(self, relative: str) -> str:
        return f"{self._root}/{relative}" if self._root != "/" else f"/{relative}"

    def location(self, key: str) -> str:
        """Where a key's file lives: a local path or the backend's path for remote stores."""
        relative = object_path(key)
        if self._local_root is not None:
            return str(self._local_root / relative)
        return self._fs.unstrip_protocol(self._join(relative))

    def path_for(self, key: str) -> Path:
        """The local file of a key (local stores only), whether or not it exists yet."""
        if self._local_root is None:
            raise StoreError(f"{self.url}: path_for() needs a local store; use open() for remote stores")
        return self._local_root / object_path(key)

    def exists(self, key: str) -> bool:
        if self._local_root is not None:
            return self.path_for(key).is_file()
        return bool(self._fs.exists(self._join(object_path(key))))

    has = exists

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _HEX64.match(key) is not None and self.exists(key)

    def size(self, key: str) -> int:
        if self._local_root is not None:
            return self.path_for(key).stat().st_size
        return int(self._fs.size(self._join(object_path(key))))

    def open(self, key: str) -> BinaryIO:
        """Open a stored file for reading; StoreError if the key is not in the store."""
        if not self.exists(key):
            raise StoreError(f"{self.url}: no artifact {key}")
        if self._local_root is not None:
            return open(self.path_for(key), "rb")
        return self._fs.open(self._join(object_path(key)), "rb")

    def keys(self) -> Iterator[str]:
        """Every key in the store (walks the sha256/ tree)."""
        if self._local_root is not None:
            top = self._local_root / "sha256"
            names: Iterator[str] = (p.name for p in top.glob("*/*/*")) if top.is_dir() else iter(())
        else:
            top_remote = self._join("sha256")
            found = self._fs.glob(f"{top_remote}/*/*/*") if self._fs.exists(top_remote) else []
            names = (p.rstrip("/").rsplit("/", 1)[-1] for p in found)
        return (name for name in names if _HEX64.match(name))

    def put_file(self, path: str | os.PathLike[str], *, sha256: str | None = None, move: bool = False) -> str:
        """Add a local file to the store and return its key (its sha256).

        `sha256`, when the caller already hashed the bytes while writing them, saves a
        second read.  With `move=True` the source is consumed (renamed into place when it
        is on the store's file system).  A file already present is not written again.
        """
        source = Path(path)
        key = _check_key(sha256) if sha256 else Digests.of_file(source).sha256
        if self.exists(key):
            if move:
                source.unlink()
            return key
        if self._local_root is not None:
            self._put_local(source, key, move)
        else:
            self._put_remote(source, key)
            if move:
                source.unlink()
        return key

    def _put_local(self, source: Path, key: str, move: bool) -> None:
        final = self.path_for(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        staged = source if move else self._copy_to_tmp(source)
        _fsync_file(staged)
        try:
            os.replace(staged, final)
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # source on another file system: copy first
                raise
            staged = self._copy_to_tmp(source)
            _fsync_file(staged)
            os.replace(staged, final)
            source.unlink()
        _fsync_dir(final.parent)

    def _copy_to_tmp(self, source: Path) -> Path:
        assert self._local_root is not None
        tmp_dir = self._local_root / "tmp"
        tmp_dir.mkdir(exist_ok=True)
        staged = tmp_dir / f"{uuid.uuid4().hex}.tmp"
        with open(source, "rb") as src, open(staged, "wb") as dst:
            while chunk := src.read(_COPY_CHUNK):
                dst.write(chunk)
        return staged

    def _put_remote(self, source: Path, key: str) -> None:
        # Upload under tmp/ first and rename: readers of sha256/ never see a partial object.
        staged = self._join(f"tmp/{uuid.uuid4().hex}.tmp")
        final = self._join(object_path(key))
        self._fs.makedirs(self._join("tmp"), exist_ok=True)
        self._fs.put_file(str(source), staged)
        self._fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        self._fs.mv(staged, final)

    def quarantine(self, path: str | os.PathLike[str], *, name: str, reason: Mapping[str, object]) -> QuarantinedFile:
        """Move rejected bytes out of the way, next to a JSON file saying why.

        They are kept for inspection and never become a store key.
        """
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        base = f"{stamp}-{uuid.uuid4().hex[:8]}-{safe_name(name)}"
        reason_text = json.dumps(dict(reason), indent=2, sort_keys=True, default=str) + "\n"
        source = Path(path)
        if self._local_root is not None:
            folder = self._local_root / "quarantine"
            folder.mkdir(exist_ok=True)
            target, reason_file = folder / base, folder / f"{base}.reason.json"
            reason_file.write_text(reason_text)
            try:
                os.replace(source, target)
            except OSError:
                target.write_bytes(source.read_bytes())
                source.unlink()
            return QuarantinedFile(str(target), str(reason_file))
        folder_remote = self._join("quarantine")
        self._fs.makedirs(folder_remote, exist_ok=True)
        target_remote, reason_remote = f"{folder_remote}/{base}", f"{folder_remote}/{base}.reason.json"
        self._fs.pipe_file(reason_remote, reason_text.encode())
        self._fs.put_file(str(source), target_remote)
        source.unlink()
        return QuarantinedFile(self._fs.unstrip_protocol(target_remote), self._fs.unstrip_protocol(reason_remote))

    def quarantined(self) -> list[str]:
        """Names of the quarantined files (not their reason files)."""
        if self._local_root is not None:
            folder = self._local_root / "quarantine"
            names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        else:
            folder_remote = self._join("quarantine")
            found = self._fs.ls(folder_remote, detail=False) if self._fs.exists(folder_remote) else []
            names = [p.rstrip("/").rsplit("/", 1)[-1] for p in found]
        return sorted(n for n in names if not n.endswith(".reason.json"))

    def sweep_parts(self, older_than_s: float) -> list[str]:
        """Remove partial files (and their sidecars) not touched for `older_than_s` seconds.

        Parts younger than that may belong to a download in progress or one a later run
        will resume, so they stay.  Returns what was removed.
        """
        cutoff = time.time() - older_than_s
        removed: list[str] = []
        folders = [self.part_dir] + ([self._local_root / "tmp"] if self._local_root is not None else [])
        for folder in folders:
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.is_file() and entry.name.endswith(PART_SUFFIXES) and entry.stat().st_mtime < cutoff:
                    entry.unlink(missing_ok=True)
                    removed.append(str(entry))
        if self._local_root is None:
            tmp_remote = self._join("tmp")
            if self._fs.exists(tmp_remote):
                for info in self._fs.ls(tmp_remote, detail=True):
                    modified = _mtime(info)
                    if modified is not None and modified < cutoff:
                        self._fs.rm_file(info["name"])
                        removed.append(self._fs.unstrip_protocol(info["name"]))
        return sorted(removed)


def _mtime(info: Mapping[str, object]) -> float | None:
    """A modification time in seconds from an fsspec info dict (backends name it differently)."""
    for field in ("mtime", "created", "LastModified", "last_modified"):
        value = info.get(field)
        if isinstance(value, (int, float)):
            return float(value)
        if hasattr(value, "timestamp"):
            return float(value.timestamp())  # type: ignore[union-attr]
    return None
