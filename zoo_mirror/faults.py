"""Fault injection rules for the offline mirror, parsed from a one-line SPEC.

SPEC is a list of rules separated by ``;``; each rule is ``GLOB=FAULT[:ARG...]``.
GLOB is an fnmatch pattern matched against the request path (without the query
string; ``*`` also matches ``/``).  Rules are tried in order; the first rule whose
glob matches and whose request budget is not spent applies.  Budgets ("the first
N requests") count the requests a rule has matched, across every path it matches,
and restart from zero whenever the rules are replaced (``MirrorServer.set_faults``).

FAULTs:

``404``                 answer 404 Not Found.
``500:N``               answer 500 to the first N requests, then serve normally.
``429:SECONDS[:N]``     answer 429 with ``Retry-After: SECONDS`` to the first N requests (default 1).
``drop:K[:N]``          send the headers with the full Content-Length, then K bytes of the body
                        (K may be a percentage such as ``50%``), then close the connection;
                        for the first N requests (default 1).  A later Range request resumes normally.
``slow:BYTES_PER_S``    send the body at about BYTES_PER_S bytes per second.
``wrongbytes``          send a body of the right length with different bytes (sha1 mismatch).
``html200``             send an HTML error page with status 200 and text/html instead of the body.
``truncate:K``          always: correct full Content-Length, only K bytes (or ``K%``), then close.
``redirect:N``          answer with a chain of N 302 redirects before the real response.
``redirect-to:URL``     answer 302 with ``Location: URL`` (e.g. ``file:///etc/passwd`` or ``ftp://...``)
                        so that a downloader can be seen refusing it.  URL may contain ``:``.

Example: ``*/files/*=drop:50%;/api/gists/*=429:2:3;*.md=500:1``.
"""
from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

KINDS = ("404", "500", "429", "drop", "slow", "wrongbytes", "html200", "truncate",
         "redirect", "redirect-to")


class FaultSpecError(ValueError):
    """A --faults SPEC that cannot be parsed; the message names the bad rule."""


@dataclass(frozen=True)
class ByteCount:
    """A body length cut-off: an absolute number of bytes or a percentage of the body."""

    value: float
    percent: bool = False

    def of(self, size: int) -> int:
        if self.percent:
            return min(size, int(size * self.value / 100.0))
        return min(size, int(self.value))


@dataclass(frozen=True)
class Fault:
    """One parsed fault; which fields matter depends on `kind`."""

    kind: str
    times: int | None = None          # budget of requests; None = every request
    seconds: int = 0                  # 429 Retry-After
    bytes: ByteCount | None = None    # drop / truncate cut-off
    rate: float = 0.0                 # slow: bytes per second
    hops: int = 0                     # redirect chain length
    url: str = ""                     # redirect-to target


@dataclass(frozen=True)
class FaultRule:
    glob: str
    fault: Fault
    text: str


def _int(rule: str, value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FaultSpecError(f"fault rule '{rule}': {what} must be an integer, got '{value}'") from None
    if number < 0:
        raise FaultSpecError(f"fault rule '{rule}': {what} must be >= 0, got {number}")
    return number


def _byte_count(rule: str, value: str) -> ByteCount:
    if value.endswith("%"):
        try:
            percent = float(value[:-1])
        except ValueError:
            raise FaultSpecError(f"fault rule '{rule}': bad percentage '{value}'") from None
        if not 0 <= percent <= 100:
            raise FaultSpecError(f"fault rule '{rule}': percentage must be within 0..100, got {value}")
        return ByteCount(percent, percent=True)
    return ByteCount(_int(rule, value, "byte count"))


def _arity(rule: str, kind: str, args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise FaultSpecError(f"fault rule '{rule}': '{kind}' takes {wanted} argument(s), got {len(args)}")


def parse_fault(rule: str, text: str) -> Fault:
    kind, _, rest = text.partition(":")
    if kind == "redirect-to":
        if not rest:
            raise FaultSpecError(f"fault rule '{rule}': 'redirect-to' needs a URL")
        return Fault("redirect-to", url=rest)
    args = rest.split(":") if rest else []
    if kind in ("404", "wrongbytes", "html200"):
        _arity(rule, kind, args, 0, 0)
        return Fault(kind)
    if kind == "500":
        _arity(rule, kind, args, 1, 1)
        return Fault(kind, times=_int(rule, args[0], "N"))
    if kind == "429":
        _arity(rule, kind, args, 1, 2)
        times = _int(rule, args[1], "N") if len(args) == 2 else 1
        return Fault(kind, times=times, seconds=_int(rule, args[0], "SECONDS"))
    if kind == "drop":
        _arity(rule, kind, args, 1, 2)
        times = _int(rule, args[1], "N") if len(args) == 2 else 1
        return Fault(kind, times=times, bytes=_byte_count(rule, args[0]))
    if kind == "truncate":
        _arity(rule, kind, args, 1, 1)
        return Fault(kind, bytes=_byte_count(rule, args[0]))
    if kind == "slow":
        _arity(rule, kind, args, 1, 1)
        rate = _int(rule, args[0], "BYTES_PER_S")
        if rate == 0:
            raise FaultSpecError(f"fault rule '{rule}': BYTES_PER_S must be > 0")
        return Fault(kind, rate=float(rate))
    if kind == "redirect":
        _arity(rule, kind, args, 1, 1)
        return Fault(kind, hops=_int(rule, args[0], "N"))
    raise FaultSpecError(f"fault rule '{rule}': unknown fault '{kind}' (known: {', '.join(KINDS)})")


def parse_spec(spec: str | None) -> tuple[FaultRule, ...]:
    """Parse a SPEC string (see the module docstring); empty or None gives no rules."""
    rules = []
    for raw in (spec or "").split(";"):
        rule = raw.strip()
        if not rule:
            continue
        glob, sep, fault = rule.partition("=")
        if not sep or not glob.strip() or not fault.strip():
            raise FaultSpecError(f"fault rule '{rule}': expected GLOB=FAULT[:ARG...]")
        rules.append(FaultRule(glob.strip(), parse_fault(rule, fault.strip()), rule))
    return tuple(rules)


class FaultPlan:
    """The active rules and their request counters; safe to share between handler threads."""

    def __init__(self, spec: str | None = None):
        self._lock = threading.Lock()
        self._rules: tuple[FaultRule, ...] = ()
        self._used: list[int] = []
        self.replace(spec)

    def replace(self, spec: str | None) -> None:
        rules = parse_spec(spec)
        with self._lock:
            self._rules = rules
            self._used = [0] * len(rules)

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return self._rules

    def take(self, path: str) -> Fault | None:
        """The fault for this request, spending one unit of its rule's budget; None = serve normally."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not fnmatch.fnmatchcase(path, rule.glob):
                    continue
                budget = rule.fault.times
                if budget is not None and self._used[index] >= budget:
                    continue
                self._used[index] += 1
                return rule.fault
        return None
