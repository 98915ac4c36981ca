"""Caffe weights files (.caffemodel, mean.binaryproto) read and written at the wire level.

Reading walks the protobuf wire format directly over a memory-mapped file: only tags and
lengths are decoded in Python, and each packed `data` field becomes a float32 numpy view
of the file's bytes (no copy, no Python floats). A 528 MB VGG16 model therefore opens in
milliseconds and its pages are read only when an array is touched. The views are
read-only and may be unaligned; numpy handles both, and consumers copy when they need to.

Writing streams a V2 NetParameter layer by layer, computing each message's length up
front, so memory stays at one layer's blobs however large the model is.

Field numbers (from caffe.proto):
  NetParameter: name=1, layers=2 (V1LayerParameter), layer=100 (LayerParameter)
  LayerParameter: name=1, type=2, blobs=7
  V1LayerParameter: layer=1 (V0LayerParameter), name=4, type=5 (enum), blobs=6
  V0LayerParameter: name=1, type=2, blobs=50
  BlobProto: num=1, channels=2, height=3, width=4, data=5, diff=6, shape=7,
             double_data=8, double_diff=9;  BlobShape: dim=1
"""
from __future__ import annotations

import math
import mmap
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from caffe2tf.errors import ParseError
from caffe2tf.upgrade import v0_type_string, v1_type_string

# wire types, and a pseudo one: a run of consecutive fixed32 fields with the same number
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_FIXED32_RUN = 8
_TAGGED_FLOAT = np.dtype([("key", "u1"), ("value", "<f4")])  # one unpacked float field


@dataclass(frozen=True)
class _LayerRecord:
    type: str
    blobs: tuple[np.ndarray, ...]
    legacy_shapes: bool


class CaffeModelWeights(Mapping[str, list[np.ndarray]]):
    """Layer name -> its learned blobs (float32, Caffe shape, read-only views of the file).

    Layers without blobs are present with an empty list. The memory map stays open while
    this object or any array taken from it is alive (each array holds a reference to it).
    """

    def __init__(self, path: Path, net_name: str, format_version: str,
                 layers: dict[str, _LayerRecord], warnings: list[str],
                 buffer: mmap.mmap):
        self.path = path
        self.net_name = net_name
        self.format_version = format_version  # "V0", "V1" or "V2"
        self.warnings = warnings
        self._layers = layers
        self._buffer = buffer

    def __getitem__(self, name: str) -> list[np.ndarray]:
        return list(self._layers[name].blobs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def layer_type(self, name: str) -> str:
        """V2 type string of a layer (V1 enums and V0 strings are translated)."""
        return self._layers[name].type

    def has_legacy_shapes(self, name: str) -> bool:
        """True when the layer's blobs carry the deprecated num/channels/height/width."""
        return self._layers[name].legacy_shapes

    def param_count(self) -> int:
        return sum(b.size for rec in self._layers.values() for b in rec.blobs)

    def __repr__(self) -> str:
        return (f"CaffeModelWeights({str(self.path)!r}, net={self.net_name!r}, "
                f"{self.format_version}, {len(self)} layers)")


def fit_legacy_shape(blob: np.ndarray, expected: tuple[int, ...]) -> np.ndarray | None:
    """A legacy 4-D blob reshaped to `expected` when Caffe would accept it, else None.

    Caffe's rule (Blob::ShapeEquals): a legacy (num, channels, height, width) blob fits an
    expected shape of at most 4 axes that equals it after left-padding with ones.
    """
    if blob.ndim != 4 or len(expected) > 4:
        return None
    padded = (1,) * (4 - len(expected)) + tuple(expected)
    return blob.reshape(expected) if blob.shape == padded else None


class _Truncated(Exception):
    def __init__(self, message: str, field: int | None = None, start: int | None = None):
        super().__init__(message)
        self.field = field  # the length-delimited field that overruns, and where its payload starts
        self.start = start


class _Malformed(Exception):
    pass


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise _Truncated("a varint runs past the end of its message")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Malformed("a varint is longer than 10 bytes")


def _fields(buf, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value or payload start, payload end) for each field.

    Consecutive fixed32 fields with a one-byte key come as one _FIXED32_RUN from the
    first value to the end of the last: an unpacked float array is read in one step.
    """
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Malformed("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos, end)
            yield number, wire, value, pos
        elif wire == _LEN:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise _Truncated(f"field {number} claims {length - (end - pos)} bytes past the "
                                 "end of its message", number, pos)
            yield number, wire, pos, pos + length
            pos += length
        elif wire in (_FIXED32, _FIXED64):
            size = 4 if wire == _FIXED32 else 8
            if pos + size > end:
                raise _Truncated(f"field {number} runs past the end of its message")
            if wire == _FIXED32 and key < 0x80:
                stop = pos + 5 * _fixed32_run(buf, pos, end, key) - 1
                yield number, _FIXED32_RUN, pos, stop
                pos = stop
            else:
                yield number, wire, pos, pos + size
                pos += size
        else:
            raise _Malformed(f"field {number} has wire type {wire}, which caffe.proto never uses")


def _fixed32_run(buf, pos: int, end: int, key: int) -> int:
    """How many 5-byte (key, float) records start at pos - 1, looking ahead in growing
    chunks so that a short run costs little."""
    count, chunk = 1, 64
    while True:
        start = pos - 1 + 5 * count
        n = min(chunk, (end - start) // 5)
        if n <= 0:
            return count
        keys = np.frombuffer(buf, dtype=np.uint8, count=5 * n, offset=start)[::5]
        mismatch = np.flatnonzero(keys != key)
        if mismatch.size:
            return count + int(mismatch[0])
        count += n
        chunk *= 2


def _string(buf, start: int, end: int) -> str:
    return bytes(buf[start:end]).decode("utf-8", errors="replace")


def _packed_varints(buf, start: int, end: int) -> list[int]:
    values = []
    pos = start
    while pos < end:
        value, pos = _varint(buf, pos, end)
        values.append(value)
    return values


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _parse_blob(buf, start: int, end: int) -> tuple[np.ndarray, bool]:
    """One BlobProto -> (float32 array in its Caffe shape, uses the legacy 4-D dims)."""
    legacy = {1: 0, 2: 0, 3: 0, 4: 0}
    has_legacy = False
    dims: list[int] | None = None
    data_chunks: list[np.ndarray] = []
    double_chunks: list[np.ndarray] = []
    for number, wire, a, b in _fields(buf, start, end):
        if number in legacy and wire == _VARINT:
            legacy[number] = _int64(a)
            has_legacy = True
        elif number == 7 and wire == _LEN:
            dims = dims or []
            for dnum, dwire, da, db in _fields(buf, a, b):
                if dnum != 1:
                    continue
                if dwire == _LEN:
                    dims.extend(_int64(v) for v in _packed_varints(buf, da, db))
                elif dwire == _VARINT:
                    dims.append(_int64(da))
        elif number == 5 and wire == _LEN:
            if (b - a) % 4:
                raise _Malformed(f"packed float data of {b - a} bytes is not a multiple of 4")
            data_chunks.append(np.frombuffer(buf, dtype="<f4", count=(b - a) // 4, offset=a))
        elif number == 5 and wire == _FIXED32_RUN:
            # very old writers emit unpacked floats, a key before each: a strided copy
            records = np.frombuffer(buf, dtype=_TAGGED_FLOAT, count=(b - a + 1) // 5, offset=a - 1)
            data_chunks.append(records["value"].astype(np.float32))
        elif number == 8 and wire == _LEN:
            if (b - a) % 8:
                raise _Malformed(f"packed double data of {b - a} bytes is not a multiple of 8")
            double_chunks.append(np.frombuffer(buf, dtype="<f8", count=(b - a) // 8, offset=a))
        elif number == 8 and wire == _FIXED64:
            double_chunks.append(np.frombuffer(buf, dtype="<f8", count=1, offset=a))
        # diff (6), double_diff (9) and unknown fields are skipped

    if has_legacy:
        shape = tuple(legacy[k] for k in (1, 2, 3, 4))
    else:
        shape = tuple(dims or ())
    if any(d < 0 for d in shape):
        raise _Malformed(f"negative dimension in blob shape {shape}")
    if double_chunks:
        data = np.concatenate(double_chunks).astype(np.float32)
    elif len(data_chunks) == 1:
        data = data_chunks[0]
    elif data_chunks:
        data = np.concatenate(data_chunks)
    else:
        data = np.empty(0, dtype=np.float32)
    count = math.prod(shape)  # exact, no int64 wrap-around; () is a scalar, as in Caffe
    if count != data.size:
        raise _Malformed(f"blob has {data.size} values but its shape {shape} holds {count}")
    return data.reshape(shape), has_legacy


def _parse_layer(buf, start: int, end: int, *, name_field: int, type_field: int,
                 blobs_field: int, v0_field: int | None = None
                 ) -> tuple[str | None, str, list[np.ndarray], bool, bool]:
    """(name, V2 type, blobs, legacy shapes, came from a nested V0 layer)."""
    name = None
    type_name = ""
    blobs: list[np.ndarray] = []
    legacy = False
    nested_v0 = False
    for number, wire, a, b in _fields(buf, start, end):
        if number == name_field and wire == _LEN:
            name = _string(buf, a, b)
        elif number == type_field and wire == _LEN:
            raw = _string(buf, a, b)
            type_name = v0_type_string(raw) if blobs_field == 50 else raw
        elif number == type_field and wire == _VARINT:
            type_name = v1_type_string(a)
        elif number == blobs_field and wire == _LEN:
            try:
                blob, blob_legacy = _parse_blob(buf, a, b)
            except (_Truncated, _Malformed) as exc:
                raise _Malformed(f"blob {len(blobs)}: {exc}") from None
            blobs.append(blob)
            legacy = legacy or blob_legacy
        elif v0_field is not None and number == v0_field and wire == _LEN:
            v0 = _parse_layer(buf, a, b, name_field=1, type_field=2, blobs_field=50)
            nested_v0 = True
            name = name or v0[0]
            type_name = type_name or v0[1]
            blobs.extend(v0[2])
            legacy = legacy or v0[3]
    return name, type_name, blobs, legacy, nested_v0


def _open_buffer(path: Path) -> mmap.mmap:
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise ParseError("empty file", file=str(path))
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None


# NetParameter field -> (how to read that layer message, format version)
_LAYER_SPECS: dict[int, tuple[dict, str]] = {
    100: (dict(name_field=1, type_field=2, blobs_field=7), "V2"),
    2: (dict(name_field=4, type_field=5, blobs_field=6, v0_field=1), "V1"),
}


def read_caffemodel(path: str | os.PathLike) -> CaffeModelWeights:
    """Read a .caffemodel (V0, V1 or V2 NetParameter) into zero-copy float32 arrays.

    Raises ParseError (naming the file, and the layer when known) for truncated or
    garbage files and for blobs whose element count disagrees with their shape.
    """
    path = Path(path)
    buf = _open_buffer(path)
    end = len(buf)
    net_name = ""
    layers: dict[str, _LayerRecord] = {}
    warnings: list[str] = []
    versions: set[str] = set()
    current: str | None = None
    try:
        for number, wire, a, b in _fields(buf, 0, end):
            if number == 1 and wire == _LEN:
                net_name = _string(buf, a, b)
                continue
            if number not in _LAYER_SPECS or wire != _LEN:
                continue
            spec, version = _LAYER_SPECS[number]
            current = _peek_layer_name(buf, a, b, spec)
            name, type_name, blobs, legacy, nested_v0 = _parse_layer(buf, a, b, **spec)
            versions.add("V0" if nested_v0 else version)
            name = name if name is not None else f"layer{len(layers)}"
            if name in layers:
                warnings.append(f"layer '{name}' appears more than once; the last copy is used")
            layers[name] = _LayerRecord(type_name, tuple(blobs), legacy)
            current = None
    except (_Truncated, _Malformed) as exc:
        truncated = isinstance(exc, _Truncated)
        kind = "truncated or corrupt file" if truncated else "not a valid caffemodel"
        if current is None and truncated and exc.field in _LAYER_SPECS:
            current = _peek_layer_name(buf, exc.start, end, _LAYER_SPECS[exc.field][0])
        raise ParseError(f"{kind}: {exc}", file=str(path), layer=current) from None
    if not layers:
        raise ParseError("not a valid caffemodel: no layers found", file=str(path))
    if len(versions) > 1:
        warnings.append(f"mixes layer formats {sorted(versions)}")
    version = "V2" if "V2" in versions else ("V1" if "V1" in versions else "V0")
    return CaffeModelWeights(path, net_name, version, layers, warnings, buf)


def _peek_layer_name(buf, start: int, end: int, spec: dict) -> str | None:
    """The layer's name, read before its blobs so that errors inside them can name it."""
    try:
        for number, wire, a, b in _fields(buf, start, end):
            if number == spec["name_field"] and wire == _LEN:
                return _string(buf, a, b)
            if number == spec.get("v0_field") and wire == _LEN:
                return _peek_layer_name(buf, a, b, {"name_field": 1})
    except (_Truncated, _Malformed):
        pass
    return None


def read_blobproto(path: str | os.PathLike) -> np.ndarray:
    """A single serialized BlobProto (e.g. mean.binaryproto) as a float32 array.

    The shape is the legacy (num, channels, height, width) when the file uses it,
    else BlobShape's dims.
    """
    path = Path(path)
    buf = _open_buffer(path)
    try:
        blob, _ = _parse_blob(buf, 0, len(buf))
    except (_Truncated, _Malformed) as exc:
        raise ParseError(f"not a valid BlobProto: {exc}", file=str(path)) from None
    if blob.size == 0:
        raise ParseError("not a valid BlobProto: it holds no data", file=str(path))
    return blob


# --- writing -----------------------------------------------------------------

def _encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _len_field(number: int, payload_len: int) -> bytes:
    return _key(number, _LEN) + _encode_varint(payload_len)


def _blob_header(shape: tuple[int, ...], count: int) -> bytes:
    """BlobProto bytes up to (and including) the data field's length prefix."""
    dims = b"".join(_encode_varint(d) for d in shape)
    blob_shape = _len_field(1, len(dims)) + dims if shape else b""
    return _len_field(7, len(blob_shape)) + blob_shape + _len_field(5, 4 * count)


def write_caffemodel(path: str | os.PathLike, net_name: str,
                     layers: Iterable[tuple[str, str, list[np.ndarray]]]) -> None:
    """Stream a V2 NetParameter (layer name, type string, blobs) to `path`, atomically.

    Blobs are written as BlobShape + packed little-endian float32 data. Only one layer's
    blobs are held at a time; the file appears under its name only once complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            name = net_name.encode()
            out.write(_len_field(1, len(name)) + name)
            for layer_name, layer_type, blobs in layers:
                _write_layer(out, layer_name, layer_type, blobs)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_layer(out, name: str, type_name: str, blobs: list[np.ndarray]) -> None:
    arrays = [np.asarray(b, dtype="<f4", order="C") for b in blobs]
    headers = [_blob_header(a.shape, a.size) for a in arrays]
    name_b, type_b = name.encode(), type_name.encode()
    body = _len_field(1, len(name_b)) + name_b + _len_field(2, len(type_b)) + type_b
    blob_sizes = [len(h) + 4 * a.size for h, a in zip(headers, arrays)]
    size = len(body) + sum(len(_len_field(7, s)) + s for s in blob_sizes)
    out.write(_len_field(100, size) + body)
    for header, array, blob_size in zip(headers, arrays, blob_sizes):
        out.write(_len_field(7, blob_size) + header)
        out.write(array.reshape(-1).view(np.uint8))


__all__ = [
    "CaffeModelWeights", "read_caffemodel", "read_blobproto", "write_caffemodel",
    "fit_legacy_shape",
]
