"""deploy/: the node-problem-detector plugin config and the DaemonSet.

The NPD checks are the rules of kubernetes/node-problem-detector@v1.36.0
pkg/custompluginmonitor/types/config.go (field names, defaults, Validate()) and plugin/plugin.go
(stdout trimmed, cut to max_output_length bytes; exit 0 OK, 1 NonOK, anything else Unknown).
The command the config names is run for real against fixtures. The DaemonSet is validated by
kubernetes-validate (its wheel bundles the Kubernetes JSON schemas) in strict mode.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest
from conftest import FIXTURES, ROOT

DEPLOY = ROOT / "deploy"
NPD_CONFIG = DEPLOY / "node-problem-detector" / "cnidoctor-monitor.json"
DAEMONSET = DEPLOY / "daemonset.yaml"
CNIDOCTOR = Path(sys.executable).parent / "cnidoctor"

# config.go@v1.36.0: CustomPluginConfig / Custom (json tags) and their defaults.
PLUGIN_CONFIG_FIELDS = {
    "invoke_interval",
    "timeout",
    "max_output_length",
    "concurrency",
    "enable_message_change_based_condition_update",
    "skip_initial_status",
}
TOP_FIELDS = {"plugin", "pluginConfig", "source", "metricsReporting", "conditions", "rules"}
RULE_FIELDS = {"type", "condition", "reason", "path", "args", "timeout"}
CONDITION_FIELDS = {"type", "reason", "message"}
NPD_CUT_BYTES_MAX = 4096  # plugin.go: maxCustomPluginBufferBytes, stdout is read up to 4 KiB
PROBE_TIMEOUT_DEFAULT = 5.0  # cnidoctor check --probe-timeout default


def go_duration(text: str) -> float:
    """Seconds of a Go time.ParseDuration string ("90s", "5m", "1m30s")."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a Go duration: {text!r}"
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


@pytest.fixture(scope="module")
def npd() -> Dict[str, Any]:
    config: Dict[str, Any] = json.loads(NPD_CONFIG.read_text())
    return config


def test_npd_fields_are_the_documented_ones(npd: Dict[str, Any]) -> None:
    assert set(npd) <= TOP_FIELDS and {"plugin", "source", "rules"} <= set(npd)
    assert npd["plugin"] == "custom"  # else "NPD does not support %q plugin for now"
    assert set(npd["pluginConfig"]) <= PLUGIN_CONFIG_FIELDS
    assert isinstance(npd["source"], str) and npd["source"]
    for condition in npd["conditions"]:
        assert set(condition) == CONDITION_FIELDS
    for rule in npd["rules"]:
        assert set(rule) <= RULE_FIELDS and rule["type"] in ("temporary", "permanent")


def test_npd_validate_rules(npd: Dict[str, Any]) -> None:
    config = npd["pluginConfig"]
    global_timeout = go_duration(config["timeout"])
    go_duration(config["invoke_interval"])
    assert config["concurrency"] >= 1
    conditions = {c["type"] for c in npd["conditions"]}
    for rule in npd["rules"]:
        assert os.path.isabs(rule["path"])
        if rule["type"] == "permanent":  # "permanent problem %s does not have preset default condition"
            assert rule["condition"] in conditions
        # "plugin timeout is greater than global timeout"
        assert go_duration(rule.get("timeout", config["timeout"])) <= global_timeout


def test_npd_timeout_leaves_room_for_probes(npd: Dict[str, Any]) -> None:
    rule = npd["rules"][0]
    args = rule["args"]
    probe = float(args[args.index("--probe-timeout") + 1]) if "--probe-timeout" in args else PROBE_TIMEOUT_DEFAULT
    # Plugins are probed one after another; a node with a few hung plugins must still report.
    assert go_duration(rule["timeout"]) >= 10 * probe


def test_npd_output_fits(npd: Dict[str, Any]) -> None:
    # cnidoctor --format npd prints at most 80 bytes (cnidoctor/report/npd.py, tested there).
    assert 80 <= npd["pluginConfig"]["max_output_length"] <= NPD_CUT_BYTES_MAX


def host_root_supported() -> bool:
    result = subprocess.run([str(CNIDOCTOR), "check", "--help"], capture_output=True, text=True, env=run_env())
    return "--host-root" in result.stdout


def run_env() -> Dict[str, str]:
    # The venv's console script, importing this checkout's package first.
    return {**os.environ, "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": ""}


def run_rule(
    rule: Dict[str, Any], extra: Sequence[str], cwd: Path, tmp_path: Path
) -> subprocess.CompletedProcess[bytes]:
    if not CNIDOCTOR.is_file():
        pytest.skip(f"{CNIDOCTOR} is not installed (pip install -e .)")
    env = {**run_env(), "CNIDOCTOR_CACHE_DIR": str(tmp_path / "cache")}
    started = time.monotonic()
    result = subprocess.run(
        [str(CNIDOCTOR), *rule["args"], *extra],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=go_duration(rule["timeout"]),
    )
    assert time.monotonic() - started < go_duration(rule["timeout"])
    return result


NPD_STATUS = {0: "OK", 1: "NonOK"}  # plugin.go: anything else is Unknown


# (scenario, arguments after the rule's own, expected NPD status): clean-bridge has no finding;
# syntax-invalid-json's expected.json has an error; skew-ipam-version has CNI511 (error).
NETD_CASES = [
    ("clean-bridge", ["--no-probe", "net.d"], "OK"),
    ("syntax-invalid-json", ["--no-probe", "net.d"], "NonOK"),
    ("skew-ipam-version", ["--bin-dir", "bin", "--runtime", "containerd@1.7", "net.d"], "NonOK"),
]


@pytest.mark.parametrize("scenario,extra,status", NETD_CASES, ids=[c[0] for c in NETD_CASES])
def test_npd_command_on_net_d(
    npd: Dict[str, Any], scenario: str, extra: List[str], status: str, tmp_path: Path
) -> None:
    rule = npd["rules"][0]
    result = run_rule(rule, extra, FIXTURES / scenario, tmp_path)
    assert NPD_STATUS.get(result.returncode, "Unknown") == status, result.stderr
    message = result.stdout.strip()  # NPD: strings.TrimSpace, then cut to max_output_length
    assert 0 < len(message) <= npd["pluginConfig"]["max_output_length"]
    assert b"\n" not in message and b"Traceback" not in result.stderr
    if status == "OK":
        assert message.startswith(b"OK ")


NODE_ROOTS = sorted(p for p in FIXTURES.iterdir() if p.name.startswith("node-") and (p / "root").is_dir())


@pytest.mark.parametrize("node", NODE_ROOTS, ids=[p.name for p in NODE_ROOTS])
def test_npd_command_on_node_roots(npd: Dict[str, Any], node: Path, tmp_path: Path) -> None:
    if not host_root_supported():
        pytest.skip("cnidoctor check --help does not list --host-root yet (issue 8 §1)")
    rule = npd["rules"][0]
    result = run_rule(rule, ["--host-root", str(node / "root")], node, tmp_path)
    assert result.returncode in (0, 1, 2), result.stderr
    assert len(result.stdout.strip()) <= npd["pluginConfig"]["max_output_length"]
    assert b"Traceback" not in result.stderr


def test_npd_command_from_a_container_is_unknown_when_it_cannot_probe(npd: Dict[str, Any], tmp_path: Path) -> None:
    """The exact command, with deploy/README.md's `--host-root /host` for NPD in a pod, on a node
    whose plugin needs a loader only the node has (tests/test_from_container.py builds it)."""
    from_container = pytest.importorskip("test_from_container")
    if not (from_container.REAL / "bridge").is_file() or not os.path.exists(from_container.LOADER):
        pytest.skip("needs Debian's plugins and the x86-64 loader")
    host = from_container.build_host(tmp_path / "host")
    rule = npd["rules"][0]
    result = run_rule(rule, ["--host-root", str(host)], tmp_path, tmp_path)
    assert NPD_STATUS.get(result.returncode, "Unknown") == "Unknown", (result.returncode, result.stdout)
    message = result.stdout.strip()
    assert message.startswith(b"CNI505") and len(message) <= npd["pluginConfig"]["max_output_length"]
    assert b"Traceback" not in result.stderr


# --- DaemonSet ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> List[Dict[str, Any]]:
    yaml = pytest.importorskip("yaml")
    return [d for d in yaml.safe_load_all(DAEMONSET.read_text()) if d]


@pytest.mark.parametrize("version", ["1.25", "1.30", "1.33"])
def test_manifests_validate_strictly(manifests: List[Dict[str, Any]], version: str) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for document in manifests:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:  # str(error) dumps the whole schema
            pytest.fail(f"{document['kind']}: {'.'.join(map(str, error.path))}: {error.message}")


def test_strict_validation_can_fail(manifests: List[Dict[str, Any]]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    daemonset = json.loads(json.dumps(next(d for d in manifests if d["kind"] == "DaemonSet")))
    daemonset["spec"]["template"]["spec"]["priorityClasName"] = "typo"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(daemonset, "1.33", strict=True)


def pod_spec(manifests: List[Dict[str, Any]]) -> Dict[str, Any]:
    daemonset = next(d for d in manifests if d["kind"] == "DaemonSet")
    spec: Dict[str, Any] = daemonset["spec"]["template"]["spec"]
    return spec


def test_daemonset_conventions(manifests: List[Dict[str, Any]]) -> None:
    spec = pod_spec(manifests)
    (container,) = spec["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]} and not security.get("privileged")
    # Every node, control planes included: NoSchedule and NoExecute, operator Exists, no key.
    assert {(t["operator"], t["effect"]) for t in spec["tolerations"] if "key" not in t} == {
        ("Exists", "NoSchedule"),
        ("Exists", "NoExecute"),
    }
    assert spec["priorityClassName"] == "system-node-critical"
    assert set(container["resources"]) == {"requests", "limits"}
    assert not spec.get("hostPID")  # the runtime's argv comes from the /host/proc mount


def test_daemonset_host_mounts_read_only_under_host(manifests: List[Dict[str, Any]]) -> None:
    spec = pod_spec(manifests)
    (container,) = spec["containers"]
    host_volumes = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    for name, host_path in host_volumes.items():
        assert mounts[name]["readOnly"] is True
        assert mounts[name]["mountPath"] == "/host" + host_path
    # What the runtime readers need: CNI dirs, runtime configs, binaries, k3s data, argv.
    assert {"/etc", "/opt/cni", "/usr", "/var/lib/rancher", "/proc"} <= set(host_volumes.values())
    # Sockets (connect() works through a read-only mount) stay out.
    assert not {"/run", "/var/run", "/var/lib/kubelet", "/"} & set(host_volumes.values())


def test_daemonset_runs_check_with_host_root_and_json(manifests: List[Dict[str, Any]]) -> None:
    (container,) = pod_spec(manifests)["containers"]
    script = " ".join(container["command"] + container["args"])
    assert "cnidoctor check --host-root /host --format json" in script
