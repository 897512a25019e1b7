"""Fleet summary (cnidoctor/report/aggregate.py) over real reports: each node's report is
produced by running `cnidoctor check --format json` on a fixture scenario, as tests/test_fixtures.py
does. Expected codes, versions and digests come from the fixtures themselves (expected.json, the
fake plugins' VERSION replies, sha256 of the config bytes), not from the code under test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import FIXTURES, run_cli
from test_fixtures import materialise, scenario_args

from cnidoctor.report.aggregate import aggregate, render_json, render_text


def node_report(scenario: str, tmp_path: Path, node: str) -> Dict[str, Any]:
    (tmp_path / node).mkdir()
    copy = materialise(FIXTURES / scenario, tmp_path / node)
    env = {"CNIDOCTOR_CACHE_DIR": str(tmp_path / node / "cache")}
    result = run_cli(scenario_args(copy), cwd=copy, env=env)
    assert result.exit_code == 0, result.output
    document: Dict[str, Any] = json.loads(result.stdout)
    document["node"] = node  # what the DaemonSet's wrapper adds from the downward API
    return document


def as_json_lines(documents: List[Dict[str, Any]]) -> str:
    return "".join(json.dumps(d) + "\n" for d in documents)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> List[Dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("fleet")
    return [
        node_report("skew-ipam-version", tmp, "node-a"),
        node_report("skew-ipam-version", tmp, "node-b"),
        node_report("skew-result-version", tmp, "node-c"),
        node_report("clean-bridge", tmp, "node-d"),
    ]


def test_nodes_per_finding_code_and_severity(fleet: List[Dict[str, Any]]) -> None:
    summary = aggregate([as_json_lines(fleet)])
    rows = {(s.key, severity): nodes for s in summary.findings for severity, nodes in s.values}
    # skew-ipam-version/expected.json: CNI511 error + CNI409 warning; skew-result-version: CNI513.
    assert rows == {
        ("CNI511", "error"): ("node-a", "node-b"),
        ("CNI409", "warning"): ("node-a", "node-b"),
        ("CNI513", "error"): ("node-c",),
    }
    assert summary.nodes == ("node-a", "node-b", "node-c", "node-d") and summary.errors == ()


def test_drift_same_network_name_different_content(fleet: List[Dict[str, Any]]) -> None:
    summary = aggregate([as_json_lines(fleet)])
    # Both skew scenarios name their network k8s-pod-network with different bytes; mynet is alone.
    assert [s.key for s in summary.drift] == ["k8s-pod-network"]
    digests = {
        hashlib.sha256(p.read_bytes()).hexdigest()[:12]: p.parent.parent.name
        for p in (FIXTURES / "skew-ipam-version/net.d").iterdir()
    }
    digests.update(
        {
            hashlib.sha256(p.read_bytes()).hexdigest()[:12]: "c"
            for p in (FIXTURES / "skew-result-version/net.d").iterdir()
        }
    )
    variants = dict(summary.drift[0].values)
    assert {v.split(":")[1] for v in variants} == set(digests)
    assert sorted(variants.values()) == [("node-a", "node-b"), ("node-c",)]


def test_identical_configs_are_not_drift(fleet: List[Dict[str, Any]]) -> None:
    assert aggregate([as_json_lines(fleet[:2])]).drift == ()


def test_plugin_version_spread_from_version_replies(fleet: List[Dict[str, Any]]) -> None:
    summary = aggregate([as_json_lines(fleet)])
    host_local = {s.key: dict(s.values) for s in summary.plugins}["host-local"]
    # skew-ipam-version/bin/host-local replies cniVersion 0.4.0; skew-result-version's 1.1.0.
    assert host_local == {"cniVersion 0.4.0": ("node-a", "node-b"), "cniVersion 1.1.0": ("node-c",)}


def runtime_section(name: str, version: str, libcni: str, source: str = "detected") -> Dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "libcni": libcni,
        "config_file": "/etc/containerd/config.toml",
        "conf_dir": "/etc/cni/net.d",
        "bin_dirs": ["/opt/cni/bin"],
        "max_conf_num": 1,
        "default_network": None,
        "source": {"runtime": source, "version": "buildinfo", "dirs": "config"},
        "evidence": [],
    }


def test_runtime_spread_and_undetected(fleet: List[Dict[str, Any]]) -> None:
    a, b, c, d = (dict(doc) for doc in fleet)
    a["runtime"] = runtime_section("containerd", "1.7.13", "1.1.2")
    b["runtime"] = runtime_section("containerd", "1.6.20", "1.1.2")
    c["runtime"] = runtime_section("containerd", "2.2.7", "1.3.0", source="default")  # assumed
    summary = aggregate([as_json_lines([a, b, c, d])])
    assert {s.key: dict(s.values) for s in summary.runtimes} == {
        "containerd": {"1.7.13 (libcni 1.1.2)": ("node-a",), "1.6.20 (libcni 1.1.2)": ("node-b",)}
    }
    assert summary.undetected == ("node-c", "node-d")


def test_pretty_documents_and_garbage_are_counted_not_raised(fleet: List[Dict[str, Any]]) -> None:
    pretty = "".join(json.dumps(d, indent=2) + "\n" for d in fleet[:2])
    noise = 'Error from server (NotFound): pods "x" not found\n{"truncated": \n[1, 2]\n{"tool": {"name": "other"}}\n'
    summary = aggregate([pretty, noise], names=["a.json", "logs.txt"])
    assert summary.nodes == ("node-a", "node-b")
    assert [(e.source, e.line) for e in summary.errors] == [
        ("logs.txt", 1),
        ("logs.txt", 2),
        ("logs.txt", 3),
        ("logs.txt", 4),
    ]


def test_reports_without_node_key_are_named_by_source(fleet: List[Dict[str, Any]]) -> None:
    plain = {k: v for k, v in fleet[3].items() if k != "node"}
    summary = aggregate([json.dumps(plain, indent=2)], names=["/tmp/reports/worker-7.json"])
    assert summary.nodes == ("worker-7.json#1",)


def test_renderings(fleet: List[Dict[str, Any]]) -> None:
    summary = aggregate([as_json_lines(fleet), "not json\n"])
    text = render_text(summary)
    assert text.startswith("4 node reports, 1 input error(s)\n")
    assert "  CNI511 error   2/4  node-a, node-b" in text
    assert "Runtime not detected on 4 node(s)" in text and "k8s-pod-network:" in text
    document = json.loads(render_json(summary))
    assert document["nodes"] == 4 and len(document["input_errors"]) == 1
    assert {"code": "CNI513", "severity": "error", "nodes": ["node-c"]} in document["findings"]
    assert document["drift"][0]["network"] == "k8s-pod-network"


def test_empty_input() -> None:
    summary = aggregate([])
    assert summary.nodes == () and render_text(summary) == "0 node reports, 0 input error(s)\n"
