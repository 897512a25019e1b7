"""rules/semantics.py on ParsedFile objects built directly (independent of parse.py).

Each expected text is libcni's / the plugin's (cni-facts.md §3, §6.2; sources cited in the rules).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import run_cli

from cnidoctor.config.parse import parse
from cnidoctor.model import Candidate, NetworkList, ParsedFile, PluginConf, Severity
from cnidoctor.rules import semantics

BRIDGE: Dict[str, Any] = {"type": "bridge", "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}}
PORTMAP: Dict[str, Any] = {"type": "portmap", "capabilities": {"portMappings": True}}


def conflist(doc: Dict[str, Any], path: str = "10-x.conflist") -> ParsedFile:
    plugins = tuple(PluginConf(i, f"/plugins/{i}", p.get("type"), p) for i, p in enumerate(doc.get("plugins", [])))
    version = doc.get("cniVersion")
    net = NetworkList(doc.get("name"), version if isinstance(version, str) else None, plugins)
    return ParsedFile(Candidate(path, "conflist", b"{}"), doc, net, None, ())


def conf(doc: Dict[str, Any], path: str = "10-x.conf") -> ParsedFile:
    net = NetworkList(
        doc.get("name"), doc.get("cniVersion"), (PluginConf(0, "", doc.get("type"), doc),), from_single_conf=True
    )
    return ParsedFile(Candidate(path, "conf", b"{}"), doc, net, None, ())


def lst(version: Optional[str] = "1.0.0", plugins: Optional[List[Dict[str, Any]]] = None, **top: Any) -> ParsedFile:
    doc: Dict[str, Any] = {"name": "mynet"}
    if version is not None:
        doc["cniVersion"] = version
    doc.update(top)
    doc["plugins"] = plugins if plugins is not None else [BRIDGE, PORTMAP]
    return conflist(doc)


def found(parsed: ParsedFile) -> List[Tuple[str, str, str]]:
    return sorted((f.code, f.pointer, f.severity.label) for f in semantics.check(parsed))


def only(parsed: ParsedFile, code: str) -> Any:
    hits = [f for f in semantics.check(parsed) if f.code == code]
    assert len(hits) == 1, semantics.check(parsed)
    return hits[0]


def test_clean_list_has_no_findings() -> None:
    assert found(lst()) == []


def test_unloadable_file_is_skipped() -> None:
    item = ParsedFile(Candidate("x.conflist", "conflist", b"{"), None, None, "invalid", ())
    assert semantics.check(item) == ()


def test_missing_version_absent_and_empty() -> None:
    assert found(lst(None)) == [("CNI301", "", "error")]
    assert found(lst("")) == [("CNI301", "/cniVersion", "error")]
    assert only(lst(None), "CNI301").predicts == 'invalid version "": the version is empty'


def test_missing_version_with_bandwidth_predicts_plugin_refusal() -> None:
    item = lst(None, [BRIDGE, {"type": "bandwidth", "capabilities": {"bandwidth": True}}])
    assert only(item, "CNI301").predicts == (
        'plugin type="bandwidth" failed (add): incompatible CNI versions; config is "0.1.0", '
        'plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]'
    )
    assert [f.code for f in semantics.check(item)] == ["CNI301"]  # no CNI315 cascade


@pytest.mark.parametrize(
    "version, delete_text",
    [
        ("v1.0.0", 'failed to convert major version part "v1": strconv.Atoi: parsing "v1": invalid syntax'),
        ("1.0.0.0", 'invalid version "1.0.0.0": too many parts'),
    ],
)
def test_unparseable_versions(version: str, delete_text: str) -> None:
    finding = only(lst(version), "CNI302")
    assert finding.pointer == "/cniVersion" and finding.severity is Severity.ERROR
    assert delete_text in finding.message
    assert finding.predicts == (
        f'plugin type="bridge" failed (add): incompatible CNI versions; config is "{version}", '
        'plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]'
    )


@pytest.mark.parametrize("version", ["1.0", "0.1", "1.0.1", "0.5.0"])
def test_parseable_non_spec_versions(version: str) -> None:
    assert found(lst(version))[0] == ("CNI303", "/cniVersion", "error")


def test_release_number_hint() -> None:
    assert "release number" in only(lst("1.0.1"), "CNI303").message
    assert "'1.0.0'" in only(lst("1.0"), "CNI303").message


def test_invalid_and_missing_names() -> None:
    bad = conflist({"cniVersion": "0.4.0", "name": "bridge@123", "plugins": [BRIDGE]})
    finding = only(bad, "CNI304")
    assert finding.pointer == "/name"
    assert finding.predicts == 'plugin type="bridge" failed (add): invalid characters found in network name; bridge@123'
    # Go's $ matches only at the very end: a trailing newline is invalid
    assert only(conflist({"cniVersion": "0.4.0", "name": "n\n", "plugins": [BRIDGE]}), "CNI304")
    noname = conf({"cniVersion": "0.3.1", "type": "loopback"})
    finding = only(noname, "CNI305")
    assert (finding.pointer, finding.predicts) == ("", 'plugin type="loopback" failed (add): missing network name:')
    assert only(conflist({"cniVersion": "0.4.0", "name": "", "plugins": [BRIDGE]}), "CNI305").pointer == "/name"


def test_newer_spec_keys() -> None:
    assert found(lst("0.3.1", disableCheck=True)) == [("CNI306", "/disableCheck", "warning")]
    assert found(lst("1.0.0", disableGC=True)) == [("CNI306", "/disableGC", "warning")]
    assert found(lst("0.4.0", disableCheck=True)) == []


def test_reserved_keys_only_from_1_0_0() -> None:
    plugins = [dict(BRIDGE, runtimeConfig={"x": 1}, **{"cni.dev/attachments": []}), PORTMAP]
    assert found(lst("1.0.0", plugins)) == [
        ("CNI307", "/plugins/0/cni.dev~1attachments", "warning"),
        ("CNI307", "/plugins/0/runtimeConfig", "warning"),
    ]
    assert found(lst("0.4.0", plugins)) == []


def test_cni_versions_selection() -> None:
    item = lst("1.0.0", cniVersions=["0.4.0", "1.0.0", "1.1.0", "2.0.0"])
    finding = only(item, "CNI308")
    assert finding.severity is Severity.WARNING and "'1.1.0'" in finding.message
    assert semantics.new_libcni_version(["0.4.0", "1.0.0", "1.1.0", "2.0.0"], "1.0.0") == "1.1.0"
    assert semantics.new_libcni_version(["2.0.0"], "") == ""
    assert found(lst("1.1.0", cniVersions=["1.0.0", "1.1.0"])) == []


def test_cni_versions_malformed_is_error() -> None:
    finding = only(lst("1.0.0", cniVersions=["1.0.0", "1.0.0.0"]), "CNI308")
    assert (finding.pointer, finding.severity) == ("/cniVersions/1", Severity.ERROR)
    assert finding.predicts == (
        'error parsing configuration list: invalid cniVersions entry 1.0.0.0 at index 1: invalid version "1.0.0.0": too many parts'
    )
    assert only(lst("1.0.0", cniVersions="1.0.0"), "CNI308").predicts == (
        "error parsing configuration list: invalid type for cniVersions: []interface {}"
    )
    assert only(lst("1.0.0", cniVersions=[1]), "CNI308").predicts == (
        "error parsing configuration list: invalid type for cniVersions index 0: float64"
    )


def test_disable_check_string() -> None:
    finding = only(lst("0.4.0", disableCheck="true"), "CNI309")
    assert (finding.pointer, finding.severity) == ("/disableCheck", Severity.ERROR)
    assert finding.predicts == "error parsing configuration list: invalid disableCheck type string"


def test_plugin_level_version_and_name() -> None:
    item = lst("1.0.0", [dict(BRIDGE, cniVersion="0.3.1", name="mynet"), dict(PORTMAP, name="pm")])
    assert found(item) == [("CNI310", "/plugins/0/cniVersion", "info"), ("CNI310", "/plugins/1/name", "info")]
    assert found(conf({"cniVersion": "0.3.1", "name": "n", "type": "bridge"})) == []


def test_plugin_type_with_path() -> None:
    item = lst("1.0.0", [dict(BRIDGE, type="../bin/bridge"), PORTMAP])
    finding = only(item, "CNI311")
    assert finding.pointer == "/plugins/0/type"
    assert finding.predicts == 'plugin type="../bin/bridge" failed (add): invalid plugin name: ../bin/bridge'
    ipam = lst("1.0.0", [{"type": "bridge", "IPAM": {"Type": "/tmp/host-local"}}, PORTMAP])
    assert found(ipam) == [("CNI311", "/plugins/0/IPAM/Type", "error")]


@pytest.mark.parametrize("plugin, text", sorted(semantics.META_PLUGIN_ERRORS.items()))
def test_meta_plugin_first(plugin: str, text: str) -> None:
    item = lst("1.0.0", [{"type": plugin, "capabilities": {"portMappings": True, "bandwidth": True}}, BRIDGE])
    finding = only(item, "CNI312")
    assert finding.pointer == "/plugins/0/type"
    assert finding.predicts == f'plugin type="{plugin}" failed (add): {text}'
    single = conf(
        {"cniVersion": "1.0.0", "name": "n", "type": plugin, "capabilities": {"portMappings": True, "bandwidth": True}}
    )
    assert only(single, "CNI312").pointer == "/type"


def test_chaining_before_030() -> None:
    assert found(lst("0.2.0")) == [("CNI313", "/cniVersion", "warning")]
    assert found(lst("0.2.0", [BRIDGE])) == []


def test_missing_and_unknown_capabilities() -> None:
    item = lst("1.0.0", [BRIDGE, {"type": "portmap"}, {"type": "bandwidth", "capabilities": {"snat": True}}])
    assert found(item) == [
        ("CNI314", "/plugins/1", "warning"),
        ("CNI314", "/plugins/2/capabilities", "warning"),
        ("CNI316", "/plugins/2/capabilities/snat", "warning"),
    ]


@pytest.mark.parametrize(
    "plugin, version, bad",
    [
        ("bandwidth", "0.2.0", True),
        ("bandwidth", "0.3.0", False),
        ("vrf", "0.3.0", True),
        ("vrf", "0.3.1", False),
        ("firewall", "0.3.1", True),
        ("firewall", "0.4.0", False),
    ],
)
def test_plugin_minimum_versions(plugin: str, version: str, bad: bool) -> None:
    item = lst(version, [BRIDGE, {"type": plugin, "capabilities": {"bandwidth": True}}])
    hits = [f for f in semantics.check(item) if f.code == "CNI315"]
    assert bool(hits) is bad
    if bad:
        assert hits[0].pointer == "/plugins/1/type"
        assert f'config is "{version}"' in (hits[0].predicts or "")


def test_plugin_minimum_with_cni_versions_pick() -> None:
    # old libcni run it at 0.4.0 (fine); new libcni pick 1.1.0 (fine too): no CNI315
    item = lst("0.4.0", [BRIDGE, {"type": "firewall"}], cniVersions=["0.4.0", "1.1.0"])
    assert [f.code for f in semantics.check(item) if f.code == "CNI315"] == []


def test_host_local_ranges_old_version() -> None:
    ipam = {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "10.2.0.0/24"}]]}
    item = conf({"cniVersion": "0.2.0", "name": "n", "type": "bridge", "ipam": ipam})
    finding = only(item, "CNI317")
    assert finding.pointer == "/ipam/ranges"
    assert finding.predicts == (
        'plugin type="bridge" name="n" failed (add): CNI version 0.2.0 does not support more than 1 address per family'
    )
    dual = dict(ipam, ranges=[[{"subnet": "10.1.0.0/24"}], [{"subnet": "fd00::/64"}]])
    assert [
        f for f in semantics.check(conf({"cniVersion": "0.2.0", "name": "n", "type": "bridge", "ipam": dual}))
    ] == []
    assert not [f for f in semantics.check(conf({"cniVersion": "0.3.1", "name": "n", "type": "bridge", "ipam": ipam}))]


def test_no_ip_result_only_via_helper() -> None:
    lo = conf({"cniVersion": "0.2.0", "name": "lo", "type": "loopback"})
    assert found(lo) == []  # per-file check stays quiet: only the default network matters
    hits = semantics.no_ip_result(lo)
    assert [(f.code, f.pointer) for f in hits] == [("CNI318", "/cniVersion")]
    assert semantics.no_ip_result(conf({"cniVersion": "0.3.1", "name": "lo", "type": "loopback"})) == ()
    hd = conf({"cniVersion": "0.2.0", "name": "h", "type": "host-device", "ipam": {"type": "static"}})
    assert semantics.no_ip_result(hd) == ()


def test_hybrid_documents() -> None:
    assert found(lst("1.0.0", type="bridge")) == [("CNI319", "/type", "warning")]
    single = conf({"cniVersion": "1.0.0", "name": "n", "type": "bridge", "plugins": [BRIDGE]})
    # a .conf is a single-plugin config: at 1.0.0 that format is deprecated too (CNI321)
    assert found(single) == [("CNI319", "/plugins", "warning"), ("CNI321", "/cniVersion", "warning")]


def test_delegate_versions() -> None:
    multus = {
        "cniVersion": "0.4.0",
        "name": "multus",
        "type": "multus",
        "delegates": [{"cniVersion": "0.3.1", "name": "cbr0", "plugins": [BRIDGE]}],
    }
    finding = only(conf(multus), "CNI320")
    assert (finding.pointer, finding.severity) == ("/delegates/0/cniVersion", Severity.ERROR)
    assert finding.predicts == "delegate cni version is 0.3.1 while top level cni version is 0.4.0"
    newer = dict(multus, cniVersion="0.3.1", delegates=[{"cniVersion": "0.4.0", "plugins": [BRIDGE]}])
    assert found(conf(newer)) == [("CNI320", "/delegates/0/cniVersion", "warning")]
    flannel = lst("0.3.1", [{"type": "flannel", "delegate": {"cniVersion": "0.3.1"}}, PORTMAP])
    assert found(flannel) == []


def test_every_rule_is_documented() -> None:
    codes = [r.code for r in semantics.RULES]
    assert codes == [f"CNI{n}" for n in range(301, 322)]
    for rule in semantics.RULES:
        assert rule.summary and rule.meaning and rule.example and rule.fix and rule.references, rule.code


def test_single_conf_at_1x_is_deprecated_but_not_an_error() -> None:
    loopback = {"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}
    assert found(conf(loopback)) == [("CNI321", "/cniVersion", "warning")]
    assert found(conf(dict(loopback, cniVersion="0.4.0"))) == []
    assert "CNI321" not in [code for code, _, _ in found(lst("1.0.0"))]


# -- issue 10 point 8: fix texts computed, not canned -------------------------------------------


def test_invalid_json_fix_does_not_name_a_comma_after_mynet(tmp_path: Path) -> None:
    from cnidoctor.rules import catalog

    path = tmp_path / "10-x.conflist"
    path.write_text("this is not json")
    report = json.loads(run_cli(["check", "--no-probe", "--format", "json", str(path)]).stdout)
    assert [f["code"] for f in report["findings"]] == ["CNI101"]
    assert "mynet" not in catalog()["CNI101"].fix


def test_plugin_not_found_fix_names_the_provider_installer() -> None:
    from cnidoctor.rules.binaries import install_fix

    for plugin_type in ("flannel", "calico", "cilium-cni", "multus"):
        text = install_fix(plugin_type, ["/usr/libexec/cni"])
        assert ("tarball" not in text and "DaemonSet" in text) or "operator" in text, text
    bridge = install_fix("bridge", ["/usr/libexec/cni"])
    assert "containernetworking/plugins release tarball" in bridge and "/usr/libexec/cni" in bridge


def test_version_rejection_fix_names_the_computed_version_and_real_bin_dir(tmp_path: Path) -> None:
    from cnidoctor.crosscheck.compare import BinaryFacts
    from cnidoctor.crosscheck.context import NodeContext, runtime_scope
    from cnidoctor.engine import Options
    from cnidoctor.rules import skew

    path = tmp_path / "10-k8s.conflist"
    doc = {"cniVersion": "0.3.1", "name": "k8s", "plugins": [{"type": "bridge"}, {"type": "firewall"}]}
    path.write_text(json.dumps(doc))
    parsed = parse(Candidate(str(path), "conflist", path.read_bytes(), directory=str(tmp_path)))

    def probed(type_: str, supported: Tuple[str, ...]) -> BinaryFacts:
        return BinaryFacts(
            type=type_,
            path=f"/usr/lib/cni/{type_}",
            probed=True,
            probe_ok=True,
            supported=supported,
            reply_version="0.4.0",
        )

    # plugins v0.8.x: firewall lists only 0.4.0 (containernetworking/plugins:plugins/meta/firewall@v0.8.7)
    facts = {
        "bridge": probed("bridge", ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0")),
        "firewall": probed("firewall", ("0.4.0",)),
    }
    options = Options(paths=(str(path),), runtimes=("containerd@1.6.3",))
    ctx = NodeContext((parsed,), None, runtime_scope(options), options, probed=True, facts=facts)
    findings = skew.check_config_version_rejections(ctx)
    assert [f.code for f in findings] == ["CNI511"]
    fix = findings[0].fix or ""
    assert '"0.4.0"' in fix and "/usr/lib/cni/firewall" in fix and "/opt/cni/bin" not in fix


# -- issue 10 point 3: the kubelet reads no CNI config since Kubernetes 1.24 (dockershim removed) --


def _kubelet_as_reader(text: str) -> List[str]:
    """Occurrences of "kubelet" that are not "kubelet dockershim" nor part of a citation."""
    import re

    out = []
    for match in re.finditer("kubelet", text):
        after = text[match.end() : match.end() + 12]
        before = text[max(0, match.start() - 5) : match.start()]
        if after.startswith((" dockershim", "'s dockershim", " <= 1.23")) or before.endswith("pkg/"):
            continue
        out.append(text[max(0, match.start() - 40) : match.end() + 40])
    return out


def test_config_rules_do_not_name_the_kubelet_as_a_config_reader() -> None:
    from cnidoctor.rules import catalog

    for code, rule in catalog().items():
        if code[3] not in "012345":
            continue  # CNI6xx name the kubelet as the CRI client, which it is
        for text in (rule.summary, rule.meaning, rule.fix, rule.when_to_ignore):
            assert not _kubelet_as_reader(text or ""), (code, _kubelet_as_reader(text or ""))


def test_broken_first_file_message_names_no_kubelet(tmp_path: Path) -> None:
    (tmp_path / "05-broken.conflist").write_text('{"cniVersion": "1.0.0", "name": "a", "plugins": [}')
    (tmp_path / "10-good.conflist").write_text('{"cniVersion": "1.0.0", "name": "b", "plugins": [{"type": "bridge"}]}')
    report = json.loads(run_cli(["check", "--no-probe", "--format", "json", str(tmp_path)]).stdout)
    messages = [f["message"] for f in report["findings"] if f["code"] == "CNI006"]
    assert messages and not any("kubelet" in m for m in messages), messages


# -- issue 10 point 6: a config the selected file's meta-plugin delegates to is in use ---------


@pytest.mark.parametrize("cluster_network", ["k8s-pod-network", "/etc/cni/net.d/10-calico.conflist"])
def test_multus_cluster_network_target_is_not_shadowed(tmp_path: Path, cluster_network: str) -> None:
    multus = {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus", "clusterNetwork": cluster_network}
    calico = {"cniVersion": "0.3.1", "name": "k8s-pod-network", "plugins": [{"type": "calico"}]}
    unused = {"cniVersion": "0.3.1", "name": "leftover", "plugins": [{"type": "bridge"}]}
    (tmp_path / "00-multus.conf").write_text(json.dumps(multus))
    (tmp_path / "10-calico.conflist").write_text(json.dumps(calico))
    (tmp_path / "20-leftover.conflist").write_text(json.dumps(unused))
    report = json.loads(run_cli(["check", "--no-probe", "--format", "json", str(tmp_path)]).stdout)
    shadowed = sorted(Path(f["file"]).name for f in report["findings"] if f["code"] == "CNI007")
    assert shadowed == ["20-leftover.conflist"]
