"""The nightly flow end to end on the offline mirror, under Prefect's test harness."""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.nightly import zoo_nightly
from storage.catalog import Catalog
from storage.queries import latest_status
from tests.flow.conftest import (AGE, AGE_PATH, CIFAR, FLOWERS, GENDER, LENET, PARSENET,
                                 RESNET, make_options)

SUBSET = (LENET, CIFAR, GENDER, AGE, PARSENET, FLOWERS, RESNET)


def latest_rows(db_url: str) -> dict[str, dict]:
    with Catalog.open(db_url) as catalog:
        frame = latest_status(catalog.engine)
    frame = frame.astype(object).where(frame.notna(), None)
    return {row["model_id"]: row for row in frame.to_dict("records")}


@pytest.fixture
def first_night(prefect_harness, mirror, tmp_path: Path):
    mirror.set_faults(f"{AGE_PATH}=wrongbytes")
    options = make_options(tmp_path, mirror, only=SUBSET)
    return options, zoo_nightly(options)


def test_each_model_ends_with_the_right_status_and_category(first_night):
    options, summary = first_night
    got = {o.model_id: (o.status, o.stage, o.category) for o in summary.outcomes}
    assert got == {
        LENET: ("converted", None, None),
        CIFAR: ("converted", None, None),
        GENDER: ("converted", None, None),
        AGE: ("failed", "fetch", "checksum"),
        PARSENET: ("failed", "convert", "unsupported layer"),
        FLOWERS: ("failed", "fetch", "dead link"),
        RESNET: ("skipped", None, "no metadata"),
    }
    validations = {o.model_id: o.validation for o in summary.outcomes if o.validation}
    assert validations == {LENET: "passed", CIFAR: "passed", GENDER: "passed"}
    parsenet = next(o for o in summary.outcomes if o.model_id == PARSENET)
    assert "Normalize" in parsenet.message  # the fork layer is named, not just counted
    rows = latest_rows(options.db_url)
    for model_id, (status, stage, category) in got.items():
        assert rows[model_id]["status"] == status
        assert rows[model_id]["error_category"] == category
    c = summary.counts
    assert (c.converted, c.failed, c.skipped) == (3, 3, 1)


def test_an_unchanged_night_converts_nothing_and_downloads_nothing(first_night, mirror):
    """The time ratio (under 20% of the first night) is a bench number (bench/nightly_run.py);
    here: nothing planned, no weight file requested, every gist the mirror holds answered
    304 (the others, unknown to it, 404 as every night)."""
    options, first = first_night
    seen = len(mirror.request_log)
    second = zoo_nightly(options)
    assert second.planned == 0 and second.outcomes == ()
    assert second.up_to_date == len(SUBSET)
    requests = list(mirror.request_log)[seen:]
    assert not [r for r in requests if r[1].startswith("/files/")]
    gists = [status for _, path, status in requests if path.startswith("/api/gists/")]
    assert gists.count(304) >= 20 and set(gists) == {304, 404}
    forced = zoo_nightly(options.__class__(**{**options.to_dict(), "force": True,
                                              "only": (LENET,)}))
    assert [o.status for o in forced.outcomes] == ["converted"]


def test_switching_wiki_revisions_removes_and_restores_models(first_night, mirror):
    options, first = first_night
    mirror.set_wiki_revision("2017-09-27")
    older = zoo_nightly(options)
    assert older.removed, "models added after 2017-09 must be marked removed"
    assert older.entries < first.entries
    mirror.set_wiki_revision("latest")
    back = zoo_nightly(options)
    assert back.new == 0
    assert back.changed >= len(older.removed)
    assert back.entries == first.entries
    assert back.count("converted") == 0  # nothing about the models themselves changed


def test_a_crash_and_a_hang_cost_one_model_each(prefect_harness, mirror, tmp_path: Path):
    options = make_options(tmp_path, mirror, only=(LENET, GENDER, CIFAR), timeout_s=45.0,
                           worker_env=(("ZOO2TF_TEST_FAULTS", f"{GENDER}=segv,{CIFAR}=hang"),))
    summary = zoo_nightly(options)
    got = {o.model_id: (o.status, o.category) for o in summary.outcomes}
    assert got == {LENET: ("converted", None), GENDER: ("failed", "crash"),
                   CIFAR: ("failed", "timeout")}
    gender = next(o for o in summary.outcomes if o.model_id == GENDER)
    assert "SIGSEGV" in gender.message


def test_predict_by_catalog_id_uses_the_converted_model(first_night, snapshot_dir, capsys):
    from zoo2tf.cli import main as cli_main

    options, _ = first_night
    image = snapshot_dir / "images" / "mnist" / "img_7_0.png"
    assert cli_main(["predict", LENET, str(image), "--db", options.db_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[0] == "1." and lines[1].split()[-1] == "7", lines
    assert cli_main(["predict", "no-such-model", str(image), "--db", options.db_url]) == 2
    assert "neither a converted-model folder" in capsys.readouterr().err
