"""Finding the runtimes on a node and the kubelet's endpoint (fixtures/node-* with runtimes)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict

import pytest

from cnidoctor.runtime.hostfs import HostFS
from cnidoctor.runtime.locate import locate_runtimes, socket_path
from cnidoctor.runtime.systemd import read_service

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = ["node-containerd-and-crio", "node-kubelet-config-endpoint", "node-proc-containerd"]


def expected(case: str) -> Dict[str, Any]:
    return json.loads((FIXTURES / case / "expected-runtime.json").read_text())


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    want = expected(case)
    node = locate_runtimes(str(FIXTURES / case / "root"))
    assert [r.name for r in node.runtimes] == want["runtimes"]
    assert node.kubelet is not None
    assert (node.kubelet.endpoint, node.kubelet.source) == (want["kubelet_endpoint"], want["kubelet_source"])
    assert node.kubelet_runtime == want["kubelet_runtime"]
    for name, running in want.get("running", {}).items():
        runtime = node.get(name)
        assert runtime is not None and runtime.running == running
    for name, flags in want.get("flags", {}).items():
        runtime = node.get(name)
        assert runtime is not None
        for flag, value in flags.items():
            assert runtime.flag(flag) == value
    got = sorted((f.code, f.file, f.pointer, f.severity.label) for f in node.findings)
    assert got == sorted((i["code"], i["file"], i["pointer"], i["severity"]) for i in want["findings"])


def test_kubeadm_drop_in_resets_exec_start_and_reads_flags_env() -> None:
    root = FIXTURES / "node-containerd-and-crio" / "root"
    service = read_service(HostFS(str(root)), ["kubelet.service"])
    assert service is not None
    # the unit's own "ExecStart=/usr/bin/kubelet" was reset by the drop-in's empty ExecStart=
    assert service.args[0] == "/usr/bin/kubelet"
    assert "--container-runtime-endpoint=unix:///var/run/crio/crio.sock" in service.args
    assert "--config=/var/lib/kubelet/config.yaml" in service.args
    word = next(w for w in service.argv if w.text.startswith("--container-runtime-endpoint"))
    assert word.origin is not None and (word.origin.file, word.origin.line, word.origin.column) == (
        "/var/lib/kubelet/kubeadm-flags.env",
        1,
        23,
    )


def test_crio_unit_flags_come_from_its_environment_file() -> None:
    node = locate_runtimes(str(FIXTURES / "node-containerd-and-crio" / "root"))
    crio = node.get("crio")
    assert crio is not None and crio.flag("cni-plugin-dir") == "/opt/cni/bin"
    assert crio.unit == "/usr/lib/systemd/system/crio.service" and not crio.running


def test_several_runtimes_without_kubelet_is_a_warning(tmp_path: Path) -> None:
    for name in ("usr/bin/containerd", "usr/local/bin/crio"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    node = locate_runtimes(str(tmp_path))
    assert [r.name for r in node.runtimes] == ["containerd", "crio"]
    assert node.kubelet is None
    assert [(f.code, f.severity.label) for f in node.findings] == [("CNI640", "warning")]


def test_kubelet_endpoint_nobody_serves(tmp_path: Path) -> None:
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/containerd").write_text("")
    (tmp_path / "var/lib/kubelet").mkdir(parents=True)
    (tmp_path / "var/lib/kubelet/config.yaml").write_text(
        'kind: KubeletConfiguration\ncontainerRuntimeEndpoint: "unix:///var/run/dockershim.sock"\n'
    )
    node = locate_runtimes(str(tmp_path))
    assert node.kubelet_runtime is None
    assert [(f.code, f.file, f.pointer) for f in node.findings] == [
        ("CNI641", "/var/lib/kubelet/config.yaml", "/containerRuntimeEndpoint")
    ]


def test_k3s_embedded_containerd_is_attributed_to_k3s(tmp_path: Path) -> None:
    data = "/var/lib/rancher/k3s/data/abc/bin/k3s"
    for pid, argv, exe in (
        ("10", b"/usr/local/bin/k3s server\0", "/usr/local/bin/k3s"),
        (
            "11",
            b"containerd\0-c\0/var/lib/rancher/k3s/agent/etc/containerd/config.toml\0-a\0/run/k3s/containerd/containerd.sock\0",
            data,
        ),
    ):
        (tmp_path / "proc" / pid).mkdir(parents=True)
        (tmp_path / "proc" / pid / "cmdline").write_bytes(argv)
        os.symlink(exe, tmp_path / "proc" / pid / "exe")
    node = locate_runtimes(str(tmp_path))
    assert [r.name for r in node.runtimes] == ["k3s"]
    k3s = node.runtimes[0]
    assert k3s.running and k3s.flag("containerd-config") == "/var/lib/rancher/k3s/agent/etc/containerd/config.toml"


def test_socket_paths_normalise_var_run() -> None:
    assert socket_path("unix:///var/run/crio/crio.sock") == "/run/crio/crio.sock"
    assert socket_path("/run//containerd/containerd.sock") == "/run/containerd/containerd.sock"


def test_drop_in_in_etc_shadows_same_name_in_usr_lib(tmp_path: Path) -> None:
    def unit(path: str, text: str) -> None:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)

    unit("usr/lib/systemd/system/containerd.service", "[Service]\nExecStart=/usr/bin/containerd\n")
    unit(
        "usr/lib/systemd/system/containerd.service.d/10-x.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/containerd -c /lib.toml\n",
    )
    unit(
        "etc/systemd/system/containerd.service.d/10-x.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/containerd -c /etc.toml\n",
    )
    unit("run/systemd/system/containerd.service.d/05-a.conf", "[Service]\nEnvironment=A=1\n")
    node = locate_runtimes(str(tmp_path))
    containerd = node.get("containerd")
    assert containerd is not None and containerd.flag("config") == "/etc.toml"
    assert containerd.environment == (("A", "1"),)


def test_empty_root_finds_nothing(tmp_path: Path) -> None:
    node = locate_runtimes(str(tmp_path))
    assert node.runtimes == () and node.kubelet is None and node.findings == ()
