"""Listeners for per-model outcomes as they complete, in the flow's own process.

The CLI registers a live display here; the flow calls `notify` for each finished
model, whichever task runner executed it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_listeners: list[Callable[[str, Any], None]] = []


def add_listener(listener: Callable[[str, Any], None]) -> None:
    _listeners.append(listener)


def remove_listener(listener: Callable[[str, Any], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def notify(event: str, payload: Any) -> None:
    for listener in list(_listeners):
        listener(event, payload)
