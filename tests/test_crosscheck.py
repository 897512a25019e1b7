"""crosscheck.py: list version per libcni, executed binaries, and node findings with ranges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pytest

from cnidoctor.config.parse import parse
from cnidoctor.crosscheck import facts as node
from cnidoctor.crosscheck.compare import executed_binaries, list_version
from cnidoctor.engine import Options
from cnidoctor.model import Candidate, ParsedFile, Selection
from cnidoctor.runtime.matrix import Libcni, RuntimeSpecError


def conflist(tmp_path: Path, doc: Mapping[str, Any]) -> ParsedFile:
    data = json.dumps(doc).encode()
    path = tmp_path / "10-net.conflist"
    path.write_bytes(data)
    return parse(Candidate(str(path), "conflist", data))


def test_cni_versions_selection(tmp_path: Path) -> None:
    # cni@v1.2.3 libcni/conf.go:91-135: highest entry <= Current(), cniVersion included; < 1.2 ignores it
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "0.4.0",
            "cniVersions": ["1.0.0", "1.1.0", "2.0.0"],
            "name": "n",
            "plugins": [{"type": "bridge"}],
        },
    )
    assert parsed.network is not None
    assert list_version(parsed.network, parsed.document, Libcni("1.3.0")).version == "1.1.0"
    assert list_version(parsed.network, parsed.document, Libcni("1.1.2")).version == "0.4.0"


def test_cni_versions_only_is_empty_before_12(tmp_path: Path) -> None:
    # cni-facts §6.4: `cniVersions` only -> treated as "" by libcni < 1.2
    parsed = conflist(tmp_path, {"cniVersions": ["1.0.0"], "name": "n", "plugins": [{"type": "bridge"}]})
    assert parsed.network is not None
    assert list_version(parsed.network, parsed.document, Libcni("1.1.2")).version == ""
    assert list_version(parsed.network, parsed.document, Libcni("1.2.3")).version == "1.0.0"


def test_cni_versions_bad_entry(tmp_path: Path) -> None:
    # cni-facts §3.1 last row: ParseVersion error wrapped with entry and index
    parsed = conflist(tmp_path, {"cniVersions": ["1.0.0.0"], "name": "n", "plugins": [{"type": "bridge"}]})
    assert parsed.network is not None
    assert list_version(parsed.network, parsed.document, Libcni("1.3.0")).error == (
        "error parsing configuration list: invalid cniVersions entry 1.0.0.0 at index 0: "
        'invalid version "1.0.0.0": too many parts'
    )


def test_disable_check_readbool(tmp_path: Path) -> None:
    # cni@v1.2.3 libcni/conf.go readBool: lowered value in the message
    parsed = conflist(
        tmp_path, {"cniVersion": "1.0.0", "disableCheck": "Yes", "name": "n", "plugins": [{"type": "bridge"}]}
    )
    assert parsed.network is not None
    assert list_version(parsed.network, parsed.document, Libcni("1.2.3")).error == (
        'error parsing configuration list: invalid value "yes" for disableCheck'
    )
    assert list_version(parsed.network, parsed.document, Libcni("1.2.0")).error == (
        'error parsing configuration list: invalid disableCheck value "Yes"'
    )


def test_executed_binaries_flannel_and_multus(tmp_path: Path) -> None:
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "0.3.1",
            "name": "n",
            "plugins": [
                {"type": "flannel", "delegate": {"hairpinMode": True}},
                {
                    "type": "multus",
                    "delegates": [
                        {"cniVersion": "0.4.0", "plugins": [{"type": "calico", "ipam": {"type": "calico-ipam"}}]}
                    ],
                },
                {"type": "portmap"},
            ],
        },
    )
    assert parsed.network is not None
    got = [(b.type, b.role, b.pointer, b.implied) for b in executed_binaries(parsed.network)]
    assert got == [
        ("flannel", "plugin", "/plugins/0/type", False),
        ("bridge", "delegate", "/plugins/0/delegate", True),
        ("host-local", "ipam", "/plugins/0/type", True),
        ("multus", "plugin", "/plugins/1/type", False),
        ("calico", "delegate", "/plugins/1/delegates/0/plugins/0/type", False),
        ("calico-ipam", "delegate", "/plugins/1/delegates/0/plugins/0/ipam/type", False),
        ("portmap", "plugin", "/plugins/2/type", False),
    ]


def test_static_result_version_finding_names_ranges(tmp_path: Path) -> None:
    # cni-facts §6.4: 1.1.0 fails on libcni <= 1.1.x = containerd <= 1.7, CRI-O <= 1.30 (§6.3)
    parsed = conflist(tmp_path, {"cniVersion": "1.1.0", "name": "n", "plugins": [{"type": "bridge"}]})
    every = Options(runtimes=("containerd", "crio"))
    result = node.check_configs_only([parsed], Selection(parsed.path, "n", "1.1.0"), every)
    found = [(f.code, f.pointer, f.severity.label) for f in result.findings]
    assert found == [("CNI513", "/cniVersion", "error")]
    assert "containerd 1.3-1.7.34, CRI-O 1.17-1.30" in result.findings[0].message
    # without --runtime only the lines in use are in scope and the finding is a warning
    default = node.check_configs_only([parsed], Selection(parsed.path, "n", "1.1.0"), Options())
    assert [(f.code, f.severity.label) for f in default.findings] == [("CNI513", "warning")]
    assert "containerd 1.7-1.7.34" in default.findings[0].message
    assert result.findings[0].predicts == 'plugin type="bridge" failed (add): unsupported CNI result version "1.1.0"'


def test_static_runtime_option(tmp_path: Path) -> None:
    parsed = conflist(tmp_path, {"cniVersion": "1.1.0", "name": "n", "plugins": [{"type": "bridge"}]})
    result = node.check_configs_only([parsed], None, Options(runtimes=("containerd@2.1",)))
    assert result.findings == ()
    # An unknown runtime is a usage error (the CLI exits 2), never a finding nor a silent fallback
    # to the default releases (CNI519 is reserved).
    with pytest.raises(RuntimeSpecError, match="containrd"):
        node.check_configs_only([parsed], None, Options(runtimes=("containrd@2.1",)))


def test_every_node_check_beside_a_rule_is_run_by_the_crosscheck_stage() -> None:
    """A check_* function in rules/binaries.py or rules/skew.py that NODE_CHECKS forgets would
    never fire; NODE_CHECKS naming anything else would be a check without its rule beside it."""
    import inspect

    from cnidoctor.rules import binaries, skew

    defined = {
        function
        for module in (binaries, skew)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("check_") and function.__module__ == module.__name__
    }
    assert set(node.NODE_CHECKS) == defined
    assert len(node.NODE_CHECKS) == 6  # CNI410, CNI511, CNI512, CNI513, CNI515, CNI516


def test_the_node_context_imports_no_rule_module() -> None:
    """rules/ types its checks with NodeContext, so context.py must not import rules (a cycle)."""
    import ast

    import cnidoctor.crosscheck.context as context

    tree = ast.parse(Path(context.__file__).read_text(encoding="utf-8"))
    imported = [node_.module or "" for node_ in ast.walk(tree) if isinstance(node_, ast.ImportFrom)] + [
        alias.name for node_ in ast.walk(tree) if isinstance(node_, ast.Import) for alias in node_.names
    ]
    assert not [name for name in imported if "rules" in name.split(".")]


def test_without_probing_only_the_runtime_library_checks_fire(tmp_path: Path) -> None:
    """No facts in the context: a 1.1.0 list on old runtimes is CNI513 (cni@v1.1.2
    pkg/types/100 knows results up to 1.0.0), nothing that needs a probe."""
    parsed = conflist(tmp_path, {"cniVersion": "1.1.0", "name": "n", "plugins": [{"type": "bridge"}]})
    ctx = node.NodeContext((parsed,), None, node.runtime_scope(Options(runtimes=("containerd@1.7",))), Options())
    assert [f.code for f in node.run_node_checks(ctx)] == ["CNI513"]
