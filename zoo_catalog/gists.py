"""A small client for the two GitHub APIs the catalog reads: gists and repository contents.

On top of the shared session (pooling, timeouts, retries of 5xx/429 with Retry-After):
  - ETag conditional requests, with the ETag cache persisted as JSON under `cache_dir`
    so that tomorrow night's scan costs little of the rate limit (GitHub does not count 304s);
  - GitHub's rate-limit semantics: a 403/429 with `X-RateLimit-Remaining: 0` (or a
    Retry-After) waits until `X-RateLimit-Reset`, bounded by `max_wait_s`, then RateLimited;
  - files the gist API truncates (`truncated: true`, over ~1 MB) are fetched via `raw_url`;
  - the token goes to the API host only, never to raw-file hosts.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from zoo_catalog.errors import FetchError, NotFound, RateLimited
from zoo_catalog.records import FileRef, RepoRef

log = logging.getLogger(__name__)

ETAG_CACHE_FILE = "github-etags.json"
RESET_MARGIN_S = 1.0  # X-RateLimit-Reset is whole seconds; wait a little past it


@dataclass(frozen=True)
class RemoteFile:
    """A file of a gist or repository folder; `content` is set when the API sent it whole."""

    name: str
    url: str
    size: int | None = None
    content: str | None = None

    def ref(self) -> FileRef:
        return FileRef(name=self.name, url=self.url)


@dataclass(frozen=True)
class Gist:
    gist_id: str
    revision: str | None
    owner: str | None
    files: tuple[RemoteFile, ...]
    synthetic_weights: bool = False


class GitHubClient:
    def __init__(self, api_base: str, session: requests.Session, *, token: str | None = None,
                 cache_dir: Path | str | None = None, max_wait_s: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.api_base = api_base.rstrip("/")
        self.session = session
        self.token = token
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.cache_path = Path(cache_dir) / ETAG_CACHE_FILE if cache_dir else None
        self._cache: dict[str, dict[str, Any]] = self._load_cache()
        self.stats = {"requests": 0, "not_modified": 0, "rate_limit_waits": 0, "raw_fetches": 0}
        self.waited_s = 0.0

    # -- public API ------------------------------------------------------------------------
    def gist(self, gist_id: str) -> Gist:
        url = f"{self.api_base}/gists/{gist_id}"
        data = self.get_json(url)
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise FetchError("gist API answer has no 'files' mapping", where=url)
        files = []
        for name, info in data["files"].items():
            if not isinstance(info, dict):
                continue
            complete = not info.get("truncated") and isinstance(info.get("content"), str)
            files.append(RemoteFile(name=str(info.get("filename") or name), url=str(info.get("raw_url") or ""),
                                    size=info.get("size"), content=info["content"] if complete else None))
        history = data.get("history") or []
        revision = history[0].get("version") if history and isinstance(history[0], dict) else None
        owner = (data.get("owner") or {}).get("login") if isinstance(data.get("owner"), dict) else None
        marker = data.get("zoo2tf_mirror") or {}
        return Gist(gist_id=gist_id, revision=revision, owner=owner, files=tuple(files),
                    synthetic_weights=bool(isinstance(marker, dict) and marker.get("synthetic_weights")))

    def contents(self, repo: RepoRef) -> tuple[RemoteFile, ...]:
        """The files (not sub-folders) of a repository folder."""
        return tuple(RemoteFile(name=str(item.get("name")), url=str(item.get("download_url") or ""),
                                size=item.get("size"))
                     for item in self._listing(repo) if item.get("type") == "file")

    def folders(self, repo: RepoRef) -> tuple[str, ...]:
        """The names of a repository folder's sub-folders."""
        return tuple(str(item.get("name")) for item in self._listing(repo) if item.get("type") == "dir")

    def _listing(self, repo: RepoRef) -> list[dict[str, Any]]:
        url = f"{self.api_base}/repos/{repo.owner}/{repo.repo}/contents/{repo.path}".rstrip("/")
        data = self.get_json(url)
        return [item for item in (data if isinstance(data, list) else [data]) if isinstance(item, dict)]

    def text(self, file: RemoteFile) -> str:
        """A file's text: inline when the API sent it whole, else from its raw URL."""
        if file.content is not None:
            return file.content
        if not file.url:
            raise FetchError(f"file {file.name} has neither content nor a raw URL")
        self.stats["raw_fetches"] += 1
        return self.get_text(file.url)

    def get_text(self, url: str) -> str:
        response = self._get(url, api=False)
        return response if isinstance(response, str) else json.dumps(response)

    def get_json(self, url: str) -> Any:
        return self._get(url, api=True)

    def save_cache(self) -> None:
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.cache_path.with_suffix(".tmp")
        temp.write_text(json.dumps(self._cache), encoding="utf-8")
        os.replace(temp, self.cache_path)

    # -- internals -------------------------------------------------------------------------
    def _load_cache(self) -> dict[str, dict[str, Any]]:
        if self.cache_path is None or not self.cache_path.exists():
            return {}
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            log.warning("ignoring unreadable ETag cache %s: %s", self.cache_path, err)
            return {}
        return data if isinstance(data, dict) else {}

    def _get(self, url: str, *, api: bool) -> Any:
        headers = {"Accept": "application/vnd.github+json"} if api else {}
        if api and self.token:
            headers["Authorization"] = f"token {self.token}"
        cached = self._cache.get(url)
        if isinstance(cached, dict) and cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        while True:
            self.stats["requests"] += 1
            try:
                response = self.session.get(url, headers=headers)
            except requests.RequestException as err:
                raise FetchError(f"request failed: {type(err).__name__}: {err}", where=url) from None
            if response.status_code == 304 and cached:
                self.stats["not_modified"] += 1
                return cached["body"]
            wait = _rate_limit_wait(response) if response.status_code in (403, 429) else None
            if wait is None:
                break
            if self.waited_s + wait > self.max_wait_s:
                reset = response.headers.get("X-RateLimit-Reset")
                raise RateLimited(
                    f"rate limit exhausted; reset in {wait:.0f}s is beyond the {self.max_wait_s:.0f}s "
                    "we may wait (set ZOO2TF_GITHUB_TOKEN for a higher limit)", where=url,
                    status=response.status_code, reset_at=float(reset) if reset else None)
            log.info("rate limited on %s: waiting %.1fs", url, wait)
            self.stats["rate_limit_waits"] += 1
            self.waited_s += wait
            self.sleep(wait)
        if response.status_code == 404:
            raise NotFound("not found (HTTP 404)", where=url, status=404)
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code}", where=url, status=response.status_code)
        body: Any
        if api:
            try:
                body = response.json()
            except ValueError:
                raise FetchError("answer is not JSON", where=url, status=response.status_code) from None
        else:
            body = response.content.decode("utf-8", errors="replace")
        etag = response.headers.get("ETag")
        if etag:
            self._cache[url] = {"etag": etag, "body": body}
        return body


def _rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds to wait before retrying a 403/429, or None when it is not a rate limit."""
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    remaining = response.headers.get("X-RateLimit-Remaining")
    if response.status_code == 429 or remaining == "0":
        reset = response.headers.get("X-RateLimit-Reset")
        try:
            return max(0.0, float(reset) - time.time()) + RESET_MARGIN_S if reset else 60.0
        except ValueError:
            return 60.0
    return None
