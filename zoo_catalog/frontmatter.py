"""Readme front matter -> normalised model fields plus the warnings met on the way.

Zoo readmes follow the documented format (a `---` fenced YAML block) only loosely. Seen in
the wild, and handled here: bare `key: value` lines under a heading (`##Information`,
`###name: ...`), blank lines inside the YAML, `---` used as a markdown rule, an empty
`gist_id:`, the key `caffemodel url:` with a space, `caffemodel` without its extension,
several models in one readme (one block per `###` heading), and no front matter at all.

YAML is read with a safe loader that also refuses aliases and resolves no implicit types
(every scalar stays a string, so a sha1 of digits is never turned into a number), and the
input size is bounded. Nothing but FrontMatterError leaves `parse_readme`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

import yaml

from zoo_catalog.errors import FrontMatterError
from zoo_catalog.text import checked_text

MAX_README_CHARS = 256 * 1024
MAX_FRONT_MATTER_LINES = 200

STYLE_YAML = "yaml"
STYLE_KEY_VALUE = "key-value"
STYLE_NONE = "none"

# Spelling seen in readmes -> canonical key. Keys compare lower-case with spaces/dashes as '_'.
_KEY_ALIASES = {
    "name": "name",
    "caffemodel": "caffemodel",
    "caffemodel_url": "caffemodel_url",
    "sha1": "sha1",
    "sha": "sha1",
    "license": "licence",
    "licence": "licence",
    "caffe_commit": "caffe_commit",
    "caffe_version": "caffe_commit",
    "gist_id": "gist_id",
    "mean_file_proto": "mean_file_url",
    "mean_file": "mean_file_url",
    "synthetic_weights": "synthetic_weights",
}
# Keys that describe the whole readme, not one of its models.
_SHARED_KEYS = ("gist_id", "licence", "caffe_commit", "mean_file_url", "synthetic_weights")
# A block of key lines is a model only if it says something about weights or the model.
_MODEL_KEYS = ("name", "caffemodel", "caffemodel_url", "sha1")

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_COMMIT = re.compile(r"\b([0-9a-f]{7,40})\b")
_GIST_ID = re.compile(r"^[0-9a-f]{20,40}$|^[a-z0-9][a-z0-9-]{0,62}$")
_KEY_LINE = re.compile(r"^ {0,3}(?:#{1,6}[ \t]*)?([A-Za-z][A-Za-z0-9 _-]{0,40}?)[ \t]*:(?:[ \t]+(.*)|)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]*(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_TRUE = {"true", "yes", "on", "1"}


@dataclass(frozen=True)
class ModelFields:
    """One model's fields from a readme, normalised; None where the readme says nothing."""

    name: str | None = None
    caffemodel: str | None = None
    caffemodel_url: str | None = None
    sha1: str | None = None
    caffe_commit: str | None = None
    licence: str | None = None
    gist_id: str | None = None
    mean_file_url: str | None = None
    synthetic_weights: bool = False
    heading: str | None = None


@dataclass(frozen=True)
class ReadmeFields:
    style: str
    models: tuple[ModelFields, ...]
    warnings: tuple[str, ...]

    @property
    def gist_id(self) -> str | None:
        return next((m.gist_id for m in self.models if m.gist_id), None)

    @property
    def has_weights(self) -> bool:
        return any(m.caffemodel_url for m in self.models)


class _NoAliasSafeLoader(yaml.SafeLoader):
    """SafeLoader without implicit typing and without aliases (no billion-laughs)."""

    yaml_implicit_resolvers: dict = {}

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not accepted", mark)
        return super().compose_node(parent, index)


def parse_readme(text: str | bytes, *, source: str = "readme") -> ReadmeFields:
    """Read a zoo readme's metadata. Raises FrontMatterError only for unreadable input."""
    text = checked_text(text, limit=MAX_README_CHARS, what="readme", source=source,
                        error=FrontMatterError)
    lines = text.split("\n")
    warnings: list[str] = []
    fence = _yaml_fence(lines)
    if fence is None and lines and lines[0].strip() == "---":
        warnings.append("opening '---' has no closing '---': read as a markdown rule")
    if fence is not None:
        block = lines[1:fence]
        raw_blocks = _yaml_block(block, warnings)
        style = STYLE_YAML
        if raw_blocks is None:
            raw_blocks = _key_value_blocks(block, warnings)
    else:
        raw_blocks = _key_value_blocks(lines, warnings)
        style = STYLE_KEY_VALUE
    models = _normalise_blocks(raw_blocks, warnings)
    if not models:
        style = STYLE_NONE
        warnings.append("no front matter: the readme names no model fields")
    return ReadmeFields(style=style, models=tuple(models), warnings=tuple(dict.fromkeys(warnings)))


def _yaml_fence(lines: list[str]) -> int | None:
    """Index of the closing fence when the readme opens with a `---` fenced block."""
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, min(len(lines), MAX_FRONT_MATTER_LINES + 2)):
        if lines[index].strip() in ("---", "..."):
            return index
    return None


def _yaml_block(block: list[str], warnings: list[str]) -> list[list[tuple[str, object]]] | None:
    try:
        data = yaml.load("\n".join(block), Loader=_NoAliasSafeLoader)  # noqa: S506 (safe loader)
    except (yaml.YAMLError, RecursionError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        warnings.append(f"front matter is not valid YAML ({first}): read as key: value lines")
        return None
    if data is None:
        return [[]]
    if not isinstance(data, dict):
        warnings.append("front matter is YAML but not a mapping: read as key: value lines")
        return None
    return [[(str(key), value) for key, value in data.items()]]


def _key_value_blocks(lines: list[str], warnings: list[str]) -> list[list[tuple[str, object]]]:
    """Group recognised `key: value` lines into one block per model.

    A new block starts when a model key repeats (`###name: Age` then `###name: Gender`), or
    at a heading once the current block already names weights (one `###` per model).
    """
    blocks: list[list[tuple[str, object]]] = [[]]
    heading: str | None = None
    in_code = False
    for line in lines:
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        match = _KEY_LINE.match(line)
        key = _canonical_key(match.group(1), warnings) if match else None
        if key is None:
            head = _HEADING.match(line)
            if head and head.group(2):
                current_keys = {k for k, _ in blocks[-1]}
                if current_keys & {"caffemodel", "caffemodel_url"}:
                    blocks.append([])
                heading = head.group(2)
                blocks[-1].append(("__heading__", heading))
            continue
        current_keys = {k for k, _ in blocks[-1]}
        if key in _MODEL_KEYS and key in current_keys:
            blocks.append([("__heading__", heading)] if heading else [])
        blocks[-1].append((key, (match.group(2) or "").strip()))
    return blocks


def _canonical_key(raw: str, warnings: list[str] | None = None) -> str | None:
    folded = re.sub(r"[\s-]+", "_", raw.strip().lower())
    key = _KEY_ALIASES.get(folded)
    if key and warnings is not None and folded != raw.strip().lower():
        warnings.append(f"key '{raw.strip()}' read as {folded}")
    return key


def _normalise_blocks(blocks: list[list[tuple[str, object]]], warnings: list[str]) -> list[ModelFields]:
    parsed: list[dict[str, object]] = []
    for block in blocks:
        values: dict[str, object] = {}
        for raw_key, value in block:
            if raw_key == "__heading__":
                if not any(k in values for k in _MODEL_KEYS):
                    values["heading"] = value
                continue
            key = _canonical_key(raw_key, warnings) if raw_key not in _KEY_ALIASES.values() else raw_key
            if key is None:
                continue
            if isinstance(value, (dict, list)):
                warnings.append(f"{key} holds a nested YAML value: ignored")
                continue
            values.setdefault(key, None if value is None else str(value).strip())
        parsed.append(values)
    shared = {key: _single_value(parsed, key) for key in _SHARED_KEYS}
    models = [values for values in parsed if any(values.get(k) for k in _MODEL_KEYS)]
    if not models and any(any(v for k, v in p.items() if k != "heading") for p in parsed):
        models = [{}]
    result = []
    for values in models:
        for key, value in shared.items():
            if value is not None and not values.get(key):
                values[key] = value
        result.append(_model_fields(values, warnings))
    if len(result) > 1:
        # Multi-model readmes name each model by the heading above its block.
        result = [m if m.name else replace(m, name=m.heading) for m in result]
    return result


def _single_value(blocks: list[dict[str, object]], key: str) -> str | None:
    """The value of a readme-wide key when exactly one value is given across all blocks."""
    values = {str(b[key]) for b in blocks if b.get(key)}
    return values.pop() if len(values) == 1 else None


def _model_fields(values: dict[str, object], warnings: list[str]) -> ModelFields:
    def text(key: str) -> str | None:
        value = values.get(key)
        return str(value).strip() or None if value is not None else None

    url = _url(text("caffemodel_url"), "caffemodel_url", warnings)
    caffemodel = _caffemodel_name(text("caffemodel"), url, warnings)
    gist_id = text("gist_id")
    if "gist_id" in values and not gist_id:
        warnings.append("gist_id is empty")
    elif gist_id and not _GIST_ID.match(gist_id.lower()):
        warnings.append(f"gist_id {gist_id!r} is not a gist id: ignored")
        gist_id = None
    return ModelFields(
        name=text("name"),
        caffemodel=caffemodel,
        caffemodel_url=url,
        sha1=_sha1(text("sha1"), warnings),
        caffe_commit=_commit(text("caffe_commit"), warnings),
        licence=text("licence"),
        gist_id=gist_id.lower() if gist_id else None,
        mean_file_url=_url(text("mean_file_url"), "mean_file_proto", warnings),
        synthetic_weights=(text("synthetic_weights") or "").lower() in _TRUE,
        heading=text("heading"),
    )


def _url(value: str | None, key: str, warnings: list[str]) -> str | None:
    if not value:
        return None
    value = value.strip("<>\"' ")
    if not re.match(r"^https?://\S+$", value):
        warnings.append(f"{key} {value!r} is not an http(s) URL: ignored")
        return None
    return value


def _caffemodel_name(name: str | None, url: str | None, warnings: list[str]) -> str | None:
    if not name and url:
        base = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if base:
            warnings.append(f"caffemodel missing: named {base!r} after caffemodel_url")
            return base
        return None
    if name and not name.endswith(".caffemodel"):
        fixed = f"{name}.caffemodel"
        warnings.append(f"caffemodel {name!r} has no .caffemodel extension: read as {fixed!r}")
        return fixed
    return name


def _sha1(value: str | None, warnings: list[str]) -> str | None:
    if not value:
        return None
    folded = value.strip().lower()
    if not _HEX40.match(folded):
        warnings.append(f"sha1 {value!r} is not 40 hex digits: ignored")
        return None
    return folded


def _commit(value: str | None, warnings: list[str]) -> str | None:
    if not value:
        return None
    # A hex run inside a URL (a gist id in "see https://gist...") is no commit.
    match = _COMMIT.search(" ".join(word for word in value.lower().split() if "://" not in word))
    if not match:
        warnings.append(f"caffe_commit {value!r} is not a commit hash: ignored")
        return None
    if match.group(1) != value.strip().lower():
        warnings.append(f"caffe_commit {value!r} read as {match.group(1)}")
    return match.group(1)

