"""The wiki parser over every revision bundled in the snapshot, and the stability of model ids."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from zoo_catalog.links import classify
from zoo_catalog.records import (LINK_GIST, LINK_GITHUB_REPO, LINK_OTHER, LINK_PAPER,
                                 LINK_PROJECT_PAGE, LINK_WEIGHTS)
from zoo_catalog.wiki import parse_wiki, split_sections

REVISIONS = {
    "2015-03-08": "wiki/history/Model-Zoo.2015-03-08.md",
    "2016-03-02": "wiki/history/Model-Zoo.2016-03-02.md",
    "2017-09-27": "wiki/history/Model-Zoo.2017-09-27.md",
    "2019-04-25": "wiki/Model-Zoo.md",
}
# Counted by hand in the files: `###` headings (2016 has four written "###Title", without the
# space), distinct gist ids linked from the sections, and the models the rules in
# zoo_catalog.wiki derive from them.
EXPECTED = {
    "2015-03-08": {"sections": 8, "gists": 19, "models": 22},
    "2016-03-02": {"sections": 26, "gists": 35, "models": 48},
    "2017-09-27": {"sections": 46, "gists": 28, "models": 60},
    "2019-04-25": {"sections": 49, "gists": 28, "models": 63},
}


def _page(snapshot_dir: Path, revision: str) -> str:
    return (snapshot_dir / REVISIONS[revision]).read_text(encoding="utf-8")


@pytest.mark.parametrize("revision", sorted(REVISIONS))
def test_section_gist_and_model_counts(snapshot_dir: Path, revision: str) -> None:
    page = parse_wiki(_page(snapshot_dir, revision))
    counts = {"sections": len(page.sections), "gists": len(page.gist_ids), "models": len(page.models)}
    assert counts == EXPECTED[revision]
    assert not page.warnings
    ids = [model.model_id for model in page.models]
    assert len(ids) == len(set(ids))
    # Every gist becomes exactly one model, in the section where the page first links it.
    assert sorted(m.gist_id for m in page.models if m.gist_id) == sorted(page.gist_ids)


def test_2016_headings_without_space_are_sections(snapshot_dir: Path) -> None:
    titles = [s.title for s in parse_wiki(_page(snapshot_dir, "2016-03-02")).sections]
    assert "Translating Videos to Natural Language" in titles
    assert "VGG Face CNN descriptor" in titles and "Yearbook Photo Dating" in titles


def test_2019_models_by_kind(snapshot_dir: Path) -> None:
    page = parse_wiki(_page(snapshot_dir, "2019-04-25"))
    by_id = {m.model_id: m for m in page.models}
    kinds = {"gist": 0, "bvlc": 0, "gh": 0, "web": 0}
    for model_id in by_id:
        kinds[model_id.split("-", 1)[0]] += 1
    assert kinds == {"gist": 28, "bvlc": 1, "gh": 20, "web": 14}

    googlenet = by_id["bvlc-googlenet"]
    assert googlenet.repo is not None and googlenet.repo.label == "BVLC/caffe/models/bvlc_googlenet"
    assert googlenet.name == "BVLC GoogleNet"

    vgg_s = by_id["gist-fd8800eeb36e276cd6f9"]
    assert vgg_s.name == "VGG_CNN_S"
    assert vgg_s.section.startswith("Models from the BMVC-2014 paper")
    assert "Return of the Devil in the Details" in vgg_s.citation
    assert {link.kind for link in vgg_s.links} == {LINK_GIST, LINK_PROJECT_PAGE, LINK_PAPER}

    # A bare gist URL on its own line; the wiki names it only through the section title.
    flowers = by_id["gist-0179e52305ca768a601f"]
    assert flowers.name == "CaffeNet fine-tuned for Oxford flowers dataset"
    # "[models](gist)": a generic link text gives way to the section title too.
    assert by_id["gist-54aee1b8b0397721aa4b"].name.startswith("Emotion Recognition in the Wild")

    # Places: no gist, three archives -> three models, each with its own weight link first.
    places = [m for m in page.models if m.section == "Places-CNN model from MIT."]
    assert [m.name for m in places] == ["Places205-AlexNet", "Hybrid-CNN", "Places205-GoogLeNet"]
    assert all(m.links[0].kind == LINK_WEIGHTS for m in places)

    resnet = by_id["gh-kaiminghe-deep-residual-networks"]
    assert resnet.repo is not None and resnet.repo.label == "KaimingHe/deep-residual-networks"
    assert "@article{He2015" in resnet.citation

    ranking = by_id["gh-rankingcnn-using-ranking-cnn-for-age-estimation"]
    assert ranking.citation.startswith("<pre><code>@InProceedings{Chen_2017_CVPR,")
    assert ranking.citation.endswith("}</code></pre>") and "year = {2017}" in ranking.citation

    fcn = by_id["gh-shelhamer-fcn-berkeleyvision-org"]
    assert fcn.licence is not None and fcn.licence.startswith("The models are available under the same license")


def test_gist_linked_again_is_a_link_not_a_model(snapshot_dir: Path) -> None:
    page = parse_wiki(_page(snapshot_dir, "2019-04-25"))
    vgg16 = [m for m in page.models if m.gist_id == "211839e770f7b538e2d8"]
    assert len(vgg16) == 1 and vgg16[0].section == "Models used by the VGG team in ILSVRC-2014"
    video = next(m for m in page.models if m.gist_id == "3761b9ad43f60db9ac3d")
    assert any("211839e770f7b538e2d8" in link.url for link in video.links)


def _shuffle_and_retitle(markdown: str, seed: int) -> str:
    """The same models with sections in another order and every section heading reworded."""
    lines = markdown.split("\n")
    starts = [i for i, line in enumerate(lines) if re.match(r"^###", line)]
    head = lines[:starts[0]]
    sections = [lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)])]
    random.Random(seed).shuffle(sections)
    out = list(head)
    for number, section in enumerate(sections):
        out.append(f"### Renamed section {number}: " + section[0].lstrip("#").strip()[::-1])
        out.extend(section[1:])
    return "\n".join(out)


@pytest.mark.parametrize("revision", ["2017-09-27", "2019-04-25"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ids_survive_reordering_and_retitling(snapshot_dir: Path, revision: str, seed: int) -> None:
    original = parse_wiki(_page(snapshot_dir, revision))
    edited = parse_wiki(_shuffle_and_retitle(_page(snapshot_dir, revision), seed))
    assert {m.model_id for m in edited.models} == {m.model_id for m in original.models}
    titles = {s.title for s in edited.sections}
    assert all(t.startswith("Renamed section") for t in titles)


def test_headings_in_code_blocks_are_not_sections() -> None:
    page = parse_wiki("### Real\n[M](https://gist.github.com/u/0123456789abcdef0123)\n"
                      "```\n### not a heading\n```\n# comment-like\n#also not\n")
    assert [s.title for s in page.sections] == ["Real"]
    assert [m.model_id for m in page.models] == ["gist-0123456789abcdef0123"]


def test_split_sections_uses_top_level_when_no_level_three() -> None:
    sections = split_sections("intro\n## A\ntext\n#### sub\n## B\n")
    assert [title for title, _ in sections] == ["A", "B"]


@pytest.mark.parametrize("url, text, kind", [
    ("https://gist.github.com/ksimonyan/211839e770f7b538e2d8#file-readme-md", "16-layer", LINK_GIST),
    ("http://places.csail.mit.edu/model/placesCNN.tar.gz", "Places205-AlexNet", LINK_WEIGHTS),
    ("http://heatmapping.org/files/x/model_iter_30000.caffemodel", "caffemodel", LINK_WEIGHTS),
    ("https://drive.google.com/folderview?id=0B50&usp=sharing", "Caffemodel", LINK_WEIGHTS),
    ("https://github.com/KaimingHe/deep-residual-networks", "", LINK_GITHUB_REPO),
    ("http://arxiv.org/abs/1312.4400", "ICLR-2014 paper", LINK_PAPER),
    ("http://cs.berkeley.edu/~jonlong/long_shelhamer_fcn.pdf", "paper", LINK_PAPER),
    ("http://www.robots.ox.ac.uk/~vgg/research/deep_eval/", "project page", LINK_PROJECT_PAGE),
    ("https://www.haystack.ai/demos/Inception-Demo", "Try model on Haystack", LINK_OTHER),
])
def test_link_classification(url: str, text: str, kind: str) -> None:
    assert classify(url, text) == kind
