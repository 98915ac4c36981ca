"""Stable model ids: derived from what a model *is* (its gist, repository or weight URL),
never from where it sits on the wiki page, so reordering or retitling sections keeps them.

Only an entry with no link at all falls back to its section title and name.
"""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

MAX_SLUG = 64


def slug(text: str) -> str:
    """Lower-case ASCII words joined by '-'; at most MAX_SLUG characters (hash-suffixed when cut)."""
    words = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(words) <= MAX_SLUG:
        return words or "x"
    digest = hashlib.sha1(words.encode()).hexdigest()[:8]
    return f"{words[:MAX_SLUG - 9].rstrip('-')}-{digest}"


def gist_model_id(gist_id: str, part: str | None = None) -> str:
    """`gist-<id>`; `gist-<id>-<part>` for one of several models in the same gist."""
    base = f"gist-{gist_id.lower()}"
    return f"{base}-{slug(part)}" if part else base


def repo_model_id(owner: str, repo: str, path: str = "") -> str:
    if (owner.lower(), repo.lower()) == ("bvlc", "caffe") and path.startswith("models/"):
        name = path.split("/", 1)[1]
        return f"bvlc-{slug(re.sub(r'^bvlc_', '', name))}"
    return "gh-" + slug("-".join(p for p in (owner, repo, path) if p))


def url_model_id(url: str) -> str:
    parts = urlsplit(url)
    host = re.sub(r"^www\.", "", parts.hostname or "")
    path = re.sub(r"\.(caffemodel|tar\.gz|tgz|zip|tar|html?|php)$", "", parts.path.rstrip("/"))
    query = f"-{parts.query}" if parts.query else ""  # drive/dropbox links differ only here
    return "web-" + slug(f"{host}{path}{query}")


def section_model_id(section: str, name: str) -> str:
    return "wiki-" + slug(section if name == section else f"{section}-{name}")
