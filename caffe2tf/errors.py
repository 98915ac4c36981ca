"""Typed errors of the converter. Each names the file and, where there is one, the layer.

`str(err)` is one line meant for users; `err.problems()` is one line per problem
(an UnsupportedLayers error lists every offending type, not only the first).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


class Caffe2TFError(Exception):
    """Base of every error caffe2tf raises on bad input."""

    category = "convert error"

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None):
        self.message = message
        self.file = file
        self.layer = layer
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.layer:
            where.append(f"layer '{self.layer}'")
        return f"{': '.join(where)}: {self.message}" if where else self.message

    def problems(self) -> list[str]:
        return [str(self)]


class ParseError(Caffe2TFError):
    """A prototxt, caffemodel or binaryproto that cannot be read."""

    category = "parse error"

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None,
                 line: int | None = None):
        self.line = line
        if line is not None:
            message = f"line {line}: {message}"
        super().__init__(message, file=file, layer=layer)


class GraphError(Caffe2TFError):
    """A net whose structure is invalid: missing bottoms, impossible shapes, bad params."""

    category = "parse error"


class WeightMismatch(Caffe2TFError):
    """Weights that do not fit the network: missing, extra or mis-shaped blobs."""

    category = "weight mismatch"

    def __init__(self, message: str, *, file: str | None = None, layer: str | None = None,
                 expected: object = None, got: object = None):
        self.expected = expected
        self.got = got
        if expected is not None or got is not None:
            message = f"{message} (expected {expected}, got {got})"
        super().__init__(message, file=file, layer=layer)


class UnsupportedLayers(Caffe2TFError):
    """Layer types that caffe2tf cannot convert; lists them all."""

    category = "unsupported layer"

    def __init__(self, types: Mapping[str, Sequence[str]], *, file: str | None = None):
        self.types = {t: list(names) for t, names in sorted(types.items())}
        summary = ", ".join(f"{t} ({len(n)})" for t, n in self.types.items())
        super().__init__(f"unsupported layer types: {summary}", file=file)

    def problems(self) -> list[str]:
        prefix = f"{self.file}: " if self.file else ""
        return [
            f"{prefix}unsupported layer type '{t}' in layers: {', '.join(names)}"
            for t, names in self.types.items()
        ]
