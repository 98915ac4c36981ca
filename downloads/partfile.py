"""Partial downloads on disk: the part file, its JSON sidecar and a lock, named from the URL.

The name comes from a hash of the URL, never from anything the server says, so a hostile
Content-Disposition or redirect target cannot choose where bytes land.  The sidecar
records what a later process needs to resume safely: the URL and the validator (strong
ETag or Last-Modified) to send as If-Range.  The part file's own size is the resume
point: bytes are appended in order, so whatever reached the disk is a correct prefix.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class PartState:
    """What the sidecar of a part file records."""

    url: str
    validator: str | None
    total: int | None
    bytes: int
    updated_at: float


class PartFile:
    """The part file, sidecar and lock file of one URL inside a part directory."""

    def __init__(self, part_dir: Path, url: str):
        stem = hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]
        self.url = url
        self.path = part_dir / f"{stem}.part"
        self.sidecar = part_dir / f"{stem}.part.json"
        self._lock_path = part_dir / f"{stem}.lock"

    @contextmanager
    def locked(self) -> Iterator["PartFile"]:
        """Hold an exclusive lock so two workers fetching the same URL do not interleave bytes.

        flock is released by the kernel when a process dies, even by SIGKILL.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def load(self) -> PartState | None:
        """The sidecar's state if it belongs to this URL and the part file exists, else None."""
        if not self.path.is_file():
            return None
        try:
            data = json.loads(self.sidecar.read_text())
            state = PartState(**data)
        except (OSError, ValueError, TypeError):
            return None
        return state if state.url == self.url else None

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def save(self, *, validator: str | None, total: int | None, bytes_done: int) -> None:
        state = PartState(self.url, validator, total, bytes_done, time.time())
        staged = self.sidecar.with_name(self.sidecar.name + ".tmp")
        staged.write_text(json.dumps(asdict(state), sort_keys=True))
        os.replace(staged, self.sidecar)

    def discard(self) -> None:
        """Forget the partial download (part file and sidecar)."""
        self.path.unlink(missing_ok=True)
        self.sidecar.unlink(missing_ok=True)
