"""Run the differential driver (tests/differential/driver/main.go, built elsewhere) on one
config directory inside throwaway network namespaces and a private mount namespace.

Shared by the live test (tests/test_differential.py) and the recorder
(tests/differential/record.py); see docs/differential.md for the isolation it provides.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Mapping

SANDBOX_SCRIPT = (
    "set -e; mount -t tmpfs cnd-varlib /var/lib; mkdir -p /var/lib/cni; "
    "for d in /run/dbus /run/cni; do if [ -d $d ]; then mount -t tmpfs cnd-mask $d; fi; done; "
    'exec "$@"'
)


class DriverFailed(Exception):
    """The driver exited non-zero or printed no JSON; the message carries its stderr."""


class NamespacesLeft(Exception):
    """A throwaway namespace survived `ip netns del`."""


@dataclass(frozen=True)
class RealRun:
    report: Mapping[str, Any]
    stderr: str
    container_id: str  # the -id the driver passed to libcni (it appears in some texts)
    cache_dir: str


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)  # the driver and any plugin child it left behind
    except ProcessLookupError:
        pass


def netns_list() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout


def netns_works() -> str:
    """'' when `ip netns add` works here, else why not."""
    probe = f"cndprobe{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, timeout=30)
    if made.returncode != 0:
        return "`ip netns add` does not work here: " + made.stderr.decode(errors="replace").strip()
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=30)
    return ""


def _command(binary: Path, confdir: Path, bindir: Path, cache: Path, tag: str) -> List[str]:
    host, container = f"cnd{tag}h", f"cnd{tag}c"
    return [
        "ip", "netns", "exec", host,
        "unshare", "--mount", "--propagation", "private", "--",
        "sh", "-c", SANDBOX_SCRIPT, "sh",
        str(binary),
        "-confdir", str(confdir),
        "-bindirs", str(bindir),
        "-cachedir", str(cache),
        "-netns", f"/run/netns/{container}",
        "-id", f"cnd{tag}",
        "-timeout", "5s",
        "-version-timeout", "3s",
        "-outside", os.readlink("/proc/self/ns/net"),
    ]  # fmt: skip


def run_real(binary: Path, confdir: Path, bindir: Path, scratch: Path) -> RealRun:
    tag = uuid.uuid4().hex[:8]
    host, container = f"cnd{tag}h", f"cnd{tag}c"
    cache = scratch / f"cache-{tag}"
    cache.mkdir()
    created: List[str] = []
    try:
        for name in (host, container):
            subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=30)
            created.append(name)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        out_path, err_path = scratch / f"out-{tag}.json", scratch / f"err-{tag}.txt"
        # Files, not pipes: a leaked plugin child keeps inherited pipes open (the driver's stderr);
        # wait for the driver itself, then kill its whole process group.
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            child = subprocess.Popen(
                _command(binary, confdir, bindir, cache, tag), stdout=out, stderr=err, env=env, start_new_session=True
            )
            try:
                child.wait(timeout=150)
            except subprocess.TimeoutExpired:
                pass
            finally:
                _kill_group(child.pid)
                child.wait()
        stdout = out_path.read_text(errors="replace")
        stderr = err_path.read_text(errors="replace")[-20000:]
        if child.returncode != 0:
            raise DriverFailed(f"driver exited {child.returncode}:\n{stderr}")
        return RealRun(json.loads(stdout), stderr, f"cnd{tag}", str(cache))
    finally:
        for name in reversed(created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        left = [name for name in (host, container) if name in netns_list().split()]
        if left:
            raise NamespacesLeft(f"throwaway namespaces left behind: {left}")
