"""CNI51x-59x: version cross-checks between configs, plugin binaries and the runtime's libcni.

Emitted by crosscheck/facts.py (probing, and check_static for the runtime-library checks). Each
finding names the affected runtime releases as compact ranges (runtime.matrix.compact_ranges),
from the support matrix in runtime/matrix.py (the go.mod of each runtime and plugins release).

CNI514 (runtime-empty-version-teardown) is reserved and not emitted: a missing or empty
cniVersion is already CNI301 (rules/semantics.py); the prediction carries the DEL text
(`invalid version "": the version is empty`) for the modelled runtime.
"""

from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

VERSION_SOURCES = (
    "containernetworking/cni:pkg/version/reconcile.go@v1.3.0 (where version errors come from); "
    "go.mod of containernetworking/plugins, containerd/containerd and cri-o/cri-o at each release tag (support matrices)"
)

PLUGIN_REJECTS_CONFIG_VERSION = Rule(
    code="CNI511",
    name="plugin-rejects-config-version",
    severity=Severity.ERROR,
    summary="An executed plugin (main, IPAM or delegate) does not support the list's cniVersion",
    meaning=(
        "libcni injects the list's cniVersion (after `cniVersions` selection on libcni >= 1.2; an "
        'absent or empty version reaches plugins as "0.1.0") into every plugin object, and IPAM '
        "plugins and delegates receive the same config. A skel-based plugin compares it as an exact "
        "string with its VERSION `supportedVersions` and refuses with code 1, so every pod ADD fails. "
        "An IPAM plugin's refusal is reported through the main plugin that ran it (measured, "
        "containernetworking/cni:pkg/invoke/delegate.go@v1.3.0; containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList)). CRI-O and kubelet dockershim (>= 1.16) probe the top-level plugins at "
        "load and skip the whole file instead (`plugin X does not support config version`). "
        "Irregular lists exist: plugins v1.0.0 firewall/vrf lack 1.0.0 and bandwidth lacks 0.4.0; "
        "bandwidth needs >= 0.3.0, vrf >= 0.3.1, firewall >= 0.4.0 (containernetworking/plugins:go.mod at each release tag; containernetworking/plugins:plugins/meta/{bandwidth,firewall,vrf}@v1.9.1 (supported versions))."
    ),
    example='{"cniVersion": "0.3.1", "name": "k8s", "plugins": [{"type": "bridge"}, {"type": "firewall"}]}',
    correct_example='{"cniVersion": "0.4.0", "name": "k8s", "plugins": [{"type": "bridge"}, {"type": "firewall"}]}',
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix=(
        "Set cniVersion to a version every executed plugin lists (probe with "
        "`echo '{}' | CNI_COMMAND=VERSION /opt/cni/bin/<type>`), or upgrade the plugins."
    ),
    runtime_errors=(
        'incompatible CNI versions; config is "X", plugin supports [...]',
        'plugin type="X" failed (add): incompatible CNI versions; config is "V", plugin supports [...]',
        'plugin X does not support config version "V"',
    ),
    references=(
        "cni@v1.3.0 pkg/skel/skel.go:190-198 (checkVersionAndCall)",
        "cni@v0.8.1 libcni/api.go:629-649 (validatePlugin)",
        VERSION_SOURCES,
        "containernetworking/cni:pkg/invoke/delegate.go@v1.3.0; containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList) (IPAM skew blamed on the main plugin)",
    ),
)

CHAIN_RESULT_VERSION_MISMATCH = Rule(
    code="CNI512",
    name="chain-result-version-mismatch",
    severity=Severity.WARNING,
    summary="A chained plugin hands the next one a result in another version than the list's",
    meaning=(
        "libcni >= 1.0 passes each plugin's result to the next as prevResult in the version the "
        "plugin printed (0.x libraries re-typed it by the list version). A plugin that answers in a "
        "different version than the list asks for makes the next plugin's `ParsePrevResult` fail "
        "(measured, containernetworking/cni:pkg/version/version.go@v1.3.0 (ParsePrevResult)). Only plugins that do not negotiate versions (a legacy VERSION "
        'reply: `{"cniVersion":"0.2.0"}` or `unknown CNI_COMMAND: VERSION`) reveal this from their '
        "reply; a skel-based plugin prints the config's version. When the previous plugin's result "
        "version cannot be known without running it, the finding is informational."
    ),
    example=(
        '{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "legacy-vendor-cni"}, '
        '{"type": "portmap", "capabilities": {"portMappings": true}}]}'
    ),
    correct_example='{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "vendor-cni-2.x"}, {"type": "portmap", "capabilities": {"portMappings": true}}]}   (vendor plugin that answers in the list version)',
    when_to_ignore="When the runtime's libcni is 0.x, which re-types results by the list version.",
    fix="Upgrade the plugin that answers in the old version, or put the list at the version it prints.",
    runtime_errors=(
        'could not parse prevResult: result type supports [1.0.0] but unmarshalled CNIVersion is "0.3.1"',
        "could not parse prevResult: ...",
    ),
    references=(
        "cni@v1.3.0 pkg/version/version.go:66-90 (ParsePrevResult)",
        "containernetworking/cni:pkg/invoke/exec.go@v1.1.2 (fixupResultVersion); containernetworking/cni#895; containernetworking/cni:libcni/api.go@v1.3.0 (buildOneConfig, injectRuntimeConfig); containernetworking/cni:CONVENTIONS.md@v1.3.0; containernetworking/cni:pkg/version/version.go@v1.3.0 (ParsePrevResult)",
    ),
)

RUNTIME_RESULT_VERSION_UNSUPPORTED = Rule(
    code="CNI513",
    name="runtime-result-version-unsupported",
    severity=Severity.ERROR,
    summary="The runtime's libcni cannot parse results of the list's cniVersion",
    meaning=(
        "A runtime can only type results of the versions its vendored libcni registers: up to 0.4.0 "
        "for libcni 0.7-0.8 (containerd <= 1.5, CRI-O <= 1.22), up to 1.0.0 for libcni 1.0-1.1 "
        "(containerd 1.6/1.7, CRI-O 1.23-1.30). A newer cniVersion makes ADD fail with `unsupported "
        "CNI result version` after the first plugin already did its work (IPs and interfaces leak), "
        "although VERSION probes and ValidateNetworkList say ok (measured, containernetworking/cni:pkg/types/internal/create.go@v1.3.0; kubernetes/kubernetes#104861). libcni "
        "< 1.2 ignores `cniVersions`, so only `cniVersion` counts there."
    ),
    example='{"cniVersion": "1.1.0", "name": "k8s", "plugins": [{"type": "bridge"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "bridge"}]}   (or a runtime with libcni >= v1.2.0)',
    when_to_ignore="When no node running this config uses the affected runtime releases (pass --runtime to model the right one).",
    fix=(
        "Lower cniVersion to the newest version the oldest runtime in the fleet supports (1.0.0 for "
        "containerd 1.6/1.7), or list several in `cniVersions` with a compatible `cniVersion`, or "
        "upgrade the runtime."
    ),
    runtime_errors=('unsupported CNI result version "X"',),
    references=(
        "cni@v0.8.1 pkg/version/version.go:61; cni@v1.3.0 pkg/types/internal/create.go:50",
        "containernetworking/cni:pkg/invoke/exec.go@v1.1.2 (fixupResultVersion); containernetworking/cni#895; go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag; containernetworking/cni:pkg/version/version.go at each release tag; containernetworking/plugins:go.mod at each release tag; containernetworking/cni:pkg/types/internal/create.go@v1.3.0; kubernetes/kubernetes#104861",
        "https://github.com/kubernetes/kubernetes/issues/104861",
    ),
)

STATUS_GC_OLD_PLUGIN = Rule(
    code="CNI515",
    name="status-gc-old-plugin",
    severity=Severity.ERROR,
    summary="A 1.1.0 list makes the runtime send STATUS/GC to a plugin whose skel predates them",
    meaning=(
        "libcni >= 1.2 sends CNI STATUS (and GC) to every plugin of a list whose cniVersion is >= "
        "1.1.0; containerd >= 2.0.1 turns a STATUS error into NetworkReady=false for the whole node "
        "and CRI-O >= 1.32 runs STATUS and GC as well. A plugin built on skel 0.8-1.1 (VERSION "
        "reply 0.4.0/1.0.0) answers `missing containerID`, older skel `unknown CNI_COMMAND: STATUS`."
    ),
    example='{"cniVersion": "1.1.0", "name": "k8s", "plugins": [{"type": "bridge"}]}   # bridge from plugins v1.1.1',
    correct_example='{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "bridge"}]}   (or bridge from plugins >= v1.6.0)',
    when_to_ignore="When the runtime does not send STATUS/GC (containerd < 2.0.1, CRI-O < 1.32).",
    fix="Upgrade the plugins to a release whose VERSION reply is 1.1.0 (plugins >= v1.6.0), or keep cniVersion at 1.0.0.",
    runtime_errors=("missing containerID", "unknown CNI_COMMAND: STATUS"),
    references=(
        "cni@v1.2.3 libcni/api.go:850-885 (GetStatusNetworkList)",
        "cni@v1.1.2 pkg/skel/skel.go:204-214",
        "containernetworking/cni:pkg/skel/skel.go@v1.1.2; containernetworking/cni:pkg/skel/skel.go@v1.3.0; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9; cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks); containerd/go-cni:cni.go@v1.1.11 (Status)",
    ),
)

RUNTIME_LOOPBACK_SKEW = Rule(
    code="CNI516",
    name="runtime-loopback-skew",
    severity=Severity.ERROR,
    summary="The runtime's built-in loopback network uses a version the loopback binary lacks",
    meaning=(
        "containerd, CRI-O and dockershim run the `loopback` plugin from the bin dir for their "
        "built-in `cni-loopback` network before the pod network. containerd 1.6.3 (go-cni v1.1.4) "
        "declares it as cniVersion 1.0.0; a loopback binary from plugins < v1.0.0 refuses, so every "
        "pod sandbox fails, whatever the configs in net.d say."
    ),
    example="containerd 1.6.3 with /opt/cni/bin/loopback from plugins v0.9.1 (supports up to 0.4.0)",
    correct_example="containerd 1.6.4+ (or /opt/cni/bin/loopback from plugins >= v1.0.0)",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Upgrade the CNI plugins to >= v1.0.0, or containerd to >= 1.6.4 (loopback back at 0.3.1).",
    runtime_errors=(
        'plugin type="loopback" failed (add): incompatible CNI versions; config is "1.0.0", plugin supports [...]',
    ),
    references=(
        "go-cni v1.1.4 -> v1.1.5 diff (loopback conf)",
        "containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9; containerd/go-cni v1.1.4 -> v1.1.5 (loopback conf)",
    ),
)

UNKNOWN_RUNTIME = Rule(
    code="CNI519",
    name="unknown-runtime",
    severity=Severity.ERROR,
    summary="A --runtime value names a runtime or release cnidoctor does not model",
    meaning=(
        "`--runtime NAME@VERSION` selects the runtime releases whose CNI library is modelled "
        "(containerd, crio, dockershim, libcni; the support matrix of go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag). An unknown "
        "name or a release outside the matrix cannot be modelled; the run falls back to checking "
        "every known containerd and CRI-O release."
    ),
    example="cnidoctor check --runtime containrd@1.7",
    correct_example="cnidoctor check --runtime containerd@1.7",
    when_to_ignore="Never: pick a runtime cnidoctor knows, or leave --runtime out.",
    fix="Use e.g. containerd@1.6.3, crio@1.28, dockershim@1.20 or libcni@1.1.2.",
    references=("go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag",),
)

RULES: Tuple[Rule, ...] = (
    PLUGIN_REJECTS_CONFIG_VERSION,
    CHAIN_RESULT_VERSION_MISMATCH,
    RUNTIME_RESULT_VERSION_UNSUPPORTED,
    STATUS_GC_OLD_PLUGIN,
    RUNTIME_LOOPBACK_SKEW,
    UNKNOWN_RUNTIME,
)
