"""The `zoo2tf` command line: one parser, subcommands registered by their own modules.

Each entry of COMMANDS names a module under `zoo2tf.commands` that defines
`register(subparsers)`; the module must stay cheap to import (no TensorFlow, no
Prefect at import time) so that `zoo2tf --help` and catalog queries start fast.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from zoo2tf import __version__

COMMANDS: tuple[str, ...] = (
    "caffe_env",
    "synth_weights",
    "inspect",
    "mirror",
    "ls",
    "show",
    "failures",
    "catalog",
    "convert",
    "validate",
    "predict",
    "download",
    "store_sweep",
    "dashboard",
    "run",
    "serve",
    "bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo2tf", description="zoo2tf: the Caffe Model Zoo, converted nightly into verified "
                                   "TensorFlow models.")
    parser.add_argument("--version", action="version", version=f"zoo2tf {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"zoo2tf.commands.{name}").register(subparsers)
    return parser


def quiet_environment() -> None:
    """Defaults for a terminal on a machine without internet: TensorFlow's start-up chatter
    needs both variables to stay quiet, and Prefect must not try to send telemetry."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def main(argv: Sequence[str] | None = None) -> int:
    quiet_environment()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("zoo2tf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
