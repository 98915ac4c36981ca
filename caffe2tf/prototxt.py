"""Tolerant prototxt parsing: Caffe text format -> caffe_pb2.NetParameter.

Caffe forks (SSD, DeepLab, Faster R-CNN, ...) add layer types and `*_param` messages
that BVLC's schema does not know. Protobuf's own text parser either rejects them or
drops them silently; here the text is first read into a small syntax tree, then copied
into the message field by field, so an unknown field (scalar or a whole message) or an
unknown enum value is skipped and reported with its line, and the rest of the net is
still read; so is a value of the wrong kind. Malformed text (binary data, unbalanced
braces, truncation) raises ParseError naming the file and line.
"""
from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from caffe2tf.errors import ParseError
from caffe2tf.proto import caffe_pb2


@dataclass(frozen=True)
class SkippedField:
    """A field the schema does not know (or whose value it cannot hold), left out."""

    line: int
    path: str  # from the top of the file, e.g. "layer.convolution_param.filter_stride"
    reason: str
    value: str | None  # the raw text of a scalar value; None for a { ... } block
    entry: tuple[str, int] | None  # top-level repeated field and index, e.g. ("layer", 7)
    entry_path: str  # path inside that entry, e.g. "convolution_param.filter_stride"


@dataclass(frozen=True)
class ParsedPrototxt:
    net: caffe_pb2.NetParameter
    source: str
    skipped: tuple[SkippedField, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f"{self.source}: line {s.line}: {s.reason} '{s.path}' ignored"
                     for s in self.skipped)


@dataclass
class _Node:
    """One `name: value` or `name { ... }` entry of the text."""

    name: str
    line: int
    value: object  # str token / quoted bytes / list[_Node]
    kind: str  # "scalar", "string" or "message"


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+) | (?P<nl>\n) | (?P<comment>\#[^\n]*)
    | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<word>[A-Za-z0-9_.+\-]+)(?=[\s{}\[\]:<>,;\#]|$)
    | (?P<punct>[{}\[\]:<>,;])
    | (?P<bad>[^\s{}]+)
    """,
    re.VERBOSE,
)
_CLOSING = {"{": "}", "<": ">"}


class _Reader:
    def __init__(self, text: str, source: str):
        self.source = source
        self.tokens: list[tuple[str, str, int]] = []
        line = 1
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            kind = m.lastgroup
            if kind == "nl":
                line += 1
            elif kind not in ("ws", "comment"):
                self.tokens.append((kind, m.group(), line))
            pos = m.end()
        self.end_line = line
        self.i = 0

    def error(self, message: str) -> ParseError:
        line = self.tokens[self.i][2] if self.i < len(self.tokens) else self.end_line
        return ParseError(message, file=self.source, line=line)

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise self.error("unexpected end of file")
        self.i += 1
        return tok

    def fields(self, closing: str | None) -> list[_Node]:
        nodes: list[_Node] = []
        while True:
            tok = self.peek()
            if tok is None:
                if closing is not None:
                    raise self.error(f"unexpected end of file: missing '{closing}'")
                return nodes
            if tok[1] == closing:
                self.i += 1
                return nodes
            if tok[1] in (",", ";"):
                self.i += 1
                continue
            kind, name, line = self.take()
            if kind != "word" or not (name[0].isalpha() or name[0] == "_"):
                raise ParseError(f"expected a field name, got {name!r}", file=self.source, line=line)
            nodes.extend(self.field_value(name, line))

    def field_value(self, name: str, line: int) -> list[_Node]:
        colon = self.peek() is not None and self.peek()[1] == ":"
        if colon:
            self.i += 1
        tok = self.peek()
        if tok is None:
            raise self.error(f"missing value for field '{name}'")
        if tok[1] in _CLOSING:
            self.i += 1
            return [_Node(name, line, self.fields(_CLOSING[tok[1]]), "message")]
        if tok[1] == "[":
            self.i += 1
            out: list[_Node] = []
            while True:
                tok = self.peek()
                if tok is not None and tok[1] == "]":
                    self.i += 1
                    return out
                if tok is not None and tok[1] == ",":
                    self.i += 1
                    continue
                if tok is not None and tok[1] in _CLOSING:
                    self.i += 1
                    out.append(_Node(name, tok[2], self.fields(_CLOSING[tok[1]]), "message"))
                else:
                    out.append(self.scalar(name))
        if not colon:
            raise self.error(f"expected ':' or '{{' after field '{name}'")
        return [self.scalar(name)]

    def scalar(self, name: str) -> _Node:
        kind, text, line = self.take()
        if kind == "string":
            data = _unquote(text)
            while self.peek() is not None and self.peek()[0] == "string":
                data += _unquote(self.take()[1])
            return _Node(name, line, data, "string")
        if kind == "bad":
            # e.g. a path whose opening quote is missing: skip the rest of the line
            while self.peek() is not None and self.peek()[2] == line and self.peek()[1] not in "{}":
                text += self.take()[1]
            return _Node(name, line, text, "bad")
        if kind != "word":
            raise ParseError(f"bad value {text!r} for field '{name}'", file=self.source, line=line)
        return _Node(name, line, text, "scalar")


def _unquote(token: str) -> bytes:
    body = token[1:-1]
    return codecs.escape_decode(body.encode("utf-8"))[0]


_INT_TYPES = {
    FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOAT_TYPES = {FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE}
_BOOLS = {"true": True, "t": True, "1": True, "false": False, "f": False, "0": False}


class _Filler:
    """Copies a syntax tree into a message, collecting what it had to skip."""

    def __init__(self, source: str):
        self.source = source
        self.skipped: list[SkippedField] = []
        self.entry: tuple[str, int] | None = None  # the top-level entry being filled

    def skip(self, node: _Node, path: str, why: str) -> None:
        inner = path.split(".", 1)[1] if self.entry and "." in path else path
        value = None if node.kind == "message" else (
            node.value.decode("utf-8", "replace") if isinstance(node.value, bytes) else node.value)
        self.skipped.append(SkippedField(node.line, path, why, value, self.entry, inner))

    def fill(self, msg: Message, nodes: list[_Node], path: str) -> None:
        fields = msg.DESCRIPTOR.fields_by_name
        for node in nodes:
            where = f"{path}.{node.name}" if path else node.name
            field = fields.get(node.name)
            if field is None:
                self.skip(node, where, "unknown field")
                continue
            repeated = field.is_repeated
            if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
                if node.kind != "message":
                    raise ParseError(f"field '{where}' needs a {{ ... }} block",
                                     file=self.source, line=node.line)
                child = getattr(msg, node.name).add() if repeated else getattr(msg, node.name)
                if not repeated:
                    child.SetInParent()
                if not path and repeated:
                    self.entry = (node.name, len(getattr(msg, node.name)) - 1)
                self.fill(child, node.value, where)
                if not path:
                    self.entry = None
                continue
            if node.kind == "message":
                raise ParseError(f"field '{where}' takes a value, not a block",
                                 file=self.source, line=node.line)
            if node.kind == "bad":
                self.skip(node, where, f"unreadable value {node.value!r} for")
                continue
            value = self.convert(field, node, where)
            if value is None:
                continue
            if repeated:
                getattr(msg, node.name).append(value)
            else:
                setattr(msg, node.name, value)

    def convert(self, field: FieldDescriptor, node: _Node, where: str) -> object:
        raw = node.value
        try:
            if field.type == FieldDescriptor.TYPE_STRING:
                if node.kind != "string":
                    raise ValueError("expected a quoted string")
                return raw.decode("utf-8")
            if field.type == FieldDescriptor.TYPE_BYTES:
                if node.kind != "string":
                    raise ValueError("expected a quoted string")
                return raw
            if node.kind == "string":
                raise ValueError("unexpected quoted string")
            if field.type == FieldDescriptor.TYPE_ENUM:
                enum = field.enum_type
                if raw in enum.values_by_name:
                    return enum.values_by_name[raw].number
                if re.fullmatch(r"-?\d+", raw) and int(raw) in enum.values_by_number:
                    return int(raw)
                self.skip(node, where, f"unknown enum value {raw!r} for")
                return None
            if field.type == FieldDescriptor.TYPE_BOOL:
                if raw.lower() not in _BOOLS:
                    raise ValueError("expected true or false")
                return _BOOLS[raw.lower()]
            if field.type in _INT_TYPES:
                return int(raw, 0) if not re.fullmatch(r"[-+]?\d+", raw) else int(raw)
            if field.type in _FLOAT_TYPES:
                return _parse_float(raw)
        except (ValueError, UnicodeDecodeError):
            # Caffe would refuse the file; templates in the zoo (`num_output: NUM_OUTPUTS`)
            # still describe a readable net, so the field is skipped and reported.
            self.skip(node, where, f"bad value {raw!r} for")
            return None
        raise ParseError(f"unsupported field type for '{where}'", file=self.source, line=node.line)


def _parse_float(text: str) -> float:
    lowered = text.lower().rstrip("f") if not text.lower().endswith("inf") else text.lower()
    if lowered in ("inf", "+inf", "infinity"):
        return math.inf
    if lowered in ("-inf", "-infinity"):
        return -math.inf
    if lowered == "nan":
        return math.nan
    return float(lowered)


def parse_text(text: str, message: Message, source: str = "<string>") -> list[SkippedField]:
    """Fill `message` from Caffe text format; returns what had to be skipped."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ParseError("binary data in a text prototxt", file=source, line=line)
    tree = _Reader(text, source).fields(None)
    filler = _Filler(source)
    try:
        filler.fill(message, tree, "")
    except (TypeError, ValueError) as exc:  # out-of-range integers and the like
        raise ParseError(f"bad value: {exc}", file=source) from None
    return filler.skipped


def parse_prototxt_text(text: str, source: str = "<string>") -> ParsedPrototxt:
    net = caffe_pb2.NetParameter()
    skipped = parse_text(text, net, source)
    return ParsedPrototxt(net=net, source=source, skipped=tuple(skipped))


def parse_prototxt(path: str | Path) -> ParsedPrototxt:
    """Read a prototxt file into a NetParameter (any format version, not yet upgraded)."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot read prototxt: {exc.strerror or exc}", file=source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError("not a text prototxt (invalid UTF-8, binary data?)",
                         file=source, line=line) from None
    return parse_prototxt_text(text, source)
