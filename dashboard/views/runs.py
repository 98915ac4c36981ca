"""Runs: every nightly run with its duration and counts, and which models it broke or fixed."""
from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.ui import model_href, require_catalog
from storage.dashboard_queries import FIXED, NEWLY_FAILING

RUN_LIMITS = (20, 50, 100, 200)

url = require_catalog()
st.title("Nightly runs")
limit = st.columns(4)[0].selectbox("Runs shown", RUN_LIMITS, key="run_limit")
runs = data.runs(url, limit)
if runs.empty:
    st.info("No run recorded yet.")
    st.stop()

changes = data.run_changes(url, tuple(int(r) for r in runs["run_id"]))
per_run = changes.groupby(["run_id", "change"]).size().unstack(fill_value=0)
table = runs.assign(
    duration_min=((runs["finished_at"] - runs["started_at"]).dt.total_seconds() / 60).round(1),
    newly_failing=runs["run_id"].map(per_run.get(NEWLY_FAILING, {})).fillna(0).astype(int),
    fixed=runs["run_id"].map(per_run.get(FIXED, {})).fillna(0).astype(int),
)
st.dataframe(table[["run_id", "status", "started_at", "duration_min", "n_new", "n_changed",
                    "n_converted", "n_failed", "n_skipped", "newly_failing", "fixed",
                    "catalog_revision", "host"]],
             hide_index=True, width="stretch", column_config={
                 "started_at": st.column_config.DatetimeColumn("started",
                                                               format="YYYY-MM-DD HH:mm"),
                 "duration_min": st.column_config.NumberColumn("duration", format="%.1f min"),
             })

run_id = st.columns(4)[0].selectbox("Run", runs["run_id"].tolist(),
                                    format_func=lambda r: f"run {r}", key="run_detail")
picked = changes[changes["run_id"] == run_id]
st.subheader(f"Run {run_id}: what changed")
left, right = st.columns(2)
for column, change in ((left, NEWLY_FAILING), (right, FIXED)):
    rows = picked[picked["change"] == change]
    with column:
        st.markdown(f"**{change}: {len(rows)}**")
        if rows.empty:
            st.caption("none")
            continue
        st.markdown("\n".join(
            f"- [{r.name}]({model_href(r.model_id)}) (`{r.model_id}`)"
            + (f": {r.error_category}" if change == NEWLY_FAILING else "")
            for r in rows.itertuples()))
