"""GitHub-style API rate limiting: a fixed window per client, larger for token holders."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

AUTHENTICATED_LIMIT = 5000


@dataclass(frozen=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    used: int
    reset: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset), "X-RateLimit-Used": str(self.used),
                "X-RateLimit-Resource": "core"}


def client_key(authorization: str | None, address: str) -> tuple[str, bool]:
    """(bucket key, authenticated) for a request: a `token X` / `Bearer X` header or the client address."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() in ("token", "bearer") and token.strip():
            return f"token:{token.strip()}", True
    return f"ip:{address}", False


class RateLimiter:
    def __init__(self, limit: int = 60, window_s: float = 3600.0):
        self.limit = limit
        self.window_s = window_s
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, int]] = {}  # key -> (window start, used)

    def check(self, key: str, authenticated: bool, *, spend: bool = True) -> RateState:
        """Count one request for `key` (unless spend=False) and say whether it is allowed."""
        limit = AUTHENTICATED_LIMIT if authenticated else self.limit
        now = time.time()
        with self._lock:
            start, used = self._buckets.get(key, (now, 0))
            if now - start >= self.window_s:
                start, used = now, 0
            allowed = used < limit
            if allowed and spend:
                used += 1
            self._buckets[key] = (start, used)
        return RateState(allowed, limit, max(0, limit - used), used, int(start + self.window_s))
