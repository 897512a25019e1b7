"""Run one child process under a deadline and leave nothing of it behind.

The one sandbox for every program cnidoctor starts (a plugin's VERSION probe in
``plugins/probe.py``, a runtime's ``--version`` in ``runtime/version.py``); what is sent and
in which environment stays with the caller. Every child: argv only (no shell); the caller's
environment and nothing of ours; cwd ``/``; close_fds; its own session, so its process group
id is its pid; stdout and stderr each kept up to a cap (the rest is read and discarded, so a
chatty child cannot block on a full pipe); at the end the whole group is SIGKILLed, so a
grandchild that outlives the child is killed too, and the pipes are closed without waiting
for a grandchild that holds them open (Go's os/exec Wait waits for stdout to close, and so
would libcni, containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0; cnidoctor must not).
"""

from __future__ import annotations

import os
import select
import selectors
import signal
import subprocess
import time
from dataclasses import field
from typing import IO, Dict, Mapping, Optional, Sequence, Tuple

from .frozen import dataclass

__all__ = ["OUTPUT_CAP", "SAFE_PATH", "Capture", "ChildRun", "run_child"]

OUTPUT_CAP = 64 * 1024
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# How long to wait for a SIGKILLed child to be reapable. Only a child we may not signal (it
# changed its uid) outlives this; it is left behind rather than hang cnidoctor.
REAP_GRACE = 2.0


@dataclass
class Capture:
    """One stream's first ``cap`` bytes and how many bytes it wrote in all."""

    cap: int = OUTPUT_CAP
    data: bytearray = field(default_factory=bytearray)
    total: int = 0

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data.extend(chunk[:room])
        self.total += len(chunk)

    @property
    def truncated(self) -> bool:
        return self.total > self.cap


@dataclass(frozen=True)
class ChildRun:
    """What one run left: its output, and how it ended.

    ``status``: the raw wait status when the child exited and both pipes reached EOF before
    the deadline; None otherwise. ``eof``: both pipes closed before the deadline. ``lingering``:
    the child exited but something in its group held the pipes open past the deadline.
    ``exec_error``: why it could not be started (strerror, lower case); nothing ran then."""

    out: Capture
    err: Capture
    status: Optional[int]
    eof: bool = False
    lingering: bool = False
    exec_error: Optional[str] = None


def run_child(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    stdin: Optional[bytes] = None,
    cap: int = OUTPUT_CAP,
) -> ChildRun:
    """Run ``argv`` once with exactly ``env`` under the deadline; ``stdin`` None means
    /dev/null, bytes are written and stdin closed."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd="/",
            close_fds=True,
            start_new_session=True,
            shell=False,
        )
    except OSError as exc:
        return ChildRun(Capture(cap), Capture(cap), None, exec_error=(exc.strerror or str(exc)).lower())
    deadline = time.monotonic() + timeout
    try:
        _feed(proc.stdin, stdin)
        out, err, eof = _pump(proc, deadline, cap)
        exited = _wait_exit(proc.pid, deadline) if eof else _exited(proc.pid)
    finally:
        _kill_group(proc.pid)  # the deadline, leftovers of a child that forked, or our error
        status = _reap(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    if eof and exited:
        return ChildRun(out, err, status, eof=True)
    return ChildRun(out, err, None, eof=eof, lingering=exited and not eof)


def _feed(pipe: Optional[IO[bytes]], data: Optional[bytes]) -> None:
    if pipe is None or data is None:
        return
    try:
        pipe.write(data)  # small (a VERSION request); fits in the pipe buffer, never blocks
        pipe.close()
    except OSError:
        pass  # the child exited or closed stdin without reading: not our problem


def _pump(proc: subprocess.Popen[bytes], deadline: float, cap: int) -> Tuple[Capture, Capture, bool]:
    """Read stdout/stderr until both reach EOF or the deadline; (out, err, reached_eof)."""
    out, err = Capture(cap), Capture(cap)
    assert proc.stdout is not None and proc.stderr is not None
    streams: Dict[int, Capture] = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    with selectors.DefaultSelector() as selector:
        for fd in streams:
            os.set_blocking(fd, False)
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out, err, False
            for key, _ in selector.select(remaining):
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if chunk:
                    streams[key.fd].add(chunk)
                else:
                    selector.unregister(key.fd)
    return out, err, True


def _kill_group(pid: int) -> None:
    """SIGKILL the child's whole process group (start_new_session: group id == child pid).

    Only called while the child is unreaped (running or a zombie), so the group id cannot
    have been recycled for someone else's processes.
    """
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _exited(pid: int) -> bool:
    """True once the child has exited, without reaping it (WNOWAIT keeps the zombie)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _wait_exit(pid: int, deadline: float) -> bool:
    """True once the child has exited (unreaped), False at the deadline. A child's pipes reach
    EOF a moment before it becomes a zombie, so this usually waits: on a pidfd (readable at
    exit, Linux >= 5.3) it wakes at once, where polling would add up to a poll interval to
    every probe."""
    if _exited(pid):
        return True
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd here: poll
        return _poll_exit(pid, deadline)
    try:
        waiter = select.poll()
        waiter.register(pidfd, select.POLLIN)
        while not _exited(pid):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            waiter.poll(max(1, int(remaining * 1000 + 0.999)))
        return True
    finally:
        os.close(pidfd)


def _poll_exit(pid: int, deadline: float) -> bool:
    while not _exited(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


def _reap(proc: subprocess.Popen[bytes]) -> Optional[int]:
    """Collect the (exited or killed) child's raw wait status; None when it is still running
    after REAP_GRACE (it could not be signalled)."""
    if not _wait_exit(proc.pid, time.monotonic() + REAP_GRACE):
        return None
    try:
        _, status = os.waitpid(proc.pid, 0)
    except ChildProcessError:
        status = 0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return status
