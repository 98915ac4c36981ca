"""Find the links in a piece of wiki markdown and say what each points at."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from zoo_catalog.records import (LINK_GIST, LINK_GITHUB_REPO, LINK_OTHER, LINK_PAPER,
                                 LINK_PROJECT_PAGE, LINK_WEIGHTS, Link)

# Real gist ids are hex; with the owner in the URL, any slug is taken (the offline mirror's
# extra gists are named, e.g. zoo2tf-mirror/mirror-lenet-mnist).
GIST_URL = re.compile(r"^https?://gist\.github\.com/(?:([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9][A-Za-z0-9-]*)"
                      r"|([0-9a-fA-F]{20,40}))(?:[/#?]|$)")
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^()]*\)")
# `[text](url)`, also the `[text] (url)` that GitHub's old wiki renderer accepted.
_MD_LINK = re.compile(r"\[([^\[\]]*)\][ \t]?\([ \t]*<?(https?://[^()\s<>]+|[^()\s<>]*)>?(?:[ \t]+\"[^\"]*\")?[ \t]*\)")
_BARE_URL = re.compile(r"https?://[^\s<>\"'\[\](){}|\\^`]+")
_TRAILING = ".,;:!?*_~'"

_WEIGHT_SUFFIXES = (".caffemodel", ".tar.gz", ".tgz", ".zip", ".tar", ".7z", ".caffemodel.h5")
_FILE_HOSTS = ("drive.google.com", "dropbox.com", "dropboxusercontent.com", "onedrive.live.com",
               "cloudstor.aarnet.edu.au", "mega.nz", "pan.baidu.com")
_PAPER_HOSTS = ("arxiv.org", "openaccess.thecvf.com", "doi.org", "papers.nips.cc", "openreview.net",
                "ieeexplore.ieee.org", "biorxiv.org", "cv-foundation.org", "dl.acm.org")
_PAPER_WORDS = re.compile(r"\b(paper|pdf|arxiv|report|publication|proceedings)\b", re.IGNORECASE)
_MODEL_WORDS = re.compile(r"\b(models?|weights|caffemodel|download)\b", re.IGNORECASE)
_PAGE_WORDS = re.compile(r"project|page|web|site|home|tutorial|details|research|software|here",
                         re.IGNORECASE)


def extract_links(markdown: str) -> list[Link]:
    """Every http(s) link in the text, in order, once per URL, classified."""
    found: list[tuple[int, str, str]] = []
    text = _IMAGE.sub(lambda m: m.group(1), markdown)

    def keep(match: re.Match[str]) -> str:
        found.append((match.start(), _clean_url(match.group(2)), _clean_text(match.group(1))))
        return " " * (match.end() - match.start())

    text = _MD_LINK.sub(keep, text)
    for match in _BARE_URL.finditer(text):
        found.append((match.start(), _clean_url(match.group(0)), ""))
    links: dict[str, Link] = {}
    for _, url, label in sorted(found, key=lambda item: item[0]):
        if url.startswith(("http://", "https://")) and urlsplit(url).hostname and url not in links:
            links[url] = Link(kind=classify(url, label), url=url, text=label)
    return list(links.values())


def classify(url: str, text: str = "") -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path.lower()
    segments = [s for s in path.split("/") if s]
    if GIST_URL.match(url):
        return LINK_GIST
    if path.endswith(_WEIGHT_SUFFIXES):
        return LINK_WEIGHTS
    if _host_in(host, _FILE_HOSTS) and _MODEL_WORDS.search(f"{text} {path}"):
        return LINK_WEIGHTS
    if host == "github.com" and len(segments) >= 2:
        return LINK_GITHUB_REPO
    if _host_in(host, _PAPER_HOSTS) or path.endswith(".pdf") or _PAPER_WORDS.search(text):
        return LINK_PAPER
    if _PAGE_WORDS.search(text) or _PAGE_WORDS.search(path):
        return LINK_PROJECT_PAGE
    return LINK_OTHER


def gist_of(url: str) -> tuple[str | None, str] | None:
    """(owner, gist id) of a gist URL, or None."""
    match = GIST_URL.match(url)
    if not match:
        return None
    return (match.group(1), match.group(2).lower()) if match.group(2) else (None, match.group(3).lower())


def github_repo_of(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if (parts.hostname or "").lower() != "github.com" or len(segments) < 2:
        return None
    return segments[0], re.sub(r"\.git$", "", segments[1])


def _host_in(host: str, hosts: tuple[str, ...]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def _clean_url(url: str) -> str:
    url = url.strip()
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    return url


def _clean_text(text: str) -> str:
    # Drop emphasis markers, keep underscores inside names such as VGG_CNN_S.
    text = re.sub(r"\*\*|__|`", "", text)
    return re.sub(r"\s+", " ", text).strip(" *_")
