"""Issue 10, verdict 10: a plugin binary, bin dir, config dir or config file that a non-root user
can change is reported (CNI411, CNI016), and cnidoctor running as root never executes such a
binary (no VERSION probe) and predicts nothing from it.

Modes are set with chmod on throwaway copies; ownership by ``nobody`` needs root to chown (those
cases skip otherwise). The real plugins come from /usr/lib/cni (skipped when absent); the TRAP
fake records every invocation, so "not executed" is checked on the file system, not on our code.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import run_cli
from plugin_helpers import REAL, fake

from cnidoctor.fsperms import non_root_writers

AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="ownership and the as-root refusal need root")

CONFLIST = """{
  "cniVersion": "1.0.0",
  "name": "permnet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.22.0.0/16"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
"""
TYPES = ("bridge", "host-local", "portmap", "loopback")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(tmp_path / "cache"))


def nobody_uid() -> int:
    return pwd.getpwnam("nobody").pw_uid


def trap_node(tmp_path: Path) -> Dict[str, Path]:
    """net.d with one conflist and a bin dir whose every plugin is the TRAP (all 0755)."""
    netd = tmp_path / "net.d"
    netd.mkdir(mode=0o755)
    (netd / "10-perm.conflist").write_text(CONFLIST)
    for name in TYPES:
        fake(tmp_path / "bin", "trap", name)
    (tmp_path / "bin").chmod(0o755)
    return {"netd": netd, "bin": tmp_path / "bin"}


def real_node(tmp_path: Path) -> Dict[str, Path]:
    if not all((REAL / name).is_file() for name in TYPES):
        pytest.skip("the reference plugins are not installed in /usr/lib/cni")
    netd = tmp_path / "net.d"
    netd.mkdir(mode=0o755)
    (netd / "10-perm.conflist").write_text(CONFLIST)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(mode=0o755)
    for name in TYPES:
        shutil.copy(REAL / name, bin_dir / name)
        (bin_dir / name).chmod(0o755)
    return {"netd": netd, "bin": bin_dir}


def check(node: Dict[str, Path], *extra: str) -> Dict[str, Any]:
    result = run_cli(["check", str(node["netd"]), "--bin-dir", str(node["bin"]), "--format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    report: Dict[str, Any] = json.loads(result.output)
    return report


def codes(report: Dict[str, Any], code: str) -> List[Dict[str, Any]]:
    return [f for f in report["findings"] if f["code"] == code]


def invocations(tmp_path: Path) -> List[str]:
    log = tmp_path / "trap-invocations.log"
    return log.read_text().splitlines() if log.exists() else []


# ---------------------------------------------------------------------------------------------
# fsperms: the stat verdict


def test_only_root_writable_paths_pass(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    target.chmod(0o755)
    if AS_ROOT:
        assert non_root_writers(str(target)) is None
    else:
        assert f"owned by uid {os.geteuid()}" in (non_root_writers(str(target)) or "")


@pytest.mark.parametrize(("mode", "words"), [(0o775, "writable by group"), (0o757, "writable by every user")])
def test_group_and_world_writable(tmp_path: Path, mode: int, words: str) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    target.chmod(mode)
    why = non_root_writers(str(target))
    assert why is not None and words in why and f"mode {mode:04o}" in why


def test_sticky_world_writable_dir_still_counts(tmp_path: Path) -> None:
    # sticky only stops others removing what they do not own; they can still add entries
    directory = tmp_path / "d"
    directory.mkdir()
    directory.chmod(0o1777)
    why = non_root_writers(str(directory))
    assert why is not None and "sticky" in why and "mode 1777" in why


def test_symlink_is_followed(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("x")
    target.chmod(0o666)
    link = tmp_path / "link"
    link.symlink_to(target)
    assert "writable by every user" in (non_root_writers(str(link)) or "")
    assert non_root_writers(str(tmp_path / "dangling")) is None


@needs_root
def test_owned_by_nobody(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    target.chmod(0o755)
    os.chown(target, nobody_uid(), 0)
    assert f"owned by uid {nobody_uid()}" in (non_root_writers(str(target)) or "")


# ---------------------------------------------------------------------------------------------
# CNI411 + the refusal, on the TRAP (records every exec)


@needs_root
def test_clean_root_owned_node_gives_nothing_and_is_probed(tmp_path: Path) -> None:
    node = trap_node(tmp_path)
    report = check(node)
    assert codes(report, "CNI411") == [] and codes(report, "CNI016") == []
    assert codes(report, "CNI505") == []
    assert len(invocations(tmp_path)) == len(TYPES)  # each file probed once, VERSION only
    assert set(invocations(tmp_path)) == {"CNI_COMMAND=VERSION"}


@needs_root
def test_world_writable_plugin_is_reported_and_never_executed(tmp_path: Path) -> None:
    node = trap_node(tmp_path)
    (node["bin"] / "bridge").chmod(0o757)
    report = check(node)
    [finding] = codes(report, "CNI411")
    assert finding["plugin"] == "bridge" and finding["file"] is None
    assert f"chown root:root {node['bin'] / 'bridge'}" in finding["fix"]
    [refused] = codes(report, "CNI505")
    assert refused["plugin"] == "bridge" and "not run as root" in refused["message"]
    assert "run cnidoctor as root" not in refused["fix"].lower()
    assert len(invocations(tmp_path)) == len(TYPES) - 1  # every plugin but bridge
    steps = report["prediction"]["steps"]
    assert steps["add"]["outcome"] == "unknown" and steps["del"]["outcome"] == "unknown"
    assert "did not run bridge" in steps["add"]["detail"]


@needs_root
def test_group_writable_bin_dir_refuses_every_plugin_in_it(tmp_path: Path) -> None:
    node = trap_node(tmp_path)
    node["bin"].chmod(0o775)
    report = check(node)
    [finding] = codes(report, "CNI411")
    assert finding["plugin"] is None and str(node["bin"]) in finding["message"]
    assert {f["plugin"] for f in codes(report, "CNI505")} == {"bridge", "host-local", "portmap"}
    assert invocations(tmp_path) == []
    assert report["plugins"] and all(p["cni_version"] is None for p in report["plugins"])


@needs_root
def test_plugin_owned_by_nobody_is_not_executed(tmp_path: Path) -> None:
    node = trap_node(tmp_path)
    os.chown(node["bin"] / "portmap", nobody_uid(), 0)
    report = check(node)
    [finding] = codes(report, "CNI411")
    assert finding["plugin"] == "portmap" and f"owned by uid {nobody_uid()}" in finding["message"]
    assert len(invocations(tmp_path)) == len(TYPES) - 1


@needs_root
def test_cached_reply_is_not_used_for_a_refused_plugin(tmp_path: Path) -> None:
    node = trap_node(tmp_path)
    check(node)  # fills the cache with bridge's reply
    (node["bin"] / "bridge").chmod(0o775)
    report = check(node)
    bridge = next(p for p in report["plugins"] if p["type"] == "bridge")
    assert bridge["cni_version"] is None and not bridge["from_cache"]


# ---------------------------------------------------------------------------------------------
# the real plugins: the prediction holds nothing from a refused binary


@needs_root
def test_real_plugins_clean_copy_is_probed(tmp_path: Path) -> None:
    node = real_node(tmp_path)
    report = check(node)
    assert codes(report, "CNI411") == []
    assert all(p["cni_version"] for p in report["plugins"])


@needs_root
def test_real_group_writable_bridge_predicts_nothing_on_crio(tmp_path: Path) -> None:
    node = real_node(tmp_path)
    (node["bin"] / "bridge").chmod(0o775)
    report = check(node, "--runtime", "crio@1.28")
    assert [f["plugin"] for f in codes(report, "CNI411")] == ["bridge"]
    bridge = next(p for p in report["plugins"] if p["type"] == "bridge")
    assert bridge["cni_version"] is None and bridge["supported"] == []
    steps = report["prediction"]["steps"]
    # CRI-O asks VERSION at load (ValidateNetworkList): cnidoctor did not, so no verdict
    assert {steps[s]["outcome"] for s in ("load", "add", "check", "del")} == {"unknown"}


# ---------------------------------------------------------------------------------------------
# CNI016: the config dir and its files (no probing needed)


def test_world_writable_config_dir_and_group_writable_file(tmp_path: Path) -> None:
    netd = tmp_path / "net.d"
    netd.mkdir()
    conf = netd / "10-perm.conflist"
    conf.write_text(CONFLIST)
    netd.chmod(0o1777)
    conf.chmod(0o664)
    result = run_cli(["check", str(netd), "--no-probe", "--format", "json"])
    report = json.loads(result.output)
    found = {(f["file"], f["severity"]) for f in codes(report, "CNI016")}
    assert (str(netd), "warning") in found and (str(conf), "warning") in found
    on_dir = next(f for f in codes(report, "CNI016") if f["file"] == str(netd))
    assert "sticky" in on_dir["message"] and f"chmod go-w {netd}" in on_dir["fix"]


@needs_root
def test_clean_config_dir_gives_nothing(tmp_path: Path) -> None:
    netd = tmp_path / "net.d"
    netd.mkdir(mode=0o755)
    (netd / "10-perm.conflist").write_text(CONFLIST)
    (netd / "10-perm.conflist").chmod(0o600)
    report = json.loads(run_cli(["check", str(netd), "--no-probe", "--format", "json"]).output)
    assert codes(report, "CNI016") == []


@needs_root
def test_config_file_owned_by_nobody(tmp_path: Path) -> None:
    netd = tmp_path / "net.d"
    netd.mkdir(mode=0o755)
    conf = netd / "10-perm.conflist"
    conf.write_text(CONFLIST)
    conf.chmod(0o644)
    os.chown(conf, nobody_uid(), 0)
    report = json.loads(run_cli(["check", str(netd), "--no-probe", "--format", "json"]).output)
    assert [f["file"] for f in codes(report, "CNI016")] == [str(conf)]


def test_a_file_named_on_the_command_line_is_not_checked(tmp_path: Path) -> None:
    # pre-commit checks a repository's files: their owner is the developer, not the node's
    conf = tmp_path / "10-perm.conflist"
    conf.write_text(CONFLIST)
    conf.chmod(0o666)
    report = json.loads(run_cli(["check", str(conf), "--no-probe", "--format", "json"]).output)
    assert codes(report, "CNI016") == []
