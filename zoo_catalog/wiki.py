"""The Model Zoo wiki page (markdown) -> sections -> one WikiModel per model it lists.

Rules, in order, for the models of one section:
  1. every gist linked for the first time on the page is a model (a gist linked again
     later, e.g. "finetuned from VGG-16", is only a link of that later model);
  2. every BVLC model named as `models/<name>` is a model (read from BVLC/caffe);
  3. a section with neither lists each direct weight link (archive, .caffemodel) as a model;
  4. a section with none of these is still one model, with its links ("no metadata").
A model gets the links of its own list item or paragraph plus the section's shared links.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from zoo_catalog.errors import WikiParseError
from zoo_catalog.ids import gist_model_id, repo_model_id, section_model_id, url_model_id
from zoo_catalog.links import extract_links, gist_of, github_repo_of
from zoo_catalog.records import (LINK_GIST, LINK_GITHUB_REPO, LINK_OTHER, LINK_PAPER,
                                 LINK_PROJECT_PAGE, LINK_WEIGHTS, Link, RepoRef)
from zoo_catalog.text import checked_text

MAX_WIKI_CHARS = 4 * 1024 * 1024

_HEADING = re.compile(r"^ {0,3}(#{1,6})(.*)$")
_FENCE = re.compile(r"^ {0,3}(```+|~~~+)")
_PRE_OPEN = re.compile(r"^\s*<pre\b", re.IGNORECASE)
_PRE_CLOSE = re.compile(r"</pre>", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+")
_ANCHOR = re.compile(r"<a\s+name=[\"']?([^\"'>\s]+)[\"']?\s*>\s*</a>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,200}>")
_BVLC_REF = re.compile(r"`models/([A-Za-z0-9][A-Za-z0-9_.-]*)`")
_GENERIC_NAME = re.compile(
    r"^(models?|here|link|code|download|caffemodel|weights|github( repo)?|project( page)?|"
    r"web ?page|paper|pdf)$", re.IGNORECASE)
_CITATION_HINT = re.compile(r"@\w+\s*\{|\b(19|20)\d\d\b|\barXiv:\s*\d", re.IGNORECASE)
_LOG_LINE = re.compile(r"^\s*[IWEF]\d{4}\s")
_LICENCE = re.compile(r"\blicen[cs]e", re.IGNORECASE)
# Order in which links stand for a link-only model when choosing its stable id.
_ID_LINK_ORDER = (LINK_GITHUB_REPO, LINK_PROJECT_PAGE, LINK_PAPER, LINK_OTHER)


@dataclass(frozen=True)
class Block:
    """A paragraph, list item or code block of a section."""

    text: str
    is_code: bool
    links: tuple[Link, ...]


@dataclass(frozen=True)
class WikiSection:
    title: str
    anchor: str
    blocks: tuple[Block, ...]
    citation: str | None = None
    licence: str | None = None

    @property
    def links(self) -> tuple[Link, ...]:
        seen: dict[str, Link] = {}
        for block in self.blocks:
            for link in block.links:
                seen.setdefault(link.url, link)
        return tuple(seen.values())


@dataclass(frozen=True)
class WikiModel:
    model_id: str
    name: str
    section: str
    links: tuple[Link, ...]
    gist_id: str | None = None
    repo: RepoRef | None = None
    citation: str | None = None
    licence: str | None = None


@dataclass(frozen=True)
class WikiPage:
    sections: tuple[WikiSection, ...]
    models: tuple[WikiModel, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def gist_ids(self) -> tuple[str, ...]:
        """Distinct gist ids linked from the page's sections, in page order."""
        ids: dict[str, None] = {}
        for section in self.sections:
            for link in section.links:
                gist = gist_of(link.url)
                if gist:
                    ids.setdefault(gist[1])
        return tuple(ids)


def parse_wiki(markdown: str, *, source: str = "wiki page") -> WikiPage:
    """Parse the page. Raises WikiParseError only for input that is not a readable page."""
    text = checked_text(markdown, limit=MAX_WIKI_CHARS, what="page", source=source, error=WikiParseError)
    sections = tuple(_section(title, body) for title, body in split_sections(text))
    warnings: list[str] = []
    models = _unique_ids(_models(sections), warnings)
    return WikiPage(sections=sections, models=tuple(models), warnings=tuple(warnings))


def split_sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading, body lines) of each model section: `###` headings, or the top level in use."""
    headings: list[tuple[int, int, str]] = []
    lines = text.split("\n")
    in_code = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        heading = None if in_code else _heading(line)
        if heading:
            headings.append((index, *heading))
    if not headings:
        return []
    levels = {level for _, level, _ in headings}
    section_level = 3 if 3 in levels else min(levels)
    result: list[tuple[str, list[str]]] = []
    for position, (index, level, title) in enumerate(headings):
        if level != section_level:
            continue
        end = next((i for i, lvl, _ in headings[position + 1:] if lvl <= section_level), len(lines))
        result.append((title, lines[index + 1:end]))
    return result


def _heading(line: str) -> tuple[int, str] | None:
    match = _HEADING.match(line)
    if not match:
        return None
    hashes, rest = match.group(1), match.group(2)
    # GitHub's old wiki renderer took "###Title" as a heading; one '#' needs the space.
    if not rest.strip() or rest.startswith("#") or (len(hashes) == 1 and not rest[0].isspace()):
        return None
    return len(hashes), rest.strip().rstrip("#").strip()


def _section(raw_title: str, body: list[str]) -> WikiSection:
    anchor_match = _ANCHOR.search(raw_title)
    title = re.sub(r"\s+", " ", _TAG.sub("", raw_title)).strip() or raw_title.strip()
    anchor = anchor_match.group(1) if anchor_match else re.sub(
        r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")
    blocks = tuple(_blocks(body))
    citation = "\n\n".join(b.text.strip() for b in blocks if b.is_code and _is_citation(b.text))
    licence = next((_sentence_around(b.text, m.start()) for b in blocks if not b.is_code
                    for m in [_LICENCE.search(b.text)] if m), None)
    return WikiSection(title=title, anchor=anchor, blocks=blocks,
                       citation=citation or None, licence=licence)


def _sentence_around(text: str, index: int) -> str:
    """The sentence (up to '.' or a line end) that holds text[index]; linear, unlike a regex."""
    start = max(text.rfind(".", 0, index), text.rfind("\n", 0, index)) + 1
    ends = [i for i in (text.find(".", index), text.find("\n", index)) if i != -1]
    end = min(ends) + 1 if ends else len(text)
    return text[start:end].strip()


def _blocks(lines: list[str]) -> list[Block]:
    """Split a section body into paragraphs, list items and code (fenced, <pre>, indented)."""
    blocks: list[Block] = []
    current: list[str] = []
    mode = "prose"  # prose | indented | fence | pre

    def flush() -> None:
        nonlocal current
        text = "\n".join(current)
        if text.strip():
            blocks.append(Block(text=text, is_code=mode != "prose", links=tuple(extract_links(text))))
        current = []

    for line in lines:
        if mode == "fence":
            if _FENCE.match(line):
                flush()
                mode = "prose"
            else:
                current.append(line)
            continue
        if mode != "pre" and _FENCE.match(line):
            flush()
            mode = "fence"
            continue
        if mode != "pre" and _PRE_OPEN.match(line):
            flush()
            mode = "pre"
        if mode == "pre":
            current.append(line)
            if _PRE_CLOSE.search(line):
                flush()
                mode = "prose"
            continue
        if not line.strip():
            flush()
            mode = "prose"
            continue
        indented = line.startswith(("    ", "\t"))
        if mode == "indented" and not indented:
            flush()
            mode = "prose"
        elif not current and indented:
            mode = "indented"
        elif mode == "prose" and _LIST_ITEM.match(line):
            flush()
        current.append(line)
    flush()
    return blocks


def _is_citation(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and not any(_LOG_LINE.match(line) for line in lines) \
        and bool(_CITATION_HINT.search(text))


def _models(sections: tuple[WikiSection, ...]) -> list[WikiModel]:
    seen_gists: set[str] = set()
    seen_bvlc: set[str] = set()
    models: list[WikiModel] = []
    for section in sections:
        anchored: list[tuple[int, Link | None, WikiModel]] = []
        for number, block in enumerate(section.blocks):
            for link in block.links:
                gist = gist_of(link.url) if link.kind == LINK_GIST else None
                if gist and gist[1] not in seen_gists:
                    seen_gists.add(gist[1])
                    name = _model_name(link.text, section.title)
                    anchored.append((number, link, WikiModel(
                        model_id=gist_model_id(gist[1]), name=name, section=section.title,
                        links=(), gist_id=gist[1])))
            if block.is_code:
                continue
            for match in _BVLC_REF.finditer(block.text):
                folder = match.group(1)
                if folder in seen_bvlc:
                    continue
                seen_bvlc.add(folder)
                repo = RepoRef("BVLC", "caffe", f"models/{folder}")
                label = block.text[:match.start()].strip(" -*+:\t\n")
                anchored.append((number, None, WikiModel(
                    model_id=repo_model_id(repo.owner, repo.repo, repo.path),
                    name=_model_name(label.split("\n")[-1], folder), section=section.title,
                    links=(), repo=repo)))
        if not anchored:
            for number, block in enumerate(section.blocks):
                for link in block.links:
                    if link.kind == LINK_WEIGHTS:
                        anchored.append((number, link, WikiModel(
                            model_id=url_model_id(link.url),
                            name=_model_name(link.text, section.title),
                            section=section.title, links=())))
        models.extend(_with_links(section, anchored))
    return models


def _with_links(section: WikiSection,
                anchored: list[tuple[int, Link | None, WikiModel]]) -> list[WikiModel]:
    anchor_urls = {link.url for _, link, _ in anchored if link}
    anchor_blocks = {number for number, _, _ in anchored}
    shared = [link for number, block in enumerate(section.blocks) if number not in anchor_blocks
              for link in block.links if link.url not in anchor_urls]
    extra = {"citation": section.citation, "licence": section.licence}
    if not anchored:
        links = tuple(_dedupe(shared))
        model_id, repo = _link_only_identity(section.title, links)
        return [WikiModel(model_id=model_id, name=section.title, section=section.title,
                          links=links, repo=repo, **extra)]
    result = []
    for number, anchor, model in anchored:
        own = [link for link in section.blocks[number].links if link.url not in anchor_urls]
        links = tuple(_dedupe(([anchor] if anchor else []) + own + shared))
        result.append(WikiModel(model_id=model.model_id, name=model.name, section=model.section,
                                links=links, gist_id=model.gist_id, repo=model.repo, **extra))
    return result


def _link_only_identity(title: str, links: tuple[Link, ...]) -> tuple[str, RepoRef | None]:
    """Id of a model known only by links: its GitHub repository if any, else its best URL."""
    for kind in _ID_LINK_ORDER:
        for link in links:
            if link.kind != kind:
                continue
            repo = github_repo_of(link.url) if kind == LINK_GITHUB_REPO else None
            if repo:
                return repo_model_id(*repo), RepoRef(*repo)
            return url_model_id(link.url), None
    return section_model_id(title, title), None


def _model_name(text: str, fallback: str) -> str:
    name = re.sub(r"\s+", " ", _TAG.sub("", text or "")).strip(" :-*_`")
    if not name or _GENERIC_NAME.match(name) or re.match(r"^https?://", name):
        return fallback
    return name


def _dedupe(links: list[Link]) -> list[Link]:
    seen: dict[str, Link] = {}
    for link in links:
        seen.setdefault(link.url, link)
    return list(seen.values())


def _unique_ids(models: list[WikiModel], warnings: list[str]) -> list[WikiModel]:
    seen: dict[str, int] = {}
    result = []
    for model in models:
        count = seen.get(model.model_id, 0) + 1
        seen[model.model_id] = count
        if count > 1:
            new_id = f"{model.model_id}-{count}"
            warnings.append(f"model id {model.model_id} is used twice (sections "
                            f"'{model.section}'): the later one is {new_id}")
            model = WikiModel(**{**model.__dict__, "model_id": new_id})
        result.append(model)
    return result
