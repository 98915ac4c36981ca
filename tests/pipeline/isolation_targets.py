"""Callables run inside zoo2tf.isolation workers by test_isolation.py."""
import ctypes
import os
import time


def echo(value):
    return {"value": value, "pid": os.getpid()}


def segfault():
    ctypes.string_at(0)


def hang():
    time.sleep(3600)


def hog_memory(megabytes):
    blocks = [bytearray(2**20) for _ in range(megabytes)]
    time.sleep(3600)
    return len(blocks)


def fail():
    raise ValueError("bad input in layer 'conv1'")


def shout():
    print("noise on stdout must not break the protocol")
    os.system("echo noise from a child process")
    return "ok"


_kept = []


def keep_memory(megabytes):
    """Return while holding memory, as TensorFlow does after building a model."""
    _kept.append(bytearray(megabytes * 2**20))
    for block in _kept:
        block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not virtual
    return os.getpid()
