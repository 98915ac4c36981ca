"""Conditional GET of small catalog files (wiki page, gist API answers, readmes).

The last answer for each URL is kept in a small cache directory with its ETag and
Last-Modified; the next fetch sends If-None-Match / If-Modified-Since and a 304 returns
the cached bytes, so a night with no changes transfers next to nothing.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from downloads.errors import DEAD_LINK, HTTP_ERROR, NETWORK, SIZE_CAP, DownloadError
from downloads.redirects import DEFAULT_MAX_REDIRECTS, get_following_redirects

DEFAULT_TEXT_CAP = 32 << 20
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class FetchedText:
    """A small file as fetched (or revalidated) tonight."""

    url: str
    final_url: str
    content: bytes
    encoding: str
    status: int              # 200, or 304 when the cached copy was still current
    from_cache: bool
    bytes_received: int      # body bytes transferred by this fetch
    etag: str | None = None
    last_modified: str | None = None

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding, errors="replace")


class ConditionalCache:
    """One JSON file per URL under `directory`: validators and the last content."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, url: str) -> Path:
        return self.directory / f"{hashlib.sha256(url.encode('utf-8')).hexdigest()[:40]}.json"

    def get(self, url: str) -> FetchedText | None:
        try:
            data = json.loads(self._path(url).read_text())
        except (OSError, ValueError):
            return None
        if data.get("url") != url:
            return None
        return FetchedText(url=url, final_url=data["final_url"], content=base64.b64decode(data["content"]),
                           encoding=data["encoding"], status=304, from_cache=True, bytes_received=0,
                           etag=data.get("etag"), last_modified=data.get("last_modified"))

    def put(self, fetched: FetchedText) -> None:
        data = {"url": fetched.url, "final_url": fetched.final_url, "encoding": fetched.encoding,
                "etag": fetched.etag, "last_modified": fetched.last_modified, "stored_at": time.time(),
                "content": base64.b64encode(fetched.content).decode("ascii")}
        path = self._path(fetched.url)
        staged = path.with_name(path.name + ".tmp")
        staged.write_text(json.dumps(data))
        os.replace(staged, path)


def _charset(response: requests.Response) -> str:
    """The declared charset, else UTF-8 (requests' ISO-8859-1 default for text/* mangles UTF-8 pages)."""
    match = _CHARSET.search(response.headers.get("Content-Type", ""))
    return match.group(1) if match else "utf-8"


def fetch_text(url: str, *, session: requests.Session, cache: ConditionalCache, size_cap: int = DEFAULT_TEXT_CAP,
               max_redirects: int = DEFAULT_MAX_REDIRECTS) -> FetchedText:
    """GET a small file, revalidating the cached copy; DownloadError on failure."""
    cached = cache.get(url)
    headers = {}
    if cached and cached.etag:
        headers["If-None-Match"] = cached.etag
    if cached and cached.last_modified:
        headers["If-Modified-Since"] = cached.last_modified
    response, final_url = get_following_redirects(session, url, headers=headers, max_redirects=max_redirects)
    with response:
        if response.status_code == 304 and cached:
            return cached
        if response.status_code in (404, 410):
            raise DownloadError(DEAD_LINK, url, f"HTTP {response.status_code} {response.reason} at {final_url}")
        if response.status_code != 200:
            raise DownloadError(HTTP_ERROR, url, f"HTTP {response.status_code} {response.reason} at {final_url}")
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=1 << 16):
                body += chunk
                if len(body) > size_cap:
                    raise DownloadError(SIZE_CAP, url, f"body exceeds the size cap of {size_cap} bytes")
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            raise DownloadError(NETWORK, url, f"connection lost reading {final_url}: {exc}") from None
        fetched = FetchedText(url=url, final_url=final_url, content=bytes(body),
                              encoding=_charset(response), status=200, from_cache=False,
                              bytes_received=len(body), etag=response.headers.get("ETag"),
                              last_modified=response.headers.get("Last-Modified"))
    if fetched.etag or fetched.last_modified:
        cache.put(fetched)
    return fetched
