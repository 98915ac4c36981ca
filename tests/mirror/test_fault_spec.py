"""Parsing of the --faults SPEC and the per-rule request budgets."""
from __future__ import annotations

import pytest

from zoo_mirror.faults import ByteCount, FaultPlan, FaultSpecError, parse_spec


def test_parses_every_fault_kind() -> None:
    rules = parse_spec("a=404; b=500:2;c=429:7;d=429:1:3;e=drop:50%;f=drop:100:2;g=slow:1000;"
                       "h=wrongbytes;i=html200;j=truncate:10;k=redirect:3;l=redirect-to:file:///etc/passwd")
    faults = {r.glob: r.fault for r in rules}
    assert faults["a"].kind == "404" and faults["a"].times is None
    assert faults["b"].times == 2
    assert (faults["c"].seconds, faults["c"].times) == (7, 1)
    assert (faults["d"].seconds, faults["d"].times) == (1, 3)
    assert faults["e"].bytes == ByteCount(50, percent=True) and faults["e"].times == 1
    assert faults["f"].bytes == ByteCount(100) and faults["f"].times == 2
    assert faults["g"].rate == 1000
    assert faults["j"].bytes == ByteCount(10) and faults["j"].times is None
    assert faults["k"].hops == 3
    assert faults["l"].url == "file:///etc/passwd"


def test_percentages_and_absolute_counts_are_capped_by_the_body() -> None:
    assert ByteCount(50, percent=True).of(1001) == 500
    assert ByteCount(5000).of(100) == 100


@pytest.mark.parametrize("spec, words", [
    ("nonsense", "GLOB=FAULT"),
    ("*=teapot", "unknown fault 'teapot'"),
    ("*=500", "takes 1 argument"),
    ("*=500:x", "must be an integer"),
    ("*=drop:150%", "0..100"),
    ("*=slow:0", "> 0"),
    ("*=redirect-to:", "needs a URL"),
])
def test_bad_specs_name_the_rule(spec: str, words: str) -> None:
    with pytest.raises(FaultSpecError, match=words) as caught:
        parse_spec(spec)
    assert spec.split(";")[0] in str(caught.value)


def test_budgets_fall_through_to_the_next_rule_and_reset_on_replace() -> None:
    plan = FaultPlan("*.caffemodel=500:1;*.caffemodel=404")
    assert plan.take("/files/x.caffemodel").kind == "500"
    assert plan.take("/files/x.caffemodel").kind == "404"
    assert plan.take("/other") is None
    plan.replace("*.caffemodel=500:1")
    assert plan.take("/files/y.caffemodel").kind == "500"
    assert plan.take("/files/y.caffemodel") is None
