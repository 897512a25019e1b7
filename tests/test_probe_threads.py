"""probe._Workers: what ThreadPoolExecutor gave probe_all (order, a worker bound, errors surfaced)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, List

import pytest

from cnidoctor.plugins import probe


def _sleeper(
    value: int, log: List[int], running: List[int], peak: List[int], lock: threading.Lock
) -> Callable[[], Any]:
    def call() -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01 * (value % 3))  # finish out of order
        with lock:
            running[0] -= 1
            log.append(value)
        return value

    return call


def _in_threads(calls: List[Callable[[], Any]], workers: int) -> List[Any]:
    """Every call submitted to one pool of ``workers`` threads, then its results."""
    pool = probe._Workers(workers)
    for call in calls:
        pool.submit(call)
    return pool.results()


def test_results_in_call_order_with_at_most_workers_at_once() -> None:
    log: List[int] = []
    running, peak = [0], [0]
    lock = threading.Lock()
    calls = [_sleeper(n, log, running, peak, lock) for n in range(11)]
    assert _in_threads(calls, 4) == list(range(11))
    assert sorted(log) == list(range(11))
    assert 1 < peak[0] <= 4


def test_first_error_in_call_order_is_raised_after_every_call_ran() -> None:
    ran: List[int] = []

    def ok(n: int) -> Callable[[], Any]:
        return lambda: ran.append(n) or n

    def fail(message: str) -> Callable[[], Any]:
        def call() -> Any:
            raise ValueError(message)

        return call

    with pytest.raises(ValueError, match="first"):
        _in_threads([ok(0), fail("first"), ok(2), fail("second"), ok(4)], 2)
    assert sorted(ran) == [0, 2, 4]


def test_probing_does_not_import_concurrent_futures() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, cnidoctor.plugins.probe; print('concurrent.futures' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    assert out.strip() == "False"
