"""Every prototxt of the bundled zoo snapshot is read; BVLC-only nets get OpenCV's shapes."""
from __future__ import annotations

from pathlib import Path

import pytest

from google.protobuf import text_format

from caffe2tf.deploy import deploy_net_parameter
from caffe2tf.errors import GraphError
from caffe2tf.net import load_net
from caffe2tf.prototxt import parse_prototxt
from tests.reader.caffe_shapes import caffe_shapes, graph_blob_shapes, graph_param_shapes
from tests.reader.opencv_shapes import (
    graph_layer_shapes, opencv_layer_shapes, write_shape_only_caffemodel,
)
from zoo_mirror import SNAPSHOT_DIR

ALL_PROTOTXTS = sorted(
    p.relative_to(SNAPSHOT_DIR).as_posix()
    for pattern in ("*.prototxt", "*.protxt") for p in SNAPSHOT_DIR.rglob(pattern)
)

# How each unusual net must be loaded, and why.
STAGES = {  # layers chosen by NetState stage; with no stage Caffe itself has no data layer
    "models/community/sequence-to-sequence/s2vt.prototxt": ("test-on-val", "unfactored"),
    "models/community/poolmean/poolmean.prototxt": ("test-on-val", "factored"),
}
INPUT_SHAPES = {  # Data layers reading an LMDB without crop_size: the size is in the dataset
    "models/community/nin-cifar10/train_val.prototxt": {"data": (1, 3, 32, 32)},
    "models/community/yearbook/deploy.prototxt": {"data": (1, 3, 224, 224)},
}
NOT_A_NET = {  # a template fragment: its first layer reads an undeclared 'data' blob
    "models/community/mixture_dcnn/base_model.prototxt": "conv1-EXPERT_NUM",
}
FORK_TYPES = {
    "prototxts/VGG_VOC0712_SSD_300x300_deploy.prototxt":
        {"NormalizeBBox", "Permute", "PriorBox", "DetectionOutput"},
    "models/community/parsenet/VGG_VOC2012ext.prototxt":
        {"Normalize", "UnPooling", "ParseOutput", "ParseEvaluate"},
}
OPENCV_LACKS = {"ArgMax"}  # types OpenCV 4.14 cannot build; their rule is tested on its own
FORK_FIELDS = {  # fields of a fork inside layers of the net, by layer
    "prototxts/VGG_VOC0712_SSD_300x300_deploy.prototxt": {
        layer: [f"{kind}_param"] for kind, layers in {
            "normalize_bbox": ["conv4_3_norm"],
            "permute": [f"{b}_mbox_{x}_perm" for b in ("conv4_3_norm", "fc7", "conv6_2", "conv7_2",
                                                       "conv8_2", "pool6") for x in ("loc", "conf")],
            "prior_box": [f"{b}_mbox_priorbox" for b in ("conv4_3_norm", "fc7", "conv6_2",
                                                         "conv7_2", "conv8_2", "pool6")],
            "detection_output": ["detection_out"],
        }.items() for layer in layers},
    "models/community/parsenet/VGG_VOC2012ext.prototxt": {
        **{c: ["convolution_param.filter_stride"] for c in ("conv5_1", "conv5_2", "conv5_3", "fc6")},
        "fc7_norm": ["norm_param"], "pool6_1x1_norm": ["norm_param"],
        "pool6_1x1": ["pooling_param.bin_size"],
        "pool6_1x1_norm_upscore21": ["unpooling_param"], "evaluation": ["parse_evaluate_param"]},
}
NO_OPENCV = {  # nets whose inputs have no shape in the prototxt (HDF5 sequences, LSTM)
    "models/community/sequence-to-sequence/s2vt.prototxt",
    "models/community/poolmean/poolmean.prototxt",
}


def test_snapshot_has_all_prototxts():
    assert len(ALL_PROTOTXTS) >= 50
    for folder in ("models/bvlc/", "models/community/", "prototxts/", "weights/"):
        assert any(p.startswith(folder) for p in ALL_PROTOTXTS), folder


def _load(rel: str):
    return load_net(SNAPSHOT_DIR / rel, input_shapes=INPUT_SHAPES.get(rel),
                    stages=STAGES.get(rel, ()))


@pytest.mark.parametrize("rel", ALL_PROTOTXTS)
def test_prototxt_is_read(rel: str, tmp_path: Path):
    parsed = parse_prototxt(SNAPSHOT_DIR / rel)
    assert len(parsed.net.layer) + len(parsed.net.layers) > 0
    if rel in NOT_A_NET:
        with pytest.raises(GraphError) as err:
            _load(rel)
        assert err.value.layer == NOT_A_NET[rel] and rel in str(err.value)
        return
    graph = _load(rel)
    assert graph.layers and graph.outputs
    assert set(graph.unknown_types) == FORK_TYPES.get(rel, set())
    for kind, names in graph.unknown_types.items():
        assert all(graph.layer(n).type == kind for n in names)
        assert any(f"'{kind}'" in w for w in graph.warnings)
    assert graph.foreign_fields == FORK_FIELDS.get(rel, {})
    if graph.unknown_types or rel in NO_OPENCV:
        return
    assert all(t in graph.shapes for layer in graph.layers for t in layer.tops)
    _assert_opencv_shapes(rel, graph, tmp_path)


def _assert_opencv_shapes(rel: str, graph, tmp_path: Path) -> None:
    prototxt = SNAPSHOT_DIR / rel
    mine = graph_layer_shapes(graph)
    lacking = [layer for layer in graph.layers if layer.type in OPENCV_LACKS]
    if graph.preprocessing is not None or rel in INPUT_SHAPES or lacking:
        # OpenCV cannot build data layers: hand it the same net in deploy form
        net = deploy_net_parameter(graph)
        for layer in lacking:
            assert not graph.consumers(layer.tops[0]), "only terminal layers can be left out"
            net.layer.remove(next(pb for pb in net.layer if pb.name == layer.name))
        mine = [m for m in mine if m[1] not in OPENCV_LACKS]
        prototxt = tmp_path / "deploy.prototxt"
        prototxt.write_text(text_format.MessageToString(net))
    model = write_shape_only_caffemodel(graph, tmp_path / "shapes.caffemodel")
    reference = opencv_layer_shapes(prototxt, model, list(graph.inputs.values()))
    assert len(reference) == len(mine), (
        [r[0] for r in reference], [m[0] for m in mine])
    for (cv_name, cv_type, cv_shapes), (name, kind, shapes) in zip(reference, mine):
        assert cv_shapes == shapes, f"{name} ({kind}) vs OpenCV {cv_name} ({cv_type})"

@pytest.mark.parametrize("rel", [
    "prototxts/lenet.prototxt",
    "prototxts/cifar10_full.prototxt",
    "models/community/squeezenet/deploy.prototxt",
    "models/bvlc/bvlc_googlenet/deploy.prototxt",
])
def test_shape_only_weights_give_opencv_the_same_shapes_as_full_ones(rel: str, tmp_path: Path):
    from caffe2tf.synth import write_synthetic_caffemodel

    graph = _load(rel)
    full = tmp_path / "full.caffemodel"
    write_synthetic_caffemodel(SNAPSHOT_DIR / rel, full, seed=0)
    small = write_shape_only_caffemodel(graph, tmp_path / "small.caffemodel")
    inputs = list(graph.inputs.values())
    assert small.stat().st_size < full.stat().st_size
    assert (opencv_layer_shapes(SNAPSHOT_DIR / rel, full, inputs)
            == opencv_layer_shapes(SNAPSHOT_DIR / rel, small, inputs))


# Deploy nets of every format version and the main families, small enough for Caffe to
# build (and fill) quickly; the rest are covered by the OpenCV comparison above.
REAL_CAFFE_NETS = [
    "prototxts/lenet.prototxt",
    "prototxts/cifar10_full.prototxt",
    "models/bvlc/bvlc_googlenet/deploy.prototxt",
    "models/community/squeezenet/deploy.prototxt",
    "models/community/resnet/ResNet-50-deploy.prototxt",
    "models/community/age_gender/deploy_age.prototxt",
    "models/community/hash-codes/deploy_CIFAR10_48.prototxt",
    "models/community/facial-landmark/vanilla_deploy.prototxt",
    "models/community/holistically-nested/deploy.prototxt",
    "models/community/places205-alexnet/places205CNN_deploy.prototxt",
]


def test_zoo_nets_match_real_caffe(caffe_env, tmp_path: Path):
    graphs = {SNAPSHOT_DIR / rel: _load(rel) for rel in REAL_CAFFE_NETS}
    reference = caffe_shapes(caffe_env.python, list(graphs), tmp_path)
    for path, graph in graphs.items():
        blobs = {k: tuple(v) for k, v in reference[path.resolve()]["blobs"].items()}
        assert graph_blob_shapes(graph) == blobs, path
        params = {k: [tuple(s) for s in v] for k, v in reference[path.resolve()]["params"].items()}
        assert graph_param_shapes(graph) == params, path
