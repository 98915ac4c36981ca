"""The DataFrame queries over a small known catalog, on both backends."""
from __future__ import annotations

import pytest

from storage import queries
from storage.catalog import Catalog
from storage.errors import InvalidValue, UnknownRecord
from storage.queries import ModelFilter

from storage_data import ALEX_LAYERS


def _ids(frame) -> list[str]:
    return frame["model_id"].tolist()


def test_latest_status_takes_the_newest_attempt_and_lists_pending(populated: Catalog) -> None:
    frame = queries.latest_status(populated.engine).set_index("model_id")
    assert frame["status"].to_dict() == {
        "pct_net": "pending", "bvlc_alexnet": "converted", "fcn8s": "failed",
        "nin": "pending", "vgg16": "failed"}
    assert frame.loc["vgg16", "error_category"] == "numeric mismatch"
    assert frame.loc["fcn8s", "failed_stage"] == "convert"
    assert frame.index.tolist() == ["pct_net", "bvlc_alexnet", "fcn8s", "nin", "vgg16"]  # by name


def test_the_view_agrees_with_the_query(populated: Catalog) -> None:
    import pandas as pd

    with populated.engine.connect() as conn:
        view = pd.read_sql("SELECT model_id, status FROM latest_status", conn)
    frame = queries.latest_status(populated.engine, ModelFilter(include_removed=True))
    assert dict(zip(view["model_id"], view["status"])) == dict(
        zip(frame["model_id"], frame["status"]))


@pytest.mark.parametrize("filters, expected", [
    (ModelFilter(status="pending"), ["pct_net", "nin"]),
    (ModelFilter(status="failed"), ["fcn8s", "vgg16"]),
    (ModelFilter(section="ImageNet"), ["bvlc_alexnet", "nin", "vgg16"]),
    (ModelFilter(search="ALEX"), ["bvlc_alexnet"]),
    (ModelFilter(search="net"), ["pct_net", "bvlc_alexnet", "nin"]),
    # LIKE wildcards in user text are literal characters.
    (ModelFilter(search="%_"), ["pct_net"]),
    (ModelFilter(search="'; DROP TABLE model; --"), []),
    (ModelFilter(layer_type="Crop"), ["fcn8s"]),
    (ModelFilter(layer_type="Convolution"), ["bvlc_alexnet", "fcn8s", "vgg16"]),
    (ModelFilter(synthetic=True), ["vgg16"]),
    (ModelFilter(licence="unrestricted", status="converted"), ["bvlc_alexnet"]),
    (ModelFilter(include_removed=True, section="Misc"), ["pct_net", "gone_net"]),
])
def test_models_table_filters(populated: Catalog, filters: ModelFilter,
                              expected: list[str]) -> None:
    page = queries.models_page(populated.engine, filters)
    assert _ids(page.frame) == expected and page.total == len(expected)


def test_models_table_pages_and_orders(populated: Catalog) -> None:
    first = queries.models_page(populated.engine, page=1, page_size=2, order_by="status")
    second = queries.models_page(populated.engine, page=2, page_size=2, order_by="status")
    third = queries.models_page(populated.engine, page=3, page_size=2, order_by="status")
    assert first.total == second.total == 5
    assert _ids(first.frame) + _ids(second.frame) + _ids(third.frame) == [
        "bvlc_alexnet", "fcn8s", "vgg16", "pct_net", "nin"]
    with pytest.raises(InvalidValue, match="order 'name; DROP'"):
        queries.models_page(populated.engine, order_by="name; DROP")
    with pytest.raises(InvalidValue, match="layer type"):
        queries.models_page(populated.engine, ModelFilter(layer_type='x") OR 1=1 --'))
    with pytest.raises(InvalidValue, match="status 'done'"):
        queries.models_page(populated.engine, ModelFilter(status="done"))


def test_status_counts_and_failures(populated: Catalog) -> None:
    counts = queries.status_counts(populated.engine)
    assert dict(zip(counts["status"], counts["models"])) == {
        "failed": 2, "pending": 2, "converted": 1}
    by_category = queries.failures(populated.engine, "category")
    assert by_category.to_dict(orient="list") == {
        "category": ["numeric mismatch", "unsupported layer"], "models": [1, 1],
        "share": [0.5, 0.5], "examples": ["vgg16", "fcn8s"]}
    by_stage = queries.failures(populated.engine, "stage")
    assert dict(zip(by_stage["stage"], by_stage["models"])) == {"convert": 1, "validate": 1}
    with pytest.raises(InvalidValue):
        queries.failures(populated.engine, "colour")  # type: ignore[arg-type]


def test_layer_coverage_counts_models_and_outcomes(populated: Catalog) -> None:
    frame = queries.layer_coverage(populated.engine).set_index("layer_type")
    assert frame.loc["Convolution"].tolist() == [3, 1, 2, 5 + 13 + 16]
    assert frame.loc["Crop"].tolist() == [1, 0, 1, 2]
    assert frame.loc["LRN"].tolist() == [1, 1, 0, ALEX_LAYERS["LRN"]]
    assert frame.index[0] == "Convolution"  # most used first


def test_conversion_times_history_runs_and_choices(populated: Catalog) -> None:
    times = queries.conversion_times(populated.engine)
    assert _ids(times) == ["bvlc_alexnet"]
    assert times[["stage_parse", "stage_convert", "stage_validate"]].iloc[0].tolist() == [
        0.5, 4.0, 2.0]
    history = queries.model_history(populated.engine, "bvlc_alexnet")
    assert history["status"].tolist() == ["converted", "failed"]
    assert history["error_category"].tolist()[1] == "timeout"
    runs = queries.runs(populated.engine)
    assert runs[["status", "n_new", "n_failed"]].iloc[0].tolist() == ["succeeded", 6, 3]
    choices = queries.filter_choices(populated.engine)
    assert choices["section"] == ["ImageNet", "Misc", "Segmentation"]
    assert choices["licence"] == ["non-commercial", "unrestricted"]
    assert "pending" in choices["status"]


def test_model_detail_by_id_or_unique_name(populated: Catalog) -> None:
    detail = queries.model_detail(populated.engine, "BVLC AlexNet")
    assert detail.model["id"] == "bvlc_alexnet"
    assert detail.model["source_links"] == ["https://example.test/alexnet"]
    assert detail.artifacts["kind"].tolist() == ["prototxt"]
    assert detail.attempts["status"].tolist() == ["converted", "failed"]
    assert detail.attempts["layer_type_counts"].iloc[0] == ALEX_LAYERS
    assert detail.attempts["outputs"].iloc[0][0]["kind"] == "saved_model"
    assert detail.validations[["output", "passed"]].iloc[0].tolist() == ["prob", True]
    with pytest.raises(UnknownRecord, match="model 'resnet' is not in the catalog"):
        queries.model_detail(populated.engine, "resnet")
