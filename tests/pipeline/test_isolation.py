import os
from pathlib import Path

import pytest

from zoo2tf.isolation import IsolatedCallError, IsolatedWorker, WorkerPool

TARGETS = "isolation_targets"


@pytest.fixture
def worker():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    w = IsolatedWorker(memory_cap_bytes=400 * 2**20, env=env)
    yield w
    w.close()


def test_call_returns_result_and_reuses_the_process(worker):
    first = worker.call(f"{TARGETS}:echo", {"value": [1, 2]}, timeout=30)
    second = worker.call(f"{TARGETS}:echo", {"value": "x"}, timeout=30)
    assert first["value"] == [1, 2] and second["value"] == "x"
    assert first["pid"] == second["pid"]


def test_segfault_is_a_crash_and_the_next_call_gets_a_fresh_process(worker):
    before = worker.call(f"{TARGETS}:echo", {"value": 1}, timeout=30)["pid"]
    with pytest.raises(IsolatedCallError) as err:
        worker.call(f"{TARGETS}:segfault", {}, timeout=30)
    assert err.value.failure.category == "crash"
    assert "SIGSEGV" in err.value.failure.message
    after = worker.call(f"{TARGETS}:echo", {"value": 2}, timeout=30)["pid"]
    assert after != before


def test_hang_is_a_timeout(worker):
    with pytest.raises(IsolatedCallError) as err:
        worker.call(f"{TARGETS}:hang", {}, timeout=1.5)
    assert err.value.failure.category == "timeout"
    assert worker.pid is None
    assert worker.call(f"{TARGETS}:echo", {"value": 3}, timeout=30)["value"] == 3


def test_memory_cap_is_enforced(worker):
    with pytest.raises(IsolatedCallError) as err:
        worker.call(f"{TARGETS}:hog_memory", {"megabytes": 800}, timeout=60)
    assert err.value.failure.category == "oom"


def test_callee_exception_is_reported_with_its_type(worker):
    with pytest.raises(IsolatedCallError) as err:
        worker.call(f"{TARGETS}:fail", {}, timeout=30)
    failure = err.value.failure
    assert failure.error_type == "ValueError" and "conv1" in failure.message
    assert "Traceback" in failure.traceback


def test_output_on_stdout_does_not_corrupt_the_protocol(worker):
    assert worker.call(f"{TARGETS}:shout", {}, timeout=30) == "ok"


def test_pool_hands_out_distinct_workers():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    pool = WorkerPool(2, env=env)
    try:
        with pool.worker() as a, pool.worker() as b:
            pa = a.call(f"{TARGETS}:echo", {"value": 0}, timeout=30)["pid"]
            pb = b.call(f"{TARGETS}:echo", {"value": 0}, timeout=30)["pid"]
        assert pa != pb
    finally:
        pool.close()


def test_worker_holding_much_memory_after_a_call_is_replaced(worker):
    first = worker.call(f"{TARGETS}:keep_memory", {"megabytes": 10}, timeout=30)
    assert worker.pid == first  # well under the cap: kept for the next call
    second = worker.call(f"{TARGETS}:keep_memory", {"megabytes": 250}, timeout=30)
    assert second == first and worker.pid is None  # 260 MB of a 400 MB cap: replaced
    assert worker.call(f"{TARGETS}:echo", {"value": 1}, timeout=30)["pid"] != first
