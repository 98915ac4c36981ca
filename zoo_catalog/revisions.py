"""Where a catalog to diff comes from: a saved scan (JSON), a wiki markdown file, or the
name of a wiki revision bundled in the snapshot ("latest", "2019-04-25", "2017-09-27", ...)."""
from __future__ import annotations

from pathlib import Path

from zoo_catalog.errors import CatalogError
from zoo_catalog.records import CatalogScan
from zoo_catalog.scan import scan_markdown
from zoo_mirror import SNAPSHOT_DIR

LATEST = "latest"
LATEST_DATE = "2019-04-25"


def snapshot_revisions(snapshot_dir: Path = SNAPSHOT_DIR) -> dict[str, Path]:
    """Revision name -> wiki markdown file, for every revision the snapshot holds."""
    found = {LATEST_DATE: snapshot_dir / "wiki" / "Model-Zoo.md"}
    for page in sorted((snapshot_dir / "wiki" / "history").glob("Model-Zoo.*.md")):
        found[page.name.split(".")[1]] = page
    return found


def load_catalog(spec: str, *, snapshot_dir: Path = SNAPSHOT_DIR) -> CatalogScan:
    """A saved scan JSON file, a wiki markdown file, or a bundled revision name."""
    path = Path(spec)
    if path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.lstrip().startswith("{"):
            try:
                return CatalogScan.from_json(text)
            except (ValueError, KeyError, TypeError) as err:
                raise CatalogError(f"not a saved catalog scan: {err}", where=str(path)) from None
        return scan_markdown(text, source=str(path))
    revisions = snapshot_revisions(snapshot_dir)
    name = LATEST_DATE if spec == LATEST else spec
    if name not in revisions:
        known = ", ".join([LATEST, *sorted(revisions)])
        raise CatalogError(f"no such file, and not a bundled wiki revision (known: {known})", where=spec)
    page = revisions[name]
    return scan_markdown(page.read_text(encoding="utf-8"), source=f"snapshot wiki {name}")
