"""The one child sandbox (cnidoctor/child.py), tested against what the kernel and coreutils do:
exact environment, no shell, own session, bounded output, and nothing left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cnidoctor.child import run_child


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "child.sh"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _state(pid: int) -> str:
    """The process's state letter from /proc, or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def _gone_soon(pid: int) -> bool:
    # SIGKILL is delivered at once; an orphaned grandchild is reaped by init shortly after.
    for _ in range(100):
        if _state(pid) in ("gone", "Z"):
            return True
        time.sleep(0.02)
    return False


def test_exactly_the_given_environment_and_no_shell() -> None:
    env_run = run_child(["/usr/bin/env"], {"ONLY": "this"}, 10)
    assert bytes(env_run.out.data) == b"ONLY=this\n"
    echo = run_child(["/bin/echo", "$HOME;id"], {}, 10)
    assert bytes(echo.out.data) == b"$HOME;id\n"  # a shell would have expanded both
    assert echo.status is not None and os.WIFEXITED(echo.status) and os.WEXITSTATUS(echo.status) == 0


def test_stdin_is_written_then_closed_or_dev_null() -> None:
    assert bytes(run_child(["/bin/cat"], {}, 10, stdin=b'{"x":1}').out.data) == b'{"x":1}'
    assert bytes(run_child(["/bin/cat"], {}, 10).out.data) == b""  # /dev/null: EOF at once


def test_own_session_and_process_group() -> None:
    run = run_child(["/bin/cat", "/proc/self/stat"], {}, 10)
    fields = bytes(run.out.data).decode().rsplit(")", 1)[1].split()
    pid = int(bytes(run.out.data).split()[0])
    assert (int(fields[2]), int(fields[3])) == (pid, pid)  # pgrp, session
    assert pid != os.getpgrp()


def test_each_stream_is_capped_and_counted(tmp_path: Path) -> None:
    child = _script(tmp_path, "head -c 200000 /dev/zero\nhead -c 300 /dev/zero >&2\nexit 3\n")
    run = run_child([child], {"PATH": "/usr/bin:/bin"}, 10, cap=1000)
    assert (len(run.out.data), run.out.total, run.out.truncated) == (1000, 200000, True)
    assert (len(run.err.data), run.err.total, run.err.truncated) == (300, 300, False)
    assert run.status is not None and os.WEXITSTATUS(run.status) == 3


@pytest.mark.parametrize(
    "ending,lingering,stdout",
    [
        ("wait\n", False, b""),  # the child itself outlives the deadline
        ("echo done\nexit 0\n", True, b"done\n"),  # it exits; the grandchild holds its pipes
    ],
)
def test_the_deadline_kills_the_whole_group(tmp_path: Path, ending: str, lingering: bool, stdout: bytes) -> None:
    pidfile = tmp_path / "pid"
    child = _script(tmp_path, f"sleep 60 &\necho $! > {pidfile}\n{ending}")
    start = time.monotonic()
    run = run_child([child], {"PATH": "/usr/bin:/bin"}, 1.0)
    assert time.monotonic() - start < 5
    assert (run.status, run.eof, run.lingering) == (None, False, lingering)
    assert bytes(run.out.data) == stdout
    assert _gone_soon(int(pidfile.read_text()))  # the grandchild, killed with the group


def test_a_file_that_cannot_start_is_an_exec_error(tmp_path: Path) -> None:
    run = run_child([str(tmp_path / "missing")], {}, 10)
    assert run.exec_error == "no such file or directory" and run.status is None
