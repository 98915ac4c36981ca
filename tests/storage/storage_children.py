"""Child processes for the storage tests (run as a script, never imported by pytest).

    storage_children.py crash URL MODEL            start a run, leave one attempt running
                                                   and one queued, print their ids, hang
    storage_children.py write URL RUN MODEL N GO   after file GO exists, write N attempts
                                                   (queued -> running -> converted); prints "ready", then the ids
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from storage.catalog import Catalog
from storage.records import AttemptResult, ValidationRecord


def crash(url: str, model: str) -> None:
    catalog = Catalog.open(url)
    run = catalog.start_run("doomed-flow")
    running = catalog.queue_attempt(model, run, ["sha-running"], "0.1", "2.21.0")
    catalog.mark_running(running)
    queued = catalog.queue_attempt(model, run, ["sha-queued"], "0.1", "2.21.0")
    print(json.dumps({"run": run, "running": running, "queued": queued}), flush=True)
    time.sleep(600)


def write_attempts(catalog: Catalog, run: int, model: str, count: int, tag: str) -> list[int]:
    """The write pattern of one worker: three transactions per attempt, plus validations."""
    ids = []
    for i in range(count):
        attempt = catalog.queue_attempt(model, run, [f"{tag}-{i}"], "0.1", "2.21.0")
        catalog.mark_running(attempt)
        catalog.finish_attempt(attempt, AttemptResult("converted", stage_timings={"x": 0.1},
                                                      layer_type_counts={"ReLU": i}))
        catalog.record_validations(attempt, [ValidationRecord(
            "s.jpg", "prob", "opencv", "4.14.0", 0.0, 0.0, 1.0, True)])
        ids.append(attempt)
    return ids


def write(url: str, run: str, model: str, count: str, go: str) -> None:
    catalog = Catalog.open(url)
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.01)
    print(json.dumps(write_attempts(catalog, int(run), model, int(count), f"proc-{model}")),
          flush=True)


if __name__ == "__main__":
    {"crash": crash, "write": write}[sys.argv[1]](*sys.argv[2:])
