"""Argument types shared by several subcommands."""
from __future__ import annotations

import argparse


def blob_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """`--input-shape BLOB=D0,D1,...`: a blob name and its positive dimensions."""
    name, sep, dims = text.partition("=")
    try:
        shape = tuple(int(d) for d in dims.split(","))
    except ValueError:
        shape = ()
    if not sep or not name or not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(
            f"expected BLOB=D0,D1,... with positive dims, got {text!r}")
    return name, shape
