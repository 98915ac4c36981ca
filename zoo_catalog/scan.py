"""Scan the catalog: wiki page -> models -> gists / repository folders -> CatalogEntry records.

`scan_catalog` reads everything over HTTP (the real GitHub or the offline mirror);
`scan_markdown` gives the wiki-only view of a page held locally (no requests), which is
what diffs between stored wiki revisions use.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import requests

from zoo_catalog.errors import FetchError, FrontMatterError, NotFound, RateLimited, WikiParseError
from zoo_catalog.frontmatter import ModelFields, ReadmeFields, parse_readme
from zoo_catalog.gists import GitHubClient, RemoteFile
from zoo_catalog.ids import gist_model_id, repo_model_id
from zoo_catalog.records import (LINK_WEIGHTS, SOURCE_GIST, SOURCE_REPO, SOURCE_WIKI,
                                 STATUS_GIST_UNAVAILABLE, STATUS_INCOMPLETE, STATUS_NO_METADATA,
                                 STATUS_NOT_FETCHED, STATUS_OK, STATUS_REPO_UNAVAILABLE,
                                 CatalogEntry, CatalogScan, FileRef, RepoRef)
from zoo_catalog.select import choose_deploy, choose_labels, choose_mean, extra_weights
from zoo_catalog.wiki import WikiModel, parse_wiki

BUNDLED_MODELS = RepoRef("BVLC", "caffe", "models")
BUNDLED_SECTION = "Berkeley-trained models"
_README = re.compile(r"^_?readme(\.(md|markdown|txt))?$", re.IGNORECASE)


def scan_markdown(markdown: str, *, source: str = "wiki page") -> CatalogScan:
    """The wiki-only catalog of a page: gists and repositories are named but not read."""
    page = parse_wiki(markdown, source=source)
    entries = flag_shared_sha1(entry_from_wiki(model) for model in page.models)
    return CatalogScan(source=source, revision=page_revision(markdown), entries=tuple(entries),
                       scanned_at=_now(), warnings=page.warnings)


def scan_catalog(catalog_url: str, github_api_base: str, *, session: requests.Session | None = None,
                 token: str | None = None, cache_dir: Path | str | None = None,
                 max_rate_limit_wait_s: float = 300.0, include_bundled: bool = True) -> CatalogScan:
    """Read the wiki page at `catalog_url` and every gist / repository folder it names.

    With `include_bundled`, the BVLC models that ship inside Caffe (`BVLC/caffe/models/*`,
    which the page's "Berkeley-trained models" section only points at) are added too.
    A gist that cannot be read becomes an entry with status "gist unavailable"; once the
    API's rate limit is exhausted beyond `max_rate_limit_wait_s`, the remaining entries
    keep their wiki-only view ("not fetched") and the scan says so in its warnings.
    """
    if session is None:
        from downloads.session import make_session

        session = make_session()
    client = GitHubClient(github_api_base, session, token=token, cache_dir=cache_dir,
                          max_wait_s=max_rate_limit_wait_s)
    markdown = client.get_text(catalog_url)
    page = parse_wiki(markdown, source=catalog_url)
    if not page.models:
        # An error page served with 200 must not read as "every model was removed".
        raise WikiParseError("no model sections: this is not the Model Zoo page", where=catalog_url)
    reader = _Reader(client)
    entries = [entry for model in page.models for entry in reader.read(model)]
    if include_bundled:
        entries += _bundled_entries(reader, entries)
    client.save_cache()
    return CatalogScan(source=catalog_url, revision=page_revision(markdown),
                       entries=tuple(flag_shared_sha1(entries)), scanned_at=_now(),
                       warnings=page.warnings + tuple(reader.warnings), requests=dict(client.stats))


class _Reader:
    """Reads models one by one; after the rate limit gives out, keeps their wiki-only view."""

    def __init__(self, client: GitHubClient):
        self.client = client
        self.limited: RateLimited | None = None
        self.warnings: list[str] = []

    def read(self, model: WikiModel) -> list[CatalogEntry]:
        if model.gist_id is None and model.repo is None:
            return [entry_from_wiki(model)]
        if self.limited is None:
            try:
                return _read_model(model, self.client)
            except RateLimited as err:
                self.limited = err
                self.warnings.append(f"GitHub API rate limit exhausted: later gists were not read ({err})")
        return [entry_from_wiki(model).with_warnings(f"not read: {self.limited}")]

    def folders(self, repo: RepoRef) -> tuple[str, ...]:
        if self.limited is None:
            try:
                return self.client.folders(repo)
            except RateLimited as err:
                self.limited = err
                self.warnings.append(f"GitHub API rate limit exhausted: {repo.label} was not listed ({err})")
            except FetchError as err:
                self.warnings.append(f"bundled models not listed: {err}")
        return ()


def _bundled_entries(reader: _Reader, wiki_entries: list[CatalogEntry]) -> list[CatalogEntry]:
    """BVLC/caffe/models/* not already on the page (by folder, or by the gist its readme names)."""
    known_paths = {e.repo.path for e in wiki_entries if e.repo}
    known_gists = {e.gist_id for e in wiki_entries if e.gist_id}
    found = []
    for folder in reader.folders(BUNDLED_MODELS):
        repo = RepoRef(BUNDLED_MODELS.owner, BUNDLED_MODELS.repo, f"{BUNDLED_MODELS.path}/{folder}")
        if repo.path in known_paths:
            continue
        model = WikiModel(model_id=repo_model_id(repo.owner, repo.repo, repo.path), name=folder,
                          section=BUNDLED_SECTION, links=(), repo=repo)
        entries = reader.read(model)
        if not any(e.gist_id in known_gists for e in entries if e.gist_id):
            found.extend(entries)
    return found


def page_revision(markdown: str) -> str:
    """Content hash of the page: the same text gives the same revision, wherever it was read."""
    return hashlib.sha1(markdown.encode("utf-8")).hexdigest()


def entry_from_wiki(model: WikiModel) -> CatalogEntry:
    """A model as the wiki alone describes it."""
    fetchable = model.gist_id is not None or (model.repo is not None and model.repo.path.startswith("models/"))
    weights = [link for link in model.links if link.kind == LINK_WEIGHTS
               and urlsplit(link.url).path.lower().endswith(".caffemodel")]
    url = weights[0].url if weights and not fetchable else None
    return CatalogEntry(
        model_id=model.model_id, name=model.name, section=model.section,
        status=STATUS_NOT_FETCHED if fetchable else STATUS_NO_METADATA,
        source=SOURCE_WIKI, links=model.links, gist_id=model.gist_id, repo=model.repo,
        licence=model.licence, citation=model.citation,
        caffemodel=_basename(url) if url else None, caffemodel_url=url)


def flag_shared_sha1(entries: Iterable[CatalogEntry]) -> list[CatalogEntry]:
    """Warn on entries whose different weight files claim the same sha1 (a copy-paste slip)."""
    entries = list(entries)
    by_sha1: dict[str, list[CatalogEntry]] = {}
    for entry in entries:
        if entry.sha1:
            by_sha1.setdefault(entry.sha1, []).append(entry)
    result = []
    for entry in entries:
        group = by_sha1.get(entry.sha1 or "", [])
        others = [e for e in group if e.model_id != entry.model_id and e.caffemodel_url != entry.caffemodel_url]
        if others:
            names = ", ".join(e.model_id for e in others)
            entry = entry.with_warnings(f"sha1 {entry.sha1} is also given for {names}: "
                                        "at most one of these weight files can match it")
        result.append(entry)
    return result


def _read_model(model: WikiModel, client: GitHubClient) -> list[CatalogEntry]:
    base = entry_from_wiki(model)
    if model.gist_id:
        try:
            gist = client.gist(model.gist_id)
        except RateLimited:
            raise
        except FetchError as err:  # 404, 5xx after retries, garbage: this gist only
            return [replace(base, status=STATUS_GIST_UNAVAILABLE, source=SOURCE_GIST).with_warnings(str(err))]
        base = replace(base, source=SOURCE_GIST, gist_revision=gist.revision,
                       synthetic_weights=gist.synthetic_weights)
        return _entries_from_files(base, gist.files, client, expected_gist=model.gist_id)
    if model.repo is not None:
        bundled = model.repo.path.startswith("models/")
        try:
            files = client.contents(model.repo)
        except RateLimited:
            raise
        except NotFound as err:
            if bundled:
                return [replace(base, status=STATUS_REPO_UNAVAILABLE, source=SOURCE_REPO).with_warnings(str(err))]
            return [base]
        except FetchError as err:
            status = STATUS_REPO_UNAVAILABLE if bundled else base.status
            return [replace(base, status=status).with_warnings(f"repository {model.repo.label}: {err}")]
        entries = _entries_from_files(replace(base, source=SOURCE_REPO), files, client, expected_gist=None)
        if not bundled and all(e.status != STATUS_OK for e in entries):
            # A linked repository without zoo front matter: still a links-only model.
            return [base]
        return entries
    return [base]


def _entries_from_files(base: CatalogEntry, files: tuple[RemoteFile, ...], client: GitHubClient,
                        *, expected_gist: str | None) -> list[CatalogEntry]:
    readme_file = next((f for f in files if _README.match(f.name)), None)
    if readme_file is None:
        return [replace(base, status=STATUS_INCOMPLETE).with_warnings("no readme among the files")]
    try:
        fields = parse_readme(client.text(readme_file), source=readme_file.url or readme_file.name)
    except (FrontMatterError, FetchError) as err:
        return [replace(base, status=STATUS_INCOMPLETE).with_warnings(str(err))]
    refs = [f.ref() for f in files]
    models = fields.models or (ModelFields(),)
    several = len(models) > 1
    entries = []
    for fields_of_model in models:
        entry = _entry_for(base, fields_of_model, fields, refs, several)
        if expected_gist and fields_of_model.gist_id and fields_of_model.gist_id != expected_gist:
            entry = entry.with_warnings(
                f"readme says gist_id {fields_of_model.gist_id}, the wiki links gist {expected_gist}")
        entries.append(entry)
    return entries


def _entry_for(base: CatalogEntry, model: ModelFields, readme: ReadmeFields, refs: list[FileRef],
               several: bool) -> CatalogEntry:
    part = _part_name(model) if several else None
    deploy = choose_deploy(refs, hint=model.caffemodel)
    warnings = list(readme.warnings)
    if deploy is None:
        warnings.append("no network definition (.prototxt) among the files")
    elif deploy.is_train_val:
        warnings.append(f"no deploy net: using {deploy.name} (a training net)")
    mean = FileRef(_basename(model.mean_file_url), model.mean_file_url) if model.mean_file_url \
        else choose_mean(refs)
    model_id = base.model_id
    if part and base.gist_id:
        model_id = gist_model_id(base.gist_id, part)
    elif part:
        model_id = f"{base.model_id}-{part}"
    name = (model.name or part or base.name) if several else base.name
    return replace(
        base, model_id=model_id, name=name,
        status=STATUS_OK if model.caffemodel_url else STATUS_INCOMPLETE,
        licence=model.licence or base.licence,
        gist_id=base.gist_id or model.gist_id,
        caffemodel=model.caffemodel, caffemodel_url=model.caffemodel_url, sha1=model.sha1,
        caffe_commit=model.caffe_commit, deploy=deploy, mean_file=mean,
        labels_file=choose_labels(refs), extra_weights=extra_weights(refs, model.caffemodel),
        synthetic_weights=base.synthetic_weights or model.synthetic_weights,
    ).with_warnings(*warnings)


def _part_name(model: ModelFields) -> str:
    """What tells one model of a multi-model readme from the others: its caffemodel path."""
    if model.caffemodel:
        return re.sub(r"\.caffemodel$", "", model.caffemodel)
    return model.name or model.heading or "model"


def _basename(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name) or url


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

