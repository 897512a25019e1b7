"""Version cross-checks between a config, the plugin binaries it executes and a runtime's libcni.

Pure functions of data: the node stage (facts.py) resolves and probes, this module decides.

* ``executed_binaries``: every type that runs for a list - each plugin, each ``ipam.type``, and
  the delegates of the meta plugins users run most (flannel's ``delegate.type``, default
  bridge, and its IPAM, default host-local; Multus's inline ``delegates``). Cilium/Calico
  chaining is ordinary list chaining and is covered by the list itself.
* ``list_version``: ``NetworkConfigList.CNIVersion`` as a given libcni builds it (cniVersions
  selection from v1.2.0, cni@v1.2.3 libcni/conf.go:91-135), plus the release-dependent load
  errors (string ``disableCheck``, malformed ``cniVersions``).
* ``BinaryFacts``: what resolution + the VERSION probe told us about one type.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, List, Literal, Mapping, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..gofmt import go_quote
from ..gofmt import go_type_name as go_type
from ..model import NetworkList, PluginConf
from ..runtime.matrix import Libcni
from ..versions import VersionError, incompatible_text, parse_version, try_parse

__all__ = [
    "BinaryFacts",
    "Executed",
    "executed_binaries",
    "go_dirs",
    "go_quote",
    "go_type",
    "list_keys",
    "list_version",
    "plugin_sees",
    "prev_result_family",
    "rejection",
]

# Who runs the binary: libcni (a top-level plugin), a plugin through CNI_PATH (its IPAM plugin),
# or a meta plugin (a delegate).
Role = Literal["plugin", "ipam", "delegate"]

FLANNEL_TYPES = ("flannel",)
MULTUS_TYPES = ("multus", "multus-shim")


@dataclass(frozen=True)
class Executed:
    """One binary a list makes the runtime (or a plugin on its behalf) execute.

    ``role``: "plugin" (top-level, run by libcni), "ipam" (run by the plugin through CNI_PATH),
    "delegate" (run by a meta plugin). ``index`` is the top-level plugin that runs it.
    ``implied``: the type is not written in the config (flannel's defaults).
    ``own_version``: Multus delegates are separate networks with their own cniVersion
    (None: the list's version, which libcni injects into every plugin object).
    """

    type: str
    role: Role
    index: int
    pointer: str
    implied: bool = False
    own_version: Optional[str] = None
    has_own_version: bool = False


@dataclass(frozen=True)
class BinaryFacts:
    """What the node stage learned about one type (resolution + VERSION probe)."""

    type: str
    path: Optional[str] = None
    problem: Optional[str] = None  # resolve.Resolution.problem
    error: Optional[str] = None  # libcni >= 0.8 text for the find/exec failure
    exec_error: Optional[str] = None  # bare Go exec error (libcni 0.7.x prints this)
    probed: bool = False
    probe_ok: bool = False
    supported: Tuple[str, ...] = ()
    reply_version: Optional[str] = None  # VERSION reply cniVersion = the plugin's lib Current()
    legacy: bool = False  # 0.2.0 reply without a list, or `unknown CNI_COMMAND: VERSION`
    probe_error: Optional[str] = None
    probe_timed_out: bool = False  # the probe was killed at its deadline (or outlived by a child)

    @property
    def found(self) -> bool:
        return self.path is not None and self.problem is None

    @property
    def negotiates(self) -> bool:
        """skel-style plugin: it rejects an unsupported config version itself (code 1) on ADD and
        DEL (containernetworking/cni:pkg/skel/skel.go@v0.4.0 (checkVersionAndCall)). A legacy
        replier does not: a bare {"cniVersion":"0.2.0"} comes only from the skel of
        containernetworking/cni@63755d7..536cb5b, which calls the plugin without a version check
        (pkg/skel/skel.go@63755d7 (pluginMain)), and `unknown CNI_COMMAND: VERSION` from skel
        v0.3.0, which has none either; libcni itself runs no VERSION before ADD/DEL
        (containernetworking/cni:libcni/api.go@v1.3.0 (addNetwork, delNetwork)). Measured:
        fixtures/predict-legacy-reply-ungated."""
        return self.probed and self.probe_ok and not self.legacy

    def lookup_error(self, lib: Libcni) -> Optional[str]:
        """The find/exec error as ``lib`` prints it (0.7.x: bare exec errors, containernetworking/cni:libcni@v0.7.1)."""
        if self.problem is None:
            return None
        if self.problem not in ("not-found", "invalid-name") and not lib.wraps_exec_errors:
            return self.exec_error or self.error
        return self.error


def go_dirs(dirs: Sequence[str]) -> str:
    """Go's %v of a []string, as libcni prints the search path: [d1 d2]."""
    return "[" + " ".join(dirs) + "]"


def plugin_sees(version: str) -> str:
    """skel's reconciler and validatePlugin (>= 0.8.0) map "" to "0.1.0" (containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList))."""
    return version if version else "0.1.0"


def _raw_ipam_type(plugin: Mapping[str, Any]) -> Optional[str]:
    """ipam.type with Go's case-insensitive field matching (libcni's NetConf.IPAM.Type)."""
    ipam = None
    for key, value in plugin.items():
        if key.lower() == "ipam":
            ipam = value
    if not isinstance(ipam, Mapping):
        return None
    found = None
    for key, value in ipam.items():
        if key.lower() == "type":
            found = value
    return found if isinstance(found, str) and found else None


def _conf_binaries(conf: Mapping[str, Any], index: int, base: str, version: Optional[str], own: bool) -> List[Executed]:
    out: List[Executed] = []
    ptype = conf.get("type")
    if isinstance(ptype, str) and ptype:
        out.append(Executed(ptype, "delegate", index, f"{base}/type", False, version, own))
    ipam = _raw_ipam_type(conf)
    if ipam:
        out.append(Executed(ipam, "delegate", index, f"{base}/ipam/type", False, version, own))
    return out


def _flannel_delegates(plugin: PluginConf) -> List[Executed]:
    """flannel-cni: delegate.type (default "bridge") with flannel's own `ipam` or host-local
    (flannel-io/cni-plugin flannel_linux.go doCmdAdd / getDelegateIPAM)."""
    delegate = plugin.raw.get("delegate")
    out: List[Executed] = []
    dtype = delegate.get("type") if isinstance(delegate, Mapping) else None
    if isinstance(dtype, str) and dtype:
        out.append(Executed(dtype, "delegate", plugin.index, f"{plugin.pointer}/delegate/type"))
    else:
        where = f"{plugin.pointer}/delegate" if isinstance(delegate, Mapping) else f"{plugin.pointer}/type"
        out.append(Executed("bridge", "delegate", plugin.index, where, implied=True))
    if not (plugin.ipam_type or _raw_ipam_type(plugin.raw)):
        out.append(Executed("host-local", "ipam", plugin.index, f"{plugin.pointer}/type", implied=True))
    return out


def _multus_delegates(plugin: PluginConf) -> List[Executed]:
    """Multus inline `delegates`: each a .conf or a conflist with its own cniVersion.
    (`clusterNetwork`/`defaultNetworks` name files or CRDs resolved at run time: not followed.)"""
    delegates = plugin.raw.get("delegates")
    out: List[Executed] = []
    if not isinstance(delegates, list):
        return out
    for k, delegate in enumerate(delegates):
        if not isinstance(delegate, Mapping):
            continue
        version = delegate.get("cniVersion")
        version = version if isinstance(version, str) else None
        base = f"{plugin.pointer}/delegates/{k}"
        inner = delegate.get("plugins")
        if isinstance(inner, list):
            for j, conf in enumerate(inner):
                if isinstance(conf, Mapping):
                    out.extend(_conf_binaries(conf, plugin.index, f"{base}/plugins/{j}", version, True))
        else:
            out.extend(_conf_binaries(delegate, plugin.index, base, version, True))
    return out


def executed_binaries(network: NetworkList) -> Tuple[Executed, ...]:
    """Every binary the list executes, in the order ADD reaches them."""
    out: List[Executed] = []
    for plugin in network.plugins:
        if plugin.type:
            out.append(Executed(plugin.type, "plugin", plugin.index, f"{plugin.pointer}/type"))
        ipam = plugin.ipam_type or _raw_ipam_type(plugin.raw)
        if ipam:
            out.append(Executed(ipam, "ipam", plugin.index, f"{plugin.pointer}/ipam/type"))
        if plugin.type in FLANNEL_TYPES:
            out.extend(_flannel_delegates(plugin))
        if plugin.type in MULTUS_TYPES:
            out.extend(_multus_delegates(plugin))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The list as a given libcni loads it


@dataclass(frozen=True)
class LoadedList:
    """``version``: list.CNIVersion ("" when absent); ``error``: the libcni load error text
    (already prefixed `error parsing configuration list: `) or None; ``from_versions``: the
    version was chosen from cniVersions; ``disable_check``: the decoded flag."""

    version: str
    error: Optional[str] = None
    from_versions: bool = False
    disable_check: bool = False


def _document(network: NetworkList, document: Any) -> Mapping[str, Any]:
    if isinstance(document, dict):  # the common case; typing.Mapping's isinstance is slow
        return document
    if isinstance(document, Mapping):
        return document
    return {}


def _select_cni_versions(raw: Any, declared: str, lib: Libcni) -> Tuple[str, Optional[str], bool]:
    """cni@v1.2.3 libcni/conf.go:91-135: keep entries <= Current() plus cniVersion, pick the
    highest. (v1.2.0/1.2.1 used Masterminds semver: same choice for spec versions.)"""
    prefix = "error parsing configuration list: "
    if not isinstance(raw, list):
        # Go prints the type of the failed assertion's zero value, not of the JSON value.
        return declared, f"{prefix}invalid type for cniVersions: []interface {{}}", False
    current = parse_version(lib.current)
    keep: List[Tuple[Tuple[int, int, int], str]] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, str):
            return declared, f"{prefix}invalid type for cniVersions index {i}: {go_type(entry)}", False
        try:
            parsed = parse_version(entry)
        except VersionError as exc:
            return declared, f"{prefix}invalid cniVersions entry {entry} at index {i}: {exc}", False
        if parsed <= current:
            keep.append((parsed, entry))
    if declared:
        try:
            parsed = parse_version(declared)
        except VersionError as exc:
            return declared, f"{prefix}invalid cniVersion {declared}: {exc}", False
        if parsed <= current:
            keep.append((parsed, declared))
    if not keep:
        return declared, None, False
    best = max(keep, key=lambda item: item[0])
    return best[1], None, True


def _read_bool(doc: Mapping[str, Any], key: str, lib: Libcni) -> Tuple[bool, Optional[str]]:
    """disableCheck/disableGC decoding per release (containernetworking/cni:libcni/conf.go@v1.1.2 (disableCheck); containernetworking/cni:libcni/conf.go@v1.3.0; conf.go readBool)."""
    prefix = "error parsing configuration list: "
    if key not in doc:
        return False, None
    value = doc[key]
    if isinstance(value, bool):
        return value, None
    mode = lib.disable_check_strings
    if key == "disableGC" and not lib.at_least("1.2.1"):
        return False, None  # not read before v1.2.1
    if mode == "reject":
        return False, f"{prefix}invalid {key} type {go_type(value)}"
    if not isinstance(value, str):
        if mode == "true-false":
            return False, f"{prefix}invalid {key} type {go_type(value)}"
        return False, f"{prefix}invalid type {go_type(value)} for {key}"
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true", None
    if mode == "true-false":
        return False, f"{prefix}invalid {key} value {go_quote(value)}"
    return False, f"{prefix}invalid value {go_quote(lowered)} for {key}"


def list_version(network: NetworkList, document: Any, lib: Libcni) -> LoadedList:
    """The list as ``lib`` loads it. A `.conf` has no list keys (ConfListFromConf)."""
    declared = network.cni_version or ""
    if network.from_single_conf:
        return LoadedList(declared)
    loaded = list_keys(_document(network, document), declared, lib)
    if loaded.error is None and not network.plugins:
        # libcni v1.3.0 NetworkConfFromFile, after the list keys and the plugin folder were read
        # (containernetworking/cni:libcni/conf.go@v1.3.0 (NetworkConfFromFile))
        return replace(loaded, error="no plugin configs found")
    return loaded


def list_keys(doc: Mapping[str, Any], declared: str, lib: Libcni) -> LoadedList:
    """The list keys ``lib`` reads after `name`/`cniVersion` and before `plugins`: cniVersions
    (from v1.2.0), then disableCheck, disableGC (v1.2.1) and loadOnlyInlinedPlugins (v1.3.0).
    Every release reads them before it looks at `plugins`, so their errors come before any
    plugin's (containernetworking/cni:libcni/conf.go@v1.1.2 (ConfListFromBytes), @v1.2.0 and
    @v1.2.3 (ConfListFromBytes), @v1.3.0 (NetworkConfFromBytes))."""
    version, error, chosen = declared, None, False
    if lib.reads_cni_versions and "cniVersions" in doc:
        version, error, chosen = _select_cni_versions(doc["cniVersions"], declared, lib)
    disable_check = False
    if error is None:
        disable_check, error = _read_bool(doc, "disableCheck", lib)
    if error is None:
        _, error = _read_bool(doc, "disableGC", lib)
    if error is None and lib.reads_network_folder:
        error = _inlined_only_error(doc, lib)
    return LoadedList(version, error, chosen, disable_check)


def _inlined_only_error(doc: Mapping[str, Any], lib: Libcni) -> Optional[str]:
    """v1.3.0 reads `loadOnlyInlinedPlugins` with readBool after disableGC; true without a
    `plugins` key is its own error (containernetworking/cni:libcni/conf.go@v1.3.0
    (NetworkConfFromBytes)). Older libcni never read the key."""
    inlined, error = _read_bool(doc, "loadOnlyInlinedPlugins", lib)
    if error is None and inlined and "plugins" not in doc:
        error = "error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key"
    return error


# ---------------------------------------------------------------------------------------------
# Verdicts


def rejection(facts: Optional[BinaryFacts], sees: str) -> Optional[str]:
    """skel's `incompatible CNI versions; ...` when a negotiating plugin lacks ``sees``."""
    if facts is None or not facts.negotiates or sees in facts.supported:
        return None
    return incompatible_text(sees, facts.supported)


def validate_error(facts: Optional[BinaryFacts], plugin_type: str, version: str, lib: Libcni) -> Optional[str]:
    """libcni ``validatePlugin`` (CRI-O/dockershim load): cni@v0.8.1 libcni/api.go:629-649.
    A plugin that is found but cannot be executed fails its VERSION exec with the raw exec error
    (containernetworking/cni:libcni/api.go@v1.3.0 validatePlugin returns GetVersionInfo's error
    unwrapped), e.g. ``netplugin failed with no error message: fork/exec <path>: permission
    denied``, measured with the real ocicni (tests/test_ocicni_recorded.py)."""
    if facts is None:
        return None
    if facts.problem is not None:
        return facts.lookup_error(lib)
    if facts.probed and not facts.probe_ok:
        return facts.probe_error
    if not facts.probed:
        return None
    expected = version if version or not lib.validate_maps_empty else "0.1.0"
    if expected in facts.supported:
        return None
    return f"plugin {plugin_type} does not support config version {go_quote(expected)}"


def prev_result_family(sees: str, next_reply: Optional[str]) -> Optional[Tuple[str, ...]]:
    """The result versions the *next* plugin's library accepts for a prevResult in a list of
    version ``sees`` (cni@v1.3.0 pkg/types/100/types.go:55-67, 040, 020 creators). None when
    that plugin's library (VERSION reply < 1.0.0) does not type-check (it re-types instead)."""
    if next_reply is None or try_parse(next_reply) is None or parse_version(next_reply) < (1, 0, 0):
        return None
    if sees in ("1.0.0", "1.1.0"):
        return ("1.0.0", "1.1.0") if parse_version(next_reply) >= (1, 1, 0) else ("1.0.0",)
    if sees in ("0.3.0", "0.3.1", "0.4.0"):
        return ("0.3.0", "0.3.1", "0.4.0")
    if sees in ("0.1.0", "0.2.0"):
        return ("0.1.0", "0.2.0")
    return None


# What each reference meta plugin puts before ParsePrevResult's error in its ADD reply, measured
# with Debian's containernetworking-plugins 1.1.1 (containernetworking/plugins:plugins/meta/portmap/main.go@v1.1.1
# (cmdAdd, parseConfig); plugins/meta/{bandwidth,firewall,vrf,tuning}@v1.1.1). sbr is left out: 1.1.1
# adds nothing, containernetworking/plugins:plugins/meta/sbr/main.go@v1.3.0 (parseConfig) adds a prefix.
PREV_RESULT_WRAPPERS: Mapping[str, str] = {
    "portmap": "failed to parse config: could not parse prevResult: ",
    "bandwidth": "could not parse prevResult: ",
    "firewall": "could not parse prevResult: ",
    "vrf": "could not parse prevResult: ",
    "tuning": "",
}


def prev_result_error(family: Tuple[str, ...], got: str, next_type: str = "") -> Tuple[str, bool]:
    """What ``next_type`` answers when its prevResult is of version ``got`` (measured;
    containernetworking/cni:pkg/version/version.go@v1.3.0 (ParsePrevResult): Go %v of the
    []string, no quotes), and whether the text is exact: a plugin outside PREV_RESULT_WRAPPERS may
    add words of its own before it."""
    inner = f"could not parse prevResult: result type supports [{' '.join(family)}] but unmarshalled CNIVersion is {go_quote(got)}"
    wrapper = PREV_RESULT_WRAPPERS.get(next_type)
    return (inner, False) if wrapper is None else (wrapper + inner, True)
