"""CNI204/CNI205: reference plugin options decoded as the plugins' Go structs decode them.

Every expected text was read in containernetworking/plugins v1.1.1 (struct and wrapper named
per test) and checked by running the Debian v1.1.1 binaries in /usr/lib/cni with ADD on a
config that fails while decoding (before any side effect).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

import pytest

from cnidoctor.config import plugin_check as C
from cnidoctor.config import validate as V
from cnidoctor.config.parse import parse
from cnidoctor.config.plugin_options import IPAM_PLUGINS, PLUGINS
from cnidoctor.model import Candidate, ParsedFile
from cnidoctor.rules import schema as rules


def parsed(doc: Any, kind: str = "conflist") -> ParsedFile:
    """Through the real parse stage (which fills PluginConf.ipam_type as libcni decodes it)."""
    path = "net.d/10-test." + kind
    result = parse(Candidate(path, "conf" if kind == "conf" else "conflist", json.dumps(doc).encode()))
    assert result.network is not None, result.load_error
    return result


Key = Tuple[str, str, str]


def conflist(*plugins: Dict[str, Any], version: str = "0.4.0") -> Dict[str, Any]:
    return {"cniVersion": version, "name": "net", "plugins": list(plugins)}


def found(doc: Dict[str, Any], kind: str = "conflist") -> List[Key]:
    return sorted(
        (f.code, f.pointer, f.severity.label) for f in V.validate(parsed(doc, kind)) if f.code in ("CNI204", "CNI205")
    )


def predicts(doc: Dict[str, Any], pointer: str, kind: str = "conflist") -> Optional[str]:
    (finding,) = [f for f in V.validate(parsed(doc, kind)) if f.pointer == pointer]
    return finding.predicts


def bridge(**options: Any) -> Dict[str, Any]:
    return {"type": "bridge", "bridge": "cni0", **options}


HOST_LOCAL = {"type": "host-local", "subnet": "10.1.0.0/16"}


# --- clean configs stay clean -----------------------------------------------------------------


def test_a_full_bridge_portmap_firewall_tuning_chain_is_clean() -> None:
    doc = conflist(
        bridge(
            isGateway=True,
            ipMasq=True,
            hairpinMode=True,
            mtu=1450,
            vlan=0,
            promiscMode=False,
            ipam={
                "type": "host-local",
                "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00::1"}],
                "ranges": [
                    [
                        {
                            "subnet": "10.88.0.0/16",
                            "gateway": "10.88.0.1",
                            "rangeStart": "10.88.0.10",
                            "rangeEnd": "10.88.0.200",
                        }
                    ],
                    [{"subnet": "fd00::/64"}],
                ],
                "dataDir": "/run/x",
            },
        ),
        {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True, "markMasqBit": 13},
        {"type": "firewall", "backend": "", "ingressPolicy": "same-bridge"},
        {"type": "tuning", "sysctl": {"net.core.somaxconn": "500"}},
        {"type": "bandwidth", "ingressRate": 123, "ingressBurst": 456},
    )
    assert found(doc) == []


def test_go_matches_fields_case_insensitively() -> None:
    # encoding/json: an exact name first, else a case-insensitive match (MTU -> mtu).
    assert (
        found(conflist(bridge(MTU=1500, HairpinMode=True, ipam={"type": "host-local", "Subnet": "10.0.0.0/8"}))) == []
    )


def test_spec_keys_and_notes_are_never_options() -> None:
    plugin = bridge(
        cniVersion="0.4.0",
        name="x",
        capabilities={"mac": True},
        dns={},
        args={},
        runtimeConfig={},
        prevResult={},
        ipMasq=True,
        _comment="why",
    )
    assert found(conflist(plugin)) == []


def test_other_vendors_plugins_are_not_checked() -> None:
    # aws-cni types mtu as a string (corpus aws-vpc-cni--10-aws.conflist); calico rewrites
    # host-local "usePodCidr" before delegating (corpus canal--master-10-canal.rendered.conflist).
    doc = conflist(
        {"type": "aws-cni", "mtu": "9001"},
        {"type": "calico", "mtu": "1440", "ipam": {"type": "host-local", "subnet": "usePodCidr"}},
    )
    assert found(doc) == []


def test_empty_and_null_addresses_decode() -> None:
    # net.IP UnmarshalText: "" is a nil IP; JSON null leaves a field untouched. host-local
    # without any range (kube-router fills it in) is not a decode problem.
    doc = conflist(
        bridge(ipam={"type": "host-local", "ranges": [[{"subnet": "10.0.0.0/24", "gateway": "", "rangeStart": None}]]}),
        bridge(ipam={"type": "host-local"}),
    )
    assert found(doc) == []


def test_newer_options_are_known() -> None:
    # bridge vlanTrunk (plugins v1.3.0), portIsolation (v1.7.0); macvlan bcqueuelen (v1.6.0).
    doc = conflist(
        bridge(vlanTrunk=[{"minID": 100, "maxID": 120}, {"id": 200}], portIsolation=True),
        {"type": "macvlan", "master": "eth0", "bcqueuelen": 100},
    )
    assert found(doc) == []


# --- CNI205 -------------------------------------------------------------------------------------


def test_host_local_gateway_that_is_not_an_ip() -> None:
    # allocator/config.go Range.Gateway net.IP -> net.IP.UnmarshalText -> ParseError
    # "invalid IP address: 10.89.8"; bridge returns ipam.ExecAdd's error as is (bridge.go:472).
    doc = conflist(bridge(ipam={"type": "host-local", "ranges": [[{"subnet": "10.89.8.0/24", "gateway": "10.89.8"}]]}))
    pointer = "/plugins/0/ipam/ranges/0/0/gateway"
    assert found(doc) == [("CNI205", pointer, "error")]
    assert predicts(doc, pointer) == 'plugin type="bridge" failed (add): invalid IP address: 10.89.8'


def test_static_addresses_as_array_of_arrays() -> None:
    # static/main.go IPAMConfig.Addresses []Address: an array element is not an object.
    doc = conflist(bridge(ipam={"type": "static", "addresses": [[{"subnet": "10.89.0.89/16"}]]}))
    assert predicts(doc, "/plugins/0/ipam/addresses/0") == (
        'plugin type="bridge" failed (add): json: cannot unmarshal array into Go struct field '
        "IPAMConfig.ipam.addresses of type main.Address"
    )


def test_static_address_must_be_cidr() -> None:
    # static/main.go LoadIPAMConfig parses Address.address with net.ParseCIDR after decoding.
    doc = conflist(
        {"type": "macvlan", "master": "eth0", "ipam": {"type": "static", "addresses": [{"address": "10.0.0.1"}]}}
    )
    assert predicts(doc, "/plugins/0/ipam/addresses/0/address") == (
        "plugin type=\"macvlan\" failed (add): the 'address' field is expected to be in CIDR notation, got: '10.0.0.1'"
    )


def test_wrong_json_type_in_the_main_plugin() -> None:
    # bridge.go loadNetConf: "failed to load netconf: %v" around the json error.
    doc = conflist(bridge(name="br", mtu="1500"))
    assert predicts(doc, "/plugins/0/mtu") == (
        'plugin type="bridge" name="br" failed (add): failed to load netconf: json: cannot unmarshal string '
        "into Go struct field NetConf.mtu of type int"
    )


@pytest.mark.parametrize(
    "plugin, pointer, text",
    [
        (
            {"type": "bridge", "vlan": 1.5},
            "/plugins/0/vlan",
            "failed to load netconf: json: cannot unmarshal number 1.5 into Go struct field NetConf.vlan of type int",
        ),
        (
            {"type": "bandwidth", "ingressRate": -1},
            "/plugins/0/ingressRate",
            "failed to parse network configuration: json: cannot unmarshal number -1 into Go struct field "
            "PluginConf.ingressRate of type uint64",
        ),
        (
            {"type": "portmap", "markMasqBit": "13"},
            "/plugins/0/markMasqBit",
            "failed to parse config: failed to parse network configuration: json: cannot unmarshal string into Go "
            "struct field PortMapConf.markMasqBit of type int",
        ),
        (
            {"type": "vrf", "vrfname": 5},
            "/plugins/0/vrfname",
            "failed to load netconf: json: cannot unmarshal number into Go struct field VRFNetConf.vrfname of type string",
        ),
        (
            {"type": "host-device", "ipam": {"type": "dhcp", "daemonSocketPath": 5}},
            "/plugins/0/ipam/daemonSocketPath",
            "error obtaining socketPath: error parsing socket path conf: json: cannot unmarshal number into Go struct "
            "field IPAMConfig.ipam.daemonSocketPath of type string",
        ),
        (
            {"type": "ptp", "ipam": {"type": "host-local", "subnet": "10.0.0.0/33"}},
            "/plugins/0/ipam/subnet",
            "invalid CIDR address: 10.0.0.0/33",
        ),
        (
            {"type": "ptp", "ipam": {"type": "host-local", "subnet": None}},
            "/plugins/0/ipam/subnet",
            "invalid CIDR address: ",
        ),  # types.IPNet.UnmarshalJSON: null -> ParseCIDR("")
        (
            {"type": "ptp", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.0.0.0/24", "rangeStart": 7}]]}},
            "/plugins/0/ipam/ranges/0/0/rangeStart",
            "json: cannot unmarshal number into Go struct field Range.ipam.ranges.rangeStart of type net.IP",
        ),
        (
            {
                "type": "vlan",
                "master": "eth0",
                "ipam": {"type": "host-local", "subnet": "10.0.0.0/24", "routes": [{"dst": "x"}]},
            },
            "/plugins/0/ipam/routes/0/dst",
            "failed to execute IPAM delegate: invalid CIDR address: x",
        ),
    ],
)
def test_texts_of_the_v1_1_1_binaries(plugin: Dict[str, Any], pointer: str, text: str) -> None:
    doc = conflist(plugin)
    assert predicts(doc, pointer) == f'plugin type="{plugin["type"]}" failed (add): {text}'


def test_a_single_conf_names_its_network() -> None:
    # libcni pluginDescription shows the plugin object's name; a .conf carries the network name.
    conf: Dict[str, Any] = {"cniVersion": "0.3.1", "name": "n", "type": "loopback", "dns": {}}
    assert found(conf, "conf") == []
    conf = {"cniVersion": "0.3.1", "name": "n", "type": "ptp", "mtu": True}
    assert predicts(conf, "/mtu", "conf") == (
        'plugin type="ptp" name="n" failed (add): failed to load netconf: json: cannot unmarshal bool into Go '
        "struct field NetConf.mtu of type int"
    )


def test_checked_without_a_known_version_too() -> None:
    # The plugin decodes its options whatever cniVersion says (CNI301-303 report the version).
    doc = conflist(bridge(mtu="1"), version="9.9.9")
    assert found(doc) == [("CNI205", "/plugins/0/mtu", "error")]


def test_one_finding_per_place() -> None:
    # spec 0.2.0 routes are typed by the schema: CNI201 owns /ipam/routes/0/dst there.
    conf = {
        "cniVersion": "0.2.0",
        "name": "n",
        "type": "bridge",
        "ipam": {"type": "host-local", "subnet": "10.0.0.0/24", "routes": [{"dst": 5}]},
    }
    codes = [(f.code, f.pointer) for f in V.validate(parsed(conf, "conf"))]
    assert codes == [("CNI201", "/ipam/routes/0/dst")]


# --- CNI204 -------------------------------------------------------------------------------------


def test_unknown_option_with_suggestion() -> None:
    doc = conflist(bridge(hairpinmod=True, addIf="true"))
    assert found(doc) == [("CNI204", "/plugins/0/addIf", "warning"), ("CNI204", "/plugins/0/hairpinmod", "warning")]
    by_pointer = {f.pointer: f for f in V.validate(parsed(doc))}
    assert "Did you mean `hairpinMode`?" in by_pointer["/plugins/0/hairpinmod"].message
    assert "Did you mean" not in by_pointer["/plugins/0/addIf"].message
    assert by_pointer["/plugins/0/addIf"].predicts is None


def test_an_option_of_another_plugin_is_named() -> None:
    (finding,) = V.validate(parsed(conflist(bridge(master="eth0"))))
    assert finding.code == "CNI204" and "ipvlan, macvlan, vlan" in finding.message


def test_list_key_names_in_a_conf_are_left_to_list_rules() -> None:
    assert found({"cniVersion": "0.4.0", "name": "n", "type": "bridge", "disableCheck": True}, "conf") == []


# --- Go's address parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ok",
    [
        ("10.0.0.1", True),
        ("255.255.255.255", True),
        ("10.0.0", False),
        ("010.0.0.1", False),
        ("10.0.0.256", False),
        ("::1", True),
        ("fd00::ac:00", True),
        ("::ffff:10.0.0.1", True),
        ("fe80::1%eth0", False),
        ("", False),
        ("x", False),
    ],
)
def test_is_go_ip(text: str, ok: bool) -> None:
    assert C.is_go_ip(text) is ok


@pytest.mark.parametrize(
    "text, ok",
    [
        ("10.0.0.0/8", True),
        ("10.0.0.1/24", True),
        ("10.0.0.0/33", False),
        ("fd00::/118", True),
        ("fd00::/129", False),
        ("10.0.0.0", False),
        ("10.0.0.0/", False),
        ("10.0.0.0/+8", False),
        ("usePodCidr", False),
        ("10.128.0.0/16/24", False),
    ],
)
def test_is_go_cidr(text: str, ok: bool) -> None:
    assert C.is_go_cidr(text) is ok


# --- the table and the rules ------------------------------------------------------------------------


def test_every_reference_plugin_is_described_with_its_source() -> None:
    expected = {
        "bridge",
        "ptp",
        "macvlan",
        "ipvlan",
        "vlan",
        "host-device",
        "loopback",
        "portmap",
        "bandwidth",
        "firewall",
        "tuning",
        "sbr",
        "vrf",
        "tap",
        "dummy",
    }
    assert set(PLUGINS) == expected and set(IPAM_PLUGINS) == {"host-local", "static", "dhcp"}
    for spec in (*PLUGINS.values(), *IPAM_PLUGINS.values()):
        assert spec.source.startswith("plugins@v1.") and ".go" in spec.source
        assert spec.root.kind == "struct"


def test_rules_are_documented() -> None:
    for rule in (rules.PLUGIN_OPTION_UNKNOWN, rules.PLUGIN_OPTION_INVALID):
        assert rule in rules.RULES
        for field in ("name", "summary", "meaning", "example", "fix"):
            assert getattr(rule, field).strip()
        assert rule.references
    assert rules.PLUGIN_OPTION_UNKNOWN.severity.label == "warning"
    assert rules.PLUGIN_OPTION_INVALID.severity.label == "error"


@pytest.mark.parametrize(
    "ipam, path, text",
    [
        # texts as the real host-local v1.1.1 printed them (range.go Canonicalize, config.go LoadIPAMConfig)
        (
            {"subnet": "10.1.2.0/31"},
            ("ipam", "subnet"),
            "invalid range set 0: Network 10.1.2.0/31 too small to allocate from",
        ),
        (
            {"ranges": [[{"subnet": "10.1.2.0/24", "rangeEnd": "10.1.3.9"}]]},
            ("ipam", "ranges", 0, 0, "rangeEnd"),
            "invalid range set 0: RangeEnd 10.1.3.9 not in network 10.1.2.0/24",
        ),
        (
            {"subnet": "10.1.2.3/24"},
            ("ipam", "subnet"),
            "invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0",
        ),
    ],
)
def test_host_local_range_checks(ipam: dict, path: tuple, text: str) -> None:
    from cnidoctor.config.plugin_check import host_local_range_problems

    problems = list(host_local_range_problems(dict(ipam, type="host-local"), "ipam"))
    assert [(p.path, p.text) for p in problems] == [(path, text)]


def test_host_local_gateway_outside_the_subnet_is_accepted() -> None:
    # the real plugin allocates and returns the odd gateway: not a CNI205 case
    from cnidoctor.config.plugin_check import host_local_range_problems

    ipam = {"type": "host-local", "ranges": [[{"subnet": "10.1.2.0/24", "gateway": "10.1.3.1"}]]}
    assert list(host_local_range_problems(ipam, "ipam")) == []


@pytest.mark.parametrize(
    "ipam, path, texts",
    [
        # Through libcni 1.1.2 + plugins 1.1.1 (fixture fields-host-local-subnet-case-variants):
        # keys re-marshalled sorted, "Subnet" < "subnet", so /24 is decoded last: ADD succeeds.
        ({"subnet": "10.0.0.0/24", "Subnet": "10.0.0.0/31"}, None, []),
        # values swapped: /31 is decoded last (host-local's own text, range.go Canonicalize)
        (
            {"Subnet": "10.0.0.0/24", "subnet": "10.0.0.0/31"},
            ("ipam", "subnet"),
            ["invalid range set 0: Network 10.0.0.0/31 too small to allocate from"],
        ),
        # "rangeStart" < "rangestart": the variant wins over the exact spelling (fixture
        # fields-host-local-sorted-variant-wins, same text from libcni 1.1.2 + host-local 1.1.1)
        (
            {"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangestart": "10.9.0.10"},
            ("ipam", "rangestart"),
            ["invalid range set 0: RangeStart 10.9.0.10 not in network 10.0.0.0/24"],
        ),
    ],
)
def test_host_local_reads_case_variants_in_libcni_order(ipam: dict, path: Optional[tuple], texts: list) -> None:
    from cnidoctor.config.plugin_check import host_local_range_problems

    problems = list(host_local_range_problems(dict(ipam, type="host-local"), "ipam"))
    assert [p.text for p in problems] == texts
    assert [p.path for p in problems] == ([path] if path else [])
