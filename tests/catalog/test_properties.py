"""Arbitrary text into the parsers: nothing escapes but their own typed errors."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoo_catalog.errors import FrontMatterError, WikiParseError
from zoo_catalog.frontmatter import parse_readme
from zoo_catalog.links import extract_links
from zoo_catalog.scan import scan_markdown
from zoo_catalog.wiki import parse_wiki

# Pieces of real readmes and wiki pages, so that generated text reaches the deep branches.
FRAGMENTS = st.sampled_from([
    "---", "...", "\n", "\n\n", "###", "##Information", "###name: ", "name:", "caffemodel:",
    "caffemodel url:", "caffemodel_url: http://x.org/a.caffemodel", "sha1:", "gist_id:", "license:",
    "mean_file_proto:", "synthetic_weights: true", "caffe_version: commit 68c9e2b", "```", "    ",
    "\t", "- ", " * ", "1. ", "[", "]", "(", ")", "![", "](", "https://gist.github.com/u/",
    "0123456789abcdef0123", "https://github.com/a/b", "`models/bvlc_x`", "<a name=\"x\"></a>",
    "&a", "*a", "!!python/object:os.system", "{", "}", ":", "'", '"', "@article{", "<pre>", "\r",
    "\ufeff", "\x00", "é", "licence",
])
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=60).map("".join)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(TEXT)
def test_front_matter_parser_raises_only_its_own_error(text: str) -> None:
    try:
        fields = parse_readme(text)
    except FrontMatterError:
        return
    for model in fields.models:
        assert model.sha1 is None or len(model.sha1) == 40
        assert model.caffemodel_url is None or model.caffemodel_url.startswith(("http://", "https://"))
    assert all(isinstance(w, str) and "\n" not in w for w in fields.warnings)


@SETTINGS
@given(st.binary(max_size=400))
def test_front_matter_parser_takes_bytes(data: bytes) -> None:
    try:
        parse_readme(data)
    except FrontMatterError:
        pass


@SETTINGS
@given(TEXT)
def test_wiki_parser_raises_only_its_own_error(text: str) -> None:
    try:
        page = parse_wiki(text)
        scan = scan_markdown(text)
    except WikiParseError:
        return
    assert len({m.model_id for m in page.models}) == len(page.models)
    assert [e.model_id for e in scan.entries] == [m.model_id for m in page.models]
    for link in extract_links(text):
        assert link.url.startswith(("http://", "https://"))


@pytest.mark.timeout(120)  # a hang guard for backtracking regexes, not a speed target
@pytest.mark.parametrize("text", [
    "caffe_commit: " + "a" * 200_000,          # once quadratic: URL stripping by regex
    "name: " + "x" * 200_000,
    "---\n" + "[" * 20_000 + "\n---\n",        # YAML nesting deeper than the recursion limit
    "license: " + "l" * 200_000,
])
def test_large_readmes_are_read_in_linear_time(text: str) -> None:
    parse_readme(text)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("text", [
    "### a\n" + "x" * 1_000_000,               # once quadratic: the licence sentence search
    "### a\n" + "http://" * 100_000,
    "### a\n" + "[a](" * 100_000,
])
def test_large_pages_are_read_in_linear_time(text: str) -> None:
    parse_wiki(text)
