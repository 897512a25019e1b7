"""Every node root (``fixtures/node-*/root``, a fake ``/``) run end to end as an operator runs it:
``cnidoctor check --host-root ROOT`` with no paths, so the detected runtime decides which conf
dir and bin dirs are checked.

``expected.json`` next to ``root/`` holds ``findings`` (code, file relative to the root, pointer,
severity; ``file`` null for node-level findings) and ``runtime``: the report's runtime name,
config file, conf dir, bin dirs and where runtime and dirs came from. Each was written by hand
from the fixture's README (which cites the upstream sources) and ``expected-runtime.json`` (the
reader-level expectation), plus the config-side findings that follow from the dirs the runtime
uses (e.g. CNI002 where the node has no conf dir at all). Where the release detection models
differs from the reader-level ``input`` (no binary, no package record), the README says so.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import FIXTURES, run_cli

NODES = sorted(p for p in FIXTURES.glob("node-*") if (p / "root").is_dir() and (p / "expected.json").is_file())
RUNTIME_KEYS = ("name", "config_file", "conf_dir", "bin_dirs")


def test_every_node_root_has_an_end_to_end_expectation() -> None:
    roots = sorted(p.name for p in FIXTURES.glob("node-*") if (p / "root").is_dir())
    assert len(roots) >= 31
    assert [p.name for p in NODES] == roots


def relative(path: Optional[str], root: Path) -> Optional[str]:
    """A report path without the host-root prefix (the node's path without its leading /)."""
    if path is None:
        return None
    return os.path.relpath(os.path.abspath(path), root) if os.path.isabs(path) or path.startswith(str(root)) else path


def findings_of(report: Dict[str, Any], root: Path) -> List[Tuple[str, Optional[str], str, str]]:
    return sorted(
        ((f["code"], relative(f["file"], root), f["pointer"], f["severity"]) for f in report["findings"]),
        key=str,
    )


def run_node(fixture: Path, tmp_path: Path) -> Tuple[Dict[str, Any], Path]:
    copy = tmp_path / fixture.name
    shutil.copytree(fixture, copy, symlinks=True)
    root = (copy / "root").resolve()
    env = {"CNIDOCTOR_CACHE_DIR": str(tmp_path / "probe-cache")}
    args = ["check", "--format", "json", "--fail-on", "never", "--no-probe", "--host-root", str(root)]
    result = run_cli(args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), root


@pytest.mark.parametrize("fixture", NODES, ids=[p.name for p in NODES])
def test_node_root_end_to_end(fixture: Path, tmp_path: Path) -> None:
    expected = json.loads((fixture / "expected.json").read_text())
    report, root = run_node(fixture, tmp_path)
    want = sorted(((e["code"], e["file"], e["pointer"], e["severity"]) for e in expected["findings"]), key=str)
    assert findings_of(report, root) == want
    runtime = report["runtime"]
    assert {k: runtime[k] for k in RUNTIME_KEYS} == {k: expected["runtime"][k] for k in RUNTIME_KEYS}
    source = expected["runtime"]["source"]
    assert {k: runtime["source"][k] for k in source} == source


def test_k3s_plain_check_does_not_report_etc_cni_net_d(tmp_path: Path) -> None:
    # issue 8: on k3s the configs live under the data dir; /etc/cni/net.d is not where it looks.
    report, root = run_node(FIXTURES / "node-k3s-default", tmp_path)
    assert report["runtime"]["conf_dir"] == "/var/lib/rancher/k3s/agent/etc/cni/net.d"
    assert not (root / "etc/cni/net.d").exists()
    assert [f for f in report["findings"] if f["code"] == "CNI002"] == []
    assert report["selected"]["file"].endswith("var/lib/rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist")
