"""The dashboard's data: cached, read-only calls into the catalog queries.

Every function takes the catalog URL (the cache key, with the filters) and reads
through one read-only engine per URL. Results live for CACHE_TTL_S, so a page reload
is served from memory while a nightly run still shows up within a minute.
"""
from __future__ import annotations

import os

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from storage import dashboard_queries as dq
from storage import queries
from storage.queries import ModelDetail, ModelFilter, ModelPage

CACHE_TTL_S = 60
DB_URL_ENV = "ZOO2TF_DB_URL"


def catalog_url() -> str:
    """The catalog URL the dashboard was started on (`zoo2tf dashboard --db` sets the
    environment variable; without it, the default catalog)."""
    from zoo2tf.config import default_db_url

    return os.environ.get(DB_URL_ENV) or default_db_url()


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    return dq.read_only_engine(url)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def totals(url: str) -> dict[str, int] | None:
    """Models, runs and attempts; None when the database has no catalog tables yet."""
    path = dq.sqlite_path(url)
    if path is not None and not path.is_file():
        return None
    if not dq.has_schema(engine(url)):
        return None
    return dq.catalog_totals(engine(url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def status_counts(url: str) -> pd.DataFrame:
    return queries.status_counts(engine(url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def failures(url: str, by: str) -> pd.DataFrame:
    return queries.failures(engine(url), by=by)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def conversion_times(url: str) -> pd.DataFrame:
    return queries.conversion_times(engine(url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def latest_validation(url: str) -> pd.DataFrame:
    return dq.latest_validation(engine(url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def runs(url: str, limit: int) -> pd.DataFrame:
    return queries.runs(engine(url), limit=limit)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def run_changes(url: str, run_ids: tuple[int, ...]) -> pd.DataFrame:
    return dq.run_changes(engine(url), run_ids)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def filter_choices(url: str) -> dict[str, list[str]]:
    choices = queries.filter_choices(engine(url))
    choices["layer_type"] = queries.layer_coverage(engine(url))["layer_type"].tolist()
    return choices


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def models_page(url: str, filters: ModelFilter, page: int, page_size: int,
                order_by: str) -> ModelPage:
    return queries.models_page(engine(url), filters, page=page, page_size=page_size,
                               order_by=order_by)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def model_detail(url: str, model_id: str) -> ModelDetail:
    return queries.model_detail(engine(url), model_id)
