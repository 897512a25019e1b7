"""CNI3xx: static semantics of a config libcni can load (versions, names, keys, chains).

``check(parsed)`` runs only on files with ``parsed.network is not None`` (a file libcni rejects
already has its one load finding). Every finding predicts the text the runtime or plugin prints,
with the file's real values; texts come from containernetworking/cni:libcni@v1.3.0; containernetworking/cni:pkg/skel/skel.go@v1.3.0 and the sources cited per rule.

List-level keys of a ``.conflist`` are looked up exactly as libcni does (a ``map[string]interface{}``
with exact keys, cni@v1.3.0 libcni/conf.go:92-200); plugin-object keys are matched the way Go's
encoding/json fills a struct field (exact, else case-insensitive; the last matching key wins).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from .. import versions
from ..config.netconf import (
    SharedLookups,
    _doc,
    _is_list,
    capabilities_of,
    declared_version,
    go_key,
    ipam_type_of,
    plugin_description,
)
from ..config.parse import fails_after_list_keys
from ..config.validate import json_kind, readbool_finding
from ..gofmt import go_quote
from ..gofmt import go_type_name as go_type
from ..gojson import escape_token as escape_pointer
from ..model import Finding, ParsedFile, PluginConf, PluginRefusal, Rule, Severity
from .schema import DECODE_VERBS

# Reference meta plugins that need a previous result on ADD and the text each prints without it
# (plugins@v1.9.1: portmap main.go:102, bandwidth main.go:175, tuning tuning.go:352,
# firewall firewall.go:145, vrf main.go:58, sbr main.go:168; containernetworking/plugins:plugins/meta/{portmap,bandwidth,tuning,firewall,vrf,sbr}@v1.9.1).
META_PLUGIN_ERRORS: Mapping[str, str] = {
    "portmap": "must be called as chained plugin",
    "bandwidth": "must be called as chained plugin",
    "tuning": "Required prevResult missing",
    "firewall": "missing prevResult from earlier plugin",
    "vrf": "missing prevResult from earlier plugin",
    "sbr": "This plugin must be called as chained plugin",
}

# Reference plugins that refuse old config versions: VersionsStartingFrom(min) since plugins
# v1.0.1 (containernetworking/plugins:go.mod at each release tag; containernetworking/plugins:plugins/meta/{bandwidth,firewall,vrf}@v1.9.1 (supported versions); plugins@v1.9.1 bandwidth/main.go:250, firewall.go:195, vrf/main.go:48).
PLUGIN_MIN_VERSION: Mapping[str, str] = {"bandwidth": "0.3.0", "vrf": "0.3.1", "firewall": "0.4.0"}

# Capabilities some runtime supplies (containernetworking/cni:libcni/api.go@v1.3.0 (buildOneConfig, injectRuntimeConfig); containernetworking/cni:CONVENTIONS.md@v1.3.0 table; cni@v1.3.0 CONVENTIONS.md:57-69).
KNOWN_CAPABILITIES: Tuple[str, ...] = (
    "portMappings",
    "bandwidth",
    "ipRanges",
    "dns",
    "cgroupPath",
    "io.kubernetes.cri.pod-annotations",
    "aliases",
    "mac",
    "ips",
    "deviceID",
    "infinibandGUID",
)

# libcni pkg/utils/utils.go cniValidNameChars; Go's "$" (no multiline) is end of text.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*\Z")

# Plugins whose ADD result carries no IP address (containernetworking/cni:pkg/types/current/types.go@v0.8.1; containerd/go-cni#28).
_NO_IP_PLUGINS = ("loopback", "host-device")

# libcni >= v1.2.0 version.Current() (containernetworking/cni:pkg/version/version.go@v1.2.0)
_CURRENT_LIB = "1.1.0"


MISSING_CNI_VERSION = Rule(
    code="CNI301",
    name="missing-cni-version",
    severity=Severity.ERROR,
    summary="cniVersion is absent or empty: pod teardown fails on libcni 0.7.0-1.0.1.",
    meaning='libcni treats an absent or empty cniVersion as "". ADD works everywhere (plugins are told '
    "0.1.0), but libcni v0.7.0-v1.0.1 parse the version on DEL/CHECK and stop with 'invalid version "
    '"": the version is empty\' before any plugin runs: pods stick in Terminating and IPs leak on '
    "containerd 1.3-1.6.3 and dockershim 1.16-1.23, and CRI-O 1.17-1.23.3 fails pod creation "
    "through its post-ADD status check. libcni 0.7.x ValidateNetworkList (dockershim 1.16-1.18) "
    "rejects the config outright ('plugin X does not support config version \"\"'). bandwidth, "
    "firewall and vrf refuse the 0.1.0 they are told on every runtime (containernetworking/cni#882, "
    "kubernetes/kubernetes#82997, flannel-io/flannel#1178; fixed in libcni v1.1.0 by containernetworking/cni#893).",
    example='{"name": "mynet", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Only if every runtime that reads the file vendors libcni v1.1.0 or later (containerd >= 1.6.4, CRI-O >= 1.23.4) and no plugin in it needs more than 0.1.0.",
    fix='Add "cniVersion" with a version every plugin supports (e.g. "0.4.0" or "1.0.0").',
    runtime_errors=(
        'invalid version "": the version is empty',
        'plugin %s does not support config version ""',
        'failed to convert major version part "": strconv.Atoi: parsing "": invalid syntax',
        'incompatible CNI versions; config is "0.1.0", plugin supports %s',
    ),
    references=(
        "cni@v0.8.1 pkg/version/plugin.go:89-113",
        "https://github.com/containernetworking/cni/pull/893",
        "https://github.com/containernetworking/cni/issues/882",
    ),
)

UNPARSEABLE_CNI_VERSION = Rule(
    code="CNI302",
    name="unparseable-cni-version",
    severity=Severity.ERROR,
    summary='cniVersion is not a version libcni can parse ("v1.0.0", "1.0.0.0").',
    meaning="Loading never validates the version, so ADD reaches the plugin, which rejects it ('incompatible "
    "CNI versions; config is \"v1.0.0\" ...'); DEL/CHECK fail inside libcni's ParseVersion "
    '(\'failed to convert major version part "v1": ...\', \'invalid version "1.0.0.0": too many '
    "parts'), so teardown fails too (containernetworking/cni:pkg/version/plugin.go@v0.8.1 (ParseVersion); containernetworking/cni#882).",
    example='{"cniVersion": "v1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Use one of the spec versions 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0.",
    runtime_errors=(
        'incompatible CNI versions; config is "%s", plugin supports %s',
        'failed to convert major version part "%s": strconv.Atoi: parsing "%s": invalid syntax',
        'invalid version "%s": too many parts',
    ),
    references=("cni@v1.3.0 pkg/version/plugin.go:87-118", "cni@v1.3.0 pkg/skel/skel.go:190-198"),
)

UNKNOWN_SPEC_VERSION = Rule(
    code="CNI303",
    name="unknown-spec-version",
    severity=Severity.ERROR,
    summary='cniVersion parses but is not a spec version ("1.0", "0.1", "1.0.1", "0.5.0").',
    meaning="Plugins compare the config version as an exact string against their supported list, so "
    '"1.0" is not "1.0.0" and every plugin answers \'incompatible CNI versions; config is '
    '"1.0" ...\' on ADD. "1.0.1"-style values are containernetworking/plugins release numbers, '
    "not spec versions (plugins#668). Spec versions: 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0 "
    "(containernetworking/cni:pkg/version/version.go@v1.3.0 All; pkg/version/plugin.go@v0.8.1 ParseVersion).",
    example='{"cniVersion": "1.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "mynet", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="When a vendor plugin documents a private version string and is the only plugin in the list.",
    fix='Write the full spec version, e.g. "1.0.0".',
    runtime_errors=(
        'incompatible CNI versions; config is "%s", plugin supports %s',
        'plugin %s does not support config version "%s"',
    ),
    references=("https://github.com/containernetworking/plugins/issues/668", "cni@v1.3.0 pkg/version/version.go"),
)

INVALID_NETWORK_NAME = Rule(
    code="CNI304",
    name="invalid-network-name",
    severity=Severity.ERROR,
    summary="The network name has characters libcni rejects.",
    meaning="libcni >= v0.8.0 validates the network name on ADD against ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$ and "
    "plugins built on skel >= v0.8.0 do the same, so every pod ADD fails with 'invalid characters "
    "found in network name; <name>' (spec 1.0.0 naming rule; cni pkg/utils/utils.go; "
    "containernetworking/cni:pkg/utils/utils.go@v1.3.0 ValidateNetworkName; SPEC.md@spec-v1.0.0 network name).",
    example='{"cniVersion": "0.4.0", "name": "bridge@123", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "bridge-123", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Only for runtimes with libcni older than v0.8.0 and plugins built on skel older than v0.8.0, which do not check the name.",
    fix="Rename the network using letters, digits, '_', '.' and '-' (first character alphanumeric).",
    runtime_errors=("invalid characters found in network name; %s",),
    references=("cni@v1.3.0 pkg/utils/utils.go:29-57", "cni@v1.3.0 libcni/api.go:490-504"),
)

MISSING_NETWORK_NAME = Rule(
    code="CNI305",
    name="missing-network-name",
    severity=Severity.ERROR,
    summary='The network has no name (a single .conf without "name", or "name": "").',
    meaning='libcni up-converts a .conf using its own name; an absent or empty name reaches ADD as "" and '
    "libcni >= v0.8.0 fails with 'missing network name:' (plugins print 'missing network name'). "
    "CRI-O (ocicni) names such a network after its file, so it only breaks on containerd and "
    "dockershim (containernetworking/cni:pkg/skel/skel.go@v1.3.0; cri-o/cri-o#6273, kubernetes-the-hard-way#387).",
    example='{"cniVersion": "0.3.1", "type": "loopback"}',
    correct_example='{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Add a "name", e.g. "lo".',
    runtime_errors=("missing network name:", "missing network name"),
    references=("cni@v1.3.0 pkg/utils/utils.go:50-57", "cni@v1.3.0 pkg/skel/skel.go:224"),
)

NEWER_SPEC_KEY = Rule(
    code="CNI306",
    name="newer-spec-key",
    severity=Severity.WARNING,
    summary="A list key that only exists in a newer spec than the declared cniVersion.",
    meaning="disableCheck is defined from spec 0.4.0 (CHECK does not run for older lists, so the key has "
    "no effect); disableGC from 1.1.0 (GC only runs for >= 1.1.0 lists); loadOnlyInlinedPlugins "
    "from the 1.1.0 text of libcni 1.3.0, which honours it whatever the version while older libcni "
    "ignore it (containernetworking/cni:libcni/conf.go@v1.3.0 ConfListFromBytes; SPEC.md at the spec-v* tags).",
    example='{"cniVersion": "0.3.1", "name": "n", "disableCheck": true, "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "n", "disableCheck": true, "plugins": [{"type": "bridge"}]}',
    when_to_ignore="When the key is there for a later version bump: libcni reads it whatever the declared version.",
    fix="Raise cniVersion to the spec that defines the key, or drop the key.",
    runtime_errors=(),
    references=("cni@v1.3.0 libcni/conf.go:162-200", "cni@v1.3.0 libcni/api.go CheckNetworkList/GCNetworkList"),
)

RESERVED_KEY = Rule(
    code="CNI307",
    name="reserved-key",
    severity=Severity.WARNING,
    summary="A key the runtime generates (args, runtimeConfig, prevResult, cni.dev/*) is set in a >= 1.0.0 config.",
    meaning="Spec 1.0.0 reserves these keys for the runtime: libcni replaces runtimeConfig when it injects "
    "a capability and prevResult for every chained plugin, so a static value is overwritten or, "
    "worse, reaches the plugin when nothing is injected (spec@1.0.0 'Protocol parameters'; "
    "cni@v1.3.0 libcni/api.go:155-212; containernetworking/cni:SPEC.md@spec-v1.0.0 (plugin configuration); containernetworking/cni:pkg/types/types.go@v1.3.0 (NetConf)).",
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bandwidth", "runtimeConfig": {}}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bandwidth", "capabilities": {"bandwidth": true}}]}',
    when_to_ignore="When a plugin predating spec 1.0.0 documents the key as static input and the runtime never injects it.",
    fix="Remove the key; use capabilities so the runtime supplies the value.",
    runtime_errors=(),
    references=("spec@1.0.0 SPEC.md reserved keys", "cni@v1.3.0 libcni/conf.go:392-417"),
)

CNI_VERSIONS_SELECTION = Rule(
    code="CNI308",
    name="cni-versions-selection",
    severity=Severity.WARNING,
    summary="cniVersions makes old and new runtimes use different config versions (error if malformed).",
    meaning="libcni >= v1.2.0 (containerd >= 2.0, CRI-O >= 1.31) takes the highest cniVersions entry it "
    "implements (<= 1.1.0), merged with cniVersion; older libcni ignore cniVersions and use "
    'cniVersion, or "" when absent. The same file thus runs at two versions across a fleet. A '
    "malformed entry (not a string, not parseable) or a chosen value that is no spec version makes "
    "this an error: libcni >= v1.2.2 refuses to load the list ('invalid cniVersions entry ...') "
    "(containernetworking/cni:libcni/conf.go@v1.3.0, cniVersions handling).",
    example='{"cniVersions": ["1.0.0", "1.1.0"], "name": "n", "plugins": [{"type": "bridge"}]}',
    correct_example=(
        '{"cniVersion": "1.0.0", "cniVersions": ["0.4.0", "1.0.0"], "name": "n", "plugins": [{"type": "bridge"}]}'
        "   (every libcni runs it at 1.0.0)"
    ),
    when_to_ignore="When every runtime that reads the file vendors libcni v1.2.0 or later, which picks from cniVersions.",
    fix="Keep cniVersion equal to a version every runtime in the fleet supports, and list only spec "
    "versions in cniVersions.",
    runtime_errors=(
        "error parsing configuration list: invalid cniVersions entry %s at index %d: %s",
        "error parsing configuration list: invalid type for cniVersions index %d: %T",
        "error parsing configuration list: invalid type for cniVersions: []interface {}",
    ),
    references=("cni@v1.3.0 libcni/conf.go:119-160",),
)

DISABLE_CHECK_STRING = Rule(
    code="CNI309",
    name="disable-check-string",
    severity=Severity.ERROR,
    summary='disableCheck is not a JSON boolean: libcni <= 1.1.x refuses the list, all refuse other than "true"/"false".',
    meaning="Spec 0.4.0 describes disableCheck as a string, but libcni <= v1.1.x accepts only a boolean and "
    "rejects the whole list ('invalid disableCheck type string'): containerd <= 1.7 stops its CNI "
    'load, CRI-O <= 1.30 skips the file. libcni >= v1.2.0 also accepts the strings "true"/"false" in any '
    'case; any other value (a string such as "yes", a number) is refused by every release, with a '
    "different text per generation: v1.2.0 'invalid disableCheck value \"yes\"', v1.2.1+ (readBool) "
    "'invalid value \"yes\" for disableCheck' (containernetworking/cni:libcni/conf.go@v1.1.2, @v1.2.0 "
    "(ConfListFromBytes, disableCheck) and @v1.3.0 (NetworkConfFromBytes, readBool)).",
    example='{"cniVersion": "0.4.0", "name": "n", "disableCheck": "true", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "n", "disableCheck": true, "plugins": [{"type": "bridge"}]}',
    when_to_ignore='For "true"/"false" strings, when every runtime reading the file vendors libcni v1.2.0 '
    "or later, which accepts them. Never for other values: every release refuses them.",
    fix='Write "disableCheck": true (no quotes).',
    runtime_errors=(
        "error parsing configuration list: invalid disableCheck type string",
        "error parsing configuration list: invalid disableCheck type %T",
        "error parsing configuration list: invalid disableCheck value %q",
        "error parsing configuration list: invalid type %T for disableCheck",
        "error parsing configuration list: invalid value %q for disableCheck",
    ),
    references=(
        "cni@v1.1.2 libcni/conf.go:92",
        "containernetworking/cni:libcni/conf.go@v1.2.0 (ConfListFromBytes)",
        "containernetworking/cni:libcni/conf.go@v1.3.0 (NetworkConfFromBytes)",
    ),
)

PLUGIN_LEVEL_VERSION = Rule(
    code="CNI310",
    name="plugin-level-version-ignored",
    severity=Severity.INFO,
    summary="A plugin inside a list sets its own cniVersion or name, which libcni overwrites.",
    meaning="When it executes a list, libcni injects the list's name and cniVersion into every plugin "
    "object, replacing per-plugin values (spec@0.3.0 lists; cni@v1.3.0 libcni/api.go:155-177 "
    "buildOneConfig; containernetworking/cni:libcni/conf.go@v1.3.0 (ConfListFromBytes); containernetworking/cni:SPEC.md@spec-v1.1.0 (network configuration lists)). The per-plugin value is dead configuration and misleads "
    "readers about the version the plugin really gets.",
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge", "cniVersion": "0.3.1"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="When the per-plugin value equals the list's and is kept for tools that read plugins separately.",
    fix="Remove cniVersion/name from plugin objects; set them once at the list level.",
    runtime_errors=(),
    references=("cni@v1.3.0 libcni/api.go:155-177",),
)

INVALID_PLUGIN_TYPE = Rule(
    code="CNI311",
    name="invalid-plugin-type",
    severity=Severity.ERROR,
    summary="A plugin or IPAM type contains a path separator.",
    meaning="type names a binary in the plugin directories; since libcni v0.8.1 (CVE-2021-20206) FindInPath "
    "rejects a type containing '/' with 'invalid plugin name: X' (older runtimes executed the path: "
    "containerd < 1.5, CRI-O < 1.21). The same lookup runs inside the plugin for ipam.type. Spec "
    "1.0.0 also forbids '\\' (containernetworking/cni:pkg/invoke/find.go@v0.8.1, CVE-2021-20206).",
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "/opt/cni/bin/bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}   (with /opt/cni/bin in the runtime\'s bin dirs)',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix='Use the bare binary name ("bridge") and put the binary in a configured plugin directory.',
    runtime_errors=("invalid plugin name: %s",),
    references=("cni@v0.8.1 pkg/invoke/find.go:30-32", "https://github.com/kubernetes/kubernetes/issues/101759"),
)

META_PLUGIN_FIRST = Rule(
    code="CNI312",
    name="meta-plugin-first",
    severity=Severity.ERROR,
    summary="A chained-only plugin (portmap, bandwidth, tuning, firewall, sbr, vrf) runs first or alone.",
    meaning="These plugins modify the result of an earlier interface plugin (prevResult); as the first "
    "plugin of a list or as a single .conf they get none and every ADD fails (plugins@v1.9.1 "
    "meta/*; containernetworking/cni:libcni/api.go@v1.3.0 buildOneConfig).",
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "portmap"}, {"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}',
    when_to_ignore="When the meta plugin is a vendor plugin that also works standalone (cnidoctor only knows the reference meta plugins).",
    # portmap/bandwidth/tuning/firewall/vrf/sbr refuse a missing prevResult in cmdAdd only; their
    # cmdDel does not need one (containernetworking/plugins:plugins/meta/portmap/main.go@v1.9.1).
    plugin_side=PluginRefusal(("add",), "body", "a meta plugin needs the previous plugin's result"),
    fix="Put an interface plugin (bridge, ptp, macvlan, the add-on's own plugin) first in the list.",
    runtime_errors=tuple(sorted(set(META_PLUGIN_ERRORS.values()))),
    references=("plugins@v1.9.1 plugins/meta/portmap/main.go:102",),
)

CHAINING_BEFORE_030 = Rule(
    code="CNI313",
    name="chaining-before-0.3.0",
    severity=Severity.WARNING,
    summary="A list chains several plugins but declares a version before 0.3.0.",
    meaning="Network configuration lists and prevResult chaining were introduced in spec 0.3.0; a list "
    "declaring 0.1.0/0.2.0 hands chained plugins a 0.2.0-format prevResult (ip4/ip6, one address "
    "per family, no interfaces), which meta plugins cannot use fully (spec@0.3.0; containernetworking/cni:SPEC.md at the spec-v0.1.0 ... spec-v1.1.0 tags, "
    "containernetworking/cni:libcni/api.go@v1.3.0 (buildOneConfig, injectRuntimeConfig); containernetworking/cni:CONVENTIONS.md@v1.3.0; flannel 2019 v0.2.0 conflist).",
    example='{"cniVersion": "0.2.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}',
    correct_example='{"cniVersion": "0.3.1", "name": "n", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}',
    when_to_ignore="When the chained plugins accept the 0.2.0 result form (few do); the spec defines chaining from 0.3.0.",
    fix="Declare cniVersion 0.3.1 or newer.",
    runtime_errors=(),
    references=("spec@0.3.0 SPEC.md network configuration lists",),
)

MISSING_CAPABILITY = Rule(
    code="CNI314",
    name="missing-capability",
    severity=Severity.WARNING,
    summary="portmap without capabilities.portMappings, or bandwidth without capabilities.bandwidth.",
    meaning="libcni passes the pod's hostPorts / bandwidth annotations in runtimeConfig only to plugins that "
    "declare the capability as true; without it portmap maps nothing and bandwidth applies no "
    "per-pod limit, silently (cni@v1.3.0 libcni/api.go:191-212; containernetworking/cni:libcni/api.go@v1.3.0 (buildOneConfig, injectRuntimeConfig); containernetworking/cni:CONVENTIONS.md@v1.3.0).",
    example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "portmap"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"},\n  {"type": "portmap", "capabilities": {"portMappings": true}}]}',
    when_to_ignore="When the plugin is configured statically on purpose (for example portmap with fixed mappings in the file).",
    fix='Add "capabilities": {"portMappings": true} (or {"bandwidth": true}) to the plugin.',
    runtime_errors=(),
    references=("cni@v1.3.0 libcni/api.go:191-212", "cni@v1.3.0 CONVENTIONS.md"),
)

PLUGIN_MIN_VERSION_RULE = Rule(
    code="CNI315",
    name="plugin-min-version",
    severity=Severity.ERROR,
    summary="bandwidth needs >= 0.3.0, vrf >= 0.3.1, firewall >= 0.4.0.",
    meaning="These reference plugins support only versions from their minimum on (VersionsStartingFrom "
    "since plugins v1.0.1; firewall was exactly 0.4.0 in v0.8.x), so a list declaring an older "
    "version fails every ADD in that plugin with 'incompatible CNI versions' (containernetworking/plugins:go.mod at each release tag; containernetworking/plugins:plugins/meta/{bandwidth,firewall,vrf}@v1.9.1 (supported versions), "
    "containernetworking/plugins go.mod at each release tag; containernetworking/plugins#690).",
    example='{"cniVersion": "0.3.1", "name": "n", "plugins": [{"type": "bridge"}, {"type": "firewall"}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "n", "plugins": [{"type": "bridge"}, {"type": "firewall"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    # A static expectation yields to the measured fact at the same place: this rule assumes the
    # reference plugins' minimum versions, CNI511 names the list the probed binary really replied.
    superseded_by="CNI511",
    fix="Raise cniVersion to at least the plugin's minimum (0.4.0 covers all three).",
    runtime_errors=('incompatible CNI versions; config is "%s", plugin supports %s',),
    references=(
        "plugins@v1.9.1 plugins/meta/firewall/firewall.go:195",
        "https://github.com/containernetworking/plugins/issues/690",
    ),
)

UNKNOWN_CAPABILITY = Rule(
    code="CNI316",
    name="unknown-capability",
    severity=Severity.WARNING,
    summary="A capabilities key that no runtime supplies.",
    meaning="libcni injects runtimeConfig[k] only for capabilities the runtime supplies (containerd, CRI-O, "
    "dockershim: portMappings, bandwidth, ipRanges, dns, cgroupPath, io.kubernetes.cri.pod-"
    "annotations, aliases; generic: mac, ips, deviceID, infinibandGUID). Any other key does nothing; "
    'often a plugin option was put inside capabilities by mistake (kube-router\'s "snat": true) '
    "(containernetworking/cni:libcni/api.go@v1.3.0 (buildOneConfig, injectRuntimeConfig); containernetworking/cni:CONVENTIONS.md@v1.3.0 capability table; cni@v1.3.0 CONVENTIONS.md).",
    example='{"type": "portmap", "capabilities": {"portMappings": true, "snat": true}}',
    correct_example='{"type": "portmap", "capabilities": {"portMappings": true}}',
    when_to_ignore="When a third-party runtime or a future release supplies that capability.",
    fix='Move plugin options out of capabilities ("snat": true belongs at the plugin level).',
    runtime_errors=(),
    references=("cni@v1.3.0 CONVENTIONS.md:57-69",),
)

HOST_LOCAL_RANGES_OLD = Rule(
    code="CNI317",
    name="host-local-ranges-old-version",
    severity=Severity.ERROR,
    summary="host-local has more than one range set per address family with cniVersion < 0.3.0.",
    meaning="0.1.0/0.2.0 results carry one IPv4 and one IPv6 address, so host-local refuses several range "
    "sets of one family: 'CNI version X does not support more than 1 address per family' "
    "(plugins@v1.9.1 plugins/ipam/host-local/backend/allocator/config.go:150-154; containernetworking/plugins:plugins/ipam/host-local/backend/allocator/config.go@v1.9.1).",
    example='{"cniVersion": "0.2.0", "name": "n", "type": "bridge", "ipam": {"type": "host-local", '
    '"ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "10.2.0.0/24"}]]}}',
    correct_example='{"cniVersion": "0.3.1", "name": "n", "type": "bridge", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "10.2.0.0/24"}]]}}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    # host-local's allocator.LoadIPAMConfig runs in cmdAdd, cmdCheck and cmdDel
    # (containernetworking/plugins:plugins/ipam/host-local/backend/allocator/config.go@v1.9.1).
    plugin_side=PluginRefusal(DECODE_VERBS, "ipam", "host-local refuses several ranges per family below 0.3.0"),
    fix="Declare cniVersion 0.3.1 or newer.",
    runtime_errors=("CNI version %v does not support more than 1 address per family",),
    references=("plugins@v1.9.1 plugins/ipam/host-local/backend/allocator/config.go:150-154",),
)

NO_IP_RESULT_OLD = Rule(
    code="CNI318",
    name="no-ip-result-old-version",
    severity=Severity.WARNING,
    summary="The default network is loopback/host-device at cniVersion 0.1.0/0.2.0 (or none).",
    meaning="0.1.0/0.2.0 results are converted to and from the 0.3+ format by libcni, and a result without "
    "any IP address cannot be converted: 'cannot convert: no valid IP addresses' (containerd ADD, "
    "go-cni#28, multus#335/containerd#2540). Only the default network's result is converted by "
    "the runtimes, so this is reported for the default network (or for files checked on their own) "
    "(cni@v0.8.1 pkg/types/current/types.go:176; containernetworking/cni:pkg/types/current/types.go@v0.8.1; containerd/go-cni#28).",
    example='{"cniVersion": "0.2.0", "name": "lo", "type": "loopback"}  (the only file in net.d)',
    correct_example='{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}',
    when_to_ignore="When the file is not the default network and no runtime ever converts its result.",
    fix="Declare cniVersion 0.3.1 or newer, and make an interface plugin with IPAM the default network.",
    runtime_errors=("cannot convert: no valid IP addresses",),
    references=(
        "https://github.com/containerd/go-cni/pull/28",
        "https://github.com/k8snetworkplumbingwg/multus-cni/issues/335",
    ),
)

HYBRID_LIST = Rule(
    code="CNI319",
    name="hybrid-list",
    severity=Severity.WARNING,
    summary='One document has both a top-level plugin "type" and a "plugins" list.',
    meaning="A .conflist is read as a list: the top-level type (and its plugin options) is ignored. A "
    ".conf is read as one plugin: the plugins list is ignored and passed to that plugin as an "
    "unknown key. Which half runs depends on the extension (go-cni#53; containernetworking/cni:libcni/conf.go@v0.8.1 (ConfListFromBytes, ConfListFromConf)).",
    example='{"cniVersion": "0.4.0", "name": "n", "type": "bridge", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "n", "plugins": [{"type": "bridge"}]}',
    when_to_ignore="Never: which half runs depends on the extension, so one of them is always dead.",
    fix="Keep only the list form (in a .conflist) or only the single-plugin form (in a .conf).",
    runtime_errors=(),
    references=("https://github.com/containerd/go-cni/issues/53",),
)

DELEGATE_VERSION_MISMATCH = Rule(
    code="CNI320",
    name="delegate-version-mismatch",
    severity=Severity.WARNING,
    summary="A delegate (multus delegates, flannel delegate) declares a cniVersion different from the top level.",
    meaning="Meta plugins hand the runtime's verbs to their delegates. With a top-level version >= 0.4.0 and "
    "a delegate < 0.4.0 CRI-O's CHECK reaches a delegate that cannot do CHECK and multus >= 4 "
    "refuses the delegate ('delegate cni version is X while top level cni version is Y'); that "
    "case is an error. Other differences mean delegate and runtime disagree on the result format "
    "(k8snetworkplumbingwg/multus-cni#737, projectcalico/calico#12965; multus-cni pkg/server/config/generator.go CheckVersionCompatibility).",
    example='{"cniVersion": "0.4.0", "name": "multus", "type": "multus", "delegates": [{"cniVersion": "0.3.1", ...}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "multus", "type": "multus", "delegates": [{"cniVersion": "0.4.0", ...}]}',
    when_to_ignore="When the node runs containerd (no CHECK) and the delegate plugins convert results both ways.",
    fix="Declare the same cniVersion at the top level and in every delegate.",
    runtime_errors=(
        "delegate cni version is %s while top level cni version is %s",
        'configuration version "%s" does not support the CHECK command',
    ),
    references=(
        "https://github.com/k8snetworkplumbingwg/multus-cni/issues/737",
        "https://github.com/projectcalico/calico/issues/12965",
    ),
)

SINGLE_CONF_DEPRECATED = Rule(
    code="CNI321",
    name="single-conf-deprecated",
    severity=Severity.WARNING,
    summary="A single-plugin .conf declares cniVersion >= 1.0.0, a format spec 1.0.0 removed.",
    meaning="Spec 1.0.0 defines configuration only as a list ('non-List configurations are removed'). "
    "libcni, go-cni and ocicni still read a single-plugin `.conf`/`.json` and wrap it into a "
    "one-plugin list with the object's own name and cniVersion (libcni ConfListFromConf; the "
    "function is marked deprecated in libcni v1.3.0), so it works today, but a file declaring a "
    "1.x version in a removed format depends on that compatibility path and cannot chain plugins "
    "(containernetworking/cni:libcni/conf.go@v1.3.0 ConfFiles, ConfListFromConf; SPEC.md@spec-v1.0.0).",
    example='/etc/cni/net.d/99-loopback.conf: {"cniVersion": "1.1.0", "name": "lo", "type": "loopback"}',
    correct_example='/etc/cni/net.d/99-loopback.conflist: {"cniVersion": "1.1.0", "name": "lo", "plugins": [{"type": "loopback"}]}',
    when_to_ignore="While every runtime in use still loads .conf files (all of them do today); the form is deprecated, not removed.",
    fix='Write it as a `.conflist`: {"cniVersion": "1.1.0", "name": "lo", "plugins": [{"type": "loopback"}]}.',
    runtime_errors=(),
    references=(
        "https://github.com/containernetworking/cni/blob/main/SPEC.md (spec 1.0.0 changelog)",
        "cni@v1.3.0 libcni/conf.go ConfListFromConf",
    ),
)

RULES: Tuple[Rule, ...] = (
    MISSING_CNI_VERSION,
    UNPARSEABLE_CNI_VERSION,
    UNKNOWN_SPEC_VERSION,
    INVALID_NETWORK_NAME,
    MISSING_NETWORK_NAME,
    NEWER_SPEC_KEY,
    RESERVED_KEY,
    CNI_VERSIONS_SELECTION,
    DISABLE_CHECK_STRING,
    PLUGIN_LEVEL_VERSION,
    INVALID_PLUGIN_TYPE,
    META_PLUGIN_FIRST,
    CHAINING_BEFORE_030,
    MISSING_CAPABILITY,
    PLUGIN_MIN_VERSION_RULE,
    UNKNOWN_CAPABILITY,
    HOST_LOCAL_RANGES_OLD,
    NO_IP_RESULT_OLD,
    HYBRID_LIST,
    DELEGATE_VERSION_MISMATCH,
    SINGLE_CONF_DEPRECATED,
)


# ---------------------------------------------------------------------------------------------
# small helpers


def add_error(plugin: PluginConf, text: str) -> str:
    """How libcni >= v1.0 reports a per-plugin ADD error (cni@v1.3.0 libcni/api.go:521)."""
    return f"plugin {plugin_description(plugin)} failed (add): {text}"


def _top_key_pointer(parsed: ParsedFile, name: str) -> str:
    doc = _doc(parsed)
    key = name if _is_list(parsed) else go_key(doc, name, sort_keys=False)
    return "/" + escape_pointer(key) if key is not None and key in doc else ""


def _sub_pointer(base: str, key: str) -> str:
    return f"{base}/{escape_pointer(key)}"


def _type_pointer(plugin: PluginConf) -> str:
    key = go_key(plugin.raw, "type")
    return _sub_pointer(plugin.pointer, key) if key else plugin.pointer


def _first_plugin(parsed: ParsedFile) -> Optional[PluginConf]:
    assert parsed.network is not None
    return parsed.network.plugins[0] if parsed.network.plugins else None


def _add_error_first(parsed: ParsedFile, text: str) -> str:
    first = _first_plugin(parsed)
    return add_error(first, text) if first is not None else text


def _supported(plugin_type: Optional[str]) -> Tuple[str, ...]:
    minimum = PLUGIN_MIN_VERSION.get(plugin_type or "")
    if minimum is None:
        return versions.SPEC_VERSIONS
    return tuple(v for v in versions.SPEC_VERSIONS if versions.at_least(v, minimum))


# ---------------------------------------------------------------------------------------------


def check(parsed: ParsedFile) -> Tuple[Finding, ...]:
    """Static semantic findings for one file libcni can load, and the list-key findings for a
    list that fails only at `plugins` or a plugin: libcni reads those keys first, so their
    refusal is what it reports (config/parse.AFTER_LIST_KEYS)."""
    if parsed.candidate.problem is not None:
        return ()
    if parsed.network is None:
        return tuple(_list_key_refusals(parsed)) if fails_after_list_keys(parsed.load_error) else ()
    findings: List[Finding] = []
    with SharedLookups():  # the checks only read the file's objects
        for check_one in _CHECKS:
            findings.extend(check_one(parsed))
    return tuple(findings)


def _check_version(parsed: ParsedFile) -> Iterator[Finding]:
    declared = declared_version(parsed)
    if not declared:
        yield _missing_version(parsed, declared)
        return
    # the pointer and the predicted error only for a finding: nearly every file has none
    try:
        versions.parse_version(declared)
    except versions.VersionError as exc:
        yield UNPARSEABLE_CNI_VERSION.at(
            parsed.path,
            _top_key_pointer(parsed, "cniVersion"),
            f"cniVersion {declared!r} is not a version libcni can parse: plugins reject it on ADD "
            f"and libcni fails DEL/CHECK with '{exc}'",
            predicts=_incompatible(parsed, declared),
        )
        return
    if not versions.is_spec_version(declared):
        yield UNKNOWN_SPEC_VERSION.at(
            parsed.path,
            _top_key_pointer(parsed, "cniVersion"),
            f"cniVersion {declared!r} is not a spec version{_version_hint(declared)}",
            predicts=_incompatible(parsed, declared),
        )


def _incompatible(parsed: ParsedFile, declared: str) -> str:
    """What the first plugin answers ADD with a cniVersion it does not know."""
    return _add_error_first(parsed, versions.incompatible_text(declared, versions.SPEC_VERSIONS))


def _version_hint(declared: str) -> str:
    parsed = versions.try_parse(declared)
    same = [v for v in versions.SPEC_VERSIONS if versions.parse_version(v) == parsed]
    if same:
        return f" (plugins compare strings exactly; write {same[0]!r})"
    if declared.startswith("1.") and declared not in versions.SPEC_VERSIONS and parsed and parsed[2] > 0:
        return " (this looks like a containernetworking/plugins release number, not a spec version)"
    return f"; spec versions are {', '.join(versions.SPEC_VERSIONS)}"


def _missing_version(parsed: ParsedFile, declared: Optional[str]) -> Finding:
    state = "absent" if declared is None else "empty"
    picky = _min_version_plugins(parsed)
    predicts = 'invalid version "": the version is empty'
    extra = ""
    if picky:
        plugin = picky[0]
        predicts = add_error(plugin, versions.incompatible_text("0.1.0", _supported(plugin.type)))
        extra = f"; {plugin.type} (needs >= {PLUGIN_MIN_VERSION[plugin.type or '']}) refuses the 0.1.0 it is told on every runtime"
    message = (
        f'cniVersion is {state}: ADD works but pod teardown fails with \'invalid version "": the version '
        "is empty' on libcni 0.7.0-1.0.1 (containerd 1.3-1.6.3, CRI-O 1.17-1.23.3, dockershim 1.16-1.23), "
        f"and dockershim 1.16-1.18 rejects the config ('plugin {_first_type(parsed)} does not support "
        f'config version ""\'){extra}'
    )
    return MISSING_CNI_VERSION.at(parsed.path, _top_key_pointer(parsed, "cniVersion"), message, predicts=predicts)


def _first_type(parsed: ParsedFile) -> str:
    first = _first_plugin(parsed)
    return (first.type or "") if first is not None else ""


def _min_version_plugins(parsed: ParsedFile) -> List[PluginConf]:
    assert parsed.network is not None
    return [p for p in parsed.network.plugins if (p.type or "") in PLUGIN_MIN_VERSION]


def _check_name(parsed: ParsedFile) -> Iterator[Finding]:
    assert parsed.network is not None
    name = parsed.network.name
    pointer = _top_key_pointer(parsed, "name")
    if not name:
        state = "absent" if not pointer else "empty"
        yield MISSING_NETWORK_NAME.at(
            parsed.path,
            pointer,
            f"the network name is {state}: containerd and dockershim fail every ADD ('missing network "
            "name:'); CRI-O names the network after the file instead",
            predicts=_add_error_first(parsed, "missing network name:"),
        )
    elif not NAME_PATTERN.match(name):
        yield INVALID_NETWORK_NAME.at(
            parsed.path,
            pointer,
            f"network name {name!r} does not match ^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$; libcni >= 0.8.0 rejects every ADD",
            predicts=_add_error_first(parsed, f"invalid characters found in network name; {name}"),
        )


_NEWER_KEYS: Tuple[Tuple[str, str, str], ...] = (
    ("disableCheck", "0.4.0", "CHECK only runs for lists >= 0.4.0, so it has no effect"),
    ("disableGC", "1.1.0", "GC only runs for lists >= 1.1.0, so it has no effect"),
    ("loadOnlyInlinedPlugins", "1.1.0", "libcni 1.3.0 honours it anyway, older libcni ignore it"),
)


def _check_newer_keys(parsed: ParsedFile) -> Iterator[Finding]:
    declared = declared_version(parsed)
    if not _is_list(parsed) or not declared or versions.try_parse(declared) is None:
        return
    doc = _doc(parsed)
    for key, since, effect in _NEWER_KEYS:
        if key in doc and not versions.at_least(declared, since):
            refused = _readbool_refusal(parsed.path, key, doc[key])
            if refused is not None:
                yield refused
                continue
            yield NEWER_SPEC_KEY.at(
                parsed.path,
                "/" + key,
                f"{key} is defined from spec {since} but the list declares {declared}: {effect}",
            )


def _list_key_refusals(parsed: ParsedFile) -> Iterator[Finding]:
    """The list flags libcni refuses in a list that fails later, at `plugins` or a plugin: every
    release reads them first, so their refusal is the load error where they apply
    (containernetworking/cni:libcni/conf.go@v1.1.2, @v1.2.3 (ConfListFromBytes), @v1.3.0
    (NetworkConfFromBytes)). Same codes as for a list that loads: CNI309, CNI306 for a key newer
    than the declared version, else CNI201 (config/validate.readbool_finding)."""
    yield from _check_disable_check(parsed)
    doc = _doc(parsed)
    declared = doc.get("cniVersion")
    known = isinstance(declared, str) and versions.try_parse(declared) is not None
    for key, since, _ in _NEWER_KEYS:
        value = doc.get(key)
        if key not in READBOOL_SINCE or key not in doc or isinstance(value, bool):
            continue
        if known and versions.at_least(str(declared), since):
            if not (isinstance(value, str) and value.lower() in ("true", "false")):
                text = f"the list: expected boolean, got {json_kind(value)}"
                yield readbool_finding(parsed.path, "/" + key, key, value, text)
            continue
        refused = _readbool_refusal(parsed.path, key, value)
        if refused is not None:
            yield refused


# List flags libcni reads with readBool whatever the declared version, and from which release
# (containernetworking/cni:libcni/conf.go@v1.2.3 and @v1.3.0 (NetworkConfFromBytes readBool)):
# a value other than a bool or "true"/"false" in any case refuses the whole list there.
READBOOL_SINCE: Mapping[str, str] = {
    "disableGC": "libcni >= 1.2.1 (containerd >= 2.0, CRI-O >= 1.31)",
    "loadOnlyInlinedPlugins": "libcni >= 1.3.0 (containerd >= 2.1, CRI-O >= 1.33)",
}


def _readbool_refusal(path: str, key: str, value: Any) -> Optional[Finding]:
    """CNI306 as an error when readBool refuses the value (rules/scope.py weighs it by key)."""
    since = READBOOL_SINCE.get(key)
    if since is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return None
        error = f"invalid value {go_quote(value.lower())} for {key}"
    else:
        error = f"invalid type {go_type(value)} for {key}"
    return NEWER_SPEC_KEY.at(
        path,
        "/" + key,
        f'{key} is {json.dumps(value)}, neither a boolean nor "true"/"false": {since} refuses to load '
        f"the list ({error}); older libcni ignore the key",
        predicts=f"error parsing configuration list: {error}",
        severity=Severity.ERROR,
        fix=f'Write "{key}": true or false (a JSON boolean).',
    )


_RESERVED = ("args", "runtimeConfig", "prevResult")
_RESERVED_LOWER = frozenset(r.lower() for r in _RESERVED)


def _check_reserved(parsed: ParsedFile) -> Iterator[Finding]:
    declared = declared_version(parsed)
    if not declared or not versions.at_least(declared, "1.0.0"):
        return
    assert parsed.network is not None
    for plugin in parsed.network.plugins:
        for key in plugin.raw:
            if not isinstance(key, str):
                continue
            if key.lower() in _RESERVED_LOWER or key.startswith("cni.dev/"):
                yield RESERVED_KEY.at(
                    parsed.path,
                    _sub_pointer(plugin.pointer, key),
                    f"{key!r} is reserved for the runtime in spec >= 1.0.0 (this config declares {declared}); "
                    "a static value is overwritten or reaches the plugin unchanged",
                    plugin=plugin.type,
                )


def _check_cni_versions(parsed: ParsedFile) -> Iterator[Finding]:
    doc = _doc(parsed)
    if not _is_list(parsed) or "cniVersions" not in doc:
        return
    raw = doc["cniVersions"]
    problem = _cni_versions_problem(raw)
    if problem is not None:
        pointer, predicts = problem
        yield replace(
            CNI_VERSIONS_SELECTION.at(
                parsed.path,
                pointer,
                f"malformed cniVersions: libcni >= 1.2.2 refuses to load the list ({predicts})",
                predicts=predicts,
            ),
            severity=Severity.ERROR,
        )
        return
    declared = declared_version(parsed) or ""
    new = new_libcni_version(raw, declared)
    if new == declared:
        return
    finding = CNI_VERSIONS_SELECTION.at(
        parsed.path,
        "/cniVersions",
        f"libcni >= 1.2 (containerd >= 2.0, CRI-O >= 1.31) runs this list at {new!r}; older libcni "
        f"ignore cniVersions and use {declared!r}",
    )
    if not versions.is_spec_version(new):
        finding = replace(
            finding,
            severity=Severity.ERROR,
            message=finding.message + f"; {new!r} is not a spec version, plugins reject it",
            predicts=_add_error_first(parsed, versions.incompatible_text(new, versions.SPEC_VERSIONS)),
        )
    yield finding


def _cni_versions_problem(raw: Any) -> Optional[Tuple[str, str]]:
    """(pointer, libcni load error) for a malformed cniVersions (cni@v1.3.0 libcni/conf.go:119-135)."""
    prefix = "error parsing configuration list: "
    if not isinstance(raw, list):
        # libcni prints %T of the failed assertion's zero value, always "[]interface {}".
        return "/cniVersions", prefix + "invalid type for cniVersions: []interface {}"
    for index, entry in enumerate(raw):
        if not isinstance(entry, str):
            return f"/cniVersions/{index}", prefix + f"invalid type for cniVersions index {index}: {go_type(entry)}"
        try:
            versions.parse_version(entry)
        except versions.VersionError as exc:
            return f"/cniVersions/{index}", prefix + f"invalid cniVersions entry {entry} at index {index}: {exc}"
    return None


def new_libcni_version(entries: Sequence[str], declared: str) -> str:
    """libcni >= v1.2 selection: entries <= Current() plus cniVersion, highest wins."""
    current = versions.parse_version(_CURRENT_LIB)
    pool = [v for v in entries if versions.parse_version(v) <= current]
    if declared and versions.try_parse(declared) is not None and versions.parse_version(declared) <= current:
        pool.append(declared)
    if not pool:
        return declared
    return sorted(pool, key=versions.parse_version)[-1]


def _check_disable_check(parsed: ParsedFile) -> Iterator[Finding]:
    doc = _doc(parsed)
    read_as_list = _is_list(parsed) or (parsed.network is None and parsed.candidate.kind == "conflist")
    if not read_as_list or "disableCheck" not in doc or isinstance(doc["disableCheck"], bool):
        return
    value = doc["disableCheck"]
    texts = disable_check_errors(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        message = (
            f"disableCheck is the string {json.dumps(value)}, not a boolean: libcni <= 1.1.x (containerd <= 1.7, "
            f"CRI-O <= 1.30) cannot load this list ({texts[0]}); libcni >= 1.2 accepts the strings "
            '"true"/"false" in any case'
        )
        predicts = texts[0]
    else:
        message = (
            f'disableCheck is a {go_type(value)} ({json.dumps(value)}), neither a boolean nor "true"/"false": '
            f"every libcni release refuses to load this list: libcni <= 1.1.x (containerd <= 1.7, CRI-O <= 1.30) "
            f"with `{texts[0]}`, libcni 1.2.0 with `{texts[1]}`, libcni >= 1.2.1 (containerd >= 2.0, "
            f"CRI-O >= 1.31) with `{texts[2]}`"
        )
        predicts = texts[2]  # what the runtimes of the default scope (libcni >= 1.2.1) print
    yield DISABLE_CHECK_STRING.at(parsed.path, "/disableCheck", message, predicts=f"{_LIST_PREFIX}{predicts}")


_LIST_PREFIX = "error parsing configuration list: "


def disable_check_errors(value: Any) -> Tuple[str, str, str]:
    """libcni's refusal of a non-boolean disableCheck for <= v1.1.x, v1.2.0 and >= v1.2.1 ("" where
    that generation loads it): a type assertion to bool (containernetworking/cni:libcni/conf.go@v1.1.2
    (ConfListFromBytes)); v1.2.0 adds case-insensitive "true"/"false" (@v1.2.0); v1.2.1+ readBool,
    which lower-cases the value it quotes (@v1.2.3 (ConfListFromBytes), @v1.3.0 (NetworkConfFromBytes))."""
    kind = go_type(value)
    old = f"invalid disableCheck type {kind}"
    if not isinstance(value, str):
        return old, old, f"invalid type {kind} for disableCheck"
    if value.lower() in ("true", "false"):
        return old, "", ""
    return (
        old,
        f"invalid disableCheck value {go_quote(value)}",
        f"invalid value {go_quote(value.lower())} for disableCheck",
    )


def _check_plugin_level_version(parsed: ParsedFile) -> Iterator[Finding]:
    if not _is_list(parsed):
        return
    assert parsed.network is not None
    list_values = {"cniVersion": declared_version(parsed) or "", "name": parsed.network.name or ""}
    for plugin in parsed.network.plugins:
        for field_name, list_value in list_values.items():
            key = go_key(plugin.raw, field_name)
            if key is None or plugin.raw[key] == list_value:
                continue
            note = " (it only shows up in libcni's error messages as name=...)" if field_name == "name" else ""
            yield PLUGIN_LEVEL_VERSION.at(
                parsed.path,
                _sub_pointer(plugin.pointer, key),
                f"plugin {plugin.type!r} sets {field_name} {plugin.raw[key]!r} but libcni passes it the list's "
                f"{list_value!r}{note}",
                plugin=plugin.type,
            )


def _check_plugin_types(parsed: ParsedFile) -> Iterator[Finding]:
    assert parsed.network is not None
    for plugin in parsed.network.plugins:
        if plugin.type and _has_separator(plugin.type):
            yield _bad_type(parsed, plugin, plugin.type, _type_pointer(plugin), "type")
        ipam_type = ipam_type_of(plugin)
        if ipam_type and _has_separator(ipam_type):
            ipam_key = go_key(plugin.raw, "ipam") or "ipam"
            ipam = plugin.raw.get(ipam_key)
            type_key = go_key(ipam, "type") if isinstance(ipam, dict) else None
            pointer = _sub_pointer(_sub_pointer(plugin.pointer, ipam_key), type_key or "type")
            yield _bad_type(parsed, plugin, ipam_type, pointer, "ipam.type")


def _has_separator(name: str) -> bool:
    return "/" in name or "\\" in name


def _bad_type(parsed: ParsedFile, plugin: PluginConf, value: str, pointer: str, what: str) -> Finding:
    if "/" in value:
        effect = (
            "libcni >= 0.8.1 refuses it ('invalid plugin name'); older runtimes executed that path (CVE-2021-20206)"
        )
        predicts: Optional[str] = add_error(plugin, f"invalid plugin name: {value}")
    else:
        effect = "no binary of that name exists on Linux and spec 1.0.0 forbids '\\' in types"
        predicts = None
    return INVALID_PLUGIN_TYPE.at(
        parsed.path,
        pointer,
        f"{what} {value!r} contains a path separator: {effect}",
        plugin=plugin.type,
        predicts=predicts,
    )


def _check_meta_first(parsed: ParsedFile) -> Iterator[Finding]:
    first = _first_plugin(parsed)
    if first is None or (first.type or "") not in META_PLUGIN_ERRORS:
        return
    assert parsed.network is not None
    where = (
        "used alone in a single-plugin config"
        if parsed.network.from_single_conf or len(parsed.network.plugins) == 1
        else "the first plugin of the list"
    )
    yield META_PLUGIN_FIRST.at(
        parsed.path,
        _type_pointer(first),
        f"{first.type} only works chained after an interface plugin but is {where}: it gets no prevResult",
        plugin=first.type,
        predicts=add_error(first, META_PLUGIN_ERRORS[first.type or ""]),
    )


def _check_chaining_version(parsed: ParsedFile) -> Iterator[Finding]:
    declared = declared_version(parsed)
    assert parsed.network is not None
    if not _is_list(parsed) or len(parsed.network.plugins) < 2 or not declared:
        return
    if versions.try_parse(declared) is None or versions.at_least(declared, "0.3.0"):
        return
    yield CHAINING_BEFORE_030.at(
        parsed.path,
        "/cniVersion",
        f"the list chains {len(parsed.network.plugins)} plugins but declares {declared}; lists and prevResult "
        "chaining exist from spec 0.3.0",
    )


def _check_capabilities(parsed: ParsedFile) -> Iterator[Finding]:
    assert parsed.network is not None
    for plugin in parsed.network.plugins:
        caps_key = go_key(plugin.raw, "capabilities")
        caps_pointer = _sub_pointer(plugin.pointer, caps_key) if caps_key else plugin.pointer
        needed = {"portmap": "portMappings", "bandwidth": "bandwidth"}.get(plugin.type or "")
        caps = capabilities_of(plugin)
        if needed and caps.get(needed) is not True:
            what = "hostPort mappings" if needed == "portMappings" else "per-pod bandwidth annotations"
            if needed == "bandwidth" and any(go_key(plugin.raw, k) for k in ("ingressRate", "egressRate")):
                what += " (the static rates in this config still apply)"
            yield MISSING_CAPABILITY.at(
                parsed.path,
                caps_pointer,
                f'{plugin.type} lacks "capabilities": {{"{needed}": true}}: the runtime never passes it '
                f"{what}, which are silently ignored",
                plugin=plugin.type,
            )
        for cap in caps:
            if cap not in KNOWN_CAPABILITIES:
                yield UNKNOWN_CAPABILITY.at(
                    parsed.path,
                    _sub_pointer(caps_pointer, cap),
                    f"capability {cap!r} of plugin {plugin.type!r} is supplied by no runtime; it has no effect",
                    plugin=plugin.type,
                )


def _versions_in_use(parsed: ParsedFile) -> List[str]:
    """The version(s) plugins are told: declared ("" -> 0.1.0) and libcni >= 1.2's cniVersions pick."""
    declared = declared_version(parsed) or ""
    out = [versions.effective_version(declared)]
    raw = _doc(parsed).get("cniVersions") if _is_list(parsed) else None
    if isinstance(raw, list) and _cni_versions_problem(raw) is None:
        picked = versions.effective_version(new_libcni_version(raw, declared))
        if picked not in out:
            out.append(picked)
    return out


def _check_min_versions(parsed: ParsedFile) -> Iterator[Finding]:
    declared = declared_version(parsed)
    if not declared:
        return  # reported by CNI301 with the plugin's text
    for plugin in _min_version_plugins(parsed):
        supported = _supported(plugin.type)
        for used in _versions_in_use(parsed):
            if not versions.is_spec_version(used) or used in supported:
                continue
            yield PLUGIN_MIN_VERSION_RULE.at(
                parsed.path,
                _type_pointer(plugin),
                f"{plugin.type} supports only {', '.join(supported)} but is run at {used!r}: every ADD fails",
                plugin=plugin.type,
                predicts=add_error(plugin, versions.incompatible_text(used, supported)),
            )


def _check_host_local(parsed: ParsedFile) -> Iterator[Finding]:
    declared = declared_version(parsed) or ""
    if versions.at_least(declared, "0.3.0") or (declared and versions.try_parse(declared) is None):
        return
    assert parsed.network is not None
    for plugin in parsed.network.plugins:
        if ipam_type_of(plugin) != "host-local":
            continue
        ipam_key = go_key(plugin.raw, "ipam") or "ipam"
        ipam = plugin.raw.get(ipam_key)
        if not isinstance(ipam, dict):
            continue
        v4, v6 = _count_range_sets(ipam)
        if v4 > 1 or v6 > 1:
            ranges_key = go_key(ipam, "ranges") or "ranges"
            yield HOST_LOCAL_RANGES_OLD.at(
                parsed.path,
                _sub_pointer(_sub_pointer(plugin.pointer, ipam_key), ranges_key),
                f"host-local has {v4} IPv4 and {v6} IPv6 range sets but the config version is "
                f"{declared or '(none)'!r}: 0.1.0/0.2.0 results hold one address per family",
                plugin=plugin.type,
                predicts=add_error(plugin, f"CNI version {declared} does not support more than 1 address per family"),
            )


def _count_range_sets(ipam: Mapping[str, Any]) -> Tuple[int, int]:
    """Range sets per family as host-local counts them (legacy subnet + each ranges[i])."""
    families: List[bool] = []  # True = IPv6
    subnet_key = go_key(ipam, "subnet")
    if subnet_key and isinstance(ipam[subnet_key], str) and ipam[subnet_key]:
        families.append(":" in ipam[subnet_key])
    ranges_key = go_key(ipam, "ranges")
    ranges = ipam.get(ranges_key) if ranges_key else None
    if isinstance(ranges, list):
        for range_set in ranges:
            if isinstance(range_set, list) and range_set and isinstance(range_set[0], dict):
                sub_key = go_key(range_set[0], "subnet")
                subnet = range_set[0].get(sub_key) if sub_key else None
                if isinstance(subnet, str):
                    families.append(":" in subnet)
    return families.count(False), families.count(True)


def no_ip_result(parsed: ParsedFile) -> Tuple[Finding, ...]:
    """CNI318 for a file that is (or may be) the default network; called by rules.discovery."""
    if parsed.network is None or parsed.candidate.problem is not None:
        return ()
    declared = declared_version(parsed) or ""
    if declared not in ("", "0.1.0", "0.2.0"):
        return ()
    first = _first_plugin(parsed)
    if first is None or (first.type or "") not in _NO_IP_PLUGINS:
        return ()
    if first.type == "host-device" and ipam_type_of(first):
        return ()
    shown = declared or "(none)"
    return (
        NO_IP_RESULT_OLD.at(
            parsed.path,
            _top_key_pointer(parsed, "cniVersion") or first.pointer,
            f"the default network's first plugin {first.type} returns no IP address and the config version is "
            f"{shown}: converting its result fails ('cannot convert: no valid IP addresses')",
            plugin=first.type,
            predicts="cannot convert: no valid IP addresses",
        ),
    )


def _check_hybrid(parsed: ParsedFile) -> Iterator[Finding]:
    doc = _doc(parsed)
    if _is_list(parsed) and "type" in doc and "plugins" in doc:
        yield HYBRID_LIST.at(
            parsed.path,
            "/type",
            f'top-level "type": {doc["type"]!r} is ignored: a .conflist runs only its plugins list',
        )
    elif not _is_list(parsed) and go_key(doc, "plugins", sort_keys=False) is not None:
        key = go_key(doc, "plugins", sort_keys=False) or "plugins"
        yield HYBRID_LIST.at(
            parsed.path,
            "/" + escape_pointer(key),
            f'the "plugins" list is ignored: a single-plugin file runs only its top-level type {_first_type(parsed)!r}',
        )


def _check_delegates(parsed: ParsedFile) -> Iterator[Finding]:
    top = declared_version(parsed) or ""
    assert parsed.network is not None
    for plugin in parsed.network.plugins:
        for pointer, delegate in _delegates(plugin):
            version = delegate.get("cniVersion")
            if not isinstance(version, str) or version == top:
                continue
            yield _delegate_finding(parsed, plugin, pointer + "/cniVersion", version, top)


def _delegates(plugin: PluginConf) -> Iterator[Tuple[str, Dict[str, Any]]]:
    key = go_key(plugin.raw, "delegates")
    items = plugin.raw.get(key) if key else None
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                yield f"{_sub_pointer(plugin.pointer, key or 'delegates')}/{index}", item
    key = go_key(plugin.raw, "delegate")
    item = plugin.raw.get(key) if key else None
    if isinstance(item, dict):
        yield _sub_pointer(plugin.pointer, key or "delegate"), item


def _delegate_finding(parsed: ParsedFile, plugin: PluginConf, pointer: str, version: str, top: str) -> Finding:
    finding = DELEGATE_VERSION_MISMATCH.at(
        parsed.path,
        pointer,
        f"{plugin.type} delegate declares cniVersion {version!r} but the top level declares {top or '(none)'!r}",
        plugin=plugin.type,
    )
    if (
        versions.at_least(top, "0.4.0")
        and versions.try_parse(version) is not None
        and not versions.at_least(version, "0.4.0")
    ):
        finding = replace(
            finding,
            severity=Severity.ERROR,
            message=finding.message + ": CRI-O's CHECK reaches a delegate that cannot do CHECK and multus >= 4 "
            "refuses the delegate",
            predicts=f"delegate cni version is {version} while top level cni version is {top}",
        )
    return finding


def _check_single_conf(parsed: ParsedFile) -> Iterator[Finding]:
    """CNI321: a 1.x version in the single-plugin format the 1.0.0 spec removed."""
    network = parsed.network
    declared = declared_version(parsed)
    if network is None or not network.from_single_conf or not declared:
        return
    if versions.at_least(declared, "1.0.0"):
        yield SINGLE_CONF_DEPRECATED.at(
            parsed.path,
            _top_key_pointer(parsed, "cniVersion"),
            f"{parsed.path} is a single-plugin config declaring cniVersion {declared!r}; spec 1.0.0 removed "
            "this format and the runtimes only up-convert it for compatibility: make it a .conflist",
        )


_CHECKS = (
    _check_version,
    _check_name,
    _check_newer_keys,
    _check_reserved,
    _check_cni_versions,
    _check_disable_check,
    _check_plugin_level_version,
    _check_plugin_types,
    _check_meta_first,
    _check_chaining_version,
    _check_capabilities,
    _check_min_versions,
    _check_host_local,
    _check_hybrid,
    _check_delegates,
    _check_single_conf,
)
