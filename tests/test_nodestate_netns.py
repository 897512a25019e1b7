"""The node-state checks against the real plugins (Debian's containernetworking-plugins in
/usr/lib/cni) in a throwaway network namespace: host-local fills a real store for CNI704/CNI705,
and bridge meets a real bridge with a conflicting address for CNI703. Each prediction must be the
text the real plugin printed. Skips without root, ``ip netns`` or the plugins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

PLUGINS = Path("/usr/lib/cni")
ROOT = Path(__file__).resolve().parents[1]


def _missing() -> Optional[str]:
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("ip") is None or not (PLUGINS / "bridge").is_file() or not (PLUGINS / "host-local").is_file():
        return "needs ip and the containernetworking plugins in /usr/lib/cni"
    probe = f"cnid-probe-{uuid.uuid4().hex[:6]}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "cannot create network namespaces here"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


@pytest.fixture
def netns():  # type: ignore[no-untyped-def]
    name = f"cnid-ns-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def run_plugin(ns: str, plugin: str, conf: Dict[str, Any], container: str, ifname: str = "eth0") -> Dict[str, Any]:
    """CNI_COMMAND=ADD of a real plugin inside ``ns`` (its container netns is a second one)."""
    cns = f"{ns}-{container}"
    subprocess.run(["ip", "netns", "add", cns], check=True, capture_output=True)
    try:
        return _exec_plugin(ns, cns, plugin, conf, container, ifname)
    finally:
        subprocess.run(["ip", "netns", "del", cns], capture_output=True)


def _exec_plugin(ns: str, cns: str, plugin: str, conf: Dict[str, Any], container: str, ifname: str) -> Dict[str, Any]:
    env = {
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": container,
        "CNI_NETNS": f"/var/run/netns/{cns}",
        "CNI_IFNAME": ifname,
        "CNI_PATH": str(PLUGINS),
        "PATH": os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        ["ip", "netns", "exec", ns, str(PLUGINS / plugin)],
        input=json.dumps(conf).encode(),
        capture_output=True,
        env=env,
        timeout=30,
    )
    return json.loads(done.stdout or b"{}")


def check_in(ns: str, conf_dir: Path) -> Dict[str, Any]:
    """cnidoctor on the live node (--host-root /) inside the namespace, configs from ``conf_dir``."""
    done = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "cnidoctor", "check", "--format", "json"]
        + ["--fail-on", "never", "--no-cache", "--host-root", "/", "--bin-dir", str(PLUGINS), str(conf_dir)],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def bridge_conf(name: str, data_dir: Path, subnet: str) -> Dict[str, Any]:
    return {
        "cniVersion": "1.0.0",
        "name": name,
        "type": "bridge",
        "bridge": "cnidbr0",
        "isGateway": True,
        "ipam": {"type": "host-local", "dataDir": str(data_dir), "ranges": [[{"subnet": subnet}]]},
    }


def write_list(conf_dir: Path, conf: Dict[str, Any]) -> None:
    conf_dir.mkdir(parents=True, exist_ok=True)
    plugin = {k: v for k, v in conf.items() if k not in ("cniVersion", "name")}
    doc = {"cniVersion": conf["cniVersion"], "name": conf["name"], "plugins": [plugin]}
    (conf_dir / "10-test.conflist").write_text(json.dumps(doc))


def codes(report: Dict[str, Any]) -> Dict[str, str]:
    return {f["code"]: f["message"] for f in report["findings"] if f["code"].startswith("CNI7")}


def test_bridge_with_another_address_fails_add_as_predicted(netns: str, tmp_path: Path) -> None:
    subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "add", "cnidbr0", "type", "bridge"], check=True)
    subprocess.run(["ip", "netns", "exec", netns, "ip", "addr", "add", "10.99.0.1/24", "dev", "cnidbr0"], check=True)
    conf = bridge_conf("brtest", tmp_path / "store", "10.98.0.0/24")
    write_list(tmp_path / "net.d", conf)
    report = check_in(netns, tmp_path / "net.d")
    assert "CNI703" in codes(report)
    real = run_plugin(netns, "bridge", conf, "c0ffee01")
    assert real.get("code"), real
    predicted = report["prediction"]["steps"]["add"]
    assert predicted["outcome"] == "fail"
    assert predicted["error"] == f'plugin type="bridge" failed (add): {real["msg"]}'


def test_bridge_with_the_gateway_address_is_healthy(netns: str, tmp_path: Path) -> None:
    subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "add", "cnidbr0", "type", "bridge"], check=True)
    subprocess.run(["ip", "netns", "exec", netns, "ip", "addr", "add", "10.98.0.1/24", "dev", "cnidbr0"], check=True)
    conf = bridge_conf("brtest", tmp_path / "store", "10.98.0.0/24")
    write_list(tmp_path / "net.d", conf)
    assert "CNI703" not in codes(check_in(netns, tmp_path / "net.d"))
    assert "ips" in run_plugin(netns, "bridge", conf, "c0ffee02")


def test_exhausted_real_store_is_predicted_with_the_plugins_text(netns: str, tmp_path: Path) -> None:
    conf = bridge_conf("hltest", tmp_path / "store", "10.97.0.0/29")  # 5 addresses: .2-.6
    for i in range(5):
        assert "ips" in run_plugin(netns, "bridge", conf, f"feed{i:04d}"), i
    write_list(tmp_path / "net.d", conf)
    report = check_in(netns, tmp_path / "net.d")
    assert "CNI704" in codes(report)
    assert "5 of 5 addresses" in codes(report)["CNI704"]
    real = run_plugin(netns, "bridge", conf, "feed9999")
    assert real.get("code"), real
    assert report["prediction"]["steps"]["add"]["error"] == f'plugin type="bridge" failed (add): {real["msg"]}'


def test_nearly_full_store_is_a_warning(netns: str, tmp_path: Path) -> None:
    conf = bridge_conf("hltest", tmp_path / "store", "10.96.0.0/28")  # 13 addresses
    for i in range(12):
        assert "ips" in run_plugin(netns, "bridge", conf, f"beef{i:04d}"), i
    write_list(tmp_path / "net.d", conf)
    report = check_in(netns, tmp_path / "net.d")
    found = [f for f in report["findings"] if f["code"] == "CNI704"]
    assert [f["severity"] for f in found] == ["warning"]
    assert "12 of 13" in found[0]["message"]


def test_flannel_bridge_mismatch_is_predicted_with_the_delegates_text(netns: str, tmp_path: Path) -> None:
    # flannel itself is not in Debian's package; its delegate is the real bridge with isGateway
    # and a host-local range of FLANNEL_SUBNET (flannel-io/cni-plugin:flannel_linux.go doCmdAdd)
    subprocess.run(["ip", "netns", "exec", netns, "ip", "link", "add", "cnidbr0", "type", "bridge"], check=True)
    subprocess.run(["ip", "netns", "exec", netns, "ip", "addr", "add", "10.244.2.1/24", "dev", "cnidbr0"], check=True)
    conf_dir = tmp_path / "net.d"
    conf_dir.mkdir()
    # a stand-in flannel that answers VERSION as flannel does, so the lookup and probe pass
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "flannel"
    stub.write_text('#!/bin/sh\necho \'{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}\'\n')
    stub.chmod(0o755)
    flannel = {"type": "flannel", "delegate": {"bridge": "cnidbr0", "isDefaultGateway": True}}
    (conf_dir / "10-flannel.conflist").write_text(
        json.dumps({"cniVersion": "1.0.0", "name": "cbr0", "plugins": [flannel]})
    )
    # subnet.env as flanneld writes it (flannel-io/flannel:pkg/subnet/subnet.go WriteSubnetFile),
    # on a tmpfs over /run in a private mount namespace: the host's /run is not touched
    env = "FLANNEL_NETWORK=10.244.0.0/16\\nFLANNEL_SUBNET=10.244.1.1/24\\nFLANNEL_MTU=1450\\nFLANNEL_IPMASQ=true\\n"
    script = (
        "mount -t tmpfs tmpfs /run && mkdir -p /run/flannel && "
        f"printf '{env}' > /run/flannel/subnet.env && "
        f"{sys.executable} -m cnidoctor check --format json --fail-on never --no-cache --host-root / "
        f"--bin-dir {bin_dir} --bin-dir {PLUGINS} {conf_dir}"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", netns, "unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    if done.returncode != 0 and b"mount" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode()[:200]}")
    report = json.loads(done.stdout)
    assert "CNI702" in codes(report)
    delegate = bridge_conf("cbr0", tmp_path / "store", "10.244.1.0/24")
    real = run_plugin(netns, "bridge", delegate, "f1a00001")
    assert real.get("code"), real
    predicted = report["prediction"]["steps"]["add"]["error"]
    assert predicted == f'plugin type="flannel" failed (add): failed to delegate add: {real["msg"]}'
