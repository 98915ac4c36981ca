"""The caffemodel files the mirror serves: real bundled bytes, or seeded synthetic weights.

Synthetic weights come from `caffe2tf.synth.write_synthetic_caffemodel` and are written
once into a cache directory keyed by the prototxt's sha1, the seed and the synthesizer's
version (caffe2tf.synth.SYNTH_VERSION), with a small JSON sidecar holding the file's sha1
and size, so a second mirror start (or a second request) reuses them without hashing
hundreds of megabytes again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MODES = ("real", "synth", "none")


@dataclass(frozen=True)
class WeightFile:
    path: Path
    size: int
    sha1: str
    synthetic: bool


@dataclass(frozen=True)
class WeightSource:
    """Where the bytes for one zoo weight URL come from: a bundled file or a prototxt to synthesize."""

    url: str
    real: Path | None = None
    prototxt: Path | None = None

    @property
    def seed(self) -> int:
        # Seeded by the URL so that two models sharing one architecture get different weights.
        return int(hashlib.sha1(self.url.encode()).hexdigest()[:8], 16)


def file_sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ArchitectureUnavailable(Exception):
    """The prototxt cannot be given complete synthetic weights (unknown layer types or shapes)."""


# One synthesis at a time: it is CPU- and disk-bound, and warnings capture is process-global.
_SYNTH_LOCK = threading.Lock()


def _synthesize(prototxt: Path, out: Path, seed: int) -> None:
    from caffe2tf.synth import SynthesisWarning, write_synthetic_caffemodel

    with _SYNTH_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SynthesisWarning)
        write_synthetic_caffemodel(prototxt, out, seed=seed)
    skipped = [w for w in caught if issubclass(w.category, SynthesisWarning)]
    if skipped:
        # Partial weights would only fail later, far from the cause: treat as unavailable.
        raise ArchitectureUnavailable(f"{len(skipped)} layer(s) without weights, first: {skipped[0].message}")


class WeightStore:
    """Resolves weight URLs to files; thread-safe, generating each synthetic file at most once."""

    def __init__(self, sources: Collection[WeightSource], mode: str, cache_dir: Path,
                 synth_only: Collection[str] | None = None):
        if mode not in MODES:
            raise ValueError(f"weights mode must be one of {', '.join(MODES)}, got '{mode}'")
        self.mode = mode
        self.cache_dir = cache_dir
        self._sources = {s.url: s for s in sources}
        self._synth_only = None if synth_only is None else set(synth_only)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._resolved: dict[str, WeightFile | None] = {}
        self.failures: dict[str, str] = {}

    @property
    def sources(self) -> dict[str, WeightSource]:
        return dict(self._sources)

    def offers(self, url: str) -> bool:
        """Whether this mode may serve bytes for the URL (without generating anything)."""
        source = self._sources.get(url)
        if source is None or self.mode == "none":
            return False
        if source.real is not None:
            return True
        if self.mode != "synth" or source.prototxt is None:
            return False
        return self._synth_only is None or url in self._synth_only

    def resolve(self, url: str) -> WeightFile | None:
        """The file for a weight URL, synthesizing it on first use; None when it cannot be served."""
        if not self.offers(url):
            return None
        with self._lock:
            if self._still_valid(url):
                return self._resolved[url]
            key_lock = self._key_locks.setdefault(url, threading.Lock())
        with key_lock:
            with self._lock:
                if self._still_valid(url):
                    return self._resolved[url]
            found = self._load(self._sources[url])
            with self._lock:
                self._resolved[url] = found
            return found

    def _still_valid(self, url: str) -> bool:
        """Resolved before, and (for a file) not removed from the cache since."""
        if url not in self._resolved:
            return False
        found = self._resolved[url]
        return found is None or found.path.exists()

    def _load(self, source: WeightSource) -> WeightFile | None:
        if source.real is not None:
            return WeightFile(source.real, source.real.stat().st_size, file_sha1(source.real), False)
        assert source.prototxt is not None
        return self._cached_synthetic(source.prototxt, source.seed, source.url)

    def cache_path(self, prototxt: Path, seed: int) -> Path:
        from caffe2tf.synth import SYNTH_VERSION

        return self.cache_dir / f"{file_sha1(prototxt)}-{seed}-v{SYNTH_VERSION}.caffemodel"

    def _cached_synthetic(self, prototxt: Path, seed: int, url: str) -> WeightFile | None:
        target = self.cache_path(prototxt, seed)
        sidecar = target.with_suffix(".json")
        if target.exists() and sidecar.exists():
            meta = json.loads(sidecar.read_text())
            if meta.get("size") == target.stat().st_size:
                return WeightFile(target, meta["size"], meta["sha1"], True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            _synthesize(prototxt, partial, seed)
        except Exception as err:  # the mirror keeps serving: this model's weights become a 404
            partial.unlink(missing_ok=True)
            reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            self.failures[url] = reason
            log.info("mirror: no synthetic weights for %s (%s)", prototxt.name, reason)
            return None
        sha1, size = file_sha1(partial), partial.stat().st_size
        os.replace(partial, target)
        sidecar_part = partial.with_suffix(".sidecar")
        sidecar_part.write_text(json.dumps({"sha1": sha1, "size": size, "prototxt": prototxt.name,
                                            "seed": seed}))
        os.replace(sidecar_part, sidecar)
        return WeightFile(target, size, sha1, True)
