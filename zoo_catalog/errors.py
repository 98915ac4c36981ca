"""Typed errors of the catalog scraper; each names the file or URL it is about, on one line."""
from __future__ import annotations


class CatalogError(Exception):
    """Base of every error zoo_catalog raises."""

    def __init__(self, message: str, *, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class FrontMatterError(CatalogError):
    """A readme that cannot be read at all (too large, not text)."""


class WikiParseError(CatalogError):
    """A wiki page that cannot be read at all (too large, not text)."""


class FetchError(CatalogError):
    """An HTTP request that failed for good (after retries); `status` is the HTTP code if any."""

    def __init__(self, message: str, *, where: str | None = None, status: int | None = None):
        self.status = status
        super().__init__(message, where=where)


class NotFound(FetchError):
    """The gist or repository folder does not exist (HTTP 404)."""


class RateLimited(FetchError):
    """The API's rate limit is exhausted and its reset is further away than we may wait."""

    def __init__(self, message: str, *, where: str | None = None, status: int | None = None,
                 reset_at: float | None = None):
        self.reset_at = reset_at
        super().__init__(message, where=where, status=status)
