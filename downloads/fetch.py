"""Verified, resumable downloads of zoo artifacts into the content-addressed store.

`download` tries each candidate URL in order.  For one URL it streams the body to a
part file while computing sha1 and sha256, resumes a dropped connection with
``Range`` + ``If-Range`` (starting over cleanly if the server answers 200), checks the
length against Content-Length and a size cap, rejects an HTML error page served in
place of the file, verifies the readme's sha1 and only then moves the bytes into the
store.  Bytes with the wrong sha1 go to the store's quarantine with a reason file.
A part file left by a killed process is picked up by the next call for the same URL.
"""
from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import urllib3

from downloads.errors import (CHECKSUM_MISMATCH, DEAD_LINK, HTML_INSTEAD_OF_BINARY, HTTP_ERROR, NETWORK,
                              SIZE_CAP, TRUNCATED, DownloadError, DownloadFailure)
from downloads.partfile import PartFile
from downloads.redirects import DEFAULT_MAX_REDIRECTS, get_following_redirects
from downloads.session import make_session
from storage.artifacts import ArtifactStore, Digests

DEFAULT_SIZE_CAP = 2 << 30          # the zoo's largest caffemodels are about 0.6 GB
DEFAULT_CHUNK = 1 << 20
DEFAULT_MAX_RESUMES = 8
BINARY_KINDS = frozenset({"caffemodel", "mean", "binaryproto"})
_MARKUP_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<!--")
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
# Errors raised while a body is being read: the connection dropped or stalled.
_BODY_ERRORS = (urllib3.exceptions.HTTPError, requests.exceptions.RequestException)


@dataclass(frozen=True)
class DownloadResult:
    """A verified artifact now in the store."""

    url: str                 # the candidate URL that worked
    final_url: str           # where its redirects ended
    size: int
    sha1: str
    sha256: str
    key: str                 # store key (== sha256)
    location: str            # the stored file's path or URL
    attempts: int            # HTTP responses used, including retried errors and resumes
    resumed_bytes: int       # bytes kept from earlier attempts or an earlier process
    bytes_received: int      # body bytes transferred by this call
    elapsed_s: float
    etag: str | None = None
    last_modified: str | None = None
    failures: tuple[DownloadFailure, ...] = ()   # earlier candidates that did not work


def looks_like_markup(head: bytes) -> bool:
    """True when the first bytes of a body are an HTML/XML page rather than file content."""
    start = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith(_MARKUP_STARTS)


def download(urls: Sequence[str], store: ArtifactStore, *, expected_sha1: str | None = None,
             size_cap: int = DEFAULT_SIZE_CAP, session: requests.Session | None = None,
             part_dir: str | Path | None = None, kind: str = "caffemodel",
             max_redirects: int = DEFAULT_MAX_REDIRECTS, max_resumes: int = DEFAULT_MAX_RESUMES,
             chunk_size: int = DEFAULT_CHUNK) -> DownloadResult:
    """Fetch one artifact from the first candidate URL that yields verified bytes.

    Raises DownloadError naming the category and URL when no candidate works; its
    `failures` lists every candidate's failure.
    """
    if not urls:
        raise ValueError("download() needs at least one candidate URL")
    job = _Job(store=store, expected_sha1=expected_sha1.lower() if expected_sha1 else None,
               size_cap=size_cap, session=session or make_session(),
               part_dir=Path(part_dir) if part_dir is not None else store.part_dir, kind=kind,
               max_redirects=max_redirects, max_resumes=max_resumes, chunk_size=chunk_size)
    failures: list[DownloadFailure] = []
    last: DownloadError | None = None
    for url in urls:
        try:
            result = job.fetch(url)
        except DownloadError as err:
            failures.append(DownloadFailure(err.url, err.category, err.message))
            last = err
            continue
        return replace(result, failures=tuple(failures))
    assert last is not None
    if len(failures) == 1:
        raise last
    summary = "; ".join(f"{f.category} ({f.url})" for f in failures)
    raise DownloadError(last.category, last.url, f"all {len(failures)} candidate URLs failed: {summary}",
                        failures=failures, quarantined=last.quarantined)


def _validator(response: requests.Response) -> str | None:
    """The validator to resume with: a strong ETag, else Last-Modified (If-Range refuses weak ETags)."""
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.headers.get("Last-Modified")


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def _display_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "download"


@dataclass
class _Job:
    store: ArtifactStore
    expected_sha1: str | None
    size_cap: int
    session: requests.Session
    part_dir: Path
    kind: str
    max_redirects: int
    max_resumes: int
    chunk_size: int

    def fetch(self, url: str) -> DownloadResult:
        started = time.monotonic()
        part = PartFile(self.part_dir, url)
        with part.locked():
            run = _Transfer(self, part)
            try:
                run.transfer()
            except DownloadError as err:
                if err.category not in (NETWORK, TRUNCATED):
                    part.discard()   # nothing worth resuming
                raise
            return self._finish(run, time.monotonic() - started)

    def _finish(self, run: "_Transfer", elapsed: float) -> DownloadResult:
        part, digests = run.part, run.digests
        if self.expected_sha1 and digests.sha1 != self.expected_sha1:
            reason = {"category": CHECKSUM_MISMATCH, "url": part.url, "final_url": run.final_url,
                      "expected_sha1": self.expected_sha1, "sha1": digests.sha1, "sha256": digests.sha256,
                      "size": digests.size, "kind": self.kind, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            kept = self.store.quarantine(part.path, name=f"{digests.sha256[:16]}-{_display_name(part.url)}",
                                         reason=reason)
            part.discard()
            raise DownloadError(CHECKSUM_MISMATCH, part.url,
                                f"sha1 {digests.sha1} != expected {self.expected_sha1}; bytes quarantined",
                                quarantined=kept.location)
        key = self.store.put_file(part.path, sha256=digests.sha256, move=True)
        part.discard()
        return DownloadResult(url=part.url, final_url=run.final_url, size=digests.size, sha1=digests.sha1,
                              sha256=digests.sha256, key=key, location=self.store.location(key),
                              attempts=run.attempts, resumed_bytes=run.resumed_bytes,
                              bytes_received=run.bytes_received, elapsed_s=elapsed,
                              etag=run.etag, last_modified=run.last_modified)


class _Transfer:
    """The request/resume loop for one URL; leaves the complete body in the part file."""

    def __init__(self, job: _Job, part: PartFile):
        self.job = job
        self.part = part
        self.final_url = part.url
        self.attempts = 0
        self.resumed_bytes = 0
        self.bytes_received = 0
        self.etag: str | None = None
        self.last_modified: str | None = None
        state = part.load()
        self.validator = state.validator if state else None
        if self.validator:
            # Continue the hashes over the prefix a previous attempt or process left behind.
            self.digests = Digests.of_file(part.path)
        else:
            part.discard()
            self.digests = Digests()

    def _restart(self) -> None:
        self.part.discard()
        self.digests = Digests()

    def transfer(self) -> None:
        url = self.part.url
        stalls = interruptions = 0
        while True:
            offset = self.digests.size
            received_before = self.bytes_received
            if offset and not self.validator:
                self._restart()   # no validator: a resumed range could splice two versions
                offset = 0
            # identity: byte ranges and Content-Length must count the file's own bytes
            headers = {"Accept-Encoding": "identity"}
            if offset:
                headers.update({"Range": f"bytes={offset}-", "If-Range": self.validator})
            response, self.final_url = get_following_redirects(
                self.job.session, url, headers=headers, max_redirects=self.job.max_redirects)
            retries = getattr(response.raw, "retries", None)
            self.attempts += 1 + (len(retries.history) if retries is not None else 0)
            with response:
                total, complete = self._receive(response, offset)
            received = self.bytes_received - received_before
            if complete:
                if total is not None and self.digests.size != total:
                    raise DownloadError(TRUNCATED, url, f"got {self.digests.size} bytes, Content-Length said {total}")
                self._sniff()
                return
            interruptions += 1
            stalls = stalls + 1 if received == 0 else 0
            if interruptions > self.job.max_resumes or stalls >= 2:
                raise DownloadError(TRUNCATED, url, f"connection kept closing: {self.digests.size} of "
                                    f"{total if total is not None else '?'} bytes after {self.attempts} attempts")

    def _receive(self, response: requests.Response, offset: int) -> tuple[int | None, bool]:
        """Handle one response; returns (expected total size, body finished normally)."""
        url, status = self.part.url, response.status_code
        if status in (404, 410):
            raise DownloadError(DEAD_LINK, url, f"HTTP {status} {response.reason} at {self.final_url}")
        if status == 206 and offset:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                self._restart()   # not the range we asked for: start over without one
                return None, False
            total = None if match.group(3) == "*" else int(match.group(3))
            self.resumed_bytes = offset
        elif status == 200:
            if offset:
                self._restart()   # validator changed or server ignores ranges: the file starts over
            total = _content_length(response)
            self.resumed_bytes = 0
        elif status == 416 and offset:
            self._restart()
            return None, False
        else:
            raise DownloadError(HTTP_ERROR, url, f"HTTP {status} {response.reason} at {self.final_url}")
        self._check_headers(response, total)
        self.validator = _validator(response)
        self.etag = response.headers.get("ETag")
        self.last_modified = response.headers.get("Last-Modified")
        start = self.digests.size
        self.part.save(validator=self.validator, total=total, bytes_done=start)
        try:
            self._stream(response)
        except _BODY_ERRORS:
            self.part.save(validator=self.validator, total=total, bytes_done=self.digests.size)
            return total, False
        finally:
            self.bytes_received += self.digests.size - start
        return total, True

    def _check_headers(self, response: requests.Response, total: int | None) -> None:
        url = self.part.url
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if self.job.kind in BINARY_KINDS and content_type == "text/html":
            raise DownloadError(HTML_INSTEAD_OF_BINARY, url,
                                f"{self.final_url} answered {content_type} for a {self.job.kind}")
        if total is not None and total > self.job.size_cap:
            raise DownloadError(SIZE_CAP, url, f"{total} bytes exceeds the size cap of {self.job.size_cap}")

    def _sniff(self) -> None:
        """Reject an error page served in place of the file, judged by the body's first bytes."""
        with open(self.part.path, "rb") as handle:
            head = handle.read(512)
        if looks_like_markup(head):
            raise DownloadError(HTML_INSTEAD_OF_BINARY, self.part.url,
                                f"{self.final_url} sent an HTML/XML page instead of a {self.job.kind}")

    def _stream(self, response: requests.Response) -> None:
        url, cap = self.part.url, self.job.size_cap
        with open(self.part.path, "ab") as out:
            # read1 hands over whatever arrived; a full-size read() would lose a partial
            # chunk when the connection drops, and with it the bytes a resume could keep.
            while chunk := response.raw.read1(self.job.chunk_size):
                if self.digests.size + len(chunk) > cap:
                    raise DownloadError(SIZE_CAP, url, f"body exceeds the size cap of {cap} bytes")
                out.write(chunk)
                self.digests.update(chunk)
