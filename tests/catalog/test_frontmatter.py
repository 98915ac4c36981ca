"""Readme front matter: every community readme of the snapshot, each variant, and YAML safety."""
from __future__ import annotations

from pathlib import Path

import pytest

from zoo_catalog.errors import FrontMatterError
from zoo_catalog.frontmatter import MAX_README_CHARS, STYLE_KEY_VALUE, STYLE_NONE, STYLE_YAML, parse_readme
from zoo_catalog.records import CatalogEntry
from zoo_catalog.scan import flag_shared_sha1

VGG_EVAL = "http://www.robots.ox.ac.uk/~vgg/software/deep_eval/releases/bvlc/"
VERY_DEEP = "http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/"
DROPBOX_GIL = "https://dl.dropboxusercontent.com/u/38822310/"
NIN_SHA1 = "8e89c8fcd46e02780e16c867a5308e7bb7af0803"

# Written out by hand from the readme files: folder -> style and, per model in the readme,
# (caffemodel, caffemodel_url, sha1). Readmes with no front matter have no models.
COMMUNITY = {
    "age_gender/README.md": (STYLE_KEY_VALUE, [
        ("age_net.caffemodel", DROPBOX_GIL + "age_net.caffemodel", None),
        ("gender_net.caffemodel", DROPBOX_GIL + "gender_net.caffemodel", None)]),
    "caffenet-flowers/readme.md": (STYLE_KEY_VALUE, [
        ("oxford102.caffemodel", "https://s3.amazonaws.com/jgoode/oxford102.caffemodel", None)]),
    "emotion-recognition/README.md": (STYLE_KEY_VALUE, [
        (f"VGG_S_{kind}/EmotiW_VGG_S.caffemodel",
         f"{DROPBOX_GIL}demodir/VGG_S_{kind}/EmotiW_VGG_S.caffemodel", None)
        for kind in ("rgb", "lbp", "cyclic_lbp", "cyclic_lbp_5", "cyclic_lbp_10")]),
    "facial-landmark/readme.md": (STYLE_YAML, [
        ("vanillaCNN.caffemodel",
         "https://github.com/ishay2b/VanillaCNN/blob/master/ZOO/vanillaCNN.caffemodel?raw=true",
         "b5e34ce75d078025e07452cb47e65d198fe27912")]),
    "fcn-8s-pascalcontext/readme.md": (STYLE_YAML, [
        ("fcn-8s-pascalcontext.caffemodel", "http://dl.caffe.berkeleyvision.org/fcn-8s-pascalcontext.caffemodel",
         "591e7d8bbc1c55ff151b6984bde85ff5160aee31")]),
    "flickr_style_caffenet/readme.md": (STYLE_YAML, [
        ("finetune_flickr_style.caffemodel", "http://dl.caffe.berkeleyvision.org/finetune_flickr_style.caffemodel",
         "b61b5cef7d771b53b0c488e78d35ccadc073e9cf")]),
    "googlenet_cars/readme.md": (STYLE_YAML, [
        ("googlenet_finetune_web_car_iter_10000.caffemodel",
         "http://mmlab.ie.cuhk.edu.hk/datasets/comp_cars/googlenet_finetune_web_car_iter_10000.caffemodel", None)]),
    "hash-codes/_readme.md": (STYLE_KEY_VALUE, [
        ("KevinNet_CIFAR10_48.caffemodel",
         "https://www.dropbox.com/s/1om7xa8mz93wkzh/KevinNet_CIFAR10_48.caffemodel?d", None)]),
    "holistically-nested/readme.md": (STYLE_YAML, [
        ("hed_pretrained_bsds.caffemodel", "http://vcl.ucsd.edu/hed/hed_pretrained_bsds.caffemodel",
         "2c5d7842f25f880eec62fc610b500c5cf2aa351d")]),
    "mixture_dcnn/README.md": (STYLE_NONE, []),
    "modified_vgg_16/readme.md": (STYLE_YAML, [
        ("VGG_ILSVRC_16_layers_fc_reduced.caffemodel",
         "http://cs.unc.edu/~wliu/projects/ParseNet/VGG_ILSVRC_16_layers_fc_reduced.caffemodel",
         "97eb7c469c5097f51a0f9a944f4a5731f470eee2")]),
    "nin-cifar10/readme.md": (STYLE_KEY_VALUE, [
        ("cifar10_nin.caffemodel", "https://www.dropbox.com/s/blrajqirr1p31v0/cifar10_nin.caffemodel?dl=1",
         NIN_SHA1)]),
    "nin_imagenet/readme.md": (STYLE_KEY_VALUE, [
        ("nin_imagenet.caffemodel", "https://www.dropbox.com/s/0cidxafrb2wuwxw/nin_imagenet.caffemodel?dl=1",
         NIN_SHA1)]),
    "object-proposal-vgg16/README.md": (STYLE_KEY_VALUE, [
        ("VGG16_SOD_finetune.caffemodel",
         "http://www.cs.bu.edu/groups/ivc/Subitizing/model/VGG16/VGG16_SOD_finetune.caffemodel", None)]),
    "parsenet/readme.md": (STYLE_YAML, [
        ("VGG_VOC2012ext.caffemodel", "http://cs.unc.edu/~wliu/projects/ParseNet/VGG_VOC2012ext.caffemodel",
         "99cc76c373dc522fd70f80208b30a43ab2fba2f6")]),
    "places205-googlenet/readme": (STYLE_NONE, []),
    "places_cnds/README.md": (STYLE_NONE, []),
    "poolmean/readme.md": (STYLE_NONE, []),
    "resnet/README.md": (STYLE_NONE, []),
    "salient-object-alexnet/README.md": (STYLE_KEY_VALUE, [
        ("AlexNet_SalObjSub.caffemodel", "http://www.cs.bu.edu/groups/ivc/data/SOS/AlexNet_SalObjSub.caffemodel",
         None)]),
    "salient-object-vgg16/README.md": (STYLE_KEY_VALUE, [
        ("VGG16_SalObjSub.caffemodel", "http://www.cs.bu.edu/groups/ivc/data/SOS/VGG16_SalObjSub.caffemodel",
         None)]),
    "sequence-to-sequence/readme.md": (STYLE_NONE, []),
    "squeezenet/README.md": (STYLE_NONE, []),
    "vgg_cnn_f/readme.md": (STYLE_KEY_VALUE, [("VGG_CNN_F.caffemodel", VGG_EVAL + "VGG_CNN_F.caffemodel", None)]),
    "vgg_cnn_m/readme.md": (STYLE_KEY_VALUE, [("VGG_CNN_M.caffemodel", VGG_EVAL + "VGG_CNN_M.caffemodel", None)]),
    "vgg_cnn_m_1024/readme.md": (STYLE_KEY_VALUE, [
        ("VGG_CNN_M_1024.caffemodel", VGG_EVAL + "VGG_CNN_M_1024.caffemodel", None)]),
    "vgg_cnn_m_128/readme.md": (STYLE_KEY_VALUE, [
        ("VGG_CNN_M_128.caffemodel", VGG_EVAL + "VGG_CNN_M_128.caffemodel", None)]),
    "vgg_cnn_m_2048/readme.md": (STYLE_KEY_VALUE, [
        ("VGG_CNN_M_2048.caffemodel", VGG_EVAL + "VGG_CNN_M_2048.caffemodel", None)]),
    "vgg_cnn_s/readme.md": (STYLE_KEY_VALUE, [("VGG_CNN_S.caffemodel", VGG_EVAL + "VGG_CNN_S.caffemodel", None)]),
    "vgg_face_descriptor/README": (STYLE_NONE, []),
    "vgg_ilsvrc_16/readme.md": (STYLE_KEY_VALUE, [
        ("VGG_ILSVRC_16_layers.caffemodel", VERY_DEEP + "VGG_ILSVRC_16_layers.caffemodel", None)]),
    "vgg_ilsvrc_19/readme.md": (STYLE_KEY_VALUE, [
        ("VGG_ILSVRC_19_layers.caffemodel", VERY_DEEP + "VGG_ILSVRC_19_layers.caffemodel", None)]),
    "yearbook/readme.md": (STYLE_KEY_VALUE, [
        ("yearbook_cleaned.caffemodel", "https://www.dropbox.com/s/6bbbckxwa14ainq/yearbook_cleaned.caffemodel?dl=0",
         None)]),
}


def _read(snapshot_dir: Path, relative: str, group: str = "community") -> str:
    return (snapshot_dir / "models" / group / relative).read_text(encoding="utf-8")


def test_table_covers_every_community_readme(snapshot_dir: Path) -> None:
    on_disk = {str(p.relative_to(snapshot_dir / "models" / "community"))
               for p in (snapshot_dir / "models" / "community").glob("*/*")
               if p.name.lower().lstrip("_").startswith("readme")}
    assert on_disk == set(COMMUNITY)


@pytest.mark.parametrize("relative", sorted(COMMUNITY))
def test_community_readme(snapshot_dir: Path, relative: str) -> None:
    style, expected = COMMUNITY[relative]
    fields = parse_readme(_read(snapshot_dir, relative), source=relative)
    assert fields.style == style
    assert [(m.caffemodel, m.caffemodel_url, m.sha1) for m in fields.models] == expected
    assert (not expected) == ("no front matter: the readme names no model fields" in fields.warnings)


@pytest.mark.parametrize("name", ["bvlc_alexnet", "bvlc_googlenet", "bvlc_reference_caffenet",
                                  "bvlc_reference_rcnn_ilsvrc13", "finetune_flickr_style"])
def test_bvlc_readmes(snapshot_dir: Path, name: str) -> None:
    fields = parse_readme(_read(snapshot_dir, f"{name}/readme.md", "bvlc"))
    [model] = fields.models
    assert fields.style == STYLE_YAML and not fields.warnings
    assert model.caffemodel == f"{name}.caffemodel"
    assert model.caffemodel_url == f"http://dl.caffe.berkeleyvision.org/{name}.caffemodel"
    assert model.sha1 and len(model.sha1) == 40 and model.caffe_commit and len(model.caffe_commit) == 40


def test_variant_warnings(snapshot_dir: Path) -> None:
    parsenet = parse_readme(_read(snapshot_dir, "parsenet/readme.md"))
    assert "gist_id is empty" in parsenet.warnings and parsenet.gist_id is None
    yearbook = parse_readme(_read(snapshot_dir, "yearbook/readme.md"))
    assert "key 'caffemodel url' read as caffemodel_url" in yearbook.warnings
    assert yearbook.models[0].caffe_commit == "68c9e2b4703ce18fd9a7ab541addf701129a8080"
    vgg = parse_readme(_read(snapshot_dir, "vgg_cnn_s/readme.md"))
    assert "caffemodel 'VGG_CNN_S' has no .caffemodel extension: read as 'VGG_CNN_S.caffemodel'" in vgg.warnings
    assert vgg.models[0].mean_file_url == VGG_EVAL + "VGG_mean.binaryproto"
    nin = parse_readme(_read(snapshot_dir, "nin_imagenet/readme.md"))
    assert "caffe_commit 'pull request yet to be merged' is not a commit hash: ignored" in nin.warnings
    # A gist id inside a URL of caffe_version is no commit hash.
    sos = parse_readme(_read(snapshot_dir, "salient-object-vgg16/README.md"))
    assert sos.models[0].caffe_commit is None


def test_multi_model_readmes_share_readme_wide_keys(snapshot_dir: Path) -> None:
    age_gender = parse_readme(_read(snapshot_dir, "age_gender/README.md"))
    assert [m.name for m in age_gender.models] == ["Age Classification CNN", "Gender Classification CNN"]
    assert {m.mean_file_url for m in age_gender.models} == {DROPBOX_GIL + "mean.binaryproto"}
    assert {m.gist_id for m in age_gender.models} == {"c9e99062283c719c03de"}
    emotion = parse_readme(_read(snapshot_dir, "emotion-recognition/README.md"))
    assert emotion.models[0].name == "Emotion Classification CNN - RGB"
    assert len({m.mean_file_url for m in emotion.models}) == 5
    assert {m.gist_id for m in emotion.models} == {"54aee1b8b0397721aa4b"}


def test_duplicate_nin_sha1_is_flagged(snapshot_dir: Path) -> None:
    entries = []
    for model_id, relative in (("gist-d802a5849de39225bcc6", "nin_imagenet/readme.md"),
                               ("gist-e56253735ef32c3c296d", "nin-cifar10/readme.md")):
        [model] = parse_readme(_read(snapshot_dir, relative)).models
        entries.append(CatalogEntry(model_id=model_id, name=model.name or "", section="NIN", status="ok",
                                    caffemodel_url=model.caffemodel_url, sha1=model.sha1))
    flagged = flag_shared_sha1(entries)
    assert flagged[0].warnings == (f"sha1 {NIN_SHA1} is also given for gist-e56253735ef32c3c296d: "
                                   "at most one of these weight files can match it",)
    assert "gist-d802a5849de39225bcc6" in flagged[1].warnings[0]


def test_markdown_rule_is_not_front_matter() -> None:
    fields = parse_readme("---\n\nSome text\n\nname: Tiny\ncaffemodel_url: http://x.org/t.caffemodel\n")
    assert "opening '---' has no closing '---': read as a markdown rule" in fields.warnings
    assert fields.style == STYLE_KEY_VALUE and fields.models[0].caffemodel == "t.caffemodel"


def test_yaml_tags_are_never_evaluated() -> None:
    text = "---\nname: !!python/object/apply:os.system ['touch /tmp/zoo2tf-pwned']\ncaffemodel: a.caffemodel\n---\n"
    fields = parse_readme(text)
    assert not Path("/tmp/zoo2tf-pwned").exists()
    assert any("not valid YAML" in w for w in fields.warnings)


def test_yaml_aliases_are_refused() -> None:
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: [*b, *b, *b, *b, *b, *b, *b, *b]\nname: bomb\n---\n"
    fields = parse_readme(bomb)
    assert any("aliases are not accepted" in w for w in fields.warnings)
    assert fields.models[0].name == "bomb"


def test_numbers_stay_strings() -> None:
    [model] = parse_readme("---\nsha1: 0123456789012345678901234567890123456789\ncaffe_commit: 0777777\n---\n").models
    assert model.sha1 == "0123456789012345678901234567890123456789" and model.caffe_commit == "0777777"


def test_input_size_is_bounded() -> None:
    with pytest.raises(FrontMatterError, match="over the .* limit"):
        parse_readme("a" * (MAX_README_CHARS + 1), source="huge.md")
    with pytest.raises(FrontMatterError, match="NUL"):
        parse_readme("name: x\x00", source="bin.md")
