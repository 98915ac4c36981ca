"""Derive zoo_mirror/gists.json: which snapshot folder the mirror serves under which zoo address.

Run `python -m zoo_mirror.build_gists` after changing the snapshot or the extras; the
mirror reads the committed JSON at start instead of re-deriving it every time.

How each community folder gets its gist id, in order of trust:
  1. the readme's own front matter (`gist_id: <hex>`);
  2. the snapshot MANIFEST description of the readme ("gist [owner/]<hex> ...");
  3. MANUAL_GISTS below, for folders whose only link to a gist is the wiki text.
The gist's owner is the user in the wiki's `gist.github.com/<owner>/<id>` link (any
revision), else the owner the MANIFEST names.  Folders the wiki links as GitHub
repositories are served through the contents API (REPO_FOLDERS); BVLC models are
`BVLC/caffe` repository folders, as in reality.  Every weight URL a readme names is
recorded with the deploy prototxt that describes it (DEPLOY_FOR_URL settles folders
holding several), or with the real file the snapshot has for it.  Folders the wiki links
only as direct file URLs (not gists or repositories) get those files served at their
URLs, and the caffemodel URL on the same wiki line is described by the folder's deploy.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from zoo_mirror import SNAPSHOT_DIR

MIRROR_DIR = Path(__file__).resolve().parent
OUTPUT = MIRROR_DIR / "gists.json"

MANUAL_GISTS = {
    # wiki "Yearbook Photo Dating": "Model and prototxt files: [Yearbook](gist.github.com/katerakelly/842f...)"
    "yearbook": "842f948d568d7f1f0044",
}
REPO_FOLDERS = {
    "resnet": "KaimingHe/deep-residual-networks",
    "squeezenet": "DeepScale/SqueezeNet",
    "mixture_dcnn": "zongyuange/MixDCNN",
    "places_cnds": "lwwang/Places_CNDS_model",
    "facial-landmark": "ishay2b/VanillaCNN",
}
DEPLOY_FOR_URL = {
    "age_net.caffemodel": "deploy_age.prototxt",
    "gender_net.caffemodel": "deploy_gender.prototxt",
}
EXTRAS = {
    "mirror-lenet-mnist": {
        "name": "LeNet MNIST",
        "files": {"readme.md": "extras/mirror-lenet-mnist/readme.md",
                  "lenet.prototxt": "snapshot/weights/lenet_mnist/lenet.prototxt"},
        "real": "snapshot/weights/lenet_mnist/lenet_iter_10000.caffemodel",
    },
    "mirror-cifar10-quick": {
        "name": "CIFAR10 quick",
        "files": {"readme.md": "extras/mirror-cifar10-quick/readme.md",
                  "cifar10_quick.prototxt": "snapshot/prototxts/cifar10_quick.prototxt"},
        "real": "snapshot/weights/cifar10_quick/cifar10_quick_iter_5000.caffemodel",
    },
}
MIRROR_OWNER = "zoo2tf-mirror"

README_NAME = re.compile(r"^_?readme(\.md)?$", re.IGNORECASE)
GIST_ID_LINE = re.compile(r"^\s*gist_id:\s*([0-9a-f]{20,40})\s*$", re.MULTILINE)
MANIFEST_GIST = re.compile(r"\bgist (?:([\w-]+)/)?([0-9a-f]{20,40})\b")
WIKI_GIST = re.compile(r"gist\.github\.com/([\w-]+)/([0-9a-f]{20,40})")
URL_LINE = re.compile(r"caffemodel[ _]url\s*:\s*(\S+)", re.IGNORECASE)
CAFFEMODEL_LINK = re.compile(r"https?://[^\s)\]>\"']+?\.caffemodel(?:\?[^\s)\]>\"']*)?")
PROTOTXT_EXT = (".prototxt", ".protxt", "deploy.txt")


def weight_urls(readme_text: str) -> list[str]:
    """Every caffemodel URL a readme names, in order, without repeats."""
    found = URL_LINE.findall(readme_text) + CAFFEMODEL_LINK.findall(readme_text)
    return list(dict.fromkeys(u for u in found if u.startswith(("http://", "https://"))))


def _deploy_candidates(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(PROTOTXT_EXT))
    usable = [n for n in names if "train" not in n and "solver" not in n and n != "val.prototxt"]
    deploys = [n for n in usable if "deploy" in n]
    return deploys or usable


def _prototxt_for(url: str, folder: Path) -> str | None:
    rel = folder.relative_to(MIRROR_DIR)
    for suffix, name in DEPLOY_FOR_URL.items():
        if url.endswith(suffix):
            return f"{rel}/{name}"
    candidates = _deploy_candidates(folder)
    return f"{rel}/{candidates[0]}" if len(candidates) == 1 else None


def _readme(folder: Path) -> Path | None:
    return next((p for p in sorted(folder.iterdir()) if README_NAME.match(p.name)), None)


def _manifest_gists() -> dict[str, tuple[str | None, str]]:
    by_folder: dict[str, tuple[str | None, str]] = {}
    with open(SNAPSHOT_DIR / "MANIFEST.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            match = MANIFEST_GIST.search(row["description"])
            if match and row["path"].startswith("models/community/"):
                by_folder.setdefault(row["path"].split("/")[2], (match.group(1), match.group(2)))
    return by_folder


def _wiki_owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    pages = [SNAPSHOT_DIR / "wiki/Model-Zoo.md", *sorted((SNAPSHOT_DIR / "wiki/history").glob("*.md"))]
    for page in pages:
        for owner, gist_id in WIKI_GIST.findall(page.read_text(encoding="utf-8")):
            owners.setdefault(gist_id, owner)
    return owners


def _record_weights(weights: dict[str, dict], urls: list[str], folder: Path) -> None:
    for url in urls:
        entry = weights.setdefault(url, {"prototxt": None})
        if entry.get("prototxt") is None and "real" not in entry:
            entry["prototxt"] = _prototxt_for(url, folder)


def _wiki_direct_files(folder: Path, wiki: str, weights: dict[str, dict]) -> dict[str, str]:
    """URL -> snapshot file for the wiki links that name one of the folder's files."""
    direct = {}
    for line in wiki.splitlines():
        urls = re.findall(r"https?://[^\s)\]>\"']+", line)
        named = {u: folder / u.rsplit("/", 1)[-1] for u in urls}
        hits = {u: p for u, p in named.items() if p.is_file()}
        if not hits:
            continue
        direct.update({u: str(p.relative_to(MIRROR_DIR)) for u, p in hits.items()})
        _record_weights(weights, [u for u in urls if CAFFEMODEL_LINK.fullmatch(u)], folder)
    return direct


def _files(folder: Path) -> dict[str, str]:
    return {p.name: str(p.relative_to(MIRROR_DIR)) for p in sorted(folder.iterdir()) if p.is_file()}


def build() -> dict:
    manifest = _manifest_gists()
    owners = _wiki_owners()
    gists: dict[str, dict] = {}
    repos: dict[str, dict] = {}
    unlinked: dict[str, str] = {}
    weights: dict[str, dict] = {}
    direct_files: dict[str, str] = {}
    wiki = (SNAPSHOT_DIR / "wiki/Model-Zoo.md").read_text(encoding="utf-8")

    for folder in sorted((SNAPSHOT_DIR / "models/bvlc").iterdir()):
        readme = _readme(folder)
        urls = weight_urls(readme.read_text(encoding="utf-8")) if readme else []
        _record_weights(weights, urls, folder)
        repos.setdefault("BVLC/caffe", {})[f"models/{folder.name}"] = {
            "files": _files(folder), "readme": readme.name if readme else None, "weights": urls,
            "derivation": "BVLC model: a folder of the BVLC/caffe repository"}

    for folder in sorted((SNAPSHOT_DIR / "models/community").iterdir()):
        readme = _readme(folder)
        text = readme.read_text(encoding="utf-8") if readme else ""
        urls = weight_urls(text)
        _record_weights(weights, urls, folder)
        entry = {"files": _files(folder), "readme": readme.name if readme else None, "weights": urls}
        front = GIST_ID_LINE.search(text)
        if front:
            gist_id, how = front.group(1), "readme front matter gist_id"
        elif folder.name in manifest:
            gist_id, how = manifest[folder.name][1], "snapshot MANIFEST description"
        elif folder.name in MANUAL_GISTS:
            gist_id, how = MANUAL_GISTS[folder.name], "wiki link (MANUAL_GISTS)"
        elif folder.name in REPO_FOLDERS:
            repo = REPO_FOLDERS[folder.name]
            repos.setdefault(repo, {})[""] = {**entry, "derivation": "wiki links the GitHub repository"}
            continue
        else:
            direct = _wiki_direct_files(folder, wiki, weights)
            direct_files.update(direct)
            unlinked[folder.name] = ("the wiki links its files directly" if direct else
                                     "the wiki links a web page or archive, not a gist or repository")
            continue
        owner = owners.get(gist_id) or (manifest.get(folder.name, (None, ""))[0]) or "unknown"
        gists[gist_id] = {**entry, "owner": owner, "folder": folder.name, "derivation": how}

    for gist_id, extra in EXTRAS.items():
        url = weight_urls((MIRROR_DIR / extra["files"]["readme.md"]).read_text(encoding="utf-8"))[0]
        weights[url] = {"real": extra["real"]}
        gists[gist_id] = {"files": extra["files"], "readme": "readme.md", "weights": [url],
                          "owner": MIRROR_OWNER, "folder": None, "extra": extra["name"],
                          "derivation": "offline mirror extra (real weights bundled in the snapshot)"}

    return {"about": __doc__.strip().splitlines()[0], "gists": gists, "repos": repos,
            "unlinked_folders": unlinked, "direct_files": dict(sorted(direct_files.items())),
            "weights": dict(sorted(weights.items()))}


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
