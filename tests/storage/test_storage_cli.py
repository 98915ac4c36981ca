"""`zoo2tf ls`, `show` and `failures` through the real CLI entry point."""
from __future__ import annotations

import csv
import io
import json

import pytest

from storage.catalog import Catalog
from zoo2tf.cli import main


@pytest.fixture
def url(populated: Catalog) -> str:
    return populated.engine.url.render_as_string(hide_password=False)


def test_ls_table_csv_json_and_status_filter(url: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["ls", "--db", url]) == 0
    table = capsys.readouterr().out
    assert "5 models" in table and "bvlc_alexnet" in table and "gone_net" not in table
    assert main(["ls", "--db", url, "--format", "csv", "--status", "failed"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["model_id"], r["status"], r["failed_stage"]) for r in rows] == [
        ("fcn8s", "failed", "convert"), ("vgg16", "failed", "validate")]
    assert rows[0]["finished_at"].endswith("Z") and rows[0]["synthetic_weights"] == "false"
    assert main(["ls", "--db", url, "--format", "json", "--removed", "--section", "Misc"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["model_id"]: r["status"] for r in rows} == {"gone_net": "converted",
                                                          "pct_net": "pending"}


def test_ls_by_layer_type_and_bad_layer_type(url: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["ls", "--db", url, "--layer-type", "Crop", "--format", "json"]) == 0
    assert [r["model_id"] for r in json.loads(capsys.readouterr().out)] == ["fcn8s"]
    assert main(["ls", "--db", url, "--layer-type", "Crop'--"]) == 1
    assert "is not a Caffe layer type name" in capsys.readouterr().err


def test_db_url_from_environment(url: str, capsys: pytest.CaptureFixture,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO2TF_DB_URL", url)
    assert main(["ls", "--format", "json", "--status", "converted"]) == 0
    assert [r["model_id"] for r in json.loads(capsys.readouterr().out)] == ["bvlc_alexnet"]


def test_show_table_and_json(url: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "vgg16", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "numeric mismatch" in out and "max abs error 0.3 on prob" in out
    assert main(["show", "BVLC AlexNet", "--db", url, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["model"]["id"] == "bvlc_alexnet"
    assert [a["status"] for a in shown["attempts"]] == ["converted", "failed"]
    assert shown["validations"][0]["preprocessing"] == {"mean": [104, 117, 123], "scale": 1.0}
    assert shown["artifacts"][0]["fetched_at"].startswith("2026-11-20T02:00:00")


def test_show_unknown_model_is_one_line_error(url: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["show", "resnet", "--db", url]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "zoo2tf show: model 'resnet' is not in the catalog"


def test_failures_by_category_and_stage(url: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["failures", "--db", url, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["category"]: r["models"] for r in rows} == {"numeric mismatch": 1,
                                                         "unsupported layer": 1}
    assert main(["failures", "--by", "stage", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "2 failed models by stage" in out and "validate" in out


def test_bad_url_is_one_line_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["ls", "--db", "nosuchdb://x"]) == 1
    assert capsys.readouterr().err.startswith("zoo2tf ls: catalog URL nosuchdb://x")
