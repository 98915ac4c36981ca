"""The one HTTP session factory of the product.

Every component that talks HTTP (catalog scraping, gist API, weight downloads) gets its
session here, so pooling, timeouts, retries and the User-Agent are decided in one place.

urllib3's Retry covers failures that happen before a body starts: refused or reset
connections, 429 and 5xx answers (honouring Retry-After).  A connection that drops in the
middle of a body is not retried here; `downloads.fetch` resumes it with a Range request.
"""
from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from zoo2tf import __version__

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)


def default_user_agent() -> str:
    return f"zoo2tf/{__version__} (Caffe Model Zoo to TensorFlow nightly converter)"


class TimeoutSession(requests.Session):
    """A Session that applies a default (connect, read) timeout to every request.

    requests has no session-wide timeout, and a call without one can hang forever on a
    server that accepts the connection and then says nothing.
    """

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def make_retry(*, total_retries: int = 5, backoff_factor: float = 0.5, backoff_jitter: float = 0.25,
               backoff_max: float = 60.0, retry_after_max: int = 300) -> Retry:
    """Exponential backoff with jitter on connection errors, 429 and 5xx, for GET and HEAD.

    raise_on_status=False hands the last error response back once retries are spent, so the
    caller can report it as an HTTP error with its status instead of a urllib3 RetryError.
    """
    return Retry(
        total=total_retries,
        connect=total_retries,
        read=total_retries,
        status=total_retries,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_jitter,
        backoff_max=backoff_max,
        respect_retry_after_header=True,
        retry_after_max=retry_after_max,
        raise_on_status=False,
    )


def make_session(*, user_agent: str | None = None, total_retries: int = 5, backoff_factor: float = 0.5,
                 backoff_jitter: float = 0.25, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 pool_connections: int = 8, pool_maxsize: int = 16) -> requests.Session:
    """A pooled session with retries, a default timeout on every call and zoo2tf's User-Agent.

    Redirects are still followed by requests unless the caller passes allow_redirects=False;
    downloads do that and follow them by hand (see `downloads.fetch`).
    """
    session = TimeoutSession(timeout)
    retry = make_retry(total_retries=total_retries, backoff_factor=backoff_factor,
                       backoff_jitter=backoff_jitter)
    adapter = HTTPAdapter(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent or default_user_agent()
    return session
