"""Fetch one model's artifacts into the content-addressed store.

Small text files (prototxt, labels) are revalidated with conditional GET; the
caffemodel is downloaded only when the store does not already hold the bytes the
catalog names (same URL and readme sha1 as a verified earlier fetch).
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

from downloads.conditional import ConditionalCache, fetch_text
from downloads.errors import NETWORK, DownloadError
from downloads.fetch import download
from storage.artifacts import ArtifactStore, Digests, safe_name
from storage.catalog import Catalog
from storage.records import ArtifactRecord
from zoo_catalog.records import CatalogEntry, FileRef

TRANSIENT_CATEGORIES = frozenset({NETWORK, "http error", "truncated"})


class FetchFailed(Exception):
    """A model's artifacts could not be had; `category` says why, `transient` if a retry may help."""

    def __init__(self, category: str, message: str, *, url: str | None = None):
        self.category = category
        self.url = url
        self.transient = category in TRANSIENT_CATEGORIES
        super().__init__(message)


@dataclass(frozen=True)
class FetchedFile:
    kind: str
    name: str
    url: str
    sha256: str
    sha1: str
    size: int
    path: str  # a local path the converter can open
    downloaded_bytes: int


# The files a conversion depends on (labels only name classes).
INPUT_KINDS = ("prototxt", "caffemodel", "mean")


def input_sha256s(files: dict[str, FetchedFile]) -> tuple[str, ...]:
    return tuple(sorted(f.sha256 for kind, f in files.items() if kind in INPUT_KINDS))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _local_path(store: ArtifactStore, key: str, name: str, scratch: Path) -> str:
    if store.is_local:
        return str(store.path_for(key))
    target = scratch / key / safe_name(name)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.open(key) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return str(target)


def _store_text(ref: FileRef, kind: str, store: ArtifactStore, session: requests.Session,
                cache: ConditionalCache, scratch: Path) -> FetchedFile:
    fetched = fetch_text(ref.url, session=session, cache=cache)
    with tempfile.NamedTemporaryFile(dir=scratch, delete=False) as tmp:
        tmp.write(fetched.content)
    digests = Digests.of_file(tmp.name)
    key = store.put_file(tmp.name, sha256=digests.sha256, move=True)
    return FetchedFile(kind, ref.name, ref.url, key, digests.sha1, len(fetched.content),
                       _local_path(store, key, ref.name, scratch), fetched.bytes_received)


def _store_binary(ref: FileRef, kind: str, expected_sha1: str | None, model_id: str,
                  store: ArtifactStore, catalog: Catalog, session: requests.Session,
                  scratch: Path) -> FetchedFile:
    known = catalog.known_artifact(model_id, kind, ref.url, expected_sha1)
    if known is not None and store.exists(known.sha256):
        return FetchedFile(kind, ref.name, ref.url, known.sha256, known.sha1, known.size,
                           _local_path(store, known.sha256, ref.name, scratch), 0)
    result = download([ref.url], store, expected_sha1=expected_sha1, session=session, kind=kind)
    return FetchedFile(kind, ref.name, ref.url, result.sha256, result.sha1, result.size,
                       _local_path(store, result.key, ref.name, scratch), result.bytes_received)


def _record(catalog: Catalog, model_id: str, file: FetchedFile, store: ArtifactStore) -> None:
    catalog.record_artifact(ArtifactRecord(
        model_id=model_id, kind=file.kind, url=file.url, status="ok", fetched_at=_now(),
        size=file.size, sha1=file.sha1, sha256=file.sha256, store_path=store.location(file.sha256)))


def _record_failure(catalog: Catalog, model_id: str, kind: str, url: str,
                    err: DownloadError) -> None:
    status = "quarantined" if err.quarantined else (
        "mismatch" if err.category == "checksum mismatch" else "missing")
    catalog.record_artifact(ArtifactRecord(model_id=model_id, kind=kind, url=url,
                                           status=status, fetched_at=_now(),
                                           store_path=err.quarantined))


def _files_of(entry: CatalogEntry, kinds: tuple[str, ...]) -> list[tuple[str, FileRef, bool]]:
    refs: list[tuple[str, FileRef | None, bool]] = [
        ("prototxt", entry.deploy, False),
        ("caffemodel", FileRef(entry.caffemodel or "weights.caffemodel", entry.caffemodel_url)
         if entry.caffemodel_url else None, True),
        ("mean", entry.mean_file, True),
        ("labels", entry.labels_file, False),
    ]
    return [(kind, ref, binary) for kind, ref, binary in refs if ref and kind in kinds]


def fetch_files(entry: CatalogEntry, kinds: tuple[str, ...], *, store: ArtifactStore,
                catalog: Catalog, session: requests.Session, text_cache: ConditionalCache,
                scratch: Path) -> dict[str, FetchedFile]:
    """Fetch the entry's files of the given kinds that the catalog names, recording each
    fetch; FetchFailed for a required file (prototxt, caffemodel) that cannot be had."""
    scratch.mkdir(parents=True, exist_ok=True)
    fetched: dict[str, FetchedFile] = {}
    for kind, ref, binary in _files_of(entry, kinds):
        try:
            if binary:
                sha1 = entry.sha1 if kind == "caffemodel" else None
                file = _store_binary(ref, kind, sha1, entry.model_id, store, catalog, session,
                                     scratch)
            else:
                file = _store_text(ref, kind, store, session, text_cache, scratch)
        except DownloadError as err:
            _record_failure(catalog, entry.model_id, kind, ref.url, err)
            if kind in ("mean", "labels"):
                continue  # optional: validation falls back to the prototxt's own metadata
            category = "checksum" if err.category == "checksum mismatch" else err.category
            raise FetchFailed(category, f"{kind} {ref.url}: {err.message}", url=ref.url) from None
        _record(catalog, entry.model_id, file, store)
        fetched[kind] = file
    return fetched


def require_files(entry: CatalogEntry) -> None:
    """FetchFailed unless the catalog names both a network definition and weights."""
    if entry.deploy is None:
        raise FetchFailed("no deploy net", f"{entry.model_id}: the catalog names no network "
                          "definition (deploy prototxt) for this model")
    if not entry.caffemodel_url:
        raise FetchFailed("no weights", f"{entry.model_id}: the catalog names no caffemodel URL")
