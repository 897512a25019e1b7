"""CNI2xx: the configuration checked against the JSON Schema of the cniVersion it declares.

Emitted by ``cnidoctor/validate.py`` (CNI204/CNI205 through ``cnidoctor/plugin_check.py``). The schemas (``schemas/<version>/``) follow each
spec version's text and libcni's Go types; schema complaints that another family already
reports (missing name, name characters, reserved keys, cniVersions, string disableCheck, and
everything libcni refuses at load) are filtered out by ``validate.OWNED_ELSEWHERE``.
"""

from __future__ import annotations

from typing import Tuple

from ..model import PluginRefusal, Rule, Severity

# A plugin decodes its whole config first thing in cmdAdd, cmdCheck and cmdDel (bridge/ptp/tuning
# loadNetConf, host-local/static LoadIPAMConfig; containernetworking/plugins@v1.1.1), so a decode
# error breaks every verb - measured: bridge's on ADD and CHECK, tuning's on DEL (docs/differential.md).
DECODE_VERBS = ("add", "check", "del")

SPEC_1_0_CONFIG = "https://github.com/containernetworking/cni/blob/spec-v1.0.0/SPEC.md#configuration-format"
SPEC_0_4_CONFIG = "https://github.com/containernetworking/cni/blob/spec-v0.4.0/SPEC.md#network-configuration"
LIBCNI_CONF = "https://github.com/containernetworking/cni/blob/v1.3.0/libcni/conf.go"
SCHEMAS = "schemas/<version>/{conflist,plugin}.schema.json (listed in schemas/index.json)"

SCHEMA_VIOLATION = Rule(
    code="CNI201",
    name="schema-violation",
    severity=Severity.ERROR,
    summary="A well-known key has the wrong JSON type, and the plugin or runtime reading it refuses the config.",
    meaning=(
        "Each CNI spec version types its well-known keys: `ipMasq` is a boolean, `args` an object, "
        "spec 0.1.0/0.2.0 `ipam.routes` an array of `{dst, gw}` strings, 1.1.0 `disableGC`/"
        "`loadOnlyInlinedPlugins` booleans. Go code decodes these with encoding/json into typed "
        "struct fields, and a JSON value of another type makes the whole decode fail. This rule "
        "fires only where a named consumer refuses: a reference plugin that decodes the key "
        "(bridge, ptp and win-overlay for `ipMasq`; bridge, tap, tuning, host-local and static for "
        "`args`; host-local and static for `ipam.routes`, plugins@v1.9.1), so ADD fails for every "
        "pod; or libcni >= v1.2.1, which reads the 1.1.0 list booleans with `readBool` and refuses "
        "the file on any other type or value (cni@v1.3.0 libcni/conf.go:160-190). The same type "
        "error on a plugin that does not read the key is CNI203. Keys that libcni itself decodes "
        "(`type`, `capabilities`, `ipam`, `dns`, ...) stop the load and are reported by the "
        "syntax family (CNI109) instead."
    ),
    example=(
        '{\n  "cniVersion": "1.0.0",\n  "name": "k8s-pod-network",\n  "plugins": [\n'
        '    {"type": "bridge", "bridge": "cni0", "ipMasq": "true",\n'
        '     "ipam": {"type": "host-local", "subnet": "10.244.1.0/24"}}\n  ]\n}'
    ),
    correct_example='{\n  "cniVersion": "1.0.0",\n  "name": "k8s-pod-network",\n  "plugins": [\n    {"type": "bridge", "bridge": "cni0", "ipMasq": true,\n     "ipam": {"type": "host-local", "subnet": "10.22.0.0/16"}}\n  ]\n}',
    when_to_ignore="When a third-party plugin documents its own meaning for the key; the schema only knows the spec and the reference plugins.",
    plugin_side=PluginRefusal(DECODE_VERBS, "decode", "the plugin decodes this field into a typed Go field"),
    fix=(
        'Write the value with the JSON type the spec gives it: `"ipMasq": true` (no quotes), '
        '`"args": {...}`, routes as `[{"dst": "10.0.0.0/8"}]`.'
    ),
    runtime_errors=(
        # containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf); Go encoding/json (UnmarshalTypeError); plugins print it after "failed to load netconf: " (bridge, ptp, tuning, tap).
        "…: json: cannot unmarshal <T> into Go struct field NetConf.<field> of type <U>",
    ),
    references=(
        SPEC_1_0_CONFIG,
        SPEC_0_4_CONFIG,
        LIBCNI_CONF,
        "https://github.com/containernetworking/plugins/blob/v1.9.1/plugins/main/bridge/bridge.go",
        SCHEMAS,
    ),
)

UNKNOWN_LIST_KEY = Rule(
    code="CNI202",
    name="unknown-list-key",
    severity=Severity.WARNING,
    summary="A key at the top of a .conflist that no CNI spec version defines; libcni silently ignores it.",
    meaning=(
        "libcni reads a network configuration list with exact-name map lookups of the keys the "
        "spec defines (`cniVersion`, `cniVersions`, `name`, `plugins`, `disableCheck`, "
        "`disableGC`, `loadOnlyInlinedPlugins`; cni@v1.3.0 libcni/conf.go NetworkConfFromBytes) "
        "and ignores every other key without a word. Unlike plugin objects, where Go matches keys "
        "case-insensitively, the list level is case-sensitive (a pure case variant such as "
        "`disablecheck` is reported as CNI115). "
        "A plugin never sees list-level keys either: each plugin receives only its own object plus "
        "the list's `name` and `cniVersion`. So an unknown list key is a typo (the setting you "
        "meant is not applied) or a plugin setting in the wrong place. A key that another spec "
        "version defines (e.g. `disableCheck` in a 0.3.1 list) is CNI306 instead, and a top-level "
        "`type` beside `plugins` is the hybrid document of CNI319."
    ),
    example='{\n  "cniVersion": "1.0.0",\n  "name": "mynet",\n  "disableChecks": true,\n  "plugins": [{"type": "bridge"}]\n}',
    correct_example='{\n  "cniVersion": "1.0.0",\n  "name": "mynet",\n  "disableCheck": true,\n  "plugins": [{"type": "bridge"}]\n}',
    when_to_ignore="When the key is read by a tool other than libcni (an installer or operator annotation kept in the file).",
    fix="Rename the key to the spec spelling (the message suggests one), move a plugin setting into the plugin object, or delete it.",
    runtime_errors=(),
    references=(SPEC_1_0_CONFIG, LIBCNI_CONF, SCHEMAS),
)

SPEC_DEVIATION = Rule(
    code="CNI203",
    name="spec-deviation",
    severity=Severity.WARNING,
    summary="The config departs from the spec's schema for its cniVersion, but nothing known refuses it.",
    meaning=(
        "The value breaks the JSON Schema of the declared spec version (a wrong JSON type on a "
        "well-known key that this plugin does not read, a required sub-key missing such as a "
        "spec 0.1.0/0.2.0 `ipam.routes` entry without `dst`, or a 1.1.0 list boolean written as "
        'the string "true"), yet neither libcni nor any reference plugin we know of decodes it '
        "in a way that fails. It works today; it is fragile because any plugin that implements "
        "the key as the spec defines it will refuse it, and tools that validate against the spec "
        "reject the file. Where a consumer does refuse, the same problem is CNI201 (error)."
    ),
    example=(
        '{\n  "cniVersion": "0.3.1",\n  "name": "k8s-pod-network",\n  "plugins": [\n'
        '    {"type": "calico", "ipMasq": "true", "ipam": {"type": "calico-ipam"}}\n  ]\n}'
    ),
    correct_example='{\n  "cniVersion": "0.3.1",\n  "name": "k8s-pod-network",\n  "plugins": [\n    {"type": "calico", "ipMasq": true, "ipam": {"type": "calico-ipam"}}\n  ]\n}',
    when_to_ignore="When the plugin is known to accept the deviating form (many vendor plugins decode loosely); the finding is about the spec, not a runtime failure.",
    fix="Use the type and shape the spec defines for the key (see the message), or drop the key if the plugin does not use it.",
    runtime_errors=(),
    references=(
        SPEC_1_0_CONFIG,
        SPEC_0_4_CONFIG,
        "https://github.com/containernetworking/cni/blob/spec-v0.2.0/SPEC.md#network-configuration",
        SCHEMAS,
    ),
)

PLUGIN_OPTIONS = (
    "cnidoctor/config/plugin_options.py (the reference plugins' NetConf/IPAM structs, plugins@v1.1.1..v1.9.1)"
)
PLUGINS_MAIN = "https://github.com/containernetworking/plugins/tree/v1.9.1/plugins"
GO_JSON = "https://pkg.go.dev/encoding/json#Unmarshal"

PLUGIN_OPTION_UNKNOWN = Rule(
    code="CNI204",
    name="plugin-option-unknown",
    severity=Severity.WARNING,
    summary="A key in a reference plugin's object that the plugin has no option for; Go ignores it silently.",
    meaning=(
        "The reference plugins (containernetworking/plugins: bridge, ptp, macvlan, ipvlan, vlan, "
        "host-device, tap, dummy, loopback, portmap, bandwidth, firewall, tuning, sbr, vrf and the "
        "IPAM plugins host-local, static, dhcp) decode their configuration with Go's encoding/json "
        "into a NetConf struct. A key that matches no struct field (Go compares names "
        "case-insensitively, so `MTU` is `mtu`) is dropped without an error or a log line: the "
        "setting you wrote has no effect. The keys every plugin object may carry (`cniVersion`, "
        "`name`, `type`, `capabilities`, `ipam`, `dns`, `args`, `runtimeConfig`, `prevResult`, "
        "`ipMasq`, `cni.dev/*`) are never reported; other plugins (calico, cilium, aws-cni, ...) "
        "are not checked, since their options are their own. An option that exists only in newer "
        "plugin releases is known (the table is the union of plugins v1.1.1 to v1.9.1). Nested "
        "objects are checked too (host-local `ranges` entries, static `addresses` entries, "
        "bridge `vlanTrunk` entries). The message suggests the closest real option."
    ),
    example=(
        '{\n  "cniVersion": "0.4.0",\n  "name": "bridge",\n  "plugins": [\n'
        '    {"type": "bridge", "bridge": "cni0", "addIf": "true", "hairpinmode": true,\n'
        '     "ipam": {"type": "host-local", "subnet": "10.244.0.0/16", "gatway": "10.244.0.1"}}\n  ]\n}'
    ),
    correct_example='{\n  "cniVersion": "0.4.0",\n  "name": "bridge",\n  "plugins": [\n    {"type": "bridge", "bridge": "cni0", "hairpinMode": true,\n     "ipam": {"type": "host-local", "subnet": "10.88.0.0/16"}}\n  ]\n}',
    when_to_ignore="When the option belongs to a newer release of the plugin than cnidoctor models, or to a fork with extra options.",
    fix=(
        "Rename the key to the plugin's option (see the suggestion and the plugin's README), "
        "move it to the plugin that has that option, or delete it."
    ),
    runtime_errors=(),
    references=(PLUGINS_MAIN, GO_JSON, PLUGIN_OPTIONS),
)

PLUGIN_OPTION_INVALID = Rule(
    code="CNI205",
    name="plugin-option-invalid",
    severity=Severity.ERROR,
    summary="A reference plugin cannot decode one of its options (wrong JSON type, or not an IP/CIDR), so every ADD fails.",
    meaning=(
        "The reference plugins decode their options into typed Go fields: `mtu` of bridge is an "
        "`int`, `hairpinMode` a `bool`, host-local `gateway`/`rangeStart`/`rangeEnd` are `net.IP` "
        'and `subnet` a cni `types.IPNet`, static `addresses` is an array of `{"address": '
        '"<CIDR>", "gateway": "<IP>"}` objects. encoding/json refuses a value of another JSON '
        "type (`json: cannot unmarshal string into Go struct field NetConf.mtu of type int`), a "
        "number that is not an integer of the field's range, and an address net.IP/ParseCIDR "
        "cannot parse (`invalid IP address: 10.89.8`, `invalid CIDR address: 10.1.0.0/33`). The "
        "plugin then fails before touching the network, on every ADD, so no pod on the node gets "
        "networking. An IPAM plugin's error is relayed by the main plugin as is (vlan prefixes "
        "`failed to execute IPAM delegate: `), and libcni >= v1.0 prefixes "
        '`plugin type="X" failed (add): `. The `ipam` object is checked only under a reference '
        'main plugin: others (Calico with host-local `"subnet": "usePodCidr"`) may rewrite it '
        "before delegating. Only reference plugin types are checked: other vendors type the same "
        'names differently (aws-cni\'s `"mtu": "9001"` is a string on purpose). Spec-level keys '
        "(`ipMasq`, `args`, `ipam.routes` types) are CNI201/CNI203."
    ),
    example=(
        '{\n  "cniVersion": "0.4.0",\n  "name": "podman",\n  "plugins": [\n'
        '    {"type": "bridge", "bridge": "cni-podman0", "mtu": "1500",\n'
        '     "ipam": {"type": "host-local",\n'
        '              "ranges": [[{"subnet": "10.89.8.0/24", "gateway": "10.89.8"}]]}}\n  ]\n}'
    ),
    correct_example='{\n  "cniVersion": "0.4.0",\n  "name": "podman",\n  "plugins": [\n    {"type": "bridge", "bridge": "cni-podman0", "mtu": 1500,\n     "ipam": {"type": "host-local", "subnet": "10.88.0.0/16"}}\n  ]\n}',
    when_to_ignore="Never for a reference plugin on the modelled release: its decoder fails on every ADD.",
    plugin_side=PluginRefusal(DECODE_VERBS, "decode", "the plugin cannot decode this option"),
    fix=(
        "Write the value with the Go type the plugin declares (a JSON number for `mtu`, true/false "
        "for booleans), full IP addresses (`10.89.8.1`) and CIDRs (`10.89.8.0/24`), and static "
        'addresses as `[{"address": "10.1.2.3/24", "gateway": "10.1.2.1"}]`.'
    ),
    # containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf); Go encoding/json (UnmarshalTypeError) (Go's type error) and #37 (libcni's wrapper) plus Go net's
    # `invalid IP address: X` / `invalid CIDR address: X`; explain's KB maps each to CNI205.
    runtime_errors=(
        'plugin type="bridge" failed (add): invalid IP address: 10.89.8',
        'plugin type="bridge" failed (add): invalid CIDR address: 10.1.0.0/33',
        'plugin type="bridge" failed (add): json: cannot unmarshal array into Go struct field IPAMConfig.ipam.addresses of type main.Address',
        'plugin type="bridge" failed (add): invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0',
        'plugin type="bridge" failed (add): invalid range set 1: RangeStart 10.90.0.10 not in network 10.89.0.0/24',
    ),
    references=(
        "https://github.com/containernetworking/plugins/blob/v1.1.1/plugins/main/bridge/bridge.go",
        "https://github.com/containernetworking/plugins/blob/v1.1.1/plugins/ipam/host-local/backend/allocator/config.go",
        "https://github.com/containernetworking/plugins/blob/v1.1.1/plugins/ipam/static/main.go",
        "https://pkg.go.dev/net#IP.UnmarshalText",
        GO_JSON,
        PLUGIN_OPTIONS,
    ),
)

RULES: Tuple[Rule, ...] = (
    SCHEMA_VIOLATION,
    UNKNOWN_LIST_KEY,
    SPEC_DEVIATION,
    PLUGIN_OPTION_UNKNOWN,
    PLUGIN_OPTION_INVALID,
)
