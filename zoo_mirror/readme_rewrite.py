"""Rewrite a zoo readme the way the mirror serves it: weight URLs moved onto the mirror's
host, and for synthetic weights the sha1 of the served bytes plus a `synthetic_weights` flag.

Readmes in the zoo are messy (fenced YAML, bare key:value lines, several models per
readme, `caffemodel url:` with a space), so edits are line-based: the text around the
edited values is left byte-for-byte as it was.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

SHA1_LINE = re.compile(r"^(\s*sha1\s*:\s*)([0-9a-fA-F]*)(\s*)$")


@dataclass(frozen=True)
class ServedWeight:
    """How one weight URL of a readme is served: its mirror URL and, if synthetic, its sha1."""

    mirror_url: str
    synthetic_sha1: str | None = None


def mirror_file_url(base_url: str, original: str) -> str:
    """`{base_url}/files/<original host>/<original path>[?query]`."""
    parts = urlsplit(original)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url}/files/{parts.netloc}{parts.path}{query}"


def rewrite_readme(text: str, weights: Mapping[str, ServedWeight]) -> str:
    synthetic = [w.synthetic_sha1 for w in weights.values() if w.synthetic_sha1]
    lines = text.split("\n")
    in_place = bool(synthetic) and len(weights) == 1 and sum(map(bool, map(SHA1_LINE.match, lines))) == 1
    longest_first = sorted(weights.items(), key=lambda kv: -len(kv[0]))
    announced: set[str] = set()
    out: list[str] = []
    for line in lines:
        sha1_line = SHA1_LINE.match(line)
        if synthetic and sha1_line:
            # The published sha1 describes the real file, not the synthetic bytes served here.
            if in_place:
                out += [f"{sha1_line.group(1)}{synthetic[0]}{sha1_line.group(3)}", "synthetic_weights: true"]
            continue
        added: list[str] = []
        for url, served in longest_first:
            if url not in line:
                continue
            line = line.replace(url, served.mirror_url)
            if served.synthetic_sha1 and not in_place and url not in announced:
                announced.add(url)
                added += [f"sha1: {served.synthetic_sha1}", "synthetic_weights: true"]
        out.append(line)
        out.extend(added)
    return "\n".join(out)
