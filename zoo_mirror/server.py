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

import hashlib
import json
import logging
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from zoo_mirror.content import LATEST, Folder, MirrorContent
from zoo_mirror.faults import Fault, FaultPlan
from zoo_mirror.github_api import GITHUB_FILE_LIMIT, content_entry, gist_document
from zoo_mirror.rate_limit import RateLimiter, client_key
from zoo_mirror.weights import WeightFile, WeightStore

log = logging.getLogger(__name__)

WIKI_PREFIX = "/raw/wiki/BVLC/caffe/"
CATALOG_PATH = WIKI_PREFIX + "Model-Zoo.md"
ACCURACY_PATH = WIKI_PREFIX + "Models-accuracy-on-ImageNet-2012-val.md"
HOP_PREFIX = "/_hop/"
CHUNK = 64 * 1024
LOG_SIZE = 5000
TEXT = "text/plain; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
WRONG_BYTES = bytes(b ^ 0xA5 for b in range(256))
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout)
HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
                   b"<body><h1>Sorry, this file is temporarily unavailable</h1>"
                   b"<p>Please try again later.</p></body></html>\n")


def default_cache_dir() -> Path:
    from zoo2tf.config import data_dir

    return data_dir() / "mirror-cache"


@dataclass
class Reply:
    status: int
    body: bytes = b""
    file: WeightFile | None = None
    content_type: str = TEXT
    etag: str | None = None
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.file.size if self.file is not None else len(self.body)

    def chunks(self, start: int, stop: int) -> Iterator[bytes]:
        if self.file is None:
            for offset in range(start, stop, CHUNK):
                yield self.body[offset:min(stop, offset + CHUNK)]
            return
        with open(self.file.path, "rb") as handle:
            handle.seek(start)
            left = stop - start
            while left > 0 and (chunk := handle.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk


def _json_reply(status: int, document: object) -> Reply:
    body = (json.dumps(document, indent=2) + "\n").encode()
    return Reply(status, body, content_type=JSON_TYPE, etag=f'W/"{_sha1(body)}"')


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _not_found(message: str = "Not Found") -> Reply:
    return Reply(404, f"404: {message}\n".encode())


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
        self._httpd: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> MirrorServer:
        httpd = _QuietServer((self.host, self.port), _Handler)
        httpd.mirror = self  # type: ignore[attr-defined]
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
            return Reply(200, wiki.body, etag=f'"{_sha1(wiki.body)}"', last_modified=wiki.last_modified)
        if path == ACCURACY_PATH:
            body = self.content.accuracy_page
            return Reply(200, body, etag=f'"{_sha1(body)}"')
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
        return _not_found()

    def _api(self, path: str, headers: dict[str, str], client: str) -> Reply:
        key, authenticated = client_key(headers.get("authorization"), client)
        if path == "/rate_limit":
            state = self.rate_limiter.check(key, authenticated, spend=False)
            core = {"limit": state.limit, "remaining": state.remaining, "reset": state.reset,
                    "used": state.used, "resource": "core"}
            reply = _json_reply(200, {"resources": {"core": core}, "rate": core})
            reply.headers.update(state.headers())
            return reply
        reply = self._api_document(path)
        # As on GitHub, a conditional request answered 304 does not spend the rate limit.
        tags = {t.strip() for t in headers.get("if-none-match", "").split(",")}
        state = self.rate_limiter.check(key, authenticated, spend=reply.etag not in tags)
        if not state.allowed:
            reply = _json_reply(403, {
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
                return _json_reply(404, {"message": "Not Found"})
            files = {name: self._file_bytes(gist, name) for name in gist.files}
            return _json_reply(200, gist_document(
                parts[1], gist, files, api_base=self.github_api_base, raw_base=self.gist_raw_base,
                html_base="https://gist.github.com", truncate_over=self.truncate_over,
                synthetic=self.content.synthetic_weights(gist, self.weights)))
        if len(parts) >= 4 and parts[0] == "repos" and parts[3] == "contents":
            return self._contents(f"{parts[1]}/{parts[2]}", "/".join(parts[4:]))
        return _json_reply(404, {"message": "Not Found"})

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
            return _json_reply(200, content_entry(repo, path, self._file_bytes(folder, name),
                                                  with_content=True, **kw))
        prefix = f"{path}/" if path else ""
        children: dict[str, bytes | None] = {}
        for full, (folder, name) in tree.items():
            if not full.startswith(prefix):
                continue
            head, sep, _ = full[len(prefix):].partition("/")
            children[prefix + head] = None if sep else self._file_bytes(folder, name)
        if not children:
            return _json_reply(404, {"message": "Not Found"})
        return _json_reply(200, [content_entry(repo, p, data, **kw) for p, data in sorted(children.items())])

    def _gist_raw(self, parts: list[str]) -> Reply:
        # <owner>/<id>/raw/[<version>/]<file>
        if len(parts) not in (4, 5) or parts[2] != "raw":
            return _not_found()
        gist = self.content.gists.get(parts[1])
        name = parts[-1]
        if gist is None or name not in gist.files or (len(parts) == 5 and parts[3] != gist.version):
            return _not_found()
        body = self._file_bytes(gist, name)
        return Reply(200, body, etag=f'"{_sha1(body)}"')

    def _repo_raw(self, parts: list[str]) -> Reply:
        # <owner>/<repo>/<ref>/<path...>
        if len(parts) < 4:
            return _not_found()
        found = self._repo_tree(f"{parts[0]}/{parts[1]}").get("/".join(parts[3:]))
        if found is None:
            return _not_found()
        body = self._file_bytes(*found)
        return Reply(200, body, etag=f'"{_sha1(body)}"')

    def _files(self, rest: str, query: str) -> Reply:
        """A file by its original URL: a weight file, or a snapshot file the wiki links directly."""
        for scheme in ("http://", "https://"):
            for candidate in (f"{scheme}{rest}?{query}" if query else None, f"{scheme}{rest}"):
                if candidate in self.content.direct_files:
                    body = self.content.direct_files[candidate].read_bytes()
                    return Reply(200, body, etag=f'"{_sha1(body)}"')
                if candidate in self.weights.sources:
                    return self._weight_file(candidate)
        return _not_found()

    def _weight_file(self, url: str) -> Reply:
        found = self.weights.resolve(url)
        if found is None:
            return _not_found("weights not available on this mirror")
        modified = datetime.fromtimestamp(int(found.path.stat().st_mtime), timezone.utc)
        return Reply(200, file=found, content_type="application/octet-stream", etag=f'"{found.sha1}"',
                     last_modified=modified)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "zoo2tf-mirror"

    @property
    def mirror(self) -> MirrorServer:
        return self.server.mirror  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        log.debug("mirror %s " + format, self.address_string(), *args)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.mirror.record(self.command, self.path, code)
        super().send_response(code, message)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        try:
            self._serve()
        except DISCONNECTS:
            self.close_connection = True
        except Exception as err:  # a mirror bug must not look like a network fault to clients
            log.error("mirror: %s %s failed: %s: %s", self.command, self.path, type(err).__name__, err)
            self.close_connection = True
            self._send(Reply(500, f"500: mirror error: {type(err).__name__}\n".encode()), None)

    def _serve(self) -> None:
        split = urlsplit(self.path)
        path, hop = unquote(split.path), 0
        if path.startswith(HOP_PREFIX):
            number, _, rest = path[len(HOP_PREFIX):].partition("/")
            hop, path = int(number) if number.isdigit() else 0, "/" + rest
        fault = self.mirror.faults.take(path)
        early = self._early_fault(fault, hop, path, split.query)
        if early is not None:
            self._send(early, None)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers["x-mirror-query"] = split.query
        reply = self.mirror.route(path, headers, self.client_address[0])
        if fault is not None and fault.kind == "html200":
            reply = Reply(200, HTML_ERROR_PAGE, content_type="text/html; charset=utf-8")
        self._send(reply, fault)

    def _early_fault(self, fault: Fault | None, hop: int, path: str, query: str) -> Reply | None:
        if fault is None:
            return None
        if fault.kind == "404":
            return _not_found()
        if fault.kind == "500":
            return Reply(500, b"500: Internal Server Error (injected)\n")
        if fault.kind == "429":
            return Reply(429, b"429: Too Many Requests (injected)\n",
                         headers={"Retry-After": str(fault.seconds)})
        if fault.kind == "redirect-to":
            return Reply(302, headers={"Location": fault.url})
        if fault.kind == "redirect" and hop < fault.hops:
            suffix = f"?{query}" if query else ""
            return Reply(302, headers={"Location": f"{self.mirror.base_url}{HOP_PREFIX}{hop + 1}{path}{suffix}"})
        return None

    # -- response writing ------------------------------------------------------------------
    def _not_modified(self, reply: Reply) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None and reply.etag is not None:
            tags = {t.strip() for t in match.split(",")}
            return "*" in tags or reply.etag in tags or reply.etag.removeprefix("W/") in tags
        since = self.headers.get("If-Modified-Since")
        if since and reply.last_modified is not None:
            try:
                return reply.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def _range(self, reply: Reply) -> tuple[int, int] | None | str:
        """(start, stop) for a satisfiable Range, None to send everything, 'bad' for 416."""
        header = self.headers.get("Range")
        if not header or not header.startswith("bytes=") or "," in header:
            return None
        if_range = self.headers.get("If-Range")
        if if_range:
            valid = if_range.strip() == reply.etag or (
                reply.last_modified is not None and if_range.strip() == format_datetime(reply.last_modified, usegmt=True))
            if not valid:
                return None
        first, _, last = header[len("bytes="):].strip().partition("-")
        size = reply.size
        try:
            if first == "":
                start, stop = max(0, size - int(last)), size
            else:
                start = int(first)
                stop = min(size, int(last) + 1) if last else size
        except ValueError:
            return None
        if start >= size or start >= stop:
            return "bad"
        return start, stop

    def _send(self, reply: Reply, fault: Fault | None) -> None:
        headers = dict(reply.headers)
        if reply.etag:
            headers["ETag"] = reply.etag
        if reply.last_modified is not None:
            headers["Last-Modified"] = format_datetime(reply.last_modified, usegmt=True)
        status, start, stop = reply.status, 0, reply.size
        if status == 200 and self._not_modified(reply):
            self._head(304, headers, None)
            return
        if status == 200 and (fault is None or fault.kind != "html200"):
            headers["Accept-Ranges"] = "bytes"
            wanted = self._range(reply)
            if wanted == "bad":
                headers["Content-Range"] = f"bytes */{reply.size}"
                self._head(416, headers, 0)
                return
            if isinstance(wanted, tuple):
                status, (start, stop) = 206, wanted
                headers["Content-Range"] = f"bytes {start}-{stop - 1}/{reply.size}"
        headers["Content-Type"] = reply.content_type
        self._head(status, headers, stop - start)
        if self.command == "HEAD":
            return
        self._body(reply, start, stop, fault)

    def _head(self, status: int, headers: dict[str, str], length: int | None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length or 0))
        self.end_headers()

    def _body(self, reply: Reply, start: int, stop: int, fault: Fault | None) -> None:
        kind = fault.kind if fault is not None else None
        cut = fault.bytes.of(stop - start) if kind in ("drop", "truncate") and fault.bytes else None
        end = start + cut if cut is not None else stop
        rate = fault.rate if kind == "slow" else 0.0
        began, sent = time.monotonic(), 0
        for chunk in reply.chunks(start, end):
            if kind == "wrongbytes":
                chunk = chunk.translate(WRONG_BYTES)
            if rate:
                for offset in range(0, len(chunk), max(1, int(rate / 20))):
                    piece = chunk[offset:offset + max(1, int(rate / 20))]
                    self.wfile.write(piece)
                    sent += len(piece)
                    delay = began + sent / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            else:
                self.wfile.write(chunk)
        if cut is not None:
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _QuietServer(ThreadingHTTPServer):
    """Client disconnects are normal for a download mirror: no stack traces for them."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (*DISCONNECTS, ConnectionError)):
            log.exception("mirror: error while serving %s", client_address)
