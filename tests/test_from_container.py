"""Reading a node from inside a container (``--host-root``): what fails only because of the
container is "cannot probe from here" (CNI505), never "plugin broken" (CNI406).

Every host root is built in tmp_path from Debian's real plugins (/usr/lib/cni, dynamically
linked against /lib64/ld-linux-x86-64.so.2): absolute symlinks inside the fake host, and copies
whose PT_INTERP names a loader that exists only under the fake host root. The kernel itself
confirms that such a copy cannot be executed here (ENOENT) and that the node's loader runs it.
Nothing outside tmp_path is created or changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any, List, Optional

import pytest
from conftest import run_cli

from cnidoctor.plugins import probe, resolve
from cnidoctor.plugins.probe import probe_env, version_stdin
from cnidoctor.rules.replies import probe_findings

REAL = Path("/usr/lib/cni")
LOADER = "/lib64/ld-linux-x86-64.so.2"
HOST_LOADER = "/hst64/ld-linux-x86-64.so.2"  # same length: patched in place
GONE_LOADER = "/nol64/ld-linux-x86-64.so.2"  # on neither the host nor here

pytestmark = [
    pytest.mark.skipif(not (REAL / "bridge").is_file(), reason="Debian's containernetworking-plugins not installed"),
    pytest.mark.skipif(os.uname().machine != "x86_64" or not os.path.exists(LOADER), reason=f"needs {LOADER}"),
]


def interp(path: Path) -> Optional[str]:
    """PT_INTERP as pyelftools reads it (not through cnidoctor's own reader)."""
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as handle:
        for segment in ELFFile(handle).iter_segments():
            if segment["p_type"] == "PT_INTERP":
                return str(segment.get_interp_name())
    return None


def patched_copy(source: Path, target: Path, loader: str) -> Path:
    data = source.read_bytes()
    old = LOADER.encode() + b"\0"
    assert data.count(old) == 1 and len(loader) == len(LOADER)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.replace(old, loader.encode() + b"\0"))
    target.chmod(0o755)
    assert interp(target) == loader
    return target


def put(root: Path, node_path: str, source: Path) -> Path:
    local = root / node_path.lstrip("/")
    local.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, local)
    return local


def build_host(root: Path, plugin: str = "hostonly", loader: str = HOST_LOADER) -> Path:
    """A node under ``root``: loader at both paths, bridge behind an absolute symlink, loopback,
    ``plugin`` (a bridge copy) needing ``loader``, and net.d using it."""
    real_loader = Path(os.path.realpath(LOADER))
    put(root, LOADER, real_loader)
    put(root, HOST_LOADER, real_loader)
    bin_dir = root / "opt/cni/bin"
    bin_dir.mkdir(parents=True)
    put(root, "/opt/cni/bin/loopback", REAL / "loopback")
    # an absolute link whose target exists only under the host root, never on this machine
    target = f"/usr/libexec/cnidoctor-{uuid.uuid4().hex}/bridge"
    assert not os.path.lexists(target)
    put(root, target, REAL / "bridge")
    (bin_dir / "bridge").symlink_to(target)
    patched_copy(REAL / "bridge", bin_dir / plugin, loader)
    netd = root / "etc/cni/net.d"
    netd.mkdir(parents=True)
    config = {"cniVersion": "1.0.0", "name": "podnet", "plugins": [{"type": plugin}]}
    (netd / "10-podnet.conflist").write_text(json.dumps(config))
    return root


def run_here(argv: List[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv, input=version_stdin("1.0.0"), env=probe_env(), capture_output=True, timeout=10, check=False
    )


@pytest.fixture
def host(tmp_path: Path) -> Path:
    return build_host(tmp_path / "host")


# --- the kernel's own view -----------------------------------------------------------------------


def test_patched_copy_cannot_run_here_but_runs_with_the_nodes_loader(host: Path) -> None:
    plugin = host / "opt/cni/bin/hostonly"
    with pytest.raises(FileNotFoundError):  # ENOENT: the PT_INTERP loader is missing here
        run_here([str(plugin)])
    # what the node does: its loader (the same bytes, at the patched path) runs it fine
    ran = run_here([str(host / HOST_LOADER.lstrip("/")), str(plugin)])
    assert ran.returncode == 0 and json.loads(ran.stdout)["cniVersion"], ran.stderr


# --- resolution and probe ----------------------------------------------------------------------


def test_absolute_symlink_resolves_under_the_host_root(host: Path) -> None:
    bin_dir = str(host / "opt/cni/bin")
    found = resolve.find_in_path("bridge", [bin_dir], host_root=str(host))
    assert found.problem is None and found.path == f"{bin_dir}/bridge"
    assert found.local is not None and found.local.startswith(str(host) + "/usr/libexec/")
    # followed from here, the link leaves the host root and dangles: libcni on the node would not
    dangling = resolve.find_in_path("bridge", [bin_dir])
    assert dangling.problem == "not-found" and "dangling symlink" in dangling.detail


def test_symlinked_plugin_probes_like_the_real_binary(host: Path) -> None:
    found = resolve.find_in_path("bridge", [str(host / "opt/cni/bin")], host_root=str(host))
    result = probe.probe_resolved([found], cni_version="1.0.0", use_cache=False, host_root=str(host))[found.path or ""]
    real = json.loads(run_here([str(REAL / "bridge")]).stdout)
    assert result.ok and result.executed
    assert (result.cni_version, list(result.supported)) == (real["cniVersion"], real["supportedVersions"])


def test_loader_only_on_the_host_is_cannot_probe_from_here(host: Path) -> None:
    found = resolve.find_in_path("hostonly", [str(host / "opt/cni/bin")], host_root=str(host))
    assert found.problem is None and found.exec_info is not None
    assert found.exec_info.blocked_here and HOST_LOADER in found.exec_info.blocked_here
    result = probe.probe_resolved([found], cni_version="1.0.0", use_cache=False, host_root=str(host))[found.path or ""]
    assert not result.executed and not result.ok and result.error is None
    assert result.detail.startswith("cannot probe from here")
    codes = [(f.code, f.severity.label) for f in probe_findings(result, "hostonly", "f", "/plugins/0/type")]
    assert codes == [("CNI505", "info")]


def test_loader_missing_on_the_host_too_is_broken(tmp_path: Path) -> None:
    host = build_host(tmp_path / "host", loader=GONE_LOADER)
    found = resolve.find_in_path("hostonly", [str(host / "opt/cni/bin")], host_root=str(host))
    assert found.problem == "missing-loader"
    assert found.error == (
        f"netplugin failed with no error message: fork/exec {host}/opt/cni/bin/hostonly: no such file or directory"
    )


def test_script_interpreter_only_on_the_host(host: Path) -> None:
    put(host, "/hstbin/sh", Path(os.path.realpath("/bin/sh")))
    script = host / "opt/cni/bin/wrapper"
    script.write_text('#!/hstbin/sh\necho \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'\n')
    script.chmod(0o755)
    with pytest.raises(FileNotFoundError):
        run_here([str(script)])
    found = resolve.find_in_path("wrapper", [str(host / "opt/cni/bin")], host_root=str(host))
    assert found.problem is None
    result = probe.probe_resolved([found], use_cache=False, host_root=str(host))[found.path or ""]
    assert result.error is None and result.detail.startswith("cannot probe from here")
    # without the host root the same file is a node whose interpreter is missing
    assert resolve.find_in_path("wrapper", [str(host / "opt/cni/bin")]).problem == "missing-interpreter"


# --- the whole check ---------------------------------------------------------------------------


def check(host: Path, *extra: str) -> Any:
    return run_cli(["check", "--host-root", str(host), "--no-cache", *extra])


def test_check_reports_cannot_probe_and_predicts_nothing_from_it(host: Path) -> None:
    result = check(host, "--format", "json")
    report = json.loads(result.output)
    codes = {(f["code"], f["severity"]) for f in report["findings"]}
    assert ("CNI505", "info") in codes and not any(code.startswith("CNI40") for code, _ in codes), codes
    steps = report["prediction"]["steps"]
    assert steps["add"]["outcome"] == "unknown", steps["add"]
    assert "fail" not in {s["outcome"] for s in steps.values()}, steps


def test_npd_says_unknown_when_a_plugin_cannot_be_probed(host: Path) -> None:
    result = check(host, "--format", "npd")
    assert result.exit_code == 2 and result.output.startswith("CNI505"), result.output
    assert check(host, "--format", "npd", "--ignore", "CNI505").exit_code == 0


def test_npd_says_nonok_when_the_loader_is_missing_on_the_node(tmp_path: Path) -> None:
    host = build_host(tmp_path / "host", loader=GONE_LOADER)
    result = check(host, "--format", "npd")
    assert result.exit_code == 1 and result.output.startswith("CNI406"), result.output


def test_other_formats_keep_their_exit_codes(host: Path) -> None:
    assert check(host, "--format", "json").exit_code == 0


def test_bin_dir_that_is_an_absolute_symlink_k3s_style(tmp_path: Path) -> None:
    """k3s: the bin dir leads through a link to /var/lib/rancher/k3s/data/<hash>/bin; the node
    follows it on the host, so does the check (no CNI408, no CNI401)."""
    host = tmp_path / "host"
    build_host(host)
    data = f"/var/lib/rancher/k3s/data/{uuid.uuid4().hex}/bin"
    assert not os.path.lexists(data)
    moved = host / data.lstrip("/")
    moved.parent.mkdir(parents=True)
    (host / "opt/cni/bin").rename(moved)
    (host / "opt/cni/bin").symlink_to(data)
    report = json.loads(check(host, "--format", "json").output)
    codes = {f["code"] for f in report["findings"]}
    assert "CNI505" in codes and not codes & {"CNI401", "CNI408", "CNI410"}, codes
