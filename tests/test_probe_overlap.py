"""The probes run while the rest of the check does (engine.start_probes, plugins/probe.Probing),
and the cold path's small replacements behave as the stdlib code they replace."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from cnidoctor import cache, child, cli, engine
from cnidoctor.model import Options
from cnidoctor.plugins import probe
from cnidoctor.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent

REPLY = '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(tmp_path / "cache"))


def _marking_plugin(bin_dir: Path, name: str, marker: Path, delay: float = 0.0) -> Path:
    """A plugin that leaves ``marker`` as soon as it runs, then answers VERSION after ``delay``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n: > '{marker}'\nsleep {delay}\necho '{REPLY}'\n")
    path.chmod(0o755)
    return path


def _appears(path: Path, within: float = 5.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if path.exists():
            return True
        time.sleep(0.01)
    return False


def test_a_probe_runs_from_add_not_from_collect(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    plugin = _marking_plugin(tmp_path / "bin", "slow", marker, delay=0.2)
    probing = probe.Probing(use_cache=False)
    probing.add(str(plugin))
    assert _appears(marker)  # before anyone collects
    result = probing.collect()[str(plugin)]
    assert result.ok and result.supported == ("0.4.0", "1.0.0")


def test_probing_answers_as_probe_all_and_runs_one_file_once(tmp_path: Path) -> None:
    log = tmp_path / "log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = bin_dir / "real"
    real.write_text(f"#!/bin/sh\necho run >> '{log}'\necho '{REPLY}'\n")
    real.chmod(0o755)
    (bin_dir / "alias").symlink_to(real)
    paths = [str(real), str(bin_dir / "alias"), str(real)]
    results = probe.probe_all(paths, use_cache=False)
    assert list(results) == [str(real), str(bin_dir / "alias")]
    assert [r.path for r in results.values()] == list(results)
    assert log.read_text().splitlines() == ["run"]


def test_workers_started_as_calls_arrive_never_exceed_the_limit() -> None:
    running, peak = [0], [0]
    lock = threading.Lock()

    def call(value: int):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1
            return value

        return run

    pool = probe._Workers(3)
    for n in range(5):
        pool.submit(call(n))
    time.sleep(0.2)  # every thread has run out of work and ended
    for n in range(5, 9):
        pool.submit(call(n))  # a new thread starts for work that comes later
    assert pool.results() == list(range(9))
    assert 1 < peak[0] <= 3


def test_the_engine_starts_the_probes_before_the_node_state_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """engine.run: resolve + probe start come right after parsing; the rest of the run (here the
    node state) happens while the plugin answers, and the replies reach the report."""
    marker = tmp_path / "ran"
    bin_dir = tmp_path / "bin"
    _marking_plugin(bin_dir, "slow", marker, delay=0.3)
    _marking_plugin(bin_dir, "loopback", tmp_path / "loopback-ran")
    netd = tmp_path / "net.d"
    netd.mkdir()
    doc = {"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "slow"}]}
    (netd / "10-n.conflist").write_text(json.dumps(doc))
    seen: List[bool] = []
    real_node_state = engine.node_state

    def node_state(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_appears(marker))
        return real_node_state(*args, **kwargs)

    monkeypatch.setattr(engine, "node_state", node_state)
    options = Options(paths=(str(netd),), bin_dirs=(str(bin_dir),), probe=True, dirs_from_flags=True)
    report = engine.run(options, Settings(root=str(tmp_path), cwd=str(tmp_path)))
    assert seen == [True]
    slow = next(p for p in report.plugins if p.type == "slow")
    assert slow.cni_version == "1.0.0" and slow.supported == ("0.4.0", "1.0.0")


def test_no_probe_starts_nothing() -> None:
    assert engine.start_probes((), Options(paths=(), probe=False), None) is None


# --- the stdlib replacements ------------------------------------------------------------------


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-3", "132", "7"])
def test_terminal_width_is_shutils(columns: object, monkeypatch: pytest.MonkeyPatch) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    assert cli.terminal_width() == shutil.get_terminal_size((80, 24)).columns


def test_temp_file_is_private_new_and_never_follows_a_link(tmp_path: Path) -> None:
    handle, name = cache._temp_file(str(tmp_path), "probes.json")
    os.close(handle)
    assert os.path.dirname(name) == str(tmp_path) and os.path.basename(name).startswith(".probes.json-")
    assert stat.S_IMODE(os.stat(name).st_mode) == 0o600
    with pytest.raises(FileExistsError):  # O_EXCL: an existing name (or a planted link) is refused
        os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    assert cache.write_bytes_atomically("x.json", b"{}") is True
    assert [n for n in os.listdir(cache.cache_dir()) if n.endswith(".tmp")] == []


def _closes_pipes_then_sleeps(tmp_path: Path, seconds: float, timeout: float) -> Tuple[child.ChildRun, float]:
    """Run a child that closes its output at once and exits ``seconds`` later: (run, time taken)."""
    script = tmp_path / "closes-then-sleeps"
    script.write_text(f"#!/bin/sh\nexec >/dev/null 2>&1\nsleep {seconds}\n")
    script.chmod(0o755)
    started = time.monotonic()
    run = child.run_child([str(script)], {"PATH": child.SAFE_PATH}, timeout)
    return run, time.monotonic() - started


def test_waiting_for_exit_wakes_when_the_child_exits_not_at_a_poll(tmp_path: Path) -> None:
    """The pipes close first, the process exits 0.2 s later: the wait ends with the exit."""
    run, took = _closes_pipes_then_sleeps(tmp_path, 0.2, 5)
    assert run.status == 0 and run.eof
    assert 0.2 <= took < 2.0


def test_waiting_for_exit_keeps_its_deadline(tmp_path: Path) -> None:
    run, took = _closes_pipes_then_sleeps(tmp_path, 30, 0.3)
    assert run.status is None and took < 3.0


def test_an_exit_before_the_results_still_waits_for_the_probes(tmp_path: Path) -> None:
    """The workers are not threading's threads (their start does not wait for the GIL), so
    interpreter exit would not join them: a tool error between the start of the probes and
    their collection must still let each probe run to its end (where a hung plugin's group is
    killed by its deadline) instead of leaving the plugin behind."""
    marker = tmp_path / "finished"
    script = f"""
import sys, time
from cnidoctor.plugins import probe
def call():
    time.sleep(0.3)
    open({str(marker)!r}, "w").close()
probe._Workers(2).submit(call)
sys.exit(2)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, timeout=30)
    assert done.returncode == 2
    assert marker.exists()
