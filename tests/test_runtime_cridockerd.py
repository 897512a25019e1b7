"""cri-dockerd's CNI flags from its unit, drop-ins and environment files (fixtures/node-cridockerd-*)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from cnidoctor.runtime.cridockerd import default_network_plugin, read_cridockerd

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.name for p in FIXTURES.glob("node-cridockerd-*") if (p / "expected-runtime.json").is_file())


def expected(case: str) -> Dict[str, Any]:
    return json.loads((FIXTURES / case / "expected-runtime.json").read_text())


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    want = expected(case)
    config = read_cridockerd(str(FIXTURES / case / "root"))
    assert config is not None
    assert config.name == want["runtime"]
    assert config.config_file == want["config_file"]
    assert config.conf_dir == want["conf_dir"]
    assert list(config.bin_dirs) == want["bin_dirs"]
    assert config.default_network == want["default_network"]
    assert config.dirs_source == want["dirs_source"]
    if "files_read" in want:
        assert list(config.files_read) == want["files_read"]
    got = sorted((f.code, f.file, f.pointer, f.severity.label, f.line, f.column) for f in config.findings)
    assert got == sorted(
        (i["code"], i["file"], i["pointer"], i["severity"], i.get("line"), i.get("column")) for i in want["findings"]
    )


def test_cases_present() -> None:
    assert {"node-cridockerd-dropin", "node-cridockerd-no-plugin"} <= set(CASES)


def test_defaults_per_release() -> None:
    # cmd/cri/options/options.go: unset <= v0.2.3, kubenet in v0.2.4, cni from v0.2.5
    assert default_network_plugin("0.2.3") == ""
    assert default_network_plugin("v0.2.4") == "kubenet"
    assert default_network_plugin("0.2.5") == "cni"
    assert default_network_plugin(None) == "cni"


def test_process_argv_wins_and_defaults_apply(tmp_path: Path) -> None:
    config = read_cridockerd(str(tmp_path), "0.3.1", ["/usr/bin/cri-dockerd", "--cni-bin-dir", ",/a,,/b,"])
    assert config is not None
    assert config.bin_dirs == ("/a", "/b")  # empty entries dropped (ProbeNetworkPlugins)
    assert config.conf_dir == "/etc/cni/net.d" and config.findings == ()


@pytest.mark.parametrize(
    "argv, release, expected",
    [
        (["cri-dockerd"], "0.2.4", "kubenet"),
        (["cri-dockerd", "--network-plugin", "calico"], None, "'calico'"),
        (["cri-dockerd", "--network-plugin=kubenet", "--network-plugin=cni"], None, None),  # last wins
        (["cri-dockerd", "--network-plugin"], None, None),  # dangling flag: ignored, no traceback
    ],
)
def test_network_plugin_findings(tmp_path: Path, argv: Any, release: Any, expected: Any) -> None:
    config = read_cridockerd(str(tmp_path), release, argv)
    assert config is not None
    if expected is None:
        assert config.findings == ()
    else:
        assert [f.code for f in config.findings] == ["CNI645"]
        assert expected in config.findings[0].message


def test_no_unit_no_process_is_none(tmp_path: Path) -> None:
    assert read_cridockerd(str(tmp_path)) is None


def test_masked_unit_is_not_read(tmp_path: Path) -> None:
    unit = tmp_path / "etc/systemd/system"
    unit.mkdir(parents=True)
    (unit / "cri-docker.service").symlink_to("/dev/null")
    assert read_cridockerd(str(tmp_path)) is None
