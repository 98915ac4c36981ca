"""Models: the catalog as a filtered, sorted, paginated table; each row opens its model."""
from __future__ import annotations

import math

import streamlit as st

from dashboard import data
from dashboard.ui import model_href, require_catalog
from storage.queries import ORDERS, ModelFilter

ANY = "any"
PAGE_SIZES = (10, 25, 50, 100, 200)
SYNTHETIC = {ANY: None, "real weights": False, "synthetic weights": True}
COLUMNS = ("open", "name", "model_id", "section", "status", "error_category", "failed_stage",
           "duration_s", "finished_at", "licence", "synthetic_weights")

url = require_catalog()
choices = data.filter_choices(url)
st.title("Models")

row1 = st.columns([3, 2, 2, 2])
search = row1[0].text_input("Search", key="search", placeholder="model id or name")
status = row1[1].selectbox("Status", (ANY, *choices["status"]), key="status")
section = row1[2].selectbox("Section", (ANY, *choices["section"]), key="section")
layer_type = row1[3].selectbox("Uses layer type", (ANY, *choices["layer_type"]),
                               key="layer_type")
row2 = st.columns([2, 2, 2, 1, 1])
synthetic = row2[0].selectbox("Weights", tuple(SYNTHETIC), key="synthetic")
licence = row2[1].selectbox("Licence", (ANY, *choices["licence"]), key="licence")
order_by = row2[2].selectbox("Sort by", ORDERS, key="order_by")
page_size = row2[3].selectbox("Per page", PAGE_SIZES, index=2, key="page_size")

filters = ModelFilter(
    search=search.strip() or None,
    status=None if status == ANY else status,
    section=None if section == ANY else section,
    layer_type=None if layer_type == ANY else layer_type,
    synthetic=SYNTHETIC[synthetic],
    licence=None if licence == ANY else licence,
)
# A new filter starts again at the first page.
if st.session_state.get("models_filters") != (filters, page_size, order_by):
    st.session_state["models_filters"] = (filters, page_size, order_by)
    st.session_state["page"] = 1
total = data.models_page(url, filters, 1, page_size, order_by).total
pages = max(1, math.ceil(total / page_size))
st.session_state["page"] = min(st.session_state.get("page", 1), pages)
page = row2[4].number_input("Page", min_value=1, max_value=pages, step=1, key="page")

result = data.models_page(url, filters, int(page), page_size, order_by)
first = (result.page - 1) * result.page_size + 1
st.caption(f"{result.total} models match · showing {first}–{first + len(result.frame) - 1}"
           f" · page {result.page} of {pages}" if result.total else "No model matches.")
if result.total:
    frame = result.frame.assign(open=result.frame["model_id"].map(model_href))
    picked = st.dataframe(
        frame[list(COLUMNS)], hide_index=True, width="stretch", key="models_table",
        on_select="rerun", selection_mode="single-row",
        column_config={
            "open": st.column_config.LinkColumn("", display_text=":material/open_in_new:",
                                                width="small", help="open the model page"),
            "model_id": "id",
            "duration_s": st.column_config.NumberColumn("duration", format="%.1f s"),
            "finished_at": st.column_config.DatetimeColumn("finished",
                                                           format="YYYY-MM-DD HH:mm"),
            "synthetic_weights": st.column_config.CheckboxColumn("synthetic"),
        })
    rows = picked.selection.rows if picked else []
    if rows:
        st.switch_page("views/model.py",
                       query_params={"model": frame["model_id"].iloc[rows[0]]})
    st.caption("Select a row (or use its ↗ link) to open the model's page.")
