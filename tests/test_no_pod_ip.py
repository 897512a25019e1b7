"""A libcni ADD that succeeds with a result holding no IP for the pod: containerd fails the pod.

Measured: a plugin on cni's 2016 skel (VERSION reply {"cniVersion":"0.2.0"}) in a 1.0.0 list. Real
libcni 1.1.2 (live), 1.2.3 and 1.3.0 (recorded) run ADD successfully and return
`{"cniVersion":"1.0.0","dns":{}}` (fixtures/skew-chain-result-version); real containerd daemons
(1.7.x and 2.x, driven through the CRI API) answer RunPodSandbox for a result without IPs with
`failed to setup network for sandbox "<id>": failed to find network info for sandbox "<id>"`,
the words of containerd/containerd:pkg/cri/server/sandbox_run.go@v1.7.27 (setupPodNetwork) and
internal/cri/server/sandbox_run.go@v2.1.1. The libcni-level outcome stays "ok" (the differential
tests compare it); the runtime's failure is the step's kubelet_error.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, Sequence

import pytest
from conftest import FIXTURES, run_cli

from cnidoctor.explain import explain

FIXTURE = FIXTURES / "skew-chain-result-version"
LEGACY = FIXTURE / "bin" / "vendor-cni"  # the 2016 skel, emulated
LOOPBACK = Path("/usr/lib/cni/loopback")  # containerd adds its own loopback network first
MEASURED = 'failed to setup network for sandbox "<sandbox-id>": failed to find network info for sandbox "<sandbox-id>"'
CONTAINERD = ("containerd@1.7.13", "containerd@1.7.27", "containerd@2.1.1", "containerd@2.2.7")

# a plugin on a current skel that prints a result of its own (not a prevResult pass-through)
NEGOTIATING = """#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' ;;
*) exit 1 ;;
esac
"""


def add_step(tmp_path: Path, runtime: str, version: str, plugins: Sequence[str]) -> Dict[str, Any]:
    if not LOOPBACK.is_file():
        pytest.skip("the real loopback plugin is not installed in /usr/lib/cni")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "loopback").exists():
        (bin_dir / "loopback").symlink_to(LOOPBACK)
    shutil.copy(LEGACY, bin_dir / "vendor-cni")
    own = bin_dir / "own-result"
    own.write_text(NEGOTIATING, encoding="utf-8")
    own.chmod(0o755)
    net_d = tmp_path / "net.d"
    net_d.mkdir(exist_ok=True)
    doc = {"cniVersion": version, "name": "podnet", "plugins": [{"type": p} for p in plugins]}
    (net_d / "10-podnet.conflist").write_text(json.dumps(doc), encoding="utf-8")
    args = ["check", "--format", "json", "--fail-on", "never", "--no-cache", "--runtime", runtime]
    result = run_cli([*args, "--bin-dir", str(bin_dir), str(net_d)], env={"CNIDOCTOR_CACHE_DIR": str(tmp_path / "c")})
    assert result.exit_code == 0, result.output
    steps: Dict[str, Any] = json.loads(result.stdout)["prediction"]["steps"]
    return steps["add"]


@pytest.mark.parametrize("runtime", CONTAINERD)
def test_legacy_result_labelled_1_0_0_fails_the_pod_on_containerd(runtime: str, tmp_path: Path) -> None:
    add = add_step(tmp_path, runtime, "1.0.0", ["vendor-cni"])
    assert (add["outcome"], add["error"]) == ("ok", None)  # what libcni does (measured)
    assert add["kubelet_error"] == MEASURED
    assert add["plugin"] == "vendor-cni"


def test_the_fixture_chain_through_portmap_fails_the_pod(tmp_path: Path) -> None:
    if not (FIXTURE / "bin" / "portmap").resolve().is_file():
        pytest.skip("the real portmap plugin is not installed in /usr/lib/cni")
    copy = tmp_path / "fx"
    shutil.copytree(FIXTURE, copy, symlinks=True)
    args = ["check", "--format", "json", "--fail-on", "never", "--no-cache", "--bin-dir", "bin"]
    result = run_cli([*args, "--runtime", "containerd@1.7", "net.d"], cwd=copy, env={"CNIDOCTOR_CACHE_DIR": str(copy)})
    add = json.loads(result.stdout)["prediction"]["steps"]["add"]
    assert (add["outcome"], add["error"], add["kubelet_error"]) == ("ok", None, MEASURED)


def test_a_0_2_0_list_keeps_the_addresses(tmp_path: Path) -> None:
    """The 0.2.0 result type has `ip4`: nothing is lost, no claim is made."""
    add = add_step(tmp_path, "containerd@1.7.27", "0.2.0", ["vendor-cni"])
    assert add["outcome"] == "ok" and "kubelet_error" not in add


def test_a_later_plugin_with_a_result_of_its_own_makes_it_unknowable(tmp_path: Path) -> None:
    add = add_step(tmp_path, "containerd@1.7.27", "1.0.0", ["vendor-cni", "own-result"])
    assert "kubelet_error" not in add


def test_libcni_1_0_types_it_as_0_1_0_and_keeps_the_addresses(tmp_path: Path) -> None:
    """containerd 1.6.2 vendors libcni 1.0.1: no fixupResultVersion, the result is typed "0.1.0"
    (containernetworking/cni:pkg/invoke/exec.go@v1.1.0 (ExecPluginWithResult)), a type with `ip4`."""
    add = add_step(tmp_path, "containerd@1.6.2", "1.0.0", ["vendor-cni"])
    assert "kubelet_error" not in add


def test_crio_is_not_given_the_containerd_text(tmp_path: Path) -> None:
    """CRI-O skips the file at load (CNI511) and takes a result without IPs without an error
    (cri-o/cri-o:server/sandbox_network.go@v1.28.2 (networkStart))."""
    add = add_step(tmp_path, "crio@1.28.2", "1.0.0", ["vendor-cni"])
    assert add.get("kubelet_error") != MEASURED


def test_explain_recognises_the_text_and_names_the_legacy_plugin_finding() -> None:
    text = MEASURED.replace("<sandbox-id>", "94b455ee35ba")
    result = explain(text)
    assert result.recognised
    assert any("CNI503" in m.entry.codes for m in result.matches)


def test_text_report_says_libcni_succeeds_and_the_pod_fails(tmp_path: Path) -> None:
    add_step(tmp_path, "containerd@1.7.27", "1.0.0", ["vendor-cni"])
    args = ["check", "--fail-on", "never", "--no-cache", "--runtime", "containerd@1.7.27"]
    result = run_cli([*args, "--bin-dir", str(tmp_path / "bin"), str(tmp_path / "net.d")], env={"COLUMNS": "300"})
    assert "ADD    FAILS in the runtime (libcni: ok)" in result.output
    assert "kubelet sees: " + MEASURED in result.output
    assert "no config or version problem predicted" not in result.output
