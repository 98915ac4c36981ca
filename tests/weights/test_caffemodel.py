"""caffe2tf.caffemodel against protobuf's own parser on the real bundled weights."""
from __future__ import annotations

import gc
import math
import mmap
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2tf.caffemodel import (
    fit_legacy_shape,
    read_blobproto,
    read_caffemodel,
    write_caffemodel,
)
from caffe2tf.errors import ParseError
from caffe2tf.proto import caffe_pb2


@pytest.fixture(scope="module")
def lenet_path(snapshot_dir: Path) -> Path:
    return snapshot_dir / "weights" / "lenet_mnist" / "lenet_iter_10000.caffemodel"


@pytest.fixture(scope="module")
def cifar_path(snapshot_dir: Path) -> Path:
    return snapshot_dir / "weights" / "cifar10_quick" / "cifar10_quick_iter_5000.caffemodel"


def _reference(path: Path) -> caffe_pb2.NetParameter:
    net = caffe_pb2.NetParameter()
    net.ParseFromString(path.read_bytes())
    return net


def _reference_shape(blob: caffe_pb2.BlobProto) -> tuple[int, ...]:
    if blob.HasField("num") or blob.HasField("channels") or blob.HasField("height") \
            or blob.HasField("width"):
        return (blob.num, blob.channels, blob.height, blob.width)
    return tuple(blob.shape.dim)


def _mmap_behind(array: np.ndarray) -> object:
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return base.obj if isinstance(base, memoryview) else base


def test_lenet_v2_matches_protobuf(lenet_path: Path) -> None:
    weights = read_caffemodel(lenet_path)
    ref = _reference(lenet_path)
    assert weights.net_name == ref.name == "LeNet"
    assert weights.format_version == "V2"
    assert list(weights) == [layer.name for layer in ref.layer]
    for layer in ref.layer:
        assert weights.layer_type(layer.name) == layer.type
        got = weights[layer.name]
        assert len(got) == len(layer.blobs)
        for array, blob in zip(got, layer.blobs):
            assert array.dtype == np.float32
            assert array.shape == _reference_shape(blob)
            np.testing.assert_array_equal(array.ravel(), np.asarray(blob.data, np.float32))
    assert [b.shape for b in weights["conv1"]] == [(20, 1, 5, 5), (20,)]
    assert [b.shape for b in weights["ip1"]] == [(500, 800), (500,)]
    assert weights.param_count() == 431080


def test_cifar10_quick_v1_legacy_shapes(cifar_path: Path) -> None:
    weights = read_caffemodel(cifar_path)
    ref = _reference(cifar_path)
    assert weights.format_version == "V1"
    assert weights.net_name == "CIFAR10_quick"
    assert list(weights) == [layer.name for layer in ref.layers]
    for layer in ref.layers:
        for array, blob in zip(weights[layer.name], layer.blobs, strict=True):
            assert array.shape == _reference_shape(blob)
            np.testing.assert_array_equal(array.ravel(), np.asarray(blob.data, np.float32))
    assert weights.layer_type("conv1") == "Convolution"
    assert weights.layer_type("ip1") == "InnerProduct"
    assert weights.layer_type("loss") == "SoftmaxWithLoss"
    assert weights.has_legacy_shapes("ip1") and not weights.has_legacy_shapes("relu1")
    assert weights["ip1"][0].shape == (1, 1, 64, 1024)
    assert fit_legacy_shape(weights["ip1"][0], (64, 1024)).shape == (64, 1024)
    assert fit_legacy_shape(weights["ip1"][1], (64,)).shape == (64,)
    assert fit_legacy_shape(weights["ip1"][0], (1024, 64)) is None
    assert fit_legacy_shape(weights["conv1"][0], (32, 3, 5, 5)).shape == (32, 3, 5, 5)


def test_arrays_are_zero_copy_views_of_the_mapped_file(lenet_path: Path) -> None:
    weights = read_caffemodel(lenet_path)
    arrays = [a for name in weights for a in weights[name]]
    assert arrays
    for array in arrays:
        assert isinstance(_mmap_behind(array), mmap.mmap)
        assert not array.flags.owndata and not array.flags.writeable
    assert len({id(_mmap_behind(a)) for a in arrays}) == 1
    # Packed data sits at arbitrary file offsets: numpy computes on unaligned views too.
    assert any(not a.flags.aligned for a in arrays)
    weight = weights["ip2"][0]
    assert not weight.flags.aligned
    x = np.linspace(-1, 1, weight.shape[1], dtype=np.float32)
    np.testing.assert_array_equal(weight @ x, weight.copy() @ x)
    # The bytes at the view's address are the file's bytes.
    kernel = weights["conv2"][0]
    raw = lenet_path.read_bytes()
    assert raw.count(kernel.tobytes()) == 1


def test_arrays_keep_the_map_alive(lenet_path: Path) -> None:
    kernel = read_caffemodel(lenet_path)["ip2"][0]
    gc.collect()
    expected = np.asarray(_reference(lenet_path).layer[-2].blobs[0].data, np.float32)
    np.testing.assert_array_equal(kernel.ravel(), expected)


def test_round_trip_write_then_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    layers = [
        ("conv", "Convolution", [rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)]),
        ("relu", "ReLU", []),
        ("bn", "BatchNorm", [np.zeros(4), np.ones(4), np.array([1.0])]),
        ("vol", "Convolution", [rng.standard_normal((2, 1, 2, 2, 2)).astype(np.float32)]),
        ("scalar", "Bias", [np.float32(2.5).reshape(())]),
        ("empty", "Thing", [np.zeros((0, 5), np.float32)]),
    ]
    path = tmp_path / "out" / "net.caffemodel"
    write_caffemodel(path, "round", iter(layers))
    assert [p.name for p in path.parent.iterdir()] == ["net.caffemodel"]

    weights = read_caffemodel(path)
    assert weights.net_name == "round" and weights.format_version == "V2"
    assert list(weights) == [name for name, _, _ in layers]
    for name, type_name, blobs in layers:
        assert weights.layer_type(name) == type_name
        for got, want in zip(weights[name], blobs, strict=True):
            assert got.shape == np.shape(want)
            np.testing.assert_array_equal(got, np.asarray(want, np.float32))

    ref = _reference(path)  # protobuf agrees with what was written
    assert [layer.name for layer in ref.layer] == [name for name, _, _ in layers]
    assert tuple(ref.layer[0].blobs[0].shape.dim) == (4, 3, 3, 3)
    np.testing.assert_array_equal(np.asarray(ref.layer[3].blobs[0].data, np.float32),
                                  layers[3][2][0].ravel())


@settings(max_examples=25, deadline=None)
@given(shapes=st.lists(st.lists(st.integers(0, 6), max_size=5), max_size=4),
       name=st.text(min_size=1, max_size=20))
def test_round_trip_any_shapes(tmp_path_factory: pytest.TempPathFactory,
                               shapes: list[list[int]], name: str) -> None:
    rng = np.random.default_rng(0)
    blobs = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    path = tmp_path_factory.mktemp("prop") / "p.caffemodel"
    write_caffemodel(path, "n", [(name, "Any", blobs)])
    got = read_caffemodel(path)[name]
    assert [g.shape for g in got] == [b.shape for b in blobs]
    for g, b in zip(got, blobs):
        np.testing.assert_array_equal(g, b)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    def layers():
        yield "a", "ReLU", []
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        write_caffemodel(tmp_path / "x.caffemodel", "n", layers())
    assert list(tmp_path.iterdir()) == []


def test_v0_format(tmp_path: Path) -> None:
    net = caffe_pb2.NetParameter(name="old")
    wrapper = net.layers.add()
    wrapper.layer.name = "conv1"
    wrapper.layer.type = "conv"
    blob = wrapper.layer.blobs.add(num=2, channels=1, height=1, width=3)
    blob.data.extend([1, 2, 3, 4, 5, 6])
    net.layers.add().layer.name = "pad"
    net.layers[1].layer.type = "padding"
    path = tmp_path / "v0.caffemodel"
    path.write_bytes(net.SerializeToString())

    weights = read_caffemodel(path)
    assert weights.format_version == "V0"
    assert list(weights) == ["conv1", "pad"]
    assert weights.layer_type("conv1") == "Convolution"
    assert weights.layer_type("pad") == "Padding"
    np.testing.assert_array_equal(weights["conv1"][0], np.arange(1, 7).reshape(2, 1, 1, 3))


def _blob_field(payload: bytes, field: int) -> bytes:
    return bytes([field << 3 | 2]) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _v2_net(layer_payload: bytes) -> bytes:
    return b"\xa2\x06" + _varint(len(layer_payload)) + layer_payload


def test_unpacked_floats_and_legacy_double_data(tmp_path: Path) -> None:
    shape = _blob_field(_blob_field(bytes([2, 2]), 1), 7)  # BlobShape{dim: [2, 2]} packed
    unpacked = b"".join(b"\x2d" + struct.pack("<f", v) for v in (1.5, -2, 3, 4))
    doubles = _blob_field(struct.pack("<3d", 0.1, 0.2, 0.3), 8)
    legacy = bytes([0x08, 1, 0x10, 3, 0x18, 1, 0x20, 1])  # num=1 channels=3 height=1 width=1
    layer = (_blob_field(b"old", 1) + _blob_field(b"Scale", 2)
             + _blob_field(shape + unpacked, 7) + _blob_field(legacy + doubles, 7))
    path = tmp_path / "old.caffemodel"
    path.write_bytes(_v2_net(layer))

    first, second = read_caffemodel(path)["old"]
    np.testing.assert_array_equal(first, [[1.5, -2], [3, 4]])
    assert second.dtype == np.float32
    np.testing.assert_array_equal(second, np.array([0.1, 0.2, 0.3], np.float32).reshape(1, 3, 1, 1))


def test_long_unpacked_float_runs_mixed_with_packed_chunks(tmp_path: Path) -> None:
    values = np.random.default_rng(1).standard_normal(20000).astype(np.float32)
    unpacked = b"".join(b"\x2d" + struct.pack("<f", v) for v in values[:15000])
    packed = _blob_field(values[15000:19999].tobytes(), 5)
    tail = b"\x2d" + values[19999:].tobytes()
    shape = _blob_field(_blob_field(_varint(4) + _varint(5000), 1), 7)
    blob = _blob_field(unpacked + shape + packed + tail, 7)
    path = tmp_path / "runs.caffemodel"
    path.write_bytes(_v2_net(_blob_field(b"fc", 1) + _blob_field(b"InnerProduct", 2) + blob))
    np.testing.assert_array_equal(read_caffemodel(path)["fc"][0], values.reshape(4, 5000))


def test_double_data_converted_to_float32(tmp_path: Path) -> None:
    net = caffe_pb2.NetParameter(name="d")
    layer = net.layer.add(name="s", type="Scale")
    blob = layer.blobs.add()
    blob.shape.dim.extend([3])
    blob.double_data.extend([0.1, 0.2, 0.3])
    path = tmp_path / "d.caffemodel"
    path.write_bytes(net.SerializeToString())
    got = read_caffemodel(path)["s"][0]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([0.1, 0.2, 0.3], np.float32))


def test_truncated_files_raise_parse_error(lenet_path: Path, tmp_path: Path) -> None:
    raw = lenet_path.read_bytes()
    errors = 0
    for cut in range(7, len(raw), len(raw) // 97):
        path = tmp_path / f"cut{cut}.caffemodel"
        path.write_bytes(raw[:cut])
        try:
            _reference(path)
            continue  # a cut on a field boundary is still a valid message
        except Exception:
            pass
        with pytest.raises(ParseError) as info:
            read_caffemodel(path)
        assert str(path) in str(info.value)
        errors += 1
        path.unlink()
    assert errors > 90


def test_truncation_inside_a_blob_names_the_layer(lenet_path: Path, tmp_path: Path) -> None:
    raw = lenet_path.read_bytes()
    path = tmp_path / "cut.caffemodel"
    path.write_bytes(raw[: raw.index(b"ip1") + 5000])
    with pytest.raises(ParseError, match=r"layer 'ip1'.*truncated"):
        read_caffemodel(path)


@pytest.mark.parametrize("content", [
    b"",
    b"name: 'LeNet'\nlayer { name: 'data' type: 'Input' }\n",
    np.random.default_rng(7).bytes(4096),
    b"\x0a\x05LeNet",  # a valid message with no layers
    b"\xa2\x06\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",  # a runaway varint
])
def test_garbage_raises_parse_error(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.caffemodel"
    path.write_bytes(content)
    with pytest.raises(ParseError, match="bad.caffemodel"):
        read_caffemodel(path)


def test_missing_file_raises_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="nothing.caffemodel"):
        read_caffemodel(tmp_path / "nothing.caffemodel")


def test_blob_count_disagreeing_with_shape(tmp_path: Path) -> None:
    net = caffe_pb2.NetParameter(name="bad")
    net.layer.add(name="fine", type="ReLU")
    blob = net.layer.add(name="fc", type="InnerProduct").blobs.add()
    blob.shape.dim.extend([2, 3])
    blob.data.extend([1, 2, 3, 4, 5])
    path = tmp_path / "count.caffemodel"
    path.write_bytes(net.SerializeToString())
    with pytest.raises(ParseError,
                       match=r"count.caffemodel: layer 'fc': .*5 values .*\(2, 3\) holds 6"):
        read_caffemodel(path)


def test_blobproto_legacy_and_shape_forms(snapshot_dir: Path, tmp_path: Path) -> None:
    mean = np.load(snapshot_dir / "reference" / "ilsvrc_2012_mean.npy").astype(np.float32)
    legacy = caffe_pb2.BlobProto(num=1, channels=mean.shape[0], height=mean.shape[1],
                                 width=mean.shape[2])
    legacy.data.extend(mean.ravel().tolist())
    path = tmp_path / "mean.binaryproto"
    path.write_bytes(legacy.SerializeToString())
    got = read_blobproto(path)
    assert got.shape == (1,) + mean.shape
    np.testing.assert_array_equal(got[0], mean)
    assert isinstance(_mmap_behind(got), mmap.mmap)

    shaped = caffe_pb2.BlobProto()
    shaped.shape.dim.extend([3, 2])
    shaped.data.extend([1, 2, 3, 4, 5, 6])
    path.write_bytes(shaped.SerializeToString())
    np.testing.assert_array_equal(read_blobproto(path), [[1, 2], [3, 4], [5, 6]])

    path.write_bytes(b"\x0a\x05LeNet\x12\x03abc")
    with pytest.raises(ParseError, match="mean.binaryproto"):
        read_blobproto(path)


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(st.integers(0, 4999), st.integers(0, 255)), min_size=1,
                      max_size=8),
       cut=st.one_of(st.none(), st.integers(1, 5000)))
def test_corrupted_bytes_never_escape_as_anything_but_parse_error(
        lenet_path: Path, tmp_path_factory: pytest.TempPathFactory,
        edits: list[tuple[int, int]], cut: int | None) -> None:
    """Flipped bytes in the headers of the real LeNet file: a ParseError or a clean read."""
    raw = bytearray(lenet_path.read_bytes()[:5000])
    for offset, value in edits:
        raw[offset] = value
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.caffemodel"
    path.write_bytes(bytes(raw[:cut]))
    try:
        weights = read_caffemodel(path)
    except ParseError as err:
        assert str(path) in str(err)
        return
    for name in weights:
        for blob in weights[name]:
            assert blob.dtype == np.float32 and blob.size == math.prod(blob.shape)
