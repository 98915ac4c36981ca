"""Catalog diffs between wiki revisions, and scans that survive a JSON round trip."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from zoo_catalog.diff import FieldChange, diff_scans
from zoo_catalog.errors import CatalogError
from zoo_catalog.records import CatalogScan, DeployNet
from zoo_catalog.revisions import load_catalog
from zoo_catalog.scan import scan_markdown


def test_2017_to_2019_lists_the_models_added_in_between() -> None:
    result = diff_scans(load_catalog("2017-09-27"), load_catalog("latest"))
    assert [(e.model_id, e.name) for e in result.added] == [
        ("gh-sebastian-lapuschkin-understanding-age-gender-deep-lear-1e49843f",
         "More Models for Age and Gender Classification."),
        ("gh-coderx7-simplenet",
         "Lets Keep it Simple: Using Simple Architectures to Outperform Deeper and More Complex Architectures"),
        ("gh-coderx7-simpnet", "Towards Principled Design of Deep Convolutional Networks: Introducing SimpNet"),
    ]
    assert result.removed == () and result.changed == ()


def test_2015_to_2016_diff(snapshot_dir: Path) -> None:
    result = diff_scans(load_catalog("2015-03-08"), load_catalog("2016-03-02"))
    removed = {e.model_id for e in result.removed}
    # The 2015 BVLC GoogLeNet gist became the in-repo models/bvlc_googlenet... in 2016 it was gone.
    assert "gist-866e2aa1fd707b89b913" in removed
    added = {e.model_id for e in result.added}
    assert {"gist-c9e99062283c719c03de", "gist-54aee1b8b0397721aa4b", "gist-b90eb88e31cd745525ae"} <= added
    flowers = next(c for c in result.changed if c.model_id == "gist-0179e52305ca768a601f")
    links = next(f for f in flowers.changes if f.field == "links")
    assert "https://gist.github.com/jgoode21/0179e52305ca768a601f" in links.old
    assert "https://gist.github.com/jimgoo/0179e52305ca768a601f" in links.new


def test_changed_revision_sha1_and_urls_are_reported() -> None:
    old = load_catalog("latest")
    entries = list(old.entries)
    index = next(i for i, e in enumerate(entries) if e.model_id == "gist-fd8800eeb36e276cd6f9")
    before = replace(entries[index], gist_revision="aaa", sha1="1" * 40,
                     caffemodel_url="http://old/VGG_CNN_S.caffemodel",
                     deploy=DeployNet("deploy.prototxt", "http://old/deploy.prototxt"))
    after = replace(before, gist_revision="bbb", sha1="2" * 40, caffemodel_url="http://new/VGG_CNN_S.caffemodel",
                    deploy=DeployNet("deploy.prototxt", "http://new/deploy.prototxt"))
    old = replace(old, entries=tuple(entries[:index] + [before] + entries[index + 1:]))
    new = replace(old, entries=tuple(entries[:index] + [after] + entries[index + 1:]))
    [change] = diff_scans(old, new).changed
    assert change.model_id == "gist-fd8800eeb36e276cd6f9"
    assert change.changes == (
        FieldChange("gist_revision", "aaa", "bbb"),
        FieldChange("sha1", "1" * 40, "2" * 40),
        FieldChange("caffemodel_url", "http://old/VGG_CNN_S.caffemodel", "http://new/VGG_CNN_S.caffemodel"),
        FieldChange("deploy_url", "http://old/deploy.prototxt", "http://new/deploy.prototxt"),
    )


def test_scan_json_round_trip_and_files(tmp_path: Path, snapshot_dir: Path) -> None:
    scan = load_catalog("latest")
    assert CatalogScan.from_json(scan.to_json()) == scan
    saved = tmp_path / "scan.json"
    saved.write_text(scan.to_json())
    markdown = tmp_path / "page.md"
    markdown.write_text((snapshot_dir / "wiki/history/Model-Zoo.2017-09-27.md").read_text())
    assert load_catalog(str(saved)) == scan
    assert len(diff_scans(load_catalog(str(markdown)), load_catalog(str(saved))).added) == 3


def test_unknown_catalog_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not a bundled wiki revision .*known: latest, 2015-03-08"):
        load_catalog("1999-01-01")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "something else"}')
    with pytest.raises(CatalogError, match="not a saved catalog scan"):
        load_catalog(str(broken))


def test_same_page_same_revision(snapshot_dir: Path) -> None:
    text = (snapshot_dir / "wiki/Model-Zoo.md").read_text()
    assert scan_markdown(text).revision == scan_markdown(text).revision != scan_markdown(text + "x").revision
