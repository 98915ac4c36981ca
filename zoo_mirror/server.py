"""The offline zoo mirror: a threaded loopback HTTP server replicating the Model Zoo's hosts.

URL layout (all under `base_url`):

  /raw/wiki/BVLC/caffe/Model-Zoo.md              the wiki page, raw markdown (`catalog_url`)
  /api/gists/<id>                                 GitHub gist API (`github_api_base` = /api)
  /api/repos/<owner>/<repo>/contents/<path>       GitHub contents API (BVLC models, repo-linked models)
  /api/rate_limit                                 the caller's rate-limit state (not counted)
  /gist-raw/<owner>/<id>/raw/<version>/<file>     raw gist files (the gists' `raw_url`)
  /raw/<owner>/<repo>/master/<path>               raw repository files (`download_url`)
  /files/<original host>/<original path>          weight files the readmes name, files the wiki links

Conditional requests (If-None-Match, If-Modified-Since) answer 304; Range and If-Range
answer 206 / 416.  Faults are injected per path with the SPEC described in
`zoo_mirror.faults` (example: ``*/files/*=drop:50%;/api/gists/*=429:2``).
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection
from datetime import datetime, timezone
from pathlib import Path

from zoo_mirror.content import LATEST, Folder, MirrorContent
from zoo_mirror.faults import FaultPlan
from zoo_mirror.github_api import GITHUB_FILE_LIMIT, content_entry, gist_document
from zoo_mirror.handler import MirrorHandler, QuietServer
from zoo_mirror.rate_limit import RateLimiter, client_key
from zoo_mirror.reply import Reply, json_reply, not_found, sha1_hex
from zoo_mirror.weights import WeightStore

WIKI_PREFIX = "/raw/wiki/BVLC/caffe/"
CATALOG_PATH = WIKI_PREFIX + "Model-Zoo.md"
ACCURACY_PATH = WIKI_PREFIX + "Models-accuracy-on-ImageNet-2012-val.md"
LOG_SIZE = 5000


def default_cache_dir() -> Path:
    from zoo2tf.config import data_dir

    return data_dir() / "mirror-cache"


class MirrorServer:
    """A running mirror; use as a context manager or call start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, weights: str = "synth",
                 faults: str | None = None, wiki_revision: str = LATEST,
                 cache_dir: Path | str | None = None, *, truncate_over: int = GITHUB_FILE_LIMIT,
                 rate_limit: int = 60, rate_window_s: float = 3600.0,
                 synth_only: Collection[str] | None = None, prefetch: bool = False):
        self.host = host
        self.port = port
        self.content = MirrorContent()
        self.weights = WeightStore(self.content.weight_sources, weights,
                                   Path(cache_dir) if cache_dir else default_cache_dir(), synth_only)
        self.faults = FaultPlan(faults)
        self.truncate_over = truncate_over
        self.rate_limiter = RateLimiter(rate_limit, rate_window_s)
        self.prefetch = prefetch
        self._wiki = self.content.revision(wiki_revision)
        self._log: deque[tuple[str, str, int]] = deque(maxlen=LOG_SIZE)
        self._httpd: QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> MirrorServer:
        httpd = QuietServer((self.host, self.port), MirrorHandler)
        httpd.site = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, name="zoo-mirror", daemon=True)
        self._thread.start()
        if self.prefetch:
            threading.Thread(target=self._prefetch, name="zoo-mirror-prefetch", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prefetch(self) -> None:
        for url in self.weights.sources:
            if self._httpd is None:
                return
            self.weights.resolve(url)

    # -- addresses -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def catalog_url(self) -> str:
        return self.base_url + CATALOG_PATH

    @property
    def github_api_base(self) -> str:
        return self.base_url + "/api"

    @property
    def gist_raw_base(self) -> str:
        return self.base_url + "/gist-raw"

    def env(self) -> dict[str, str]:
        """Environment variables that point zoo2tf at this mirror."""
        return {"ZOO2TF_CATALOG_URL": self.catalog_url, "ZOO2TF_GITHUB_API": self.github_api_base}

    # -- run-time controls -----------------------------------------------------------------
    def set_faults(self, spec: str | None) -> None:
        self.faults.replace(spec)

    def set_wiki_revision(self, revision: str) -> None:
        self._wiki = self.content.revision(revision)

    @property
    def wiki_revision(self) -> str:
        return self._wiki.date

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        return list(self._log)

    def record(self, method: str, path: str, status: int) -> None:
        self._log.append((method, path, status))

    # -- routing ---------------------------------------------------------------------------
    def route(self, path: str, headers: dict[str, str], client: str) -> Reply:
        if path == CATALOG_PATH:
            wiki = self._wiki
            return Reply(200, wiki.body, etag=f'"{sha1_hex(wiki.body)}"', last_modified=wiki.last_modified)
        if path == ACCURACY_PATH:
            body = self.content.accuracy_page
            return Reply(200, body, etag=f'"{sha1_hex(body)}"')
        if path.startswith("/api/"):
            return self._api(path[len("/api"):], headers, client)
        if path.startswith("/gist-raw/"):
            return self._gist_raw(path[len("/gist-raw/"):].split("/"))
        if path.startswith("/raw/"):
            return self._repo_raw(path[len("/raw/"):].split("/"))
        if path.startswith("/files/"):
            return self._files(path[len("/files/"):], headers.get("x-mirror-query", ""))
        if path == "/":
            return Reply(200, f"zoo2tf offline mirror\ncatalog: {self.catalog_url}\n"
                              f"github api: {self.github_api_base}\n".encode())
        return not_found()

    def _api(self, path: str, headers: dict[str, str], client: str) -> Reply:
        key, authenticated = client_key(headers.get("authorization"), client)
        if path == "/rate_limit":
            state = self.rate_limiter.check(key, authenticated, spend=False)
            core = {"limit": state.limit, "remaining": state.remaining, "reset": state.reset,
                    "used": state.used, "resource": "core"}
            reply = json_reply(200, {"resources": {"core": core}, "rate": core})
            reply.headers.update(state.headers())
            return reply
        reply = self._api_document(path)
        # As on GitHub, a conditional request answered 304 does not spend the rate limit.
        tags = {t.strip() for t in headers.get("if-none-match", "").split(",")}
        state = self.rate_limiter.check(key, authenticated, spend=reply.etag not in tags)
        if not state.allowed:
            reply = json_reply(403, {
                "message": f"API rate limit exceeded for {client}. (Authenticated requests get a "
                           "higher rate limit.)",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})
        reply.headers.update(state.headers())
        return reply

    def _api_document(self, path: str) -> Reply:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "gists":
            gist = self.content.gists.get(parts[1])
            if gist is None:
                return json_reply(404, {"message": "Not Found"})
            files = {name: self._file_bytes(gist, name) for name in gist.files}
            return json_reply(200, gist_document(
                parts[1], gist, files, api_base=self.github_api_base, raw_base=self.gist_raw_base,
                html_base="https://gist.github.com", truncate_over=self.truncate_over,
                synthetic=self.content.synthetic_weights(gist, self.weights)))
        if len(parts) >= 4 and parts[0] == "repos" and parts[3] == "contents":
            return self._contents(f"{parts[1]}/{parts[2]}", "/".join(parts[4:]))
        return json_reply(404, {"message": "Not Found"})

    def _file_bytes(self, folder: Folder, name: str) -> bytes:
        return self.content.file_bytes(folder, name, self.base_url, self.weights)

    def _repo_tree(self, repo: str) -> dict[str, tuple[Folder, str]]:
        tree = {}
        for prefix, folder in self.content.repos.get(repo, {}).items():
            for name in folder.files:
                tree[f"{prefix}/{name}" if prefix else name] = (folder, name)
        return tree

    def _contents(self, repo: str, path: str) -> Reply:
        tree = self._repo_tree(repo)
        kw = {"api_base": self.github_api_base, "raw_base": self.base_url + "/raw",
              "html_base": "https://github.com"}
        if path in tree:
            folder, name = tree[path]
            return json_reply(200, content_entry(repo, path, self._file_bytes(folder, name),
                                                  with_content=True, **kw))
        prefix = f"{path}/" if path else ""
        children: dict[str, bytes | None] = {}
        for full, (folder, name) in tree.items():
            if not full.startswith(prefix):
                continue
            head, sep, _ = full[len(prefix):].partition("/")
            children[prefix + head] = None if sep else self._file_bytes(folder, name)
        if not children:
            return json_reply(404, {"message": "Not Found"})
        return json_reply(200, [content_entry(repo, p, data, **kw) for p, data in sorted(children.items())])

    def _gist_raw(self, parts: list[str]) -> Reply:
        # <owner>/<id>/raw/[<version>/]<file>
        if len(parts) not in (4, 5) or parts[2] != "raw":
            return not_found()
        gist = self.content.gists.get(parts[1])
        name = parts[-1]
        if gist is None or name not in gist.files or (len(parts) == 5 and parts[3] != gist.version):
            return not_found()
        body = self._file_bytes(gist, name)
        return Reply(200, body, etag=f'"{sha1_hex(body)}"')

    def _repo_raw(self, parts: list[str]) -> Reply:
        # <owner>/<repo>/<ref>/<path...>
        if len(parts) < 4:
            return not_found()
        found = self._repo_tree(f"{parts[0]}/{parts[1]}").get("/".join(parts[3:]))
        if found is None:
            return not_found()
        body = self._file_bytes(*found)
        return Reply(200, body, etag=f'"{sha1_hex(body)}"')

    def _files(self, rest: str, query: str) -> Reply:
        """A file by its original URL: a weight file, or a snapshot file the wiki links directly."""
        for scheme in ("http://", "https://"):
            for candidate in (f"{scheme}{rest}?{query}" if query else None, f"{scheme}{rest}"):
                if candidate in self.content.direct_files:
                    body = self.content.direct_files[candidate].read_bytes()
                    return Reply(200, body, etag=f'"{sha1_hex(body)}"')
                if candidate in self.weights.sources:
                    return self._weight_file(candidate)
        return not_found()

    def _weight_file(self, url: str) -> Reply:
        found = self.weights.resolve(url)
        if found is None:
            return not_found("weights not available on this mirror")
        modified = datetime.fromtimestamp(int(found.path.stat().st_mtime), timezone.utc)
        return Reply(200, file=found, content_type="application/octet-stream", etag=f'"{found.sha1}"',
                     last_modified=modified)
