"""Typed download failures: one category per way a fetch can go wrong, and the URL it concerns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

DEAD_LINK = "dead link"
HTTP_ERROR = "http error"
REFUSED_URL = "refused url"
TOO_MANY_REDIRECTS = "too many redirects"
SIZE_CAP = "size cap"
HTML_INSTEAD_OF_BINARY = "html instead of binary"
TRUNCATED = "truncated"
CHECKSUM_MISMATCH = "checksum mismatch"
NETWORK = "network"

CATEGORIES = (DEAD_LINK, HTTP_ERROR, REFUSED_URL, TOO_MANY_REDIRECTS, SIZE_CAP,
              HTML_INSTEAD_OF_BINARY, TRUNCATED, CHECKSUM_MISMATCH, NETWORK)


@dataclass(frozen=True)
class DownloadFailure:
    """One candidate URL that did not give the artifact, and why."""

    url: str
    category: str
    message: str


class DownloadError(Exception):
    """A fetch that failed; `category` is one of CATEGORIES, `url` the URL it concerns.

    When several candidate URLs were tried, `failures` lists each one's failure in order
    and `category`/`url` are those of the last.  `quarantined` is where rejected bytes
    were kept (checksum mismatch only).
    """

    def __init__(self, category: str, url: str, message: str, *,
                 failures: Sequence[DownloadFailure] = (), quarantined: str | None = None):
        if category not in CATEGORIES:
            raise ValueError(f"unknown download failure category {category!r}")
        self.category = category
        self.url = url
        self.message = message
        self.failures = tuple(failures) or (DownloadFailure(url, category, message),)
        self.quarantined = quarantined
        super().__init__(f"{category}: {url}: {message}")
