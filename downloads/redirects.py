"""GET with redirects followed by hand: only to http(s), at most a few hops.

requests would follow a redirect to any scheme it has an adapter for and up to 30 hops;
a zoo entry (or a compromised host) must not be able to point the pipeline at file://,
ftp:// or an endless chain, so every hop's target is checked here before it is fetched.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import requests

from downloads.errors import NETWORK, REFUSED_URL, TOO_MANY_REDIRECTS, DownloadError

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_MAX_REDIRECTS = 5


def check_url(url: str, *, origin: str | None = None) -> str:
    """Return `url` if it is an absolute http(s) URL; otherwise raise a 'refused url' error.

    `origin` is the URL the caller was asked to fetch, when `url` is a redirect target.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        reason = (f"redirected to {url!r}, which is not an http(s) URL" if origin
                  else "only http and https URLs are fetched")
        raise DownloadError(REFUSED_URL, origin or url, reason)
    return url


def get_following_redirects(session: requests.Session, url: str, *, headers: Mapping[str, str] | None = None,
                            max_redirects: int = DEFAULT_MAX_REDIRECTS) -> tuple[requests.Response, str]:
    """Stream a GET of `url`, following at most `max_redirects` redirects to http(s) URLs.

    Returns the first non-redirect response (any status, body not read yet) and the URL
    that gave it.  Connection failures that outlast the session's retries become a
    'network' DownloadError.
    """
    check_url(url)
    current = url
    for _hop in range(max_redirects + 1):
        try:
            response = session.get(current, headers=dict(headers or {}), stream=True, allow_redirects=False)
        except requests.exceptions.InvalidURL as exc:
            raise DownloadError(REFUSED_URL, url, f"invalid URL {current!r}: {exc}") from None
        except requests.RequestException as exc:
            raise DownloadError(NETWORK, url, f"{type(exc).__name__} fetching {current}: {exc}") from None
        if not response.is_redirect:
            return response, current
        target = urljoin(current, response.headers["Location"])
        response.close()
        check_url(target, origin=url)
        current = target
    raise DownloadError(TOO_MANY_REDIRECTS, url, f"more than {max_redirects} redirects (last: {current})")
