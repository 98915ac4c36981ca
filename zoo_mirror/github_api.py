"""JSON documents shaped like GitHub's REST API: a gist, and repository contents."""
from __future__ import annotations

import base64
import hashlib
import mimetypes
from collections.abc import Mapping
from datetime import datetime

from zoo_mirror.content import Folder

GITHUB_FILE_LIMIT = 1_000_000  # the gists API returns at most ~1 MB of each file's content
LANGUAGES = {".md": "Markdown", ".prototxt": "Protocol Buffer Text Format",
             ".protxt": "Protocol Buffer Text Format", ".txt": "Text", ".csv": "CSV"}


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _language(name: str) -> str | None:
    ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return LANGUAGES.get(ext, "Markdown" if name.lower().startswith("readme") else None)


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def gist_document(gist_id: str, folder: Folder, files: Mapping[str, bytes], *, api_base: str,
                  raw_base: str, html_base: str, truncate_over: int, synthetic: bool) -> dict:
    entries = {}
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        cut = len(data) > truncate_over
        if cut:
            text = data[:truncate_over].decode("utf-8", errors="ignore")
        entries[name] = {
            "filename": name,
            "type": mimetypes.guess_type(name)[0] or "text/plain",
            "language": _language(name),
            "raw_url": f"{raw_base}/{folder.owner}/{gist_id}/raw/{folder.version}/{name}",
            "size": len(data),
            "truncated": cut,
            "content": text,
        }
    url = f"{api_base}/gists/{gist_id}"
    document = {
        "url": url,
        "id": gist_id,
        "html_url": f"{html_base}/{folder.owner}/{gist_id}",
        "git_pull_url": f"{html_base}/{gist_id}.git",
        "files": entries,
        "public": True,
        "created_at": _iso(folder.created),
        "updated_at": _iso(folder.created),
        "description": "",
        "owner": {"login": folder.owner, "type": "User"},
        "truncated": False,
        "history": [{"version": folder.version, "committed_at": _iso(folder.created),
                     "user": {"login": folder.owner}, "url": f"{url}/{folder.version}",
                     "change_status": {}}],
    }
    if synthetic:
        document["zoo2tf_mirror"] = {"synthetic_weights": True}
    return document


def content_entry(repo: str, path: str, data: bytes | None, *, api_base: str, raw_base: str,
                  html_base: str, with_content: bool = False) -> dict:
    """One item of a contents listing (a file when `data` is bytes, else a directory)."""
    name = path.rsplit("/", 1)[-1]
    is_file = data is not None
    sha = git_blob_sha(data) if is_file else hashlib.sha1(f"tree {repo}/{path}".encode()).hexdigest()
    kind = "blob" if is_file else "tree"
    entry = {
        "name": name,
        "path": path,
        "sha": sha,
        "size": len(data) if is_file else 0,
        "url": f"{api_base}/repos/{repo}/contents/{path}?ref=master",
        "html_url": f"{html_base}/{repo}/{kind}/master/{path}",
        "git_url": f"{api_base}/repos/{repo}/git/{kind}s/{sha}",
        "download_url": f"{raw_base}/{repo}/master/{path}" if is_file else None,
        "type": "file" if is_file else "dir",
    }
    if is_file and with_content:
        entry["content"] = base64.encodebytes(data).decode("ascii")
        entry["encoding"] = "base64"
    return entry
