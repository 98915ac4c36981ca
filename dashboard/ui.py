"""Pieces every page shares: the catalog gate with its first-run message, and formatting."""
from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from dashboard import data
from storage.errors import CatalogError

FIRST_RUN = """\
**The catalog is empty.** Nothing has been recorded in `{url}` yet.

Fill it with one run of the nightly pipeline, against the offline zoo mirror bundled with
zoo2tf (no internet needed):

```bash
zoo2tf run --mirror --db '{url}'
```

or against the real Model Zoo with `zoo2tf run`. Then reload this page.
"""


def require_catalog() -> str:
    """The catalog URL when it holds models; otherwise explain and stop the page."""
    url = data.catalog_url()
    try:
        totals = data.totals(url)
    except CatalogError as exc:
        st.error(f"Cannot read the catalog: {exc}")
        st.stop()
    if not totals or totals["models"] == 0:
        st.info(FIRST_RUN.format(url=_shown(url)))
        st.stop()
    return url


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def model_href(model_id: str) -> str:
    """A link to a model's page, relative so that it works under any base path."""
    return f"model?model={quote(model_id, safe='')}"


def human_size(size: float | None) -> str:
    if size is None or size != size:  # None or NaN
        return ""
    units = ("B", "KB", "MB", "GB", "TB")
    step = 0
    while size >= 1024 and step < len(units) - 1:
        size /= 1024
        step += 1
    return f"{size:.0f} B" if step == 0 else f"{size:.1f} {units[step]}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"
