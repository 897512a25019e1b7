"""CNI51x-59x: version cross-checks between configs, plugin binaries and the runtime's libcni.

Checked by the check_* functions at the end of this module over the node stage's NodeContext
(crosscheck/context.py; without probing only CNI513 can fire). Each finding
names the affected runtime releases as compact ranges (runtime.matrix.compact_ranges), from the
support matrix in runtime/matrix.py (the go.mod of each runtime and plugins release).

CNI514 (runtime-empty-version-teardown) is reserved and not emitted: a missing or empty
cniVersion is already CNI301 (rules/semantics.py); the prediction carries the DEL text
(`invalid version "": the version is empty`) for the modelled runtime.

CNI519 (unknown-runtime) is reserved and not emitted: a --runtime value the support matrix does
not model is a usage error (exit 2, one line on stderr; cli.py checks it with
runtime.matrix.parse_spec before the run), never a finding, as issue 10 asks.
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Set, Tuple

from ..crosscheck.compare import (
    BinaryFacts,
    Executed,
    executed_binaries,
    go_quote,
    list_version,
    plugin_sees,
    prev_result_error,
    prev_result_family,
    rejection,
)
from ..crosscheck.context import LOOPBACK, NodeContext, newest_lib, ranges
from ..crosscheck.predict import known_result_version, loopback_prefix, plugin_prefix, status_error
from ..model import Finding, ParsedFile, PluginConf, Rule, Severity
from ..runtime.matrix import Libcni, Modelled
from ..versions import SPEC_VERSIONS, go_quote_list, try_parse
from .scope import weigh

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
        "libcni >= 1.0 passes each plugin's result to the next as prevResult in the version it typed "
        "the result as (0.x libraries re-typed it by the list version). A plugin built on cni's skel "
        'of 2016 (legacy VERSION reply `{"cniVersion":"0.2.0"}`) prints its ADD result without '
        "cniVersion (containernetworking/cni:pkg/types/types.go@63755d7 (Result)). libcni v1.0.0-v1.1.0 "
        'type such a result as "0.1.0" (containernetworking/cni:pkg/invoke/exec.go@v1.1.0 '
        "(ExecPluginWithResult); containernetworking/cni:pkg/types/create/create.go@v1.1.0 (DecodeVersion)), "
        "so for a list >= 0.3.0 the next plugin's `ParsePrevResult` fails and ADD fails (measured with "
        "libcni 1.1.0 and Debian's portmap 1.1.1; containernetworking/cni:pkg/version/version.go@v1.1.0 "
        "(ParsePrevResult)): containerd 1.6.0-1.6.4 and bare libcni callers; CRI-O skips such a file at "
        "load (CNI511). From v1.1.1 libcni labels a result without cniVersion with the config's version "
        "(fixupResultVersion, containernetworking/cni:pkg/invoke/exec.go@v1.1.1; containernetworking/cni#895) "
        "and ADD succeeds (measured with libcni 1.1.2, 1.2.3 and 1.3.0), but the result's 0.2.0-era "
        "`ip4`/`ip6` are dropped by the newer result type, so containerd fails the pod with "
        '`failed to setup network for sandbox "<id>": failed to find network info for sandbox "<id>"` '
        "(containerd/containerd:pkg/cri/server/sandbox_run.go@v1.7.27 (setupPodNetwork)): the "
        "prediction's ADD step shows it; CNI503 is the finding. A plugin that does not negotiate and whose "
        "result version cannot be known without running it (`unknown CNI_COMMAND: VERSION`) gets an "
        "informational finding."
    ),
    example=(
        '{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "legacy-vendor-cni"}, '
        '{"type": "portmap", "capabilities": {"portMappings": true}}]}   (on containerd 1.6.0-1.6.4)'
    ),
    correct_example='{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "vendor-cni-2.x"}, {"type": "portmap", "capabilities": {"portMappings": true}}]}   (vendor plugin that answers in the list version)',
    when_to_ignore=(
        "When every runtime running this config vendors libcni 0.x (re-types results by the list "
        "version) or >= v1.1.1 (labels a result without cniVersion with the config's version)."
    ),
    fix=(
        "Upgrade the plugin that prints results without cniVersion, or the runtime to one with libcni "
        ">= v1.1.1 (containerd >= 1.6.5)."
    ),
    runtime_errors=(
        'plugin type="portmap" failed (add): failed to parse config: could not parse prevResult: could not '
        'parse prevResult: result type supports [1.0.0] but unmarshalled CNIVersion is "0.1.0"',
        "could not parse prevResult: ...",
    ),
    references=(
        "containernetworking/cni:pkg/version/version.go@v1.1.0 (ParsePrevResult)",
        "containernetworking/cni:pkg/invoke/exec.go@v1.1.0 (ExecPluginWithResult); "
        "containernetworking/cni:pkg/types/create/create.go@v1.1.0 (DecodeVersion); "
        "containernetworking/cni:pkg/types/020/types.go@v1.1.0 (NewResult)",
        "containernetworking/cni:pkg/invoke/exec.go@v1.1.1 (fixupResultVersion, first tag with it); "
        "containernetworking/cni#895",
        "containernetworking/cni:pkg/types/types.go@63755d7 (Result)",
        "containernetworking/plugins:plugins/meta/portmap/main.go@v1.1.1 (cmdAdd, parseConfig)",
        "containernetworking/cni:libcni/api.go@v1.3.0 (buildOneConfig, injectRuntimeConfig); containernetworking/cni:CONVENTIONS.md@v1.3.0",
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

RULES: Tuple[Rule, ...] = (
    PLUGIN_REJECTS_CONFIG_VERSION,
    CHAIN_RESULT_VERSION_MISMATCH,
    RUNTIME_RESULT_VERSION_UNSUPPORTED,
    STATUS_GC_OLD_PLUGIN,
    RUNTIME_LOOPBACK_SKEW,
)


# ---------------------------------------------------------------------------------------------
# The checks: functions of the node stage's NodeContext (crosscheck/context.py), run by the
# crosscheck stage (crosscheck/facts.NODE_CHECKS). Without probing the context has no facts,
# so only CNI513 can fire.


def check_config_version_rejections(ctx: NodeContext) -> Tuple[Finding, ...]:
    """CNI511 per executed binary whose supported versions lack what it will be told: refused on
    ADD by the plugin (skel), and refused at load by validating runtimes (CRI-O, dockershim)."""
    if not any(info.probed and info.probe_ok for info in ctx.facts.values()):
        return ()  # nothing answered VERSION (--no-probe): every binary below would be skipped
    return tuple(f for item in ctx.loadable for f in _rejections(item, ctx.releases, ctx.facts))


RefusalKind = Literal["validate", "add"]


def config_version_rejections(
    item: ParsedFile, releases: Sequence[Modelled], facts: Mapping[str, BinaryFacts]
) -> List[Finding]:
    """CNI511 for one loadable file and the given releases (crosscheck/folderplugins runs it on
    the list libcni v1.3.0 builds with its plugin folder)."""
    return _rejections(item, releases, facts)


def _rejections(item: ParsedFile, releases: Sequence[Modelled], facts: Mapping[str, BinaryFacts]) -> List[Finding]:
    assert item.network is not None
    groups: Dict[Tuple[str, str], List[Tuple[Modelled, RefusalKind]]] = {}
    order: List[Tuple[Executed, str]] = []
    for binary in executed_binaries(item.network):
        info = facts.get(binary.type)
        if info is None or not info.probed or not info.probe_ok:
            continue
        for modelled in releases:
            loaded = list_version(item.network, item.document, modelled.release.libcni)
            if loaded.error:
                continue
            sees = plugin_sees(binary.own_version or "") if binary.has_own_version else plugin_sees(loaded.version)
            kind = _refusal_kind(binary, sees, info, modelled)
            if kind is None:
                continue
            if (binary.pointer, sees) not in groups:
                groups[(binary.pointer, sees)] = []
                order.append((binary, sees))
            groups[(binary.pointer, sees)].append((modelled, kind))
    return [
        _rejection_finding(item, binary, sees, groups[(binary.pointer, sees)], facts[binary.type], facts)
        for binary, sees in order
    ]


def _refusal_kind(binary: Executed, sees: str, info: BinaryFacts, modelled: Modelled) -> Optional[RefusalKind]:
    """ "validate" when the runtime's ValidateNetworkList rejects the file at load (top-level
    plugins only, cni@v1.1.2 libcni/api.go ValidateNetworkList), "add" when the plugin's skel
    refuses the verb, else None."""
    if sees in info.supported:
        return None
    if binary.role == "plugin" and modelled.release.validates_on_load:
        return "validate"
    return "add" if info.negotiates else None


def _plugin_at(item: ParsedFile, index: int) -> PluginConf:
    assert item.network is not None
    return item.network.plugins[index]


def _rejection_finding(
    item: ParsedFile,
    binary: Executed,
    sees: str,
    affected: Sequence[Tuple[Modelled, RefusalKind]],
    info: BinaryFacts,
    facts_of_file: Mapping[str, BinaryFacts],
) -> Finding:
    where = f"{binary.type} ({info.path}) supports {go_quote_list(info.supported)}"
    role = {"plugin": "plugin", "ipam": "IPAM plugin", "delegate": "delegate"}[binary.role]
    implied = " (implied default)" if binary.implied else ""
    via = "" if binary.role == "plugin" else f", run by {_plugin_at(item, binary.index).type}"
    adding = [m for m, kind in affected if kind == "add"]
    validating = [m for m, kind in affected if kind == "validate"]
    parts = []
    if adding:
        parts.append(f"every pod ADD fails on {ranges(adding)}")
    if validating:
        parts.append(f"{ranges(validating)} skip this file at load")
    message = f"{role} {where}{implied}{via}, not cniVersion {go_quote(sees)}: " + "; ".join(parts)
    if adding and any(not m.release.libcni.wraps_plugin_errors for m in adding):
        message += " (libcni < 1.0 prints the error without the `plugin type=... failed (add): ` prefix)"
    if adding:
        lib = newest_lib(adding)
        text = plugin_prefix(_plugin_at(item, binary.index), "add", lib) + (rejection(info, sees) or "")
    else:
        text = f"plugin {binary.type} does not support config version {go_quote(sees)}"
    fix = _version_fix(item, facts_of_file, info, sees, [m.release.libcni for m, _ in affected])
    return PLUGIN_REJECTS_CONFIG_VERSION.at(
        item.path, binary.pointer, message, plugin=binary.type, predicts=text, fix=fix
    )


def _common_version(item: ParsedFile, facts: Mapping[str, BinaryFacts], libs: Sequence[Libcni]) -> Optional[str]:
    """The newest spec version that every probed executed binary lists and every affected
    runtime's libcni can type as a result (anything newer is `unsupported CNI result version`,
    containernetworking/cni:pkg/types/internal/create.go@v1.3.0). A legacy replier counts with
    the list libcni decodes for it, ["0.1.0" "0.2.0"] (containernetworking/cni:pkg/version/plugin.go@v1.3.0
    (PluginDecoder)): it is the list validatePlugin checks."""
    assert item.network is not None
    common = set(SPEC_VERSIONS)
    for lib in libs:
        common &= set(lib.result_versions)
    for binary in executed_binaries(item.network):
        info = facts.get(binary.type)
        if info is not None and info.probed and info.probe_ok:
            common &= set(info.supported)
    parsed = [(try_parse(v), v) for v in common]
    ordered = sorted((key, v) for key, v in parsed if key is not None)
    return ordered[-1][1] if ordered else None


def _libs_text(libs: Sequence[Libcni]) -> str:
    """`libcni 1.2.3 and 1.3.0`: the affected runtimes' libraries, oldest first."""
    versions = sorted({lib.version for lib in libs}, key=lambda v: try_parse(v) or (0, 0, 0))
    return "libcni " + " and ".join(versions)


def _version_fix(
    item: ParsedFile, facts: Mapping[str, BinaryFacts], info: BinaryFacts, sees: str, libs: Sequence[Libcni]
) -> str:
    """CNI511's fix: the version computed from the probed binaries and the affected runtimes'
    libcni, and the probe command for the binary's real bin dir."""
    probe = f"`echo '{{}}' | CNI_COMMAND=VERSION {info.path}`"
    version = _common_version(item, facts, libs)
    if version is None:
        return (
            f"No cniVersion is listed by every executed plugin and accepted by {_libs_text(libs)} "
            f"(probe with {probe}): upgrade {info.type} to a release that lists {go_quote(sees)}."
        )
    return (
        f'Set cniVersion to "{version}", the newest version every executed plugin lists and '
        f"{_libs_text(libs)} {'accepts' if len({lib.version for lib in libs}) == 1 else 'accept'} "
        f"(probe with {probe}), or upgrade the plugins."
    )


def check_chain_result_versions(ctx: NodeContext) -> Tuple[Finding, ...]:
    """CNI512: a non-negotiating plugin followed by another plugin, on libcni >= 1.0."""
    return tuple(f for item in ctx.loadable for f in _chain_mismatches(item, ctx.releases, ctx.facts))


def _chain_mismatches(
    item: ParsedFile, releases: Sequence[Modelled], facts: Mapping[str, BinaryFacts]
) -> List[Finding]:
    assert item.network is not None
    new_lib = [m for m in releases if not m.release.libcni.result_typed_by_config]
    plugins = item.network.plugins
    out: List[Finding] = []
    if not new_lib:
        return out
    for before, after in zip(plugins, plugins[1:]):
        prev = facts.get(before.type or "")
        nxt = facts.get(after.type or "")
        if prev is None or not prev.probed or prev.negotiates or not prev.probe_ok:
            continue
        # grouped by what the next plugin receives: the list version and the version libcni types
        # the previous result as (Libcni.labels_unversioned_result)
        affected: Dict[Tuple[str, Optional[str]], List[Modelled]] = {}
        for modelled in new_lib:
            lib = modelled.release.libcni
            loaded = list_version(item.network, item.document, lib)
            sees = plugin_sees(loaded.version)
            # a validating runtime (CRI-O) skips the file at load: CNI511, no ADD is sent
            refused = modelled.release.validates_on_load and sees not in prev.supported
            if not loaded.error and not refused:
                affected.setdefault((sees, known_result_version(prev, sees, lib)), []).append(modelled)
        for (sees, result), rows in affected.items():
            finding = _chain_finding(item, before, after, nxt, sees, result, rows)
            if finding is not None:
                out.append(finding)
    return out


def _chain_finding(
    item: ParsedFile,
    before: PluginConf,
    after: PluginConf,
    nxt: Optional[BinaryFacts],
    sees: str,
    result: Optional[str],
    rows: Sequence[Modelled],
) -> Optional[Finding]:
    pointer = f"{before.pointer}/type"
    if result is None:
        message = (
            f"{before.type} does not negotiate versions (legacy VERSION reply), so the result version it "
            f"hands to {after.type} is unknowable without running it; if it is not {sees}, "
            f"{after.type} fails `could not parse prevResult: ...` on {ranges(rows)}"
        )
        # unknowable, not known broken: information only
        return CHAIN_RESULT_VERSION_MISMATCH.at(item.path, pointer, message, plugin=before.type, severity=Severity.INFO)
    family = prev_result_family(sees, nxt.reply_version if nxt and nxt.negotiates else None)
    if result == sees or family is None or result in family:
        return None
    inner, _exact = prev_result_error(family, result, after.type or "")
    text = plugin_prefix(after, "add", newest_lib(rows)) + inner
    message = (
        f"{before.type} prints its ADD result without cniVersion (legacy VERSION reply), which "
        f"{_libs_text([m.release.libcni for m in rows])} types as {result}, not the list's {sees}: "
        f"{after.type} cannot parse its prevResult on {ranges(rows)}"
    )
    return CHAIN_RESULT_VERSION_MISMATCH.at(item.path, pointer, message, plugin=before.type, predicts=text)


def check_result_version_support(ctx: NodeContext) -> Tuple[Finding, ...]:
    """CNI513 (static): a spec version newer than the runtime lib's result types."""
    # Many releases share one libcni: each file's list is loaded once per libcni version.
    libs = {m.release.libcni.version: m.release.libcni for m in ctx.releases}
    return tuple(f for item in ctx.loadable for f in _result_version_unsupported(item, ctx, libs.values()))


def _result_version_unsupported(item: ParsedFile, ctx: NodeContext, libs: Iterable[Libcni]) -> List[Finding]:
    assert item.network is not None
    unsupported: Dict[str, Set[str]] = {}  # result version -> the libcni versions that lack it
    for lib in libs:
        loaded = list_version(item.network, item.document, lib)
        version = loaded.version
        if loaded.error or version not in SPEC_VERSIONS or version in lib.result_versions:
            continue
        unsupported.setdefault(version, set()).add(lib.version)
    groups = {
        version: [m for m in ctx.releases if m.release.libcni.version in lacking]
        for version, lacking in unsupported.items()
    }
    out: List[Finding] = []
    first = item.network.plugins[0] if item.network.plugins else None
    for version, rows in groups.items():
        severity, suffix = weigh(RUNTIME_RESULT_VERSION_UNSUPPORTED.severity, rows, ctx.scope)
        lib = newest_lib(rows)
        prefix = plugin_prefix(first, "add", lib) if first is not None else ""
        text = prefix + f"unsupported CNI result version {go_quote(version)}"
        newest = max(lib.current for lib in (m.release.libcni for m in rows))
        message = (
            f"cniVersion {go_quote(version)} is newer than the result versions of the runtime's libcni "
            f"(at most {newest}): ADD fails after the first plugin did its work (leaking its IP and "
            f"interface) on {ranges(rows)}"
        )
        out.append(
            RUNTIME_RESULT_VERSION_UNSUPPORTED.at(
                item.path, "/cniVersion", message + suffix, predicts=text, severity=severity
            )
        )
    return out


def check_status_gc_plugins(ctx: NodeContext) -> Tuple[Finding, ...]:
    """CNI515: STATUS/GC runtimes, a >= 1.1.0 list, a plugin whose skel predates STATUS."""
    return tuple(f for item in ctx.loadable for f in status_old_plugins(item, ctx.releases, ctx.facts))


def status_old_plugins(
    item: ParsedFile, releases: Sequence[Modelled], facts: Mapping[str, BinaryFacts]
) -> List[Finding]:
    assert item.network is not None
    out: List[Finding] = []
    for plugin in item.network.plugins:
        info = facts.get(plugin.type or "")
        if info is None or not info.probed or not info.probe_ok:
            continue
        text, _exact = status_error(info)
        if text is None:
            continue
        rows = [m for m in releases if _sends_status(m, item)]
        if rows:
            message = (
                f"{plugin.type} answers VERSION with {info.reply_version}: its skel predates STATUS/GC, which "
                f"{ranges(rows)} send for this >= 1.1.0 list; the node turns NetworkReady=false"
            )
            out.append(
                STATUS_GC_OLD_PLUGIN.at(item.path, f"{plugin.pointer}/type", message, plugin=plugin.type, predicts=text)
            )
    return out


def _sends_status(modelled: Modelled, item: ParsedFile) -> bool:
    """The release runs STATUS/GC and loads ``item`` as a >= 1.1.0 list."""
    release = modelled.release
    if not (release.runs_status and release.libcni.has_status_gc):
        return False
    assert item.network is not None
    loaded = list_version(item.network, item.document, release.libcni)
    parsed = try_parse(loaded.version) if loaded.version and not loaded.error else None
    return parsed is not None and parsed >= (1, 1, 0)


def check_loopback_skew(ctx: NodeContext) -> Tuple[Finding, ...]:
    """CNI516: the runtime's built-in loopback network version vs the loopback binary."""
    info = ctx.facts.get(LOOPBACK)
    if info is None or not info.negotiates:
        return ()
    groups: Dict[str, List[Modelled]] = {}
    for modelled in ctx.releases:
        version = modelled.release.loopback_version
        if version and version not in info.supported:
            groups.setdefault(version, []).append(modelled)
    out: List[Finding] = []
    for version, rows in groups.items():
        text = loopback_prefix("add", newest_lib(rows)) + (rejection(info, version) or "")
        message = (
            f"{info.path} supports {go_quote_list(info.supported)}, but {ranges(rows)} run the built-in "
            f"loopback network as cniVersion {version}: every pod sandbox fails"
        )
        out.append(RUNTIME_LOOPBACK_SKEW.at(None, "", message, plugin=LOOPBACK, predicts=text))
    return tuple(out)
