"""The one gate every scraped document passes before parsing: text, bounded, newlines unified."""
from __future__ import annotations

from zoo_catalog.errors import CatalogError


def checked_text(text: object, *, limit: int, what: str, source: str,
                 error: type[CatalogError]) -> str:
    """`text` as str with '\\n' newlines; `error` (one line) when it is too large or not text."""
    if isinstance(text, bytes):
        if len(text) > limit * 4:
            raise error(f"{what} is {len(text)} bytes, over the limit", where=source)
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise error(f"{what} is a {type(text).__name__}, not text", where=source)
    if len(text) > limit:
        raise error(f"{what} is {len(text)} characters, over the {limit} limit", where=source)
    if "\x00" in text:
        raise error(f"{what} holds NUL bytes: not a text file", where=source)
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
