"""Child side of zoo2tf.isolation: serve `module:function(**kwargs)` calls over JSON lines.

The protocol owns the original stdout; anything the callee (or TensorFlow's C++ code)
prints goes to stderr, which the parent keeps as the crash log.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback

TRACEBACK_LIMIT = 4000
PARENT_POLL_S = 0.5


def _serve(protocol: int) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            module_name, _, func_name = request["func"].partition(":")
            func = getattr(importlib.import_module(module_name), func_name)
            reply = {"id": request["id"], "ok": True, "result": func(**request["kwargs"])}
        except Exception as exc:  # every callee failure is reported, the worker lives on
            reply = {"id": request["id"], "ok": False, "error": {
                "type": type(exc).__name__,
                "category": getattr(exc, "category", "crash"),
                "message": str(exc) or type(exc).__name__,
                "traceback": traceback.format_exc()[-TRACEBACK_LIMIT:],
            }}
        _write_all(protocol, json.dumps(reply, default=str).encode() + b"\n")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent died (SIGKILL of the whole run) must not go on writing
    outputs that the next run's worker may be writing too."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    _exit_with_parent(os.getppid())
    protocol = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _serve(protocol)


if __name__ == "__main__":
    main()
