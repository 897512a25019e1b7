"""The validate stage (CNI201-CNI203) on hand-built ParsedFiles.

ParsedFiles are built here directly (not through parse.py) so these tests pin down validate's
own contract: it looks at ``document``, ``network.cni_version`` and ``network.from_single_conf``.
Every expectation cites the spec text or libcni/plugins source it follows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Dict, List, Optional, Tuple

import pytest
from conftest import ROOT, SHARED
from hypothesis import given
from hypothesis import strategies as st

from cnidoctor import gojson
from cnidoctor.config import validate as V
from cnidoctor.model import Candidate, NetworkList, ParsedFile, PluginConf, Severity
from cnidoctor.rules import schema as rules

Key = Tuple[str, str, str]  # (code, pointer, severity)


def parsed(doc: Any, kind: str = "conflist", version: Optional[str] = "<from doc>", loads: bool = True) -> ParsedFile:
    declared = doc.get("cniVersion") if version == "<from doc>" and isinstance(doc, dict) else version
    single = kind == "conf"
    plugins = (doc,) if single else tuple(doc.get("plugins", ())) if isinstance(doc, dict) else ()
    network = NetworkList(
        name=doc.get("name") if isinstance(doc, dict) else None,
        cni_version=declared if isinstance(declared, str) or declared is None else None,
        plugins=tuple(
            PluginConf(i, "" if single else f"/plugins/{i}", p.get("type"), p)
            for i, p in enumerate(plugins)
            if isinstance(p, dict)
        ),
        from_single_conf=single,
    )
    path = "net.d/10-test." + ("conf" if single else "conflist")
    candidate = Candidate(path, "conf" if single else "conflist", json.dumps(doc).encode())
    return ParsedFile(candidate, doc, network if loads else None, None if loads else "x", ())


def keys(doc: Any, kind: str = "conflist") -> List[Key]:
    return sorted((f.code, f.pointer, f.severity.label) for f in V.validate(parsed(doc, kind)))


def bridge_list(version: str = "1.0.0", plugin: Optional[Dict[str, Any]] = None, **extra: Any) -> Dict[str, Any]:
    first = {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}}
    if plugin is not None:
        first = plugin
    doc: Dict[str, Any] = {
        "cniVersion": version,
        "name": "mynet",
        "plugins": [first, {"type": "portmap", "capabilities": {"portMappings": True}}],
    }
    doc.update(extra)
    return doc


# --- files that must stay clean -------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
def test_a_plain_bridge_list_is_clean_at_every_version(version: str) -> None:
    assert keys(bridge_list(version)) == []


def test_real_world_traps_are_not_flagged() -> None:
    # corpus README: `"ipam": {}` (L2-only bridge), `"dns": {}`, aws-cni's string "mtu".
    plugin = {"type": "aws-cni", "mtu": "9001", "ipam": {}, "dns": {}, "vethPrefix": "eni"}
    assert keys(bridge_list("0.4.0", plugin, disableCheck=True)) == []


def test_windows_key_casing_is_matched_like_go() -> None:
    # encoding/json matches struct fields case-insensitively, so "DNS"/"Nameservers" reach the
    # typed dns field (corpus README, Windows configs of azure-cni, calico, rke2).
    plugin = {
        "type": "win-overlay",
        "DNS": {"Nameservers": ["10.96.0.10"], "Search": ["svc.cluster.local"]},
        "IPMasq": True,
        "Capabilities": {"portMappings": True},
    }
    assert keys(bridge_list("0.3.0", plugin)) == []
    conf = {
        "cniVersion": "0.2.0",
        "name": "nat",
        "type": "nat",
        "IPAM": {"Type": "", "Routes": [{"Dst": "0.0.0.0/0", "GW": "10.0.0.1"}]},
    }
    assert keys(conf, "conf") == []


def test_no_check_without_a_known_version_or_when_libcni_refuses() -> None:
    # Absent/unknown cniVersion: CNI301/CNI302/CNI303 (semantics) own it; nothing here.
    bad = bridge_list("1.0.0", {"type": "bridge", "ipMasq": "true"}, disableChek=True)
    for version in (None, "", "1.0", "v1.0.0", "2.0.0"):
        assert V.validate(parsed(bad, version=version)) == ()
    # A file libcni does not load gets its single load finding from parse (no cascade).
    assert V.validate(parsed(bad, loads=False)) == ()


# --- CNI201 / CNI203 ---------------------------------------------------------------------


def test_string_ipmasq_on_bridge_is_an_error_with_the_predicted_text() -> None:
    # plugins@v1.9.1 bridge.go:54 `IPMasq bool json:"ipMasq"`, loadNetConf wraps the json error
    # as "failed to load netconf: %v"; libcni >= v1.0 prefixes `plugin type=... failed (add): `.
    doc = bridge_list("1.0.0", {"type": "bridge", "ipMasq": "true"})
    (finding,) = V.validate(parsed(doc))
    assert (finding.code, finding.pointer, finding.severity) == ("CNI201", "/plugins/0/ipMasq", Severity.ERROR)
    assert finding.plugin == "bridge"
    assert finding.predicts == (
        'plugin type="bridge" failed (add): failed to load netconf: json: cannot unmarshal string '
        "into Go struct field NetConf.ipMasq of type bool"
    )


def test_the_predicted_text_names_a_named_plugin() -> None:
    # cni@v1.3.0 libcni/api.go pluginDescription: name is shown when the plugin object has one.
    doc = bridge_list("1.0.0", {"type": "ptp", "name": "p", "ipMasq": 1})
    (finding,) = V.validate(parsed(doc))
    assert finding.predicts is not None and finding.predicts.startswith('plugin type="ptp" name="p" failed (add): ')
    assert finding.predicts.endswith("cannot unmarshal number into Go struct field NetConf.ipMasq of type bool")


def test_case_variant_key_is_reported_at_its_own_spelling() -> None:
    doc = bridge_list("1.0.0", {"type": "bridge", "IPMasq": "true"})
    assert keys(doc) == [("CNI201", "/plugins/0/IPMasq", "error")]


def test_wrong_type_on_a_plugin_that_does_not_read_the_key_is_a_warning() -> None:
    # Spec: ipMasq is boolean; calico does not decode it, so nothing refuses: CNI203.
    doc = bridge_list("0.3.1", {"type": "calico", "ipMasq": "true", "ipam": {"type": "calico-ipam"}})
    assert keys(doc) == [("CNI203", "/plugins/0/ipMasq", "warning")]


def test_args_type_before_1_0_depends_on_who_decodes_it() -> None:
    # host-local allocator/config.go:40 decodes top-level args; spec 0.2.0-0.4.0 types it as a dictionary.
    with_host_local = bridge_list("0.3.1", {"type": "macvlan", "args": "x", "ipam": {"type": "host-local"}})
    assert keys(with_host_local) == [("CNI201", "/plugins/0/args", "error")]
    with_dhcp = bridge_list("0.3.1", {"type": "macvlan", "args": "x", "ipam": {"type": "dhcp"}})
    assert keys(with_dhcp) == [("CNI203", "/plugins/0/args", "warning")]


def test_routes_of_spec_0_2_0() -> None:
    # spec@0.2.0: ipam.routes entries are {dst (CIDR string), gw (optional)}; host-local decodes
    # them into types.Route (config.go:50), so a non-string dst fails ADD.
    conf = {
        "cniVersion": "0.2.0",
        "name": "nat",
        "type": "nat",
        "ipam": {"type": "host-local", "Routes": [{"GW": "10.0.0.1"}, {"dst": 5}]},
    }
    assert keys(conf, "conf") == [("CNI201", "/ipam/Routes/1/dst", "error"), ("CNI203", "/ipam/Routes/0", "warning")]


def test_list_booleans_of_1_1_0() -> None:
    # cni@v1.3.0 libcni/conf.go readBool: bool or "true"/"false" (any case); else refused.
    assert keys(bridge_list("1.1.0", disableGC="True")) == [("CNI203", "/disableGC", "warning")]
    (typed,) = V.validate(parsed(bridge_list("1.1.0", loadOnlyInlinedPlugins=1)))
    assert (typed.code, typed.severity) == ("CNI201", Severity.ERROR)
    assert typed.predicts == "error parsing configuration list: invalid type float64 for loadOnlyInlinedPlugins"
    (value,) = V.validate(parsed(bridge_list("1.1.0", disableGC="Yes")))
    assert value.predicts == 'error parsing configuration list: invalid value "yes" for disableGC'


def test_one_finding_per_distinct_problem() -> None:
    doc = bridge_list("0.3.1", {"type": "bridge", "ipMasq": "yes", "args": [], "ipam": {"type": "host-local"}})
    doc["plugins"].append({"type": "ptp", "ipMasq": "no"})
    found = keys(doc)
    assert found == [
        ("CNI201", "/plugins/0/args", "error"),
        ("CNI201", "/plugins/0/ipMasq", "error"),
        ("CNI201", "/plugins/2/ipMasq", "error"),
    ]


# --- owned elsewhere: never reported here ---------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        bridge_list("1.0.0", name="bad name"),  # CNI304
        bridge_list("1.0.0", {"type": "../bridge"}),  # CNI311
        bridge_list("1.0.0", {"type": "bridge", "ipam": {"type": "/opt/cni/bin/host-local"}}),  # CNI311
        bridge_list("1.0.0", disableCheck="true"),  # CNI309
        bridge_list("1.0.0", cniVersions=["1.0.0"]),  # CNI306 (newer-spec key in an older list)
        bridge_list("0.4.0", disableGC=True, loadOnlyInlinedPlugins=False),  # CNI306
        bridge_list("0.3.1", disableCheck=True),  # CNI306
        bridge_list("1.1.0", cniVersions=["x"]),  # CNI308
        bridge_list("1.0.0", {"type": "bridge", "args": "x", "runtimeConfig": 1, "cni.dev/x": 2}),  # CNI307
        bridge_list("1.0.0", {"type": "bridge", "cniVersion": 1, "name": 2}),  # CNI310 / libcni types
        bridge_list("1.0.0", {"type": "bridge", "capabilities": {"x": "y"}}),  # libcni refuses: CNI109
        bridge_list("1.0.0", {"type": "bridge", "dns": {"nameservers": "8.8.8.8"}}),  # CNI109
        bridge_list("1.0.0", {"type": "bridge", "ipam": "host-local"}),  # CNI109
        {"cniVersion": "1.0.0", "name": "mynet", "type": "bridge", "plugins": [{"type": "bridge"}]},  # CNI319 hybrid
        bridge_list("0.4.0", args={"podman_labels": {"k": "v"}}),  # podman's list-level metadata
    ],
)
def test_problems_owned_by_other_families_are_not_repeated(doc: Dict[str, Any]) -> None:
    assert keys(doc) == []


def test_each_missing_required_key_is_its_own_finding() -> None:
    # spec@0.2.0 route entries need dst; two entries without it are two problems.
    conf = {"cniVersion": "0.2.0", "name": "n", "type": "nat", "ipam": {"routes": [{}, {"gw": "10.0.0.1"}]}}
    assert keys(conf, "conf") == [("CNI203", "/ipam/routes/0", "warning"), ("CNI203", "/ipam/routes/1", "warning")]
    # Several keys missing at one place: each error is matched to its own key.
    from jsonschema import Draft202012Validator

    errors = list(Draft202012Validator({"required": ["a", "b", "c"]}).iter_errors({"b": 1}))
    assert sorted(V._required_keys(errors).values()) == ["a", "c"]


def test_single_conf_without_name_is_not_a_schema_finding() -> None:
    # spec <= 0.4.0 lists name as a well-known key of a single config; a .conf without one
    # fails in the plugin (missing network name): CNI305 in semantics.
    assert keys({"cniVersion": "0.3.1", "type": "loopback"}, "conf") == []


def test_owned_table_rows_are_explained() -> None:
    for row in V.OWNED_ELSEWHERE:
        assert row.why and row.owner.startswith("CNI")
        assert all(code[3] in "13" for code in row.owner.split("/")), row  # syntax or semantics families


# --- CNI202 -------------------------------------------------------------------------------


def test_misspelt_list_key_gets_a_suggestion() -> None:
    # libcni reads list keys by exact name (cni@v1.3.0 libcni/conf.go NetworkConfFromBytes).
    (finding,) = V.validate(parsed(bridge_list("1.0.0", disableChek=True)))
    assert (finding.code, finding.pointer, finding.severity) == ("CNI202", "/disableChek", Severity.WARNING)
    assert "`disableCheck`" in finding.message and finding.fix is not None and "disableCheck" in finding.fix


def test_case_variants_of_list_keys_are_left_to_cni115() -> None:
    assert keys(bridge_list("1.0.0", disablecheck=True, CNIVersions=["1.0.0"])) == []


def test_suggestion_may_name_a_key_of_another_version() -> None:
    (finding,) = V.validate(parsed(bridge_list("0.3.1", cniVersionz=["0.3.1"])))
    assert finding.code == "CNI202" and "`cniVersion" in finding.message


def test_plugin_keys_at_list_level_and_unrelated_keys() -> None:
    doc = bridge_list("0.3.0", capabilities={"portMappings": True}, adapterName="eth0", **{"a/b": 1})
    found = {f.pointer: f for f in V.validate(parsed(doc))}
    assert set(found) == {"/a~1b", "/adapterName", "/capabilities"}
    assert all(f.code == "CNI202" for f in found.values())
    assert "plugin key" in found["/capabilities"].message
    assert found["/adapterName"].fix == rules.UNKNOWN_LIST_KEY.fix


def test_a_single_conf_has_no_list_keys() -> None:
    # In a .conf the top level is a plugin object: plugin-specific keys are legal (§1.8).
    assert keys({"cniVersion": "0.3.1", "name": "n", "type": "bridge", "disablecheck": True}, "conf") == []


# --- helpers ---------------------------------------------------------------------------------


def test_pointer_escaping_follows_rfc_6901() -> None:
    assert V.pointer(()) == ""
    assert V.pointer(("plugins", 0, "cni.dev/x", "a~b")) == "/plugins/0/cni.dev~1x/a~0b"


def test_go_fold_matches_encoding_json() -> None:
    assert V.go_fold("ipmasq") == V.go_fold("IPMASQ") == V.go_fold("IpMasq")
    assert V.go_fold("\u212aey") == V.go_fold("key")  # KELVIN SIGN folds to k in Go
    assert V.go_fold("\u017fearch") == V.go_fold("search")  # LONG S folds to s
    assert V.go_fold("dns") != V.go_fold("dnß")


def test_jsonschema_is_imported_only_for_a_rejected_file() -> None:
    script = (
        "import sys, json\n"
        "from tests.test_validate import parsed, bridge_list\n"
        "from cnidoctor.config import validate\n"
        "assert validate.validate(parsed(bridge_list('1.0.0', disableChek=True)))\n"
        "assert 'jsonschema' not in sys.modules, 'clean file imported jsonschema'\n"
        "validate.validate(parsed(bridge_list('1.0.0', {'type': 'bridge', 'ipMasq': 'x'})))\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    root = ROOT
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{root}:{root / 'tests'}", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr


# CNI205's texts come from the plugins, not from libcni: they were measured by running the
# real plugins v1.1.1 binaries on configs that fail while decoding (tests/test_plugin_options.py
# checks the same texts), so cni-facts §3 does not list them.
MEASURED_FROM_PLUGINS = {"CNI205"}


def test_rules_are_fully_documented() -> None:
    assert [r.code for r in rules.RULES] == ["CNI201", "CNI202", "CNI203", "CNI204", "CNI205"]
    for rule in rules.RULES:
        for field in ("name", "summary", "meaning", "example", "fix"):
            assert getattr(rule, field).strip(), (rule.code, field)
        assert rule.references


def test_runtime_errors_are_the_fact_base_texts() -> None:
    facts_file = SHARED / "cni-facts.md"
    if not facts_file.is_file():
        pytest.skip("../shared/cni-facts.md is not present (fresh clone)")
    facts = facts_file.read_text(encoding="utf-8")
    for rule in rules.RULES:
        if rule.code in MEASURED_FROM_PLUGINS:
            continue
        for text in rule.runtime_errors:
            assert text in facts, text  # exact texts from cni-facts §3


@pytest.mark.parametrize(
    "plugin, where",
    [
        # every member that folds to ipMasq is decoded, so the string fails bridge whichever
        # comes last (real bridge 1.1.1, both orders, and libcni 1.1.2: fixture
        # fields-bridge-ipmasq-case-variants)
        ({"type": "bridge", "ipMasq": True, "IPMASQ": "x"}, "/plugins/0/IPMASQ"),
        ({"type": "bridge", "IPMASQ": "x", "ipMasq": True}, "/plugins/0/IPMASQ"),
        # the exact spelling is the one replaced here ("ipMasq" < "ipmasq" after libcni's sort)
        ({"type": "bridge", "ipmasq": True, "ipMasq": "x"}, "/plugins/0/ipMasq"),
    ],
)
def test_every_case_variant_of_a_field_can_fail_the_decode(plugin: Dict[str, Any], where: str) -> None:
    (finding,) = V.validate(parsed(bridge_list("1.0.0", plugin)))
    assert (finding.code, finding.pointer) == ("CNI201", where)
    assert finding.predicts == (
        'plugin type="bridge" failed (add): failed to load netconf: json: cannot unmarshal string '
        "into Go struct field NetConf.ipMasq of type bool"
    )


def test_case_variants_of_the_right_type_are_quiet() -> None:
    assert keys(bridge_list("1.0.0", {"type": "bridge", "ipMasq": True, "IPMASQ": False})) == []


@given(
    st.dictionaries(
        st.sampled_from(["ipMasq", "IPMASQ", "ipmasq", "mtu", "MTU", "bridge", "Bridge", "type", "ſubnet", "subnet"]),
        st.integers(),
        max_size=8,
    )
)
def test_replaced_members_groups_like_field_members(obj: dict) -> None:
    """The grouped fast version yields exactly what field_members(sort_keys=True) implies."""
    from cnidoctor.gojson import field_members

    fields = ("ipMasq", "mtu", "bridge", "type", "subnet")
    expected = []
    for field in fields:
        keys = [key for key, _ in field_members(obj, field, sort_keys=True)]
        expected.extend((key, tuple(keys[i + 1 :])) for i, key in enumerate(keys[:-1]))
    assert list(V._replaced_members(gojson.Fields(obj, sort_keys=True), fields)) == expected


@given(
    st.dictionaries(
        st.sampled_from(["ipam", "IPAM", "Ipam", "dns", "DNS", "type", "Type", "ſ", "S", "s", "mtu", "x"]),
        st.integers(),
        max_size=8,
    ),
    st.sampled_from([("ipam", "dns", "type"), ("type", "s", "TYPE"), ("s",), ("mtu", "ipam")]),
)
def test_canonical_keys_is_the_last_sorted_member_of_each_field(obj: dict, fields: tuple) -> None:
    """The shortcut for objects without case variants gives what field_members implies."""
    expected = {}
    for field in fields:
        found = gojson.field_members(obj, field, sort_keys=True)
        if found and found[-1][0] != field:
            expected[field] = found[-1][0]
    assert V.canonical_keys(obj, fields) == expected
