"""Eight threads and two processes write attempts at once: nothing lost, nothing locked."""
from __future__ import annotations

import json
import subprocess
import threading

import pytest

from storage import queries
from storage.catalog import Catalog

from storage_children import write_attempts
from storage_data import MODELS, NOW

THREADS = 8
PROCESSES = 2
PER_WRITER = 15


@pytest.mark.timeout(180)
def test_threads_and_processes_write_attempts_at_once(catalog: Catalog, db_url: str, tmp_path,
                                                      child_command: list[str],
                                                      child_env: dict[str, str]) -> None:
    catalog.upsert_models(MODELS, NOW)
    run = catalog.start_run()
    models = [m.id for m in MODELS]
    go = tmp_path / "go"
    children = [subprocess.Popen(
        [*child_command, "write", db_url, str(run), models[i], str(PER_WRITER), str(go)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env)
        for i in range(PROCESSES)]
    start = threading.Barrier(THREADS + 1)
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        start.wait()
        try:
            results[index] = write_attempts(catalog, run, models[index % len(models)],
                                            PER_WRITER, f"thread-{index}")
        except BaseException as exc:  # reported below with the others
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    # Release everyone together, once the children are connected and waiting.
    assert [child.stdout.readline().strip() for child in children] == ["ready"] * PROCESSES
    go.touch()
    start.wait()
    for thread in threads:
        thread.join(timeout=150)
    outputs = [child.communicate(timeout=150) for child in children]

    assert errors == []
    for child, (out, err) in zip(children, outputs):
        assert child.returncode == 0, err
        assert "locked" not in err
        results[len(results)] = json.loads(out)
    written = [i for ids in results.values() for i in ids]
    total = (THREADS + PROCESSES) * PER_WRITER
    assert len(written) == len(set(written)) == total
    assert catalog.count_rows("conversion") == total
    assert catalog.count_rows("validation") == total
    statuses = queries.status_counts(catalog.engine)
    assert statuses.set_index("status")["models"].to_dict() == {"converted": len(models)}
