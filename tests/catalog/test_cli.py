"""`zoo2tf catalog scan|diff` end to end through the real CLI entry point."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo2tf.cli import main
from zoo_catalog.records import CatalogScan
from zoo_mirror.server import MirrorServer


def test_diff_of_bundled_revisions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "diff", "2017-09-27", "latest"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "3 added, 0 removed, 0 changed"
    assert out[2].startswith("+ gh-coderx7-simplenet")
    assert main(["catalog", "diff", "--format", "json", "2016-03-02", "2017-09-27"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "gist-7ea9f8ac0da259866b854460f4526034" in {e["model_id"] for e in document["added"]}


def test_diff_of_unknown_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "diff", "no-such-file.md", "latest"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("zoo2tf catalog diff: no-such-file.md: no such file")


def test_scan_json_then_diff_saved_scans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with MirrorServer(weights="none", cache_dir=tmp_path / "weights", rate_limit=100_000) as mirror:
        args = ["catalog", "scan", "--catalog-url", mirror.catalog_url, "--github-api", mirror.github_api_base,
                "--cache-dir", str(tmp_path / "cache")]
        assert main([*args, "--format", "json"]) == 0
        latest = capsys.readouterr().out
        mirror.set_wiki_revision("2017-09-27")
        assert main([*args, "--format", "table"]) == 0
        table = capsys.readouterr().out
        mirror.set_faults("/raw/wiki/*=404")
        assert main(args) == 1
        assert capsys.readouterr().err.strip().endswith("Model-Zoo.md: not found (HTTP 404)")
    scan = CatalogScan.from_json(latest)
    assert len(scan.entries) == 73
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines()[1:] if line.strip()}
    assert rows["gist-c9e99062283c719c03de-age-net"] == "ok"
    assert "70 models (3 gist unavailable, 2 incomplete metadata, 31 no metadata, 34 ok)" in table
    (tmp_path / "new.json").write_text(latest)
    assert main(["catalog", "diff", "2017-09-27", str(tmp_path / "new.json")]) == 0
    assert "gh-coderx7-simpnet" in capsys.readouterr().out


def test_scan_with_in_process_mirror(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "scan", "--mirror", "--mirror-weights", "none", "--wiki-revision", "2015-03-08"]) == 0
    out = capsys.readouterr().out
    assert "gist-ac410cad48a088710872" in out
    assert main(["catalog", "scan", "--mirror", "--wiki-revision", "1999-01-01"]) == 2
    assert "unknown wiki revision '1999-01-01'" in capsys.readouterr().err
