"""The dashboard's entry script: `streamlit run dashboard/app.py` (or `zoo2tf dashboard`).

Pages are scripts under views/. A `?model=<id>` query on the landing page opens that
model's page, so a bare deep link such as http://127.0.0.1:8501/?model=bvlc_alexnet works
as well as /model?model=bvlc_alexnet (it is
redirected there).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="zoo2tf dashboard", page_icon=":material/conversion_path:",
                   layout="wide")

overview = st.Page(VIEWS / "overview.py", title="Overview", icon=":material/dashboard:",
                   default=True)
models = st.Page(VIEWS / "models.py", title="Models", icon=":material/table_rows:",
                 url_path="models")
model = st.Page(VIEWS / "model.py", title="Model", icon=":material/deployed_code:",
                url_path="model")
runs = st.Page(VIEWS / "runs.py", title="Runs", icon=":material/history:", url_path="runs")

page = st.navigation([overview, models, model, runs])
if page.url_path == overview.url_path and st.query_params.get("model"):
    st.switch_page(model, query_params={"model": st.query_params["model"]})
page.run()
