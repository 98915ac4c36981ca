"""Run risky work (conversion, validation) in long-lived child processes.

A segfault, an out-of-memory or a hang inside TensorFlow or OpenCV must cost one model,
not the night. Each `IsolatedWorker` owns one child (`python -m zoo2tf.worker_main`) that
serves calls over a JSON-lines pipe; the parent enforces a wall-clock timeout and a
resident-memory cap by polling, kills the child when either is exceeded, and starts a
fresh child on the next call. Keeping the child alive between calls avoids paying the
TensorFlow import (about 2.5 s) for every model.
"""
from __future__ import annotations

import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil

POLL_INTERVAL_S = 0.05
STDERR_TAIL_BYTES = 4000
# A worker holding more than this share of its memory cap after a call is replaced.
RECYCLE_SHARE = 0.4


@dataclass(frozen=True)
class IsolatedFailure:
    """Why an isolated call produced no result."""

    category: str  # "crash" | "timeout" | "oom" | the callee's own error category
    message: str
    error_type: str = ""
    traceback: str = ""


class IsolatedCallError(Exception):
    def __init__(self, failure: IsolatedFailure):
        self.failure = failure
        super().__init__(f"{failure.category}: {failure.message}")


class IsolatedWorker:
    """One child process; `call` runs `module:function(**kwargs)` inside it."""

    def __init__(self, *, memory_cap_bytes: int | None = None,
                 env: Mapping[str, str] | None = None):
        self.memory_cap_bytes = memory_cap_bytes
        self._env = dict(os.environ if env is None else env)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_file: Any = None
        self._buffer = b""
        self._next_id = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr_file = tempfile.TemporaryFile()
        self._buffer = b""
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "zoo2tf.worker_main"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr_file,
            env=self._env, start_new_session=True,
        )
        return self._proc

    def _stderr_tail(self) -> str:
        if self._stderr_file is None:
            return ""
        self._stderr_file.seek(0, os.SEEK_END)
        size = self._stderr_file.tell()
        self._stderr_file.seek(max(0, size - STDERR_TAIL_BYTES))
        return self._stderr_file.read().decode("utf-8", "replace")

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        self._proc = None

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()  # the child exits on EOF
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def _rss(self, proc: subprocess.Popen[bytes]) -> int:
        try:
            parent = psutil.Process(proc.pid)
            return parent.memory_info().rss + sum(
                c.memory_info().rss for c in parent.children(recursive=True))
        except psutil.Error:
            return 0

    def _death(self, proc: subprocess.Popen[bytes]) -> IsolatedFailure:
        code = proc.wait()
        self._proc = None
        tail = self._stderr_tail()
        if code < 0:
            name = signal.Signals(-code).name
            return IsolatedFailure("crash", f"worker killed by {name}", "signal", tail)
        return IsolatedFailure("crash", f"worker exited with status {code}", "exit", tail)

    def call(self, func: str, kwargs: Mapping[str, Any], *, timeout: float) -> Any:
        """Run `func` ("package.module:function") with JSON-serialisable kwargs."""
        proc = self._proc if self._proc and self._proc.poll() is None else self._start()
        self._next_id += 1
        request = {"id": self._next_id, "func": func, "kwargs": dict(kwargs)}
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            raise IsolatedCallError(self._death(proc)) from None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                if time.monotonic() > deadline:
                    self._kill()
                    raise IsolatedCallError(IsolatedFailure(
                        "timeout", f"{func} exceeded {timeout:.0f} s", "timeout",
                        self._stderr_tail()))
                if self.memory_cap_bytes and self._rss(proc) > self.memory_cap_bytes:
                    self._kill()
                    raise IsolatedCallError(IsolatedFailure(
                        "oom", f"{func} exceeded the memory cap of "
                        f"{self.memory_cap_bytes // 2**20} MiB", "memory cap",
                        self._stderr_tail()))
                if selector.select(POLL_INTERVAL_S):
                    chunk = os.read(proc.stdout.fileno(), 1 << 16)
                    if not chunk:
                        raise IsolatedCallError(self._death(proc))
                    self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply = json.loads(line)
        if self.memory_cap_bytes and self._rss(proc) > self.memory_cap_bytes * RECYCLE_SHARE:
            # TensorFlow keeps memory from earlier models; start the next call afresh
            # rather than let a large model hit the cap because of its predecessors.
            self.close()
        if reply.get("ok"):
            return reply["result"]
        error = reply["error"]
        raise IsolatedCallError(IsolatedFailure(
            error["category"], error["message"], error["type"], error["traceback"]))


class WorkerPool:
    """A bounded set of IsolatedWorkers shared by the threads of one process."""

    def __init__(self, size: int, *, memory_cap_bytes: int | None = None,
                 env: Mapping[str, str] | None = None):
        self._idle: queue.Queue[IsolatedWorker] = queue.Queue()
        self._all = [IsolatedWorker(memory_cap_bytes=memory_cap_bytes, env=env)
                     for _ in range(size)]
        for worker in self._all:
            self._idle.put(worker)
        self._lock = threading.Lock()

    @contextmanager
    def worker(self) -> Iterator[IsolatedWorker]:
        worker = self._idle.get()
        try:
            yield worker
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        with self._lock:
            for worker in self._all:
                worker.close()
