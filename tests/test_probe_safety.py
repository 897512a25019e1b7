"""Safety of probing: only VERSION, libcni's environment only, stdin closed, bounded output,
process groups killed, nothing written to config or bin dirs, '/' types never executed."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Dict, Tuple

import pytest
from conftest import run_cli
from plugin_helpers import fake

from cnidoctor.plugins.probe import KEPT_TEXT, probe_all, probe_one
from cnidoctor.plugins.resolve import find_in_path

LIBCNI_ENV = {  # cni-facts §2.1 [LAB env dump] + our fixed PATH; PWD is set by /bin/sh itself
    "CNI_COMMAND": "VERSION",
    "CNI_CONTAINERID": "",
    "CNI_NETNS": "dummy",
    "CNI_IFNAME": "dummy",
    "CNI_ARGS": "",
    "CNI_PATH": "dummy",
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "PWD": "/",
}

CONFLIST = """{
  "cniVersion": "1.0.0",
  "name": "trapnet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.22.0.0/16"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
"""


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(tmp_path / "cache"))


def trap_log(tmp_path: Path, name: str = "trap-invocations.log") -> list:
    log = tmp_path / name
    return log.read_text().splitlines() if log.exists() else []


def test_only_version_and_only_libcni_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hostile caller environment must not leak into the plugin.
    monkeypatch.setenv("CNI_COMMAND", "ADD")
    monkeypatch.setenv("LD_PRELOAD", "/nonexistent/evil.so")
    monkeypatch.setenv("CNIDOCTOR_SECRET", "x")
    trap = fake(tmp_path / "bin", "trap")
    assert probe_one(str(trap), cni_version="1.0.0").ok
    assert trap_log(tmp_path) == ["CNI_COMMAND=VERSION"]
    seen = dict(line.split("=", 1) for line in trap_log(tmp_path, "trap-env.log"))
    assert seen == LIBCNI_ENV
    # libcni: fmt.Sprintf(`{"cniVersion":%q}`, version.Current())
    assert (tmp_path / "trap-stdin.log").read_text() == '{"cniVersion":"1.0.0"}'


def test_type_with_separator_is_never_executed(tmp_path: Path) -> None:
    fake(tmp_path / "evil", "trap", "plugin")
    (tmp_path / "bin").mkdir()
    res = find_in_path("../evil/plugin", [str(tmp_path / "bin")])
    assert res.path is None and res.problem == "invalid-name"
    assert not (tmp_path / "trap-invocations.log").exists()


def test_known_unrunnable_is_not_executed(tmp_path: Path) -> None:
    trap = fake(tmp_path / "bin", "trap")
    trap.chmod(0o644)
    result = probe_one(str(trap))
    assert not result.executed and result.error == (
        f"netplugin failed with no error message: fork/exec {trap}: permission denied"
    )
    crlf = tmp_path / "bin" / "crlf"
    crlf.write_bytes((tmp_path / "bin" / "trap").read_bytes().replace(b"\n", b"\r\n"))
    crlf.chmod(0o755)
    assert not probe_one(str(crlf)).executed
    assert trap_log(tmp_path) == []


def _survivors() -> list:
    """Our processes that still carry the probe environment (CNI_PATH=dummy)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if b"CNI_PATH=dummy\0" in environ and b"CNI_NETNS=dummy\0" in environ:
            found.append(int(pid))
    return found


def _wait_for_no_survivors() -> list:
    # SIGKILL delivery is asynchronous; give the kernel a moment (not a timing assertion).
    for _ in range(100):
        left = _survivors()
        if not left:
            return left
        time.sleep(0.02)
    return _survivors()


def test_child_holding_stdout_does_not_hang_and_is_killed(tmp_path: Path) -> None:
    result = probe_one(str(fake(tmp_path / "bin", "child-holds-stdout")), timeout=0.5)
    assert result.timed_out and not result.ok
    assert "kept stdout/stderr open" in result.detail
    assert _wait_for_no_survivors() == []


def test_hang_group_killed(tmp_path: Path) -> None:
    probe_all([str(fake(tmp_path / "bin", "hang"))], timeout=0.3, use_cache=False)
    assert _wait_for_no_survivors() == []


def test_flood_is_bounded(tmp_path: Path) -> None:
    result = probe_one(str(fake(tmp_path / "bin", "flood")), timeout=0.5)
    assert result.timed_out and result.truncated
    assert len(result.stdout) <= KEPT_TEXT + 64 and len(result.error or "") <= KEPT_TEXT + 64
    assert _wait_for_no_survivors() == []


def test_stdin_is_closed(tmp_path: Path) -> None:
    assert probe_one(str(fake(tmp_path / "bin", "reads-stdin")), timeout=5).ok


def _snapshot(root: Path) -> Dict[str, Tuple[str, int, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        out[str(path.relative_to(root))] = (digest, info.st_mtime_ns, info.st_mode)
    return out


def test_check_and_plugins_change_nothing(tmp_path: Path) -> None:
    node = tmp_path / "node"
    (node / "net.d").mkdir(parents=True)
    (node / "net.d" / "10-trap.conflist").write_text(CONFLIST)
    for name in ("bridge", "host-local", "portmap"):
        fake(node / "bin", "trap", name)
    fake(node / "bin", "v040", "loopback")
    (node / "bin" / "LICENSE").write_text("Apache-2.0\n")
    before = _snapshot(node)
    check = run_cli(
        ["check", "--bin-dir", str(node / "bin"), "--format", "json", "--fail-on", "never", str(node / "net.d")]
    )
    assert check.exit_code == 0, check.output
    plugins = run_cli(["plugins", "--bin-dir", str(node / "bin"), "--format", "json"])
    assert plugins.exit_code == 0, plugins.output
    logs = [line for line in (tmp_path / "node" / "trap-invocations.log").read_text().splitlines()]
    assert logs and set(logs) == {"CNI_COMMAND=VERSION"}
    for log in ("trap-invocations.log", "trap-env.log", "trap-stdin.log"):
        (node / log).unlink()  # written by the trap itself, outside the dirs
    assert _snapshot(node) == before
