"""HTTP mechanics of the mirror: faults, conditional requests, Range, and writing bodies.

The handler asks the site (a `MirrorServer`) which fault applies and what a path answers,
then turns that `Reply` into bytes on the wire: 304 for a matching If-None-Match or
If-Modified-Since, 206 / 416 for Range (honouring If-Range), and the body-level faults
(drop, truncate, slow, wrongbytes) while streaming.
"""
from __future__ import annotations

import logging
import socket
import sys
import time
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import unquote, urlsplit

from zoo_mirror.faults import Fault, FaultPlan
from zoo_mirror.reply import Reply, not_found

log = logging.getLogger("zoo_mirror.server")

HOP_PREFIX = "/_hop/"
WRONG_BYTES = bytes(b ^ 0xA5 for b in range(256))
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout)
HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>"
                   b"<body><h1>Sorry, this file is temporarily unavailable</h1>"
                   b"<p>Please try again later.</p></body></html>\n")


class Site(Protocol):
    """What the handler needs from the mirror."""

    faults: FaultPlan

    @property
    def base_url(self) -> str: ...

    def route(self, path: str, headers: dict[str, str], client: str) -> Reply: ...

    def record(self, method: str, path: str, status: int) -> None: ...


class MirrorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and small bodies go out in several writes; with Nagle's algorithm each
    # keep-alive request then waits for the client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "zoo2tf-mirror"

    @property
    def mirror(self) -> Site:
        return self.server.site  # type: ignore[attr-defined]

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
            return not_found()
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


class QuietServer(ThreadingHTTPServer):
    """Client disconnects are normal for a download mirror: no stack traces for them."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (*DISCONNECTS, ConnectionError)):
            log.exception("mirror: error while serving %s", client_address)
