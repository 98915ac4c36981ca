"""What the mirror serves, loaded once from the bundled snapshot and zoo_mirror/gists.json.

Wiki revisions (with the "Offline mirror extras" section appended), the gist-like and
repository folders, and the weight sources.  Loading reads only small text files, so a
mirror starts in well under a second; weights are resolved lazily by `WeightStore`.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from zoo_mirror import SNAPSHOT_DIR
from zoo_mirror.readme_rewrite import ServedWeight, mirror_file_url, rewrite_readme
from zoo_mirror.weights import WeightSource, WeightStore

MIRROR_DIR = Path(__file__).resolve().parent
GISTS_JSON = MIRROR_DIR / "gists.json"
MEAN_FILE_URL = re.compile(r"^\s*mean_file(?:_proto)?\s*:\s*(https?://\S+)", re.MULTILINE)
LATEST = "latest"
LATEST_DATE = "2019-04-25"
EXTRAS_HEADING = "### Offline mirror extras"


class UnknownRevision(ValueError):
    """A wiki revision the snapshot does not hold."""


@dataclass(frozen=True)
class WikiRevision:
    date: str
    commit: str
    last_modified: datetime
    body: bytes


@dataclass(frozen=True)
class Folder:
    """A gist, or a repository folder: named files, a readme, and the weight URLs it names."""

    owner: str
    files: dict[str, Path]
    readme: str | None
    weights: tuple[str, ...]
    version: str
    created: datetime


def _extras_section(gists: dict[str, dict]) -> str:
    items = [f" * [{g['extra']}](https://gist.github.com/{g['owner']}/{gid}): real weights bundled"
             " with zoo2tf's snapshot" for gid, g in gists.items() if g.get("extra")]
    return ("\n\n" + EXTRAS_HEADING + "\n\n"
            "_Not part of the BVLC wiki: added by the zoo2tf offline mirror. These models have"
            " real trained weights; every other mirrored model serves seeded synthetic weights"
            " (marked `synthetic_weights: true`)._\n\n" + "\n".join(items) + "\n")


def _revision_dates(snapshot: Path) -> dict[str, tuple[str, datetime]]:
    """date -> (commit, last edit time) of the revisions the snapshot keeps."""
    found: dict[str, tuple[str, datetime]] = {}
    with open(snapshot / "wiki/history/Model-Zoo.revisions.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            when = datetime.fromisoformat(row["date"]).astimezone(timezone.utc)
            found.setdefault(row["date"][:10], (row["commit"], when))
    return found


def _load_wiki(snapshot: Path, extras: str) -> dict[str, WikiRevision]:
    dates = _revision_dates(snapshot)
    pages = {LATEST_DATE: snapshot / "wiki/Model-Zoo.md"}
    for page in sorted((snapshot / "wiki/history").glob("Model-Zoo.*.md")):
        pages[page.name.split(".")[1]] = page
    revisions = {}
    for date, page in pages.items():
        commit, when = dates.get(date, ("", datetime.fromisoformat(date).replace(tzinfo=timezone.utc)))
        page_bytes = page.read_bytes()
        newline = "\r\n" if b"\r\n" in page_bytes else "\n"  # the wiki's pages use CRLF
        body = page_bytes.rstrip(b"\r\n") + extras.replace("\n", newline).encode()
        revisions[date] = WikiRevision(date, commit, when, body)
    return revisions


def _folder(raw: dict, owner: str) -> Folder:
    files = {name: MIRROR_DIR / rel for name, rel in raw["files"].items()}
    digest = hashlib.sha1()
    for name, path in sorted(files.items()):
        digest.update(name.encode() + b"\0" + path.read_bytes())
    mtime = max(p.stat().st_mtime for p in files.values())
    return Folder(owner, files, raw.get("readme"), tuple(raw["weights"]), digest.hexdigest(),
                  datetime.fromtimestamp(int(mtime), timezone.utc))


class MirrorContent:
    def __init__(self, snapshot_dir: Path = SNAPSHOT_DIR, index_path: Path = GISTS_JSON):
        index = json.loads(index_path.read_text(encoding="utf-8"))
        self.wiki = _load_wiki(snapshot_dir, _extras_section(index["gists"]))
        self.accuracy_page = (snapshot_dir / "wiki/Models-accuracy-on-ImageNet-2012-val.md").read_bytes()
        self.gists = {gid: _folder(raw, raw["owner"]) for gid, raw in index["gists"].items()}
        self.repos = {repo: {path: _folder(raw, repo.split("/")[0]) for path, raw in folders.items()}
                      for repo, folders in index["repos"].items()}
        self.direct_files = {url: MIRROR_DIR / rel for url, rel in index.get("direct_files", {}).items()}
        self.weight_sources = tuple(
            WeightSource(url, real=MIRROR_DIR / w["real"] if w.get("real") else None,
                         prototxt=MIRROR_DIR / w["prototxt"] if w.get("prototxt") else None)
            for url, w in index["weights"].items())

    def revision(self, name: str) -> WikiRevision:
        date = LATEST_DATE if name == LATEST else name
        if date not in self.wiki:
            known = ", ".join([LATEST, *sorted(self.wiki)])
            raise UnknownRevision(f"unknown wiki revision '{name}' (known: {known})")
        return self.wiki[date]

    def file_bytes(self, folder: Folder, name: str, base_url: str, store: WeightStore) -> bytes:
        """A folder file as served: readmes get their weight URLs (and synthetic sha1s) rewritten."""
        data = folder.files[name].read_bytes()
        if name != folder.readme or not folder.weights:
            return data
        text = data.decode("utf-8")
        served = {}
        for url in folder.weights:
            found = store.resolve(url)
            sha1 = found.sha1 if found is not None and found.synthetic else None
            served[url] = ServedWeight(mirror_file_url(base_url, url), sha1)
        # Mean files named by URL move onto the mirror too (where they answer 404, as the
        # dead originals do): a replica must never send the pipeline to the real internet.
        for url in MEAN_FILE_URL.findall(text):
            served.setdefault(url, ServedWeight(mirror_file_url(base_url, url)))
        return rewrite_readme(text, served).encode("utf-8")

    def synthetic_weights(self, folder: Folder, store: WeightStore) -> bool:
        return any((f := store.resolve(u)) is not None and f.synthetic for u in folder.weights)
