"""One model: metadata, artifacts, layers, every attempt, validation and the outputs."""
from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.ui import human_size, require_catalog
from storage.errors import UnknownRecord

OUTPUT_LABELS = {"saved_model": "SavedModel", "keras": "Keras (.keras)",
                 "conversion_report": "conversion.json", "validation_report": "validation.json"}
# Bigger files are offered as a path only: a download button would read them on click
# into the server's memory.
DOWNLOAD_LIMIT = 512 << 20



def _guesses(sample: dict, key: str) -> list[str]:
    """A validation.json sample's top-5 as "label (probability)" strings."""
    return [f"{g.get('label') or g['index']} ({g['probability']:.3f})"
            for g in sample.get(key) or []]


def _text(value: object) -> str | None:
    """A text cell, None when missing (pandas reads a missing string as NaN)."""
    return value if isinstance(value, str) and value else None


url = require_catalog()
key = st.query_params.get("model", "")
picked = st.text_input("Model id", value=key, placeholder="e.g. bvlc_alexnet")
if picked != key:
    st.query_params["model"] = picked
    st.rerun()
if not picked:
    st.info("Pick a model on the **Models** page, or type its id above.")
    st.stop()
try:
    detail = data.model_detail(url, picked)
except UnknownRecord as exc:
    st.warning(str(exc))
    st.stop()

model, attempts = detail.model, detail.attempts
latest = attempts.iloc[0] if not attempts.empty else None
st.title(model["name"])
st.caption(f"`{model['id']}` · section **{model['section'] or '-'}**"
           + (" · removed from the zoo" if model["removed"] else ""))

with_layers = attempts[attempts["layer_type_counts"].map(bool)]
layers = with_layers.iloc[0]["layer_type_counts"] if not with_layers.empty else {}
params = with_layers.iloc[0]["param_count"] if not with_layers.empty else None
cols = st.columns(4)
cols[0].metric("Latest status", "pending" if latest is None else latest["status"])
cols[1].metric("Parameters", "-" if params is None or pd.isna(params) else f"{int(params):,}")
cols[2].metric("Layers", sum(layers.values()) if layers else "-")
cols[3].metric("Weights", "synthetic" if model["synthetic_weights"] else "published")

st.subheader("Catalog entry")
gist = (f"`{model['gist_id']}` (revision `{model['gist_revision'] or '?'}`)"
        if model["gist_id"] else "none")
st.markdown("\n".join([
    f"- **wiki section**: {model['section'] or 'none'}",
    f"- **licence**: {model['licence'] or 'not stated'}",
    f"- **gist**: {gist}",
    f"- **seen**: {model['first_seen']:%Y-%m-%d} to {model['last_seen']:%Y-%m-%d}",
    *(f"- **link**: <{link}>" for link in model["source_links"]),
]))

st.subheader("Artifacts")
if detail.artifacts.empty:
    st.write("No artifact fetched yet.")
else:
    artifacts = detail.artifacts.assign(size=detail.artifacts["size"].map(human_size))
    st.dataframe(artifacts[["kind", "status", "size", "sha1", "sha256", "url", "store_path",
                            "fetched_at"]], hide_index=True, width="stretch")

if layers:
    st.subheader("Layer types")
    histogram = pd.DataFrame({"layer type": list(layers), "layers": list(layers.values())})
    st.altair_chart(alt.Chart(histogram).mark_bar().encode(
        x="layers:Q", y=alt.Y("layer type:N", sort="-x"), tooltip=["layer type", "layers"],
    ).properties(height=24 * len(layers) + 40))

st.subheader("Attempts")
if attempts.empty:
    st.write("No conversion attempt yet.")
else:
    st.dataframe(attempts[["attempt_id", "run_id", "status", "failed_stage", "error_category",
                           "duration_s", "finished_at", "converter_version", "message"]],
                 hide_index=True, width="stretch", column_config={
                     "duration_s": st.column_config.NumberColumn("duration", format="%.2f s")})
    for attempt in attempts.itertuples():
        title = f"attempt {attempt.attempt_id} (run {attempt.run_id}): {attempt.status}"
        message, category, stage, trace = (
            _text(attempt.message), _text(attempt.error_category), _text(attempt.failed_stage),
            _text(attempt.traceback))
        with st.expander(title, expanded=attempt.Index == 0):
            if message:
                st.markdown(f"**{category or 'message'}**{f' at {stage}' if stage else ''}:")
                st.code(message, language=None, wrap_lines=True)
            if attempt.stage_timings:
                st.markdown("**Stage timings (s)**")
                st.table(pd.DataFrame([attempt.stage_timings], index=["seconds"]))
            if trace:
                st.markdown("**Traceback (end)**")
                st.code(trace, language="python")

validated = detail.validations
if not validated.empty:
    attempt_id = int(validated["attempt_id"].iloc[0])
    rows = validated[validated["attempt_id"] == attempt_id]
    st.subheader(f"Validation (attempt {attempt_id})")
    st.dataframe(rows[["sample", "output", "reference_runtime", "reference_version",
                       "max_abs_error", "max_rel_error", "cosine_similarity", "top1_agree",
                       "top5_overlap", "passed"]], hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3e")
                                for c in ("max_abs_error", "max_rel_error")})
    divergent = rows["first_divergent_layer"].dropna()
    if not divergent.empty:
        st.error(f"First divergent layer: **{divergent.iloc[0]}**")

outputs = latest["outputs"] if latest is not None else []
report = next((Path(o["path"]) for o in outputs if o["kind"] == "validation_report"), None)
if report is not None and report.is_file():
    samples = json.loads(report.read_text()).get("samples", [])
    with_top5 = [s for s in samples if s.get("reference_top5")]
    if with_top5:
        st.markdown("**Top-5 classes per sample** (reference → converted)")
    for sample in with_top5:
        reference, converted = _guesses(sample, "reference_top5"), _guesses(sample,
                                                                           "converted_top5")
        rank = max(len(reference), len(converted))
        st.markdown(f"`{sample['sample']}`")
        st.table(pd.DataFrame({
            "reference": reference + [""] * (rank - len(reference)),
            "converted": converted + [""] * (rank - len(converted)),
        }, index=range(1, rank + 1)))

if outputs:
    st.subheader("Converted model files")
    for output in outputs:
        path = Path(output["path"])
        label = OUTPUT_LABELS.get(output["kind"], output["kind"])
        shown = path.parent if output["kind"] == "saved_model" else path
        left, right = st.columns([4, 1])
        left.markdown(f"**{label}**: `{shown}`  \nsha256 `{output['sha256']}`")
        if output["kind"] != "saved_model" and path.is_file() \
                and path.stat().st_size <= DOWNLOAD_LIMIT:
            right.download_button(f"Download ({human_size(path.stat().st_size)})",
                                  data=path.read_bytes,
                                  file_name=path.name, key=f"download-{output['kind']}")
        elif not path.exists():
            right.caption("file not on this machine")
