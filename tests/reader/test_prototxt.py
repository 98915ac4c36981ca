"""The tolerant prototxt parser: same result as protobuf's where protobuf can read the
file, and a warning (not a crash) for fork fields, a ParseError for broken text."""
from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format

from caffe2tf.errors import ParseError
from caffe2tf.proto import caffe_pb2
from caffe2tf.prototxt import parse_prototxt, parse_prototxt_text
from zoo_mirror import SNAPSHOT_DIR

BVLC_PROTOTXTS = [
    "models/bvlc/bvlc_googlenet/deploy.prototxt",
    "models/community/resnet/ResNet-50-deploy.prototxt",
    "models/community/vgg_cnn_s/VGG_CNN_S_deploy.prototxt",
    "models/community/nin_imagenet/train_val.prototxt",
    "models/community/holistically-nested/deploy.prototxt",
    "weights/cifar10_quick/prediction_example.prototxt",
]


def test_generated_module_uses_the_default_backend():
    from google.protobuf.internal import api_implementation

    assert api_implementation.Type() == "upb"
    assert caffe_pb2.LayerParameter.DESCRIPTOR.fields_by_name["convolution_param"].number == 106
    assert caffe_pb2.V1LayerParameter.DESCRIPTOR.fields_by_name["layer"].number == 1
    assert caffe_pb2.BlobProto.DESCRIPTOR.fields_by_name["double_data"].number == 8


@pytest.mark.parametrize("rel", BVLC_PROTOTXTS)
def test_same_message_as_protobuf_text_format(rel: str):
    path = SNAPSHOT_DIR / rel
    expected = text_format.Parse(path.read_text(), caffe_pb2.NetParameter())
    parsed = parse_prototxt(path)
    assert parsed.net == expected and parsed.warnings == ()


FORK_NET = '''
name: "fork"   # comment
input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer {
  name: "norm" type: "Normalize" bottom: "data" top: "norm"
  norm_param { across_spatial: false scale_filler { type: "constant" value: 20 } }
}
layer {
  name: "conv" type: "Convolution" bottom: "norm" top: "conv"
  convolution_param { num_output: 2 kernel_size: 3 filter_stride: 2 engine: MKLDNN }
}
layer < name: 'pool' type: "Pool" "ing" bottom: "conv" top: "pool"
  pooling_param: { pool: MAX kernel_size: [2] } >
'''


def test_unknown_fields_and_enum_values_are_skipped_and_reported():
    parsed = parse_prototxt_text(FORK_NET, "fork.prototxt")
    net = parsed.net
    assert [layer.name for layer in net.layer] == ["norm", "conv", "pool"]
    assert net.layer[1].convolution_param.num_output == 2
    assert list(net.layer[1].convolution_param.kernel_size) == [3]
    assert net.layer[2].type == "Pooling"
    assert list(net.layer[0].ListFields())[0][1] == "norm"
    warnings = "\n".join(parsed.warnings)
    assert "line 6: unknown field 'layer.norm_param'" in warnings
    assert "line 10: unknown field 'layer.convolution_param.filter_stride'" in warnings
    assert "unknown enum value 'MKLDNN'" in warnings
    assert all(w.startswith("fork.prototxt: line ") for w in parsed.warnings)


def test_values_of_the_wrong_kind_are_reported_not_fatal():
    parsed = parse_prototxt_text(
        'layer { name: "ip" type: "InnerProduct"\n inner_product_param { num_output: NUM }\n'
        ' data_param { source: ./no/quote"\n batch_size: 2 } }', "t.prototxt")
    layer = parsed.net.layer[0]
    assert not layer.inner_product_param.HasField("num_output")
    assert layer.data_param.batch_size == 2
    assert any("line 2: bad value 'NUM'" in w for w in parsed.warnings)
    assert any("line 3: unreadable value" in w for w in parsed.warnings)


def test_strings_numbers_and_escapes():
    net = parse_prototxt_text(
        'name: "a\\"b" "c"\nlayer { name: \'x\' type: "Power" power_param { power: -1.5e0 scale: 2f '
        'shift: inf } }').net
    assert net.name == 'a"bc'
    assert net.layer[0].power_param.power == -1.5
    assert net.layer[0].power_param.scale == 2.0
    assert net.layer[0].power_param.shift == float("inf")


@pytest.mark.parametrize("text, line", [
    ('name: "x"\nlayer {\n  name: "a"\n', 4),
    ('layer { name: "a" }\n}\n', 2),
    ('layer { name: }\n', 1),
    ('layer { { }\n', 1),
    ('\n\nlayer { name: "a" type: "ReLU" bottom: "x" top: "x" include { phase: TEST }', 3),
])
def test_broken_text_is_a_parse_error_with_file_and_line(text: str, line: int, tmp_path: Path):
    path = tmp_path / "broken.prototxt"
    path.write_text(text)
    with pytest.raises(ParseError) as err:
        parse_prototxt(path)
    assert err.value.line == line and str(path) in str(err.value)


def test_binary_garbage_is_a_parse_error(tmp_path: Path):
    caffemodel = SNAPSHOT_DIR / "weights/lenet_mnist/lenet_iter_10000.caffemodel"
    path = tmp_path / "garbage.prototxt"
    path.write_bytes(caffemodel.read_bytes()[:4096])
    with pytest.raises(ParseError) as err:
        parse_prototxt(path)
    assert str(path) in str(err.value) and err.value.line is not None
    path.write_bytes(b'name: "x"\nlayer {\x00\x01 }')
    with pytest.raises(ParseError) as err:
        parse_prototxt(path)
    assert err.value.line == 2


def test_missing_file_is_a_parse_error(tmp_path: Path):
    with pytest.raises(ParseError, match="cannot read"):
        parse_prototxt(tmp_path / "nope.prototxt")
