"""Overview: how much of the zoo converts and validates, why the rest fails, and the trend."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.ui import percent, require_catalog

STATUS_COLOURS = {"converted": "#2e9e5b", "failed": "#d64545", "skipped": "#9aa0a6",
                  "pending": "#e0a526", "queued": "#c9a0dc", "running": "#4f8ad6"}

url = require_catalog()
totals = data.totals(url)
statuses = data.status_counts(url)
by_status = dict(zip(statuses["status"], statuses["models"].astype(int)))
validation = data.latest_validation(url)
models = totals["models"]
converted = by_status.get("converted", 0)
validated = int((validation["failed_rows"] == 0).sum()) if not validation.empty else 0

st.title("Caffe Model Zoo → TensorFlow")
st.caption(f"{models} models in the catalog, {totals['runs']} nightly runs, "
           f"{totals['attempts']} conversion attempts")
cols = st.columns(5)
cols[0].metric("Models", models)
cols[1].metric("Converted", converted, f"{percent(converted, models)} of the zoo",
               delta_color="off", delta_arrow="off")
cols[2].metric("Validated", validated, f"{percent(validated, models)} of the zoo",
               delta_color="off", delta_arrow="off", help="latest attempt compared with the reference runtime "
               "and every sample within tolerance")
cols[3].metric("Failed", by_status.get("failed", 0))
cols[4].metric("Pending", by_status.get("pending", 0) + by_status.get("queued", 0)
               + by_status.get("running", 0), help="no finished attempt yet")

left, right = st.columns(2)
with left:
    st.subheader("Models by status")
    st.altair_chart(alt.Chart(statuses).mark_bar().encode(
        x=alt.X("models:Q"), y=alt.Y("status:N", sort="-x", title=None),
        color=alt.Color("status:N", legend=None, scale=alt.Scale(
            domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))),
        tooltip=["status", "models"]).properties(height=260))
with right:
    st.subheader("Trend across nightly runs")
    trend = data.runs(url, 60).sort_values("run_id")
    if trend.empty:
        st.write("No runs yet.")
    else:
        long = trend.melt(id_vars=["run_id", "started_at"],
                          value_vars=["n_converted", "n_failed", "n_skipped"],
                          var_name="outcome", value_name="models")
        long["outcome"] = long["outcome"].str.removeprefix("n_")
        st.altair_chart(alt.Chart(long).mark_line(point=True).encode(
            x=alt.X("run_id:O", title="run"), y=alt.Y("models:Q"),
            color=alt.Color("outcome:N", scale=alt.Scale(
                domain=list(STATUS_COLOURS)[:3], range=list(STATUS_COLOURS.values())[:3])),
            tooltip=["run_id", "started_at", "outcome", "models"]).properties(height=260))

st.subheader("Failures")
failure_cols = st.columns(2)
for column, by in zip(failure_cols, ("category", "stage")):
    frame = data.failures(url, by)
    with column:
        st.markdown(f"**by {by}**")
        if frame.empty:
            st.write("No failing models.")
            continue
        st.altair_chart(alt.Chart(frame).mark_bar(color=STATUS_COLOURS["failed"]).encode(
            x="models:Q", y=alt.Y(f"{by}:N", sort="-x", title=None,
                                  axis=alt.Axis(labelOverlap=False)),
            tooltip=[by, "models"]).properties(height=32 * len(frame) + 60))
        shown = frame.assign(share=(frame["share"] * 100).round(1).astype(str) + "%")
        st.table(shown.set_index(by))

left, right = st.columns(2)
with left:
    st.subheader("Conversion time")
    times = data.conversion_times(url)
    stages = times.filter(like="stage_")
    # The stages the pipeline timed; the attempt's wall time where none were recorded.
    seconds = stages.sum(axis=1, min_count=1).fillna(times["duration_s"]).dropna()
    if seconds.empty:
        st.write("No converted model has recorded timings yet.")
    else:
        st.altair_chart(alt.Chart(pd.DataFrame({"seconds": seconds})).mark_bar().encode(
            x=alt.X("seconds:Q", bin=alt.Bin(maxbins=40), title="seconds per model"),
            y=alt.Y("count()", title="models")).properties(height=240))
        slowest = times.loc[seconds.idxmax(), "model_id"]
        st.caption(f"median {seconds.median():.1f} s, slowest {seconds.max():.1f} s "
                   f"({slowest}); stage medians: " + ", ".join(
                       f"{name.removeprefix('stage_')} {value:.1f} s"
                       for name, value in stages.median().dropna().items()))
with right:
    st.subheader("Validation error")
    if validation.empty:
        st.write("No validated model yet.")
    else:
        errors = pd.DataFrame({"log10 max abs error": np.log10(
            validation["max_abs_error"].clip(lower=1e-12))})
        st.altair_chart(alt.Chart(errors).mark_bar().encode(
            x=alt.X("log10 max abs error:Q", bin=alt.Bin(maxbins=30)),
            y=alt.Y("count()", title="models")).properties(height=240))
        st.caption(f"{len(validation)} validated models; "
                   f"{int((validation['failed_rows'] > 0).sum())} outside tolerance; "
                   f"lowest cosine similarity {validation['min_cosine'].min():.6f}")
