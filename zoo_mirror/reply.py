"""What a mirror route answers, before conditional, Range and fault handling turn it into bytes."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from zoo_mirror.weights import WeightFile

CHUNK = 64 * 1024
TEXT = "text/plain; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"


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


def json_reply(status: int, document: object) -> Reply:
    body = (json.dumps(document, indent=2) + "\n").encode()
    return Reply(status, body, content_type=JSON_TYPE, etag=f'W/"{sha1_hex(body)}"')


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def not_found(message: str = "Not Found") -> Reply:
    return Reply(404, f"404: {message}\n".encode())
