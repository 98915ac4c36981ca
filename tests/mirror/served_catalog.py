"""Reading back what the mirror serves: every folder's readme and the weights it names."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import requests

from zoo_mirror.server import MirrorServer

SHA1_LINE = re.compile(r"^\s*sha1\s*:\s*([0-9a-f]{40})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ServedModel:
    where: str            # gist id or repo folder
    url: str              # weight URL on the mirror
    sha1: str | None      # sha1 the served readme gives for it
    synthetic: bool


# Mean files are moved onto the mirror too, but they are not weights.
MEAN_LINE = re.compile(r"^\s*mean_file(?:_proto)?\s*:")


def readme_weights(where: str, readme: str, base_url: str) -> list[ServedModel]:
    """(mirror weight URL, sha1) pairs of a served readme: one sha1 line for a one-model
    readme, else the sha1 line right after each URL's line."""
    pattern = re.compile(re.escape(base_url) + r"/files/[^\s)\]>\"']+")
    lines = readme.splitlines()
    weight_lines = "\n".join(line for line in lines if not MEAN_LINE.match(line))
    urls = list(dict.fromkeys(pattern.findall(weight_lines)))
    synthetic = "synthetic_weights: true" in readme
    if len(urls) == 1:
        sha1s = SHA1_LINE.findall(readme)
        return [ServedModel(where, urls[0], sha1s[0] if len(sha1s) == 1 else None, synthetic)]
    found = []
    for url in urls:
        at = next(i for i, line in enumerate(lines) if url in line)
        after = SHA1_LINE.match(lines[at + 1]) if at + 1 < len(lines) else None
        found.append(ServedModel(where, url, after.group(1) if after else None, synthetic))
    return found


def served_models(mirror: MirrorServer) -> list[ServedModel]:
    """Every weight URL named by a served readme, over the gist and contents APIs."""
    models = []
    for gist_id in mirror.content.gists:
        document = requests.get(f"{mirror.github_api_base}/gists/{gist_id}", timeout=60).json()
        for name, entry in document["files"].items():
            if name == mirror.content.gists[gist_id].readme:
                models += readme_weights(gist_id, entry["content"], mirror.base_url)
    for repo, folders in mirror.content.repos.items():
        for prefix, folder in folders.items():
            if folder.readme is None:
                continue
            path = f"{prefix}/{folder.readme}" if prefix else folder.readme
            entry = requests.get(f"{mirror.github_api_base}/repos/{repo}/contents/{path}", timeout=60).json()
            text = requests.get(entry["download_url"], timeout=60).text
            models += readme_weights(f"{repo}/{path}", text, mirror.base_url)
    return models


def download_sha1(url: str) -> tuple[int, str | None]:
    with requests.get(url, stream=True, timeout=60) as reply:
        if reply.status_code != 200:
            return reply.status_code, None
        digest = hashlib.sha1()
        for chunk in reply.iter_content(1 << 20):
            digest.update(chunk)
        return 200, digest.hexdigest()
