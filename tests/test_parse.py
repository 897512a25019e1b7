"""parse: libcni ConfListFromBytes / ConfFromBytes + ConfListFromConf modelled on bytes.

Expected load errors are libcni's texts (cni@v1.1.2 libcni/conf.go ConfListFromBytes :70-113, ConfFromBytes)
and Go's (%T names, UnmarshalTypeError); codes follow docs/design.md's allocation.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from cnidoctor.config.parse import find_template, parse
from cnidoctor.model import Candidate, ParsedFile, Severity

BRIDGE = '{"type": "bridge", "ipam": {"type": "host-local"}}'


def parse_text(text: str | bytes, kind: str = "conflist", path: str = "") -> ParsedFile:
    data = text.encode() if isinstance(text, str) else text
    path = path or ("/etc/cni/net.d/10-x." + kind)
    return parse(Candidate(path, kind, data))  # type: ignore[arg-type]


def codes(parsed: ParsedFile) -> List[Tuple[str, str]]:
    return [(f.code, f.pointer) for f in parsed.findings]


def one_error(parsed: ParsedFile) -> Tuple[str, str, Optional[str]]:
    errors = [f for f in parsed.findings if f.severity == Severity.ERROR]
    assert len(errors) == 1, parsed.findings
    assert parsed.network is None
    return errors[0].code, errors[0].pointer, parsed.load_error


def lst(body: str) -> str:
    return '{"cniVersion": "1.0.0", "name": "n", ' + body + "}"


# ----------------------------------------------------------------------------- clean loads


def test_clean_list_builds_network() -> None:
    parsed = parse_text(lst('"plugins": [' + BRIDGE + ', {"type": "portmap", "capabilities": {"portMappings": true}}]'))
    assert parsed.findings == () and parsed.load_error is None
    net = parsed.network
    assert net is not None and (net.name, net.cni_version, net.from_single_conf) == ("n", "1.0.0", False)
    assert [(p.index, p.pointer, p.type, p.ipam_type) for p in net.plugins] == [
        (0, "/plugins/0", "bridge", "host-local"),
        (1, "/plugins/1", "portmap", None),
    ]
    assert net.plugins[1].capabilities == {"portMappings": True}


def test_absent_cni_version_is_none_and_raw_list_keys_are_kept() -> None:
    parsed = parse_text(
        '{"name": "n", "disableCheck": "true", "cniVersions": ["1.0.0", "1.1.0"], '
        '"disableGC": 1, "plugins": [' + BRIDGE + "]}"
    )
    net = parsed.network
    assert parsed.findings == () and net is not None
    assert net.cni_version is None
    # raw values: their version-dependent meaning belongs to the semantics family
    assert (net.disable_check, net.disable_gc, net.cni_versions) == ("true", 1, ("1.0.0", "1.1.0"))


def test_single_conf_is_up_converted() -> None:
    parsed = parse_text('{"cniVersion": "0.4.0", "name": "n", ' + BRIDGE[1:], kind="conf")
    net = parsed.network
    assert parsed.findings == () and net is not None and net.from_single_conf
    assert (net.name, net.cni_version, net.plugins[0].pointer, net.plugins[0].type) == ("n", "0.4.0", "", "bridge")


def test_candidate_with_problem_is_left_to_discovery() -> None:
    parsed = parse(Candidate("x.conflist", "conflist", None, problem="dangling-symlink"))
    assert (parsed.document, parsed.network, parsed.load_error, parsed.findings) == (None, None, None, ())


def test_locate_is_lazy_and_maps_pointers() -> None:
    parsed = parse_text('{\n  "cniVersion": "1.0.0",\n  "name": "n",\n  "plugins": [\n    ' + BRIDGE + "\n  ]\n}")
    assert parsed.locate("/plugins/0/ipam/type") == (5, 33)
    assert parsed.locate("/plugins/0/nothere") == (5, 5)


# ----------------------------------------------------------------------------- syntax


@pytest.mark.parametrize(
    "data, code, text",
    [
        (
            lst('"plugins": [' + BRIDGE + "],"),
            "CNI104",
            "invalid character '}' looking for beginning of object key string",
        ),
        (
            "\ufeff" + lst('"plugins": [' + BRIDGE + "]"),
            "CNI102",
            "invalid character 'ï' looking for beginning of value",
        ),
        (
            "// note\n" + lst('"plugins": [' + BRIDGE + "]"),
            "CNI103",
            "invalid character '/' looking for beginning of value",
        ),
        ("{/* c */}", "CNI103", "invalid character '/' looking for beginning of object key string"),
        (
            lst('"plugins": [' + BRIDGE + ', {"type": "x", "rate": NaN}]'),
            "CNI105",
            "invalid character 'N' looking for beginning of value",
        ),
        (lst('"plugins": []') + lst('"plugins": []'), "CNI106", "invalid character '{' after top-level value"),
        ('{"name": "n" "plugins": []}', "CNI101", "invalid character '\"' after object key:value pair"),
        ('{"name": "n", "plugins": [', "CNI101", "unexpected end of JSON input"),
        (b'{"name": \xe9}', "CNI101", "invalid character '\u00e9' looking for beginning of value"),
        ('{"p": ' + "[" * 10001 + "]" * 10001 + "}", "CNI119", "invalid character '[' exceeded max depth"),
    ],
)
def test_syntax_errors_get_one_specific_finding(data: str | bytes, code: str, text: str) -> None:
    parsed = parse_text(data)
    assert one_error(parsed) == (code, "", "error parsing configuration list: " + text)
    assert parsed.document is None
    assert parsed.findings[0].line is not None


def test_syntax_error_position_and_go_cni_prediction() -> None:
    parsed = parse_text('{\n  "name": "n",\n  "plugins": [],\n}\n', path="/etc/cni/net.d/10-a.conflist")
    finding = parsed.findings[0]
    assert (finding.code, finding.line, finding.column) == ("CNI104", 4, 1)
    assert finding.predicts == (
        "failed to load CNI config list file /etc/cni/net.d/10-a.conflist: error parsing configuration "
        "list: invalid character '}' looking for beginning of object key string: invalid cni config"
    )


def test_conf_syntax_error_uses_conf_prefix() -> None:
    parsed = parse_text('{"type": "bridge",}', kind="conf", path="10-a.conf")
    assert parsed.load_error == (
        "error parsing configuration: invalid character '}' looking for beginning of object key string"
    )
    assert (
        parsed.findings[0].predicts
        == f"failed to load CNI config file 10-a.conf: {parsed.load_error}: invalid cni config"
    )


# ----------------------------------------------------------------------------- libcni load


@pytest.mark.parametrize(
    "text, code, pointer, error",
    [
        (
            '{"cniVersion": "1.0.0", "plugins": [' + BRIDGE + "]}",
            "CNI114",
            "",
            "error parsing configuration list: no name",
        ),
        ('{"Name": "n", "plugins": [' + BRIDGE + "]}", "CNI114", "", "error parsing configuration list: no name"),
        (
            '{"name": 1, "plugins": [' + BRIDGE + "]}",
            "CNI109",
            "/name",
            "error parsing configuration list: invalid name type float64",
        ),
        (
            '{"name": null, "plugins": [' + BRIDGE + "]}",
            "CNI109",
            "/name",
            "error parsing configuration list: invalid name type <nil>",
        ),
        (
            '{"name": "n", "cniVersion": 1.0, "plugins": [' + BRIDGE + "]}",
            "CNI109",
            "/cniVersion",
            "error parsing configuration list: invalid cniVersion type float64",
        ),
        (
            '{"name": "n", "cniVersion": true, "plugins": [' + BRIDGE + "]}",
            "CNI109",
            "/cniVersion",
            "error parsing configuration list: invalid cniVersion type bool",
        ),
        (lst('"x": 1'), "CNI110", "", "error parsing configuration list: no 'plugins' key"),
        (lst('"Plugins": []'), "CNI110", "", "error parsing configuration list: no 'plugins' key"),
        (lst('"type": "bridge"'), "CNI118", "", "error parsing configuration list: no 'plugins' key"),
        (
            lst('"plugins": {"type": "bridge"}'),
            "CNI109",
            "/plugins",
            "error parsing configuration list: invalid 'plugins' type map[string]interface {}",
        ),
        (lst('"plugins": []'), "CNI111", "/plugins", "error parsing configuration list: no plugins in list"),
        (
            lst('"plugins": [' + BRIDGE + ', {"ipam": {"type": "x"}}]'),
            "CNI112",
            "/plugins/1",
            "failed to parse plugin config 1: error parsing configuration: missing 'type'",
        ),
        (
            lst('"plugins": [{"type": ""}]'),
            "CNI112",
            "/plugins/0",
            "failed to parse plugin config 0: error parsing configuration: missing 'type'",
        ),
        (
            lst('"plugins": [null]'),
            "CNI116",
            "/plugins/0",
            "failed to parse plugin config 0: error parsing configuration: missing 'type'",
        ),
        (
            lst('"plugins": ["bridge"]'),
            "CNI116",
            "/plugins/0",
            "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal string "
            "into Go value of type types.NetConf",
        ),
        (
            "[]",
            "CNI116",
            "",
            "error parsing configuration list: json: cannot unmarshal array into Go value of type "
            "map[string]interface {}",
        ),
        ("null", "CNI116", "", "error parsing configuration list: no name"),
        (
            lst('"plugins": [{"type": "portmap", "capabilities": {"portMappings": "true"}}]'),
            "CNI109",
            "/plugins/0/capabilities/portMappings",
            "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal string "
            "into Go struct field NetConf.capabilities of type bool",
        ),
        (
            lst('"plugins": [{"type": "bridge", "ipam": "host-local"}]'),
            "CNI109",
            "/plugins/0/ipam",
            "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal string "
            "into Go struct field NetConf.ipam of type types.IPAM",
        ),
        (
            lst('"plugins": [{"type": "bridge", "dns": ["8.8.8.8"]}]'),
            "CNI109",
            "/plugins/0/dns",
            "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal array "
            "into Go struct field NetConf.dns of type types.DNS",
        ),
        (
            lst('"plugins": [{"type": 5}]'),
            "CNI109",
            "/plugins/0/type",
            "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal number "
            "into Go struct field NetConf.type of type string",
        ),
        # the plugin is re-marshalled with sorted keys: "capabilities" is decoded before "type"
        (
            lst('"plugins": [{"type": 5, "capabilities": {"a": 1}}]'),
            "CNI109",
            "/plugins/0/capabilities/a",
            "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal number "
            "into Go struct field NetConf.capabilities of type bool",
        ),
        (
            lst('"plugins": [{"type": "bridge", "mtu": 1e400}]'),
            "CNI105",
            "/plugins/0/mtu",
            "error parsing configuration list: json: cannot unmarshal number 1e400 into Go value of type float64",
        ),
    ],
)
def test_list_load_errors(text: str, code: str, pointer: str, error: str) -> None:
    assert one_error(parse_text(text)) == (code, pointer, error)


@pytest.mark.parametrize(
    "text, code, pointer, error",
    [
        (lst('"plugins": [' + BRIDGE + "]"), "CNI113", "", "error parsing configuration: missing 'type'"),
        ('{"name": "n", "ipam": {"type": "dhcp"}}', "CNI112", "", "error parsing configuration: missing 'type'"),
        (
            '{"name": "n", "type": 1}',
            "CNI109",
            "/type",
            "error parsing configuration: json: cannot unmarshal number into Go struct field NetConf.type of type string",
        ),
        (
            '{"name": "n", "type": "b", "capabilities": {"portMappings": "yes"}}',
            "CNI109",
            "/capabilities/portMappings",
            "error parsing configuration: json: cannot unmarshal string into Go struct field NetConf.capabilities of type bool",
        ),
        (
            '["bridge"]',
            "CNI116",
            "",
            "error parsing configuration: json: cannot unmarshal array into Go value of type types.NetConf",
        ),
        ("null", "CNI116", "", "error parsing configuration: missing 'type'"),
        # ConfFromBytes skips the unknown key; ConfListFromConf's map decode fails on it
        (
            '{"name": "n", "type": "b", "mtu": 1e400}',
            "CNI105",
            "/mtu",
            "json: cannot unmarshal number 1e400 into Go value of type float64",
        ),
    ],
)
def test_conf_load_errors(text: str, code: str, pointer: str, error: str) -> None:
    assert one_error(parse_text(text, kind="conf")) == (code, pointer, error)


def test_conf_overflow_predicts_the_conversion_wrapper() -> None:
    parsed = parse_text('{"name": "n", "type": "b", "mtu": 1e400}', kind="conf", path="a.conf")
    assert parsed.findings[0].predicts == (
        "failed to convert CNI config file a.conf to CNI config list: json: cannot unmarshal number "
        "1e400 into Go value of type float64: invalid cni config"
    )


def test_type_error_wins_over_missing_type() -> None:
    # Unmarshal returns its error before ConfFromBytes looks at Type
    parsed = parse_text('{"name": "n", "ipam": 5}', kind="conf")
    assert one_error(parsed)[0] == "CNI109"


def test_load_error_finding_predicts_go_cni_text() -> None:
    parsed = parse_text('{"plugins": []}', path="/etc/cni/net.d/00-x.conflist")
    assert parsed.findings[0].predicts == (
        "failed to load CNI config list file /etc/cni/net.d/00-x.conflist: error parsing "
        "configuration list: no name: invalid cni config"
    )


# ----------------------------------------------------------------------------- Go quirks


def test_duplicate_key_warns_and_last_value_wins() -> None:
    parsed = parse_text('{\n"name": "n",\n"cniVersion": "0.2.0",\n"cniVersion": "0.3.1",\n"plugins": [' + BRIDGE + "]}")
    assert codes(parsed) == [("CNI107", "/cniVersion")]
    assert parsed.findings[0].severity == Severity.WARNING
    assert (parsed.findings[0].line, parsed.findings[0].column) == (4, 1)
    assert parsed.network is not None and parsed.network.cni_version == "0.3.1"


def test_plugin_keys_fold_case_like_go() -> None:
    parsed = parse_text(
        lst(
            '"plugins": [{"Type": "win-bridge", "IPAM": {"Type": "host-local"}, "DNS": {"Nameservers": ["10.0.0.10"]}}]'
        )
    )
    assert parsed.network is not None
    plugin = parsed.network.plugins[0]
    assert (plugin.type, plugin.ipam_type) == ("win-bridge", "host-local")
    assert sorted(codes(parsed)) == [
        ("CNI115", "/plugins/0/DNS"),
        ("CNI115", "/plugins/0/DNS/Nameservers"),
        ("CNI115", "/plugins/0/IPAM"),
        ("CNI115", "/plugins/0/IPAM/Type"),
        ("CNI115", "/plugins/0/Type"),
    ]
    assert all(f.severity == Severity.WARNING for f in parsed.findings)


def test_list_level_case_variant_is_ignored_by_libcni() -> None:
    parsed = parse_text('{"name": "n", "CNIVersion": "1.0.0", "plugins": [' + BRIDGE + "]}")
    assert codes(parsed) == [("CNI115", "/CNIVersion")]
    assert "IGNORED" in parsed.findings[0].message
    assert parsed.network is not None and parsed.network.cni_version is None


def test_conf_case_variant_of_cni_version_is_read() -> None:
    parsed = parse_text('{"name": "n", "CNIVersion": "0.4.0", "type": "bridge"}', kind="conf")
    assert parsed.network is not None and parsed.network.cni_version == "0.4.0"
    assert codes(parsed) == [("CNI115", "/CNIVersion")]


def test_conf_duplicate_struct_fields_merge_like_go() -> None:
    # A .conf is decoded straight into NetConf: the second "ipam" object is decoded into the
    # same IPAM struct, so the earlier type survives (decode.go object on an existing struct).
    parsed = parse_text('{"name": "n", "type": "b", "ipam": {"type": "x"}, "ipam": {"subnet": "s"}}', kind="conf")
    assert parsed.network is not None and parsed.network.plugins[0].ipam_type == "x"
    # In a list the plugin goes through map[string]interface{} first: the last "ipam" replaces.
    parsed = parse_text(lst('"plugins": [{"type": "b", "ipam": {"type": "x"}, "ipam": {"subnet": "s"}}]'))
    assert parsed.network is not None and parsed.network.plugins[0].ipam_type is None


def test_invalid_utf8_in_string_warns_and_loads() -> None:
    parsed = parse_text(b'{"name": "n", "plugins": [{"type": "bridge", "bridge": "br\xff0"}]}')
    assert codes(parsed) == [("CNI117", "/plugins/0/bridge")]
    assert parsed.network is not None and parsed.network.plugins[0].raw["bridge"] == "br\ufffd0"


def test_empty_ipam_is_not_an_error() -> None:
    parsed = parse_text(lst('"plugins": [{"type": "bridge", "ipam": {}, "dns": {}}]'))
    assert parsed.findings == () and parsed.network is not None
    assert parsed.network.plugins[0].ipam_type is None


def test_string_mtu_is_not_a_load_error() -> None:
    assert parse_text(lst('"plugins": [{"type": "aws-cni", "mtu": "9001"}]')).findings == ()


# ----------------------------------------------------------------------------- templates


@pytest.mark.parametrize(
    "text, placeholder",
    [
        ('{"mtu": __CNI_MTU__}', "__CNI_MTU__"),
        ('{"subnet": "{{ .PodCIDR }}"}', "{{ .PodCIDR }}"),
        ('{"a": 1 {{- if .X }}, "b": 2{{- end }}}', "{{- if .X }}"),
        ('{"hairpinMode": $2}', "$2"),
        ('{"subnet": "${POD_CIDR}"}', "${POD_CIDR}"),
        ('{"e": ["%SERVICE_CIDR%"]}', "%SERVICE_CIDR%"),
        ('{"ipam": {"subnet": "SUBNET"}}', "SUBNET"),
        ('{"clusterNetwork": "$MULTUS_CLUSTER_NETWORK"}', "$MULTUS_CLUSTER_NETWORK"),
        ('{"subnet": "\'$subnet\'"}', "$subnet"),
    ],
)
def test_placeholders_are_found(text: str, placeholder: str) -> None:
    found = find_template(text.encode())
    assert found is not None and found.text == placeholder


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "bridge", "subnet": "10.0.0.0/24", "pluginLogLevel": "DEBUG"}',
        '{"Type": "OutBoundNAT", "subnet": "usePodCidr", "mtu": "9001", "ipam": {}}',
        '{"log_file_path": "/var/log/calico/cni/cni.log", "price": "5%"}',
    ],
)
def test_ordinary_values_are_not_placeholders(text: str) -> None:
    assert find_template(text.encode()) is None


def test_template_gets_exactly_one_finding_and_no_network() -> None:
    parsed = parse_text(lst('"plugins": [{"type": "calico", "mtu": __CNI_MTU__, "x": ,}]'))
    assert codes(parsed) == [("CNI108", "")]
    assert parsed.network is None
    assert parsed.load_error == "error parsing configuration list: invalid character '_' looking for beginning of value"


def test_valid_json_template_points_at_the_placeholder() -> None:
    parsed = parse_text(
        lst('"plugins": [{"type": "bridge", "ipam": {"type": "host-local", "subnet": "{{ .PodCIDR }}"}}]')
    )
    assert codes(parsed) == [("CNI108", "/plugins/0/ipam/subnet")]
    assert parsed.network is None and parsed.load_error is None and parsed.document is not None


def test_binary_content_cut_off_mid_string_is_a_finding_not_a_crash() -> None:
    """Found by the never-crash property test: b'"\\x80' is not UTF-8 and ends inside a string,
    so Go's decoder stops at the end of the input (offset == length), not at a byte."""
    parsed = parse(Candidate("net.d/0.conf", "conf", b'"\x80'))
    assert [f.code for f in parsed.findings] == ["CNI120"]
    assert parsed.load_error == "error parsing configuration: unexpected end of JSON input"
    assert "end of the file" in parsed.findings[0].message
