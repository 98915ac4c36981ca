"""Every dashboard page rendered by Streamlit's AppTest against a seeded SQLite catalog."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_data import EXPECTED_STATUS, TOP5
from storage.catalog import Catalog
from storage.records import ModelRecord

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def render(monkeypatch: pytest.MonkeyPatch, url: str, page: str | None = None,
           **query: str) -> AppTest:
    monkeypatch.setenv("ZOO2TF_DB_URL", url)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update(query)
    app.run()
    if page:
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "info", "warning", "error",
                                  "code") for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def shown_ids(app: AppTest) -> list[str]:
    return app.dataframe[0].value["model_id"].tolist()


def test_overview_counts(monkeypatch, seeded_url):
    app = render(monkeypatch, seeded_url)
    assert app.title[0].value == "Caffe Model Zoo → TensorFlow"
    assert metrics(app) == {"Models": "10", "Converted": str(EXPECTED_STATUS["converted"]),
                            "Validated": "3", "Failed": str(EXPECTED_STATUS["failed"]),
                            "Pending": str(EXPECTED_STATUS["pending"])}
    by_category, by_stage = (t.value for t in app.table)
    assert by_category.loc["numeric mismatch", "examples"] == "vgg16"
    assert by_category.loc["unsupported layer", "examples"] == "fcn8s_pascal"
    assert set(by_stage.index) == {"validate", "convert", "fetch", "parse"}
    assert "3 nightly runs" in texts(app)


@pytest.mark.parametrize("page", [None, "models", "model", "runs"])
def test_empty_catalog_explains_first_run(monkeypatch, empty_url, page):
    app = render(monkeypatch, empty_url, page)
    assert "The catalog is empty" in app.info[0].value
    assert "zoo2tf run --mirror" in app.info[0].value


def test_missing_database_is_not_created(monkeypatch, tmp_path):
    path = tmp_path / "nowhere.sqlite"
    app = render(monkeypatch, f"sqlite:///{path}")
    assert "zoo2tf run --mirror" in app.info[0].value
    assert not path.exists()


def test_models_table_lists_models_with_links(monkeypatch, seeded_url):
    app = render(monkeypatch, seeded_url, "models")
    frame = app.dataframe[0].value
    assert len(frame) == 10 and "BVLC AlexNet" in frame["name"].tolist()
    assert frame.set_index("model_id").loc["vgg16", "open"] == "model?model=vgg16"
    assert "10 models match" in texts(app)


@pytest.mark.parametrize(("widget", "value", "expected"), [
    ("status", "failed", {"vgg16", "fcn8s_pascal", "places205", "gender_net"}),
    ("status", "pending", {"age_net"}),
    ("section", "Age and Gender Classification", {"gender_net", "age_net"}),
    ("layer_type", "Upsample", {"segnet_basic"}),
    ("synthetic", "synthetic weights", {"segnet_basic"}),
    ("licence", "CC BY 4.0", {"vgg16"}),
])
def test_models_filters(monkeypatch, seeded_url, widget, value, expected):
    app = render(monkeypatch, seeded_url, "models")
    app.selectbox(key=widget).set_value(value).run()
    assert set(shown_ids(app)) == expected
    assert f"{len(expected)} models match" in texts(app)


def test_models_search_and_sort(monkeypatch, seeded_url):
    app = render(monkeypatch, seeded_url, "models")
    app.text_input(key="search").input("NET").run()
    assert set(shown_ids(app)) == {"bvlc_alexnet", "bvlc_googlenet", "places205", "segnet_basic",
                                   "gender_net", "age_net", "nin_imagenet",
                                   "flickr_style"}  # "Fi*net*uning"
    app.selectbox(key="order_by").set_value("status").run()
    statuses = app.dataframe[0].value["status"].tolist()
    assert statuses == sorted(statuses) and statuses[0] == "converted"
    assert app.dataframe[0].value["name"].iloc[0] == "BVLC AlexNet"


def test_models_pagination(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'many.sqlite'}"
    with Catalog.open(url) as catalog:
        catalog.upsert_models([ModelRecord(f"m{i:02d}", f"Model {i:02d}") for i in range(23)],
                              datetime(2026, 11, 1, tzinfo=timezone.utc))
    app = render(monkeypatch, url, "models")
    app.selectbox(key="page_size").set_value(10).run()
    assert shown_ids(app) == [f"m{i:02d}" for i in range(10)]
    app.number_input(key="page").set_value(3).run()
    assert shown_ids(app) == ["m20", "m21", "m22"]
    assert "page 3 of 3" in texts(app)
    # A new filter starts at the first page again.
    app.text_input(key="search").input("Model 1").run()
    assert shown_ids(app) == [f"m1{i}" for i in range(10)]


def test_model_page_from_deep_link(monkeypatch, seeded_url):
    app = render(monkeypatch, seeded_url, model="bvlc_alexnet")
    assert app.title[0].value == "BVLC AlexNet"
    assert metrics(app) == {"Latest status": "converted", "Parameters": "60,965,224",
                            "Layers": "23", "Weights": "published"}
    artifacts = app.dataframe[0].value.set_index("kind")
    assert artifacts.loc["caffemodel", "sha1"] == "9116a64c0fbe4459d18f4bb6b56d647b63920377"
    assert artifacts.loc["caffemodel", "size"] == "232.6 MB"
    attempts = app.dataframe[1].value
    assert attempts["status"].tolist() == ["converted", "converted"]
    top5 = next(t.value for t in app.table if "reference" in t.value.columns)
    assert top5["reference"].tolist()[0] == f"{TOP5[0][2]} ({TOP5[0][1]:.3f})"
    body = texts(app)
    assert "saved_model" in body and "model.keras" in body and "conversion.json" in body
    assert len(app.get("download_button")) == 3


def test_model_page_failure_details(monkeypatch, seeded_url):
    app = render(monkeypatch, seeded_url, "model", model="vgg16")
    body = texts(app)
    assert "max abs error 0.31 on prob (cat.jpg)" in body
    assert "First divergent layer: **conv5_1**" in body
    validation = app.dataframe[-1].value
    assert validation["sample"].tolist() == ["cat.jpg", "dog.jpg"]
    assert not validation["passed"].any()


def test_model_page_unknown_and_unpicked(monkeypatch, seeded_url):
    assert "not in the catalog" in render(monkeypatch, seeded_url, "model",
                                          model="no_such").warning[0].value
    assert "Pick a model" in render(monkeypatch, seeded_url, "model").info[0].value


def test_runs_page_newly_failing_and_fixed(monkeypatch, seeded_url):
    app = render(monkeypatch, seeded_url, "runs")
    table = app.dataframe[0].value.set_index("run_id")
    assert table["n_converted"].to_dict() == {3: 1, 2: 2, 1: 3}
    assert table.loc[2, "newly_failing"] == 1 and table.loc[2, "fixed"] == 1
    app.selectbox(key="run_detail").set_value(2).run()
    body = texts(app)
    assert "**newly failing: 1**" in body and "[VGG ILSVRC-2014 16-layer](model?model=vgg16)" in body
    assert "**fixed: 1**" in body and "[BVLC GoogLeNet](model?model=bvlc_googlenet)" in body
