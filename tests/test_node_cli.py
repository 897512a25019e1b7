"""The node uses of `check`: --host-root (the runtime read from the node drives the check),
--preflight with --ignore-preflight-errors (kubeadm's convention), and `aggregate`.

Node roots are built in tmp_path from the formats the runtimes document; the machine's own
/etc, /var and /proc are never read (every run passes --host-root or PATHS).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Dict

from conftest import FIXTURES, run_cli

# Debian bookworm's containerd 1.6.20 package ships this config (bin_dir is Debian's plugin
# path, debian/containerd.install + debian/config.toml of the package) and records the libcni it
# was built with in Built-Using (dpkg-query -W -f='${Built-Using}' containerd on bookworm).
DEBIAN_CONFIG = """version = 2

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "/etc/cni/net.d"
"""
DEBIAN_STATUS = """Package: containerd
Status: install ok installed
Architecture: amd64
Version: 1.6.20~ds1-1+deb12u3
Built-Using: golang-1.19 (= 1.19.8-2), golang-github-appc-cni (= 1.1.2-1), golang-github-containerd-go-cni (= 1.1.7-1)
"""
BRIDGE = {
    "cniVersion": "1.0.0",
    "name": "pods",
    "plugins": [{"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.85.0.0/16"}}],
}


def write(root: Path, node_path: str, text: str) -> None:
    target = root / node_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def debian_node(root: Path) -> Path:
    write(root, "/etc/containerd/config.toml", DEBIAN_CONFIG)
    write(root, "/var/lib/dpkg/status", DEBIAN_STATUS)
    write(root, "/etc/cni/net.d/10-pods.conflist", json.dumps(BRIDGE))
    return root


def check_json(*args: str, cwd: Path) -> Dict[str, Any]:
    result = run_cli(["check", "--format", "json", "--fail-on", "never", "--no-probe", *args], cwd=cwd)
    assert result.exit_code == 0, result.output
    report: Dict[str, Any] = json.loads(result.stdout)
    return report


def test_host_root_reads_debian_containerd_from_its_package_record(tmp_path: Path) -> None:
    root = debian_node(tmp_path / "node")
    report = check_json("--host-root", str(root), cwd=tmp_path)
    runtime = report["runtime"]
    assert (runtime["name"], runtime["version"], runtime["libcni"]) == ("containerd", "1.6.20", "1.1.2")
    assert runtime["source"] == {"runtime": "detected", "version": "package", "dirs": "config"}
    assert runtime["config_file"] == "/etc/containerd/config.toml"
    assert runtime["bin_dirs"] == ["/usr/lib/cni"]
    # the prediction models that release, not the newest containerd
    assert report["prediction"]["runtime"]["version"] == "1.6.20"
    assert report["prediction"]["runtime"]["libcni"] == "1.1.2"
    assert report["inputs"] == [str(root / "etc/cni/net.d")]


def test_text_report_says_what_was_detected_and_from_where(tmp_path: Path) -> None:
    root = debian_node(tmp_path / "node")
    result = run_cli(["check", "--no-probe", "--fail-on", "never", "--host-root", str(root)], cwd=tmp_path)
    lines = result.stdout.splitlines()
    # The Runtime line comes first, wrapped to the terminal: its continuation lines are indented and
    # words never break, so joining them gives the line back.
    block = [lines[0]] + [line.strip() for line in itertools.takewhile(lambda x: x.startswith("  "), lines[1:])]
    runtime = " ".join(block)
    assert runtime.startswith("Runtime: containerd 1.6.20 (libcni 1.1.2; read from the package database)")
    assert runtime.endswith("plugins in /usr/lib/cni")


def test_paths_alone_check_files_and_say_the_runtime_is_assumed(tmp_path: Path) -> None:
    root = debian_node(tmp_path / "node")
    report = check_json(str(root / "etc/cni/net.d"), cwd=tmp_path)
    assert report["runtime"]["source"]["runtime"] == "default"
    result = run_cli(["check", "--no-probe", "--fail-on", "never", str(root / "etc/cni/net.d")], cwd=tmp_path)
    assert "assumed: not read from a node" in result.stdout.splitlines()[0]


def test_runtime_flag_wins_over_detection(tmp_path: Path) -> None:
    root = debian_node(tmp_path / "node")
    report = check_json("--host-root", str(root), "--runtime", "crio@1.28", cwd=tmp_path)
    assert report["runtime"]["source"]["runtime"] == "flag"
    assert report["prediction"]["runtime"]["name"] == "crio"


def test_k3s_configs_are_read_where_k3s_keeps_them(tmp_path: Path) -> None:
    """k3s renders containerd's config with its own CNI dirs (k3s-io/k3s:pkg/agent/templates);
    a plain check must look there, not report /etc/cni/net.d missing."""
    root = tmp_path / "node"
    data = "/var/lib/rancher/k3s"
    write(
        root,
        f"{data}/agent/etc/containerd/config.toml",
        'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".cni]\n'
        f'  bin_dir = "{data}/data/cni"\n  conf_dir = "{data}/agent/etc/cni/net.d"\n',
    )
    write(root, f"{data}/agent/etc/cni/net.d/10-flannel.conflist", json.dumps(BRIDGE))
    (root / data.lstrip("/") / "data/cni").mkdir(parents=True)
    report = check_json("--host-root", str(root), cwd=tmp_path)
    assert report["runtime"]["name"] == "k3s"
    assert report["runtime"]["conf_dir"] == f"{data}/agent/etc/cni/net.d"
    assert "CNI002" not in {f["code"] for f in report["findings"]}
    assert report["selected"]["file"].endswith("10-flannel.conflist")


def test_missing_host_root_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["check", "--host-root", str(tmp_path / "absent")], cwd=tmp_path)
    assert result.exit_code == 2
    assert "not a directory" in result.stderr


def test_preflight_prints_kubeadm_lines_and_fails_on_errors() -> None:
    scenario = FIXTURES / "discovery-broken-shadows"
    expected = json.loads((scenario / "expected.json").read_text())
    errors = sorted({e["code"] for e in expected if e["severity"] == "error"})
    assert errors, "the scenario is chosen for its errors"
    result = run_cli(["check", "--preflight", "--no-probe", "net.d"], cwd=scenario)
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0].startswith("[preflight] Running CNI pre-flight checks")
    assert "[preflight] Some fatal errors occurred:" in lines
    assert sorted({line.split("]")[0][len("\t[ERROR ") :] for line in lines if line.startswith("\t[ERROR ")}) == errors
    assert lines[-1].startswith("[preflight] If you know what you are doing")
    assert f"--ignore-preflight-errors={','.join(errors)}" in lines[-1]


def test_ignore_preflight_errors_downgrades_named_codes_and_all() -> None:
    scenario = FIXTURES / "discovery-broken-shadows"
    expected = json.loads((scenario / "expected.json").read_text())
    errors = sorted({e["code"] for e in expected if e["severity"] == "error"})
    some = run_cli(
        ["check", "--preflight", "--no-probe", "--ignore-preflight-errors", errors[0], "net.d"], cwd=scenario
    )
    assert f"\t[WARNING {errors[0]}]" in some.stdout
    assert some.exit_code == (1 if len(errors) > 1 else 0)
    everything = run_cli(["check", "--preflight", "--no-probe", "--ignore-preflight-errors=all", "net.d"], cwd=scenario)
    assert everything.exit_code == 0
    assert "[ERROR" not in everything.stdout
    assert "[preflight] CNI checks passed" in everything.stdout


def test_preflight_refuses_another_format() -> None:
    result = run_cli(["check", "--preflight", "--format", "json", "--no-probe", "net.d"], cwd=FIXTURES / "clean-bridge")
    assert result.exit_code == 2


def test_aggregate_cli_summarises_reports_and_exits_2_on_garbage(tmp_path: Path) -> None:
    lines = []
    for name in ("clean-bridge", "skew-ipam-version"):
        result = run_cli(
            ["check", "--format", "json", "--fail-on", "never", "--no-probe", "net.d"], cwd=FIXTURES / name
        )
        lines.append(json.dumps(json.loads(result.stdout)))
    (tmp_path / "fleet.jsonl").write_text("\n".join(lines) + "\n")
    ok = run_cli(["aggregate", "--format", "json", str(tmp_path / "fleet.jsonl")], cwd=tmp_path)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["nodes"] == 2
    (tmp_path / "bad.jsonl").write_text("not json\n")
    bad = run_cli(["aggregate", str(tmp_path / "bad.jsonl")], cwd=tmp_path)
    assert bad.exit_code == 2


def test_json_report_says_whether_node_state_was_checked(tmp_path: Path) -> None:
    root = debian_node(tmp_path / "node")
    files_only = check_json(str(root / "etc/cni/net.d"), cwd=tmp_path)
    assert files_only["node_state"] is None
    node = check_json("--host-root", str(root), cwd=tmp_path)
    assert isinstance(node["node_state"]["checked"], list)


def test_npd_default_probe_timeout_leaves_room_in_npds_5s(tmp_path: Path) -> None:
    """A plugin that answers VERSION after 3 s: within the default 5 s probe timeout, but not
    within the 2 s that --format npd uses by default (NPD kills a plugin after 5 s)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    slow = bin_dir / "slowpoke"
    reply = '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'
    slow.write_text(f"#!/bin/sh\nsleep 3\necho '{reply}'\n")
    slow.chmod(0o755)
    loopback = bin_dir / "loopback"  # the runtime's own loopback (CNI410 otherwise)
    loopback.write_text(f"#!/bin/sh\necho '{reply}'\n")
    loopback.chmod(0o755)
    net_d = tmp_path / "net.d"
    net_d.mkdir()
    (net_d / "10-slow.conflist").write_text(
        json.dumps({"cniVersion": "1.0.0", "name": "slow", "plugins": [{"type": "slowpoke"}]})
    )
    env = {"CNIDOCTOR_CACHE_DIR": str(tmp_path / "cache")}
    args = ["check", "--no-cache", "--fail-on", "never", "--select", "CNI502", "--bin-dir", str(bin_dir), "net.d"]
    patient = run_cli([*args, "--format", "json"], cwd=tmp_path, env=env)
    assert "CNI502" not in {f["code"] for f in json.loads(patient.stdout)["findings"]}
    npd = run_cli([*args, "--format", "npd"], cwd=tmp_path, env=env)
    assert npd.stdout.startswith("CNI502"), npd.stdout
