"""Predict a pod's network life on one modelled runtime: config load, ADD, CHECK, DEL (+ STATUS
where the runtime runs it), each with outcome ok | fail | unknown and, for fail, the exact text.

Representation (model.Prediction, serialised by report/jsonreport.py as the report's "prediction"):

    {"runtime": {"name", "version", "libcni", "release", "glue"}, "selected_file", "selection",
     "list_version", "steps": {"load"|"add"|"check"|"del"[|"status"]: {"outcome", "error", ...}}}

* ``selected_file``: the file this runtime's loader ends up with (facts.runtime_choice picks it per runtime).
  containerd (go-cni) and a bare libcni caller take the lexically FIRST config file and stop
  there: if it does not load, the load step fails and nothing else runs (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9; cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks),
  containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir)); ``selection`` is then "first-file". CRI-O (ocicni) and dockershim skip files that do
  not load and use the first one that does (``selection``: "first-loadable"); a file their
  VERSION validation rejects is reported as a failed load step (they skip it too).

* ``outcome``: "ok", "fail", "unknown" (only running the plugin could tell) or "not_sent" (the
  runtime never performs the step: it neither succeeds nor fails).
* ``error``: for "fail", the text the runtime's CNI library returns (go-cni's/ocicni's own text
  for load), paths included; None otherwise.
* ``wrapped``: the runtime's outer message around ``error`` when it adds one, with
  ``<sandbox-id>``/``<pod>``/``<namespace>`` placeholders for values only a real pod has.
* ``called``: False when the runtime never performs the step (containerd and dockershim never
  send CHECK; CRI-O skips CNI CHECK for lists < 0.4.0); the outcome is then "not_sent".
* ``exact``: False when the inner text is known but a component may add words of its own
  (e.g. a meta plugin relaying its delegate's error).
* ``detail``: why, in words; ``plugin``: the plugin type the failure is blamed on.
* ``kubelet_error`` / ``runtime_log`` / ``kubelet_note`` / ``kubelet_alternatives``: where the
  text appears on a containerd or CRI-O release (what the kubelet receives over CRI, what only
  the runtime's log and status show); crosscheck/kubelet_view.py holds the per-release table.

Ground truth: measured with libcni in network namespaces (docs/differential.md) (measured): libcni >= 1.0 wraps ADD/DEL per-plugin errors as
`plugin type="X" failed (add|delete): `, CHECK/STATUS errors and the version gate before the
plugin loop are bare; DEL runs in reverse; IPAM skew is reported through the main plugin.

Per plugin, a verb meets its checks in the order the code runs them (cni@v1.1.2
libcni/api.go:393-510, pkg/skel/skel.go:155-245), and the first failure is the step's error:

1. libcni finds the binary (FindInPath; exec errors).
2. ADD only, libcni >= 0.8.0: utils.ValidateNetworkName (`missing network name:` with the colon,
   `invalid characters found in network name; N`) - before the plugin runs.
3. The plugin's skel (>= 0.8.0), every verb but VERSION: validateConfig (`missing network name`
   without the colon, `invalid characters found in network name; N`).
4. skel's version checks: ADD/DEL `incompatible CNI versions; ...`; CHECK answers `plugin version
   does not allow CHECK` when no supported version is >= the config's, else reconciles as ADD.
5. The plugin's own code: what static findings already know it refuses (PLUGIN_SIDE_FINDINGS:
   config decode errors, meta plugins without prevResult), then the previous result, then its
   IPAM plugin/delegates (their refusals, e.g. host-local's range limit, surface through it).
6. ADD: libcni types the plugin's result.
"""

from __future__ import annotations

import os
import re
from dataclasses import field, replace
from typing import Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple

from ..config.netconf import plugin_description  # libcni pluginDescription
from ..config.parse import fails_after_list_keys, plugin_conf_text
from ..frozen import dataclass
from ..model import (
    Finding,
    ModelledRuntime,
    NetworkList,
    ParsedFile,
    PluginConf,
    PluginRefusal,
    Prediction,
    SelectionRule,
    Step,
    StepName,
)
from ..rules import schema as schema_rules
from ..rules import semantics as semantics_rules
from ..runtime.matrix import Libcni, Modelled, RuntimeRelease
from ..versions import VersionError, parse_version, try_parse
from . import kubelet_view
from .compare import (
    BinaryFacts,
    Executed,
    LoadedList,
    executed_binaries,
    go_quote,
    list_keys,
    list_version,
    plugin_sees,
    prev_result_error,
    prev_result_family,
    rejection,
    validate_error,
)

RefusalStage = Literal["body", "ipam"]  # where in the plugin a known refusal happens

__all__ = [
    "FIRST_FILE_RUNTIMES",
    "PLUGIN_SIDE_FINDINGS",
    "Step",
    "config_dir",
    "no_config_prediction",
    "predict",
    "prediction",
]

# utils.ValidateNetworkName's cniReg (cni@v1.1.2 pkg/utils/utils.go:25); used with fullmatch
# because Go's `$` (no multi-line flag) matches only at the very end, unlike Python's.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.\-]*")

# Runtimes whose loader stops at the lexically first config file (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9).
FIRST_FILE_RUNTIMES = ("containerd", "libcni")
SANDBOX = "<sandbox-id>"


OK = Step("ok")


@dataclass
class _Walk:
    """Accumulates a verb's walk over the chain: the first definite failure, or doubts."""

    doubts: List[str] = field(default_factory=list)
    failure: Optional[Step] = None

    def fail(
        self, error: str, plugin: Optional[str], detail: str = "", exact: bool = True, basis: Optional[str] = None
    ) -> None:
        if self.failure is None:
            self.failure = Step("fail", error, plugin=plugin, detail=detail, exact=exact, basis=basis)

    def doubt(self, text: str) -> None:
        if text not in self.doubts:
            self.doubts.append(text)

    def result(self, wrap: Optional[str] = None) -> Step:
        if self.failure is not None:
            step = self.failure
            detail = step.detail
            if self.doubts:
                detail = (detail + "; " if detail else "") + "an earlier step may fail first: " + "; ".join(self.doubts)
            wrapped = wrap.format(error=step.error) if wrap and step.error else None
            return Step("fail", step.error, wrapped, True, step.exact, step.plugin, detail, basis=step.basis)
        if self.doubts:
            return Step("unknown", detail="; ".join(self.doubts))
        return OK


# ---------------------------------------------------------------------------------------------
# helpers


def plugin_prefix(plugin: PluginConf, verb: str, lib: Libcni) -> str:
    if not lib.wraps_plugin_errors:
        return ""
    return f"plugin {plugin_description(plugin)} failed ({verb}): "


def loopback_prefix(verb: str, lib: Libcni) -> str:
    return f'plugin type="loopback" failed ({verb}): ' if lib.wraps_plugin_errors else ""


def _parse_gate(version: str, lib: Libcni) -> Optional[str]:
    """version.GreaterThanOrEqualTo's ParseVersion error, as DEL/CHECK meet it (containernetworking/cni:pkg/version/plugin.go@v0.8.1 (ParseVersion); containernetworking/cni#882; fixed in v1.1.0 by containernetworking/cni#893)."""
    try:
        parse_version(version, empty_is_010=not lib.empty_version_breaks_teardown)
    except VersionError as exc:
        return str(exc)
    return None


def _version_not_run(info: Optional[BinaryFacts]) -> bool:
    """Found, but its VERSION probe was not run (CNI505: not runnable here, or refused as root)."""
    return info is not None and info.found and info.probed and not info.probe_ok and info.probe_error is None


def known_result_version(facts: Optional[BinaryFacts], sees: str, lib: Libcni) -> Optional[str]:
    """The version libcni >= 1.0 types a plugin's ADD result as: the config's for negotiating
    plugins (skel plugins print `types.PrintResult(result, conf.CNIVersion)`); anything else is
    unknowable without running it (None), except a legacy 0.2.0 replier. Its skel's Result has no
    cniVersion field (containernetworking/cni:pkg/types/types.go@63755d7 (Result)): libcni >= 1.1.1
    labels it with the config's version, 1.0.0-1.1.0 type it as "0.1.0" (Libcni.labels_unversioned_result)."""
    if facts is None or facts.negotiates or not facts.probed:
        return sees
    if facts.legacy and facts.reply_version == "0.2.0":
        return sees if lib.labels_unversioned_result else "0.1.0"
    return None


def drops_result_ips(facts: Optional[BinaryFacts], version: str, sees: str, lib: Libcni) -> bool:
    """True when the plugin's ADD result certainly holds no IP once libcni has typed it. The 2016
    skel's Result has only `ip4`/`ip6`/`dns` and no cniVersion (containernetworking/cni:pkg/types/
    types.go@63755d7 (Result)); typed as >= 0.3.0, whose result type keeps addresses in `ips`
    (containernetworking/cni:pkg/types/100/types.go@v1.1.2 (Result)), nothing of them is left:
    libcni >= v1.1.1 label it with the list's version (containernetworking/cni:pkg/invoke/exec.go@v1.1.1
    (fixupResultVersion)), <= v0.8.x re-type it by the config's (containernetworking/cni:pkg/invoke/
    exec.go@v0.8.1 (ExecPluginWithResult)). Measured with libcni 1.1.2, 1.2.3, 1.3.0:
    fixtures/skew-chain-result-version (ADD result `{"cniVersion":"1.0.0","dns":{}}`)."""
    if facts is None or not facts.probed or not facts.legacy or facts.reply_version != "0.2.0":
        return False
    typed = (version or "0.1.0") if lib.result_typed_by_config else known_result_version(facts, sees, lib)
    key = try_parse(typed) if typed else None
    return key is not None and key >= (0, 3, 0)


def ipless_result(network: NetworkList, ctx: _Context) -> Optional[str]:
    """The plugin whose result leaves the list's final ADD result without any IP (None: not known).
    The list's result is its last plugin's; the reference meta plugins print their prevResult
    again (containernetworking/plugins:plugins/meta/portmap/main.go@v1.1.1 (cmdAdd: types.PrintResult
    (netConf.PrevResult, ...)); likewise bandwidth, tuning, firewall, vrf, sbr), so they carry the loss on."""
    culprit: Optional[str] = None
    for plugin in network.plugins:
        ptype = plugin.type or ""
        if drops_result_ips(ctx.facts.get(ptype), ctx.version, ctx.sees, ctx.lib):
            culprit = ptype
        elif ptype not in semantics_rules.META_PLUGIN_ERRORS:
            culprit = None  # a plugin that prints its own result: what it holds is unknowable
    return culprit


def _dependents(binaries: Sequence[Executed], index: int) -> List[Executed]:
    return [b for b in binaries if b.index == index and b.role != "plugin"]


def _sees_for(binary: Executed, sees: str) -> str:
    return plugin_sees(binary.own_version or "") if binary.has_own_version else sees


# ---------------------------------------------------------------------------------------------
# what static findings already know a plugin refuses


# What static findings establish the plugin itself refuses: the rules' ``plugin_side`` field.
# Only the config-side families declare one (tests/test_predict.py checks this against the whole
# catalog); importing just those keeps the prediction free of the node checks that use it.
PluginSide = PluginRefusal
PLUGIN_SIDE_FINDINGS: Mapping[str, PluginRefusal] = {
    rule.code: rule.plugin_side
    for rule in (*schema_rules.RULES, *semantics_rules.RULES)
    if rule.plugin_side is not None
}


@dataclass(frozen=True)
class KnownRefusal:
    """One PLUGIN_SIDE_FINDINGS finding placed on a plugin of the list."""

    index: int
    side: PluginSide
    code: str
    text: Optional[str]  # the plugin's own text (no libcni prefix); None when not modelled
    stage: RefusalStage


def _plugin_index(network: NetworkList, pointer: str) -> Optional[int]:
    """The plugin object a finding's pointer lies in (longest matching plugin pointer)."""
    best: Optional[PluginConf] = None
    for plugin in network.plugins:
        inside = pointer == plugin.pointer or pointer.startswith(plugin.pointer + "/")
        if inside and (best is None or len(plugin.pointer) > len(best.pointer)):
            best = plugin
    return best.index if best is not None else None


def _refusal_stage(side: PluginRefusal, plugin: PluginConf, pointer: str) -> RefusalStage:
    """A "decode" refusal happens in the plugin's body or in its IPAM plugin by where it points."""
    if side.stage == "decode":
        return "ipam" if _in_ipam(plugin, pointer) else "body"
    return "ipam" if side.stage == "ipam" else "body"


def known_refusals(network: NetworkList, findings: Sequence[Finding]) -> Tuple[KnownRefusal, ...]:
    """Static findings of the file that predict a plugin-side failure (PLUGIN_SIDE_FINDINGS).
    Their ``predicts`` is the libcni >= 1.0 ADD text; the prefix is stripped so each verb and
    release can wrap the plugin's own text its way."""
    out: List[KnownRefusal] = []
    for finding in findings:
        side = PLUGIN_SIDE_FINDINGS.get(finding.code)
        index = _plugin_index(network, finding.pointer) if side is not None else None
        if side is None or index is None:
            continue
        plugin = network.plugins[index]
        head = f"plugin {plugin_description(plugin)} failed (add): "
        text = finding.predicts
        if text is not None:
            text = text[len(head) :] if text.startswith(head) else None
        out.append(KnownRefusal(index, side, finding.code, text, _refusal_stage(side, plugin, finding.pointer)))
    return tuple(out)


@dataclass(frozen=True)
class NodeRefusal:
    """A node-state check (crosscheck/nodestate.py, CNI7xx) that establishes the plugin's ADD
    fails: applied like a KnownRefusal, at its stage, with the plugin's own text."""

    index: int
    stage: RefusalStage
    code: str
    text: str
    exact: bool
    why: str


def _apply_node_state(
    walk: _Walk, refusals: Sequence[NodeRefusal], plugin: PluginConf, stage: RefusalStage, prefix: str
) -> None:
    for item in refusals:
        if item.index == plugin.index and item.stage == stage:
            walk.fail(prefix + item.text, plugin.type, item.why, exact=item.exact)


def _in_ipam(plugin: PluginConf, pointer: str) -> bool:
    """The pointer lies in the plugin's `ipam` object (Go matches the key case-insensitively)."""
    rest = pointer[len(plugin.pointer) :].split("/")
    return len(rest) > 1 and rest[1].lower() == "ipam"


def _apply_known(
    walk: _Walk, known: Sequence[KnownRefusal], plugin: PluginConf, stage: RefusalStage, verb: str, prefix: str
) -> None:
    for item in known:
        if item.index != plugin.index or item.stage != stage or verb not in item.side.verbs:
            continue
        if item.text is None:
            walk.doubt(
                f"{plugin.type} refuses this configuration ({item.code}: {item.side.why}); "
                "only running it shows the exact text"
            )
        else:
            walk.fail(prefix + item.text, plugin.type, f"{item.code}: {item.side.why}")


# ---------------------------------------------------------------------------------------------
# the network name (libcni's and skel's checks)


def network_name(network: NetworkList, parsed: ParsedFile, release: RuntimeRelease) -> str:
    """The name plugins are given: ocicni names a nameless network after its file (path.Base,
    cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks)); everyone else passes the list's name as is."""
    name = network.name or ""
    if not name and release.runtime == "crio":
        return os.path.basename(parsed.path)
    return name


def name_errors(name: str) -> Optional[Tuple[str, str]]:
    """(libcni's text, skel's text) for a name they reject, else None. libcni's
    utils.ValidateNetworkName says `missing network name:` (a types.Error with an empty detail,
    cni@v1.1.2 pkg/utils/utils.go:53); skel's validateConfig says it without the colon
    (pkg/skel/skel.go:185) and calls ValidateNetworkName for the characters (:187)."""
    if not name:
        return "missing network name:", "missing network name"
    if NAME_PATTERN.fullmatch(name) is None:
        text = f"invalid characters found in network name; {name}"
        return text, text
    return None


def _skel_reply(info: Optional[BinaryFacts]) -> Optional[Tuple[int, int, int]]:
    """The plugin library's Current() from its VERSION reply, for a negotiating (skel) plugin."""
    if info is None or not info.negotiates or not info.reply_version:
        return None
    return try_parse(info.reply_version)


def skel_checks_name(info: Optional[BinaryFacts]) -> Optional[bool]:
    """Whether the plugin's skel validates the network name (validateConfig, skel >= 0.8.0).
    A 1.0.0+ reply is skel >= 1.0; a 0.4.0 reply is skel 0.7 (no check) or 0.8 (checks): None;
    an older reply, a legacy replier or a non-negotiating plugin: False. Unprobed: None."""
    if info is None or not info.probed or not info.probe_ok:
        return None
    reply = _skel_reply(info)
    if reply is None:
        return False
    if reply >= (1, 0, 0):
        return True
    return None if reply >= (0, 4, 0) else False


def _skel_name(
    walk: _Walk, info: Optional[BinaryFacts], plugin: PluginConf, problem: Optional[Tuple[str, str]], prefix: str
) -> None:
    if problem is None:
        return
    checks = skel_checks_name(info)
    if checks:
        walk.fail(prefix + problem[1], plugin.type, "the plugin's skel validates the network name on every verb")
    elif checks is None and info is not None and info.probed:
        walk.doubt(
            f"{plugin.type}'s skel may refuse the network name ({problem[1]!r}): its VERSION reply "
            f"{info.reply_version} fits skel 0.7 (no check) and 0.8 (checks)"
        )


def check_refusal(info: Optional[BinaryFacts], sees: str) -> Optional[str]:
    """What a skel plugin answers to CHECK for config version ``sees`` (cni@v1.1.2
    pkg/skel/skel.go:222-241): `plugin version does not allow CHECK` when none of its supported
    versions is >= the config's, else skel's usual reconcile (`incompatible CNI versions`).
    skel <= 0.6 (VERSION reply < 0.4.0) has no CHECK at all: `unknown CNI_COMMAND: CHECK`; nor has
    the 2016 skel of a bare 0.2.0 replier (containernetworking/cni:pkg/skel/skel.go@63755d7 (pluginMain)).
    Measured with libcni 1.1.2 (live), 1.2.3 and 1.3.0 (fixtures/skew-chain-result-version)."""
    if info is not None and info.legacy and info.probe_ok and info.reply_version == "0.2.0":
        return "unknown CNI_COMMAND: CHECK"
    reply = _skel_reply(info)
    if info is None or reply is None:
        return None
    if reply < (0, 4, 0):
        return "unknown CNI_COMMAND: CHECK"
    wanted = try_parse(sees)
    if wanted is not None and not any((try_parse(v) or (0, 0, 0)) >= wanted for v in info.supported):
        return "plugin version does not allow CHECK"
    return rejection(info, sees)


# ---------------------------------------------------------------------------------------------
# load


def reading_error(parsed: ParsedFile) -> Tuple[Optional[str], str]:
    """libcni's `error reading <path>: <op> <path>: <errno>` (ConfListFromFile/ConfFromFile,
    containernetworking/cni:libcni/conf.go@v0.8.1 (ConfFromFile, ConfListFromFile)) for a file discovery could not read, or (None, why) when the load's
    outcome is unknowable: a FIFO blocks os.ReadFile, a device would be read, a too-large file
    was not analysed."""
    candidate = parsed.candidate
    path = os.path.abspath(parsed.path)
    problem, detail = candidate.problem, candidate.detail
    if problem in ("unreadable", "dangling-symlink", "symlink-loop", "directory"):
        op, _, rest = detail.partition(" ")
        lead = candidate.path + ": "
        if rest.startswith(lead):
            return f"error reading {path}: {op} {path}: {rest[len(lead) :]}", ""
        return f"error reading {path}: {detail}", ""
    if problem == "not-regular" and detail == "a socket":
        return f"error reading {path}: open {path}: no such device or address", ""
    why = {
        "not-regular": f"{path} is {detail}: the runtime's os.ReadFile blocks on a FIFO (the load hangs) "
        "or reads the device itself",
        "too-large": f"{path} is {detail}: cnidoctor did not analyse it; the runtime reads it whole",
        "not-readable-as-user": f"cnidoctor's user cannot read {path}; the runtime reads it as root",
    }.get(problem or "", "")
    return None, why


@dataclass(frozen=True)
class LibView:
    """The file as one libcni release loads it: the list (None when it fails), libcni's error
    text, or why the outcome is unknown."""

    network: Optional[NetworkList]
    load_error: Optional[str]
    unknown: str = ""


def lib_view(parsed: ParsedFile, lib: Libcni) -> LibView:
    """config/parse models libcni <= v1.2.3 with every list key valid; the view for ``lib``
    differs in three ways:

    * a list key read before `plugins` (cniVersions, disableCheck, disableGC,
      loadOnlyInlinedPlugins, as far as ``lib`` reads them) that ``lib`` refuses fails the list
      before any plugin, plugin-folder or `plugins` key error (``_list_key_error``);
    * in v1.3.0 the plugin struct is ``types.PluginConf`` (was ``types.NetConf``), so Go's JSON
      type errors name it (containernetworking/cni:pkg/types/types.go@v1.3.0 (PluginConf));
    * v1.3.0's NetworkConfFromFile appends the ``*.conf`` files of ``<dir>/<name>/`` and a list
      without ``plugins`` is no longer refused by the parser (config/netdir,
      ``parsed.network_dir``; containernetworking/cni:libcni/conf.go@v1.3.0 (NetworkConfFromFile)).
    """
    view = _generation_view(parsed, lib)
    from_folder = parsed.network_dir is not None and lib.reads_network_folder
    if view.network is None and (from_folder or fails_after_list_keys(view.load_error)):
        error = _list_key_error(parsed, lib)
        if error is not None:
            return LibView(None, error)
    return view


def _generation_view(parsed: ParsedFile, lib: Libcni) -> LibView:
    if not lib.at_least("1.3.0"):
        return LibView(parsed.network, parsed.load_error)
    folder = parsed.network_dir
    if folder is not None:
        error = plugin_conf_text(folder.load_error) if folder.load_error else None
        return LibView(folder.network, error, folder.unknown)
    return LibView(parsed.network, plugin_conf_text(parsed.load_error) if parsed.load_error else None)


def version_blocks_load(network: NetworkList, release: RuntimeRelease, facts: Mapping[str, BinaryFacts]) -> List[str]:
    """The top-level plugins whose VERSION probe cnidoctor killed at its deadline, where the
    runtime's load waits for VERSION without one (CRI-O: measured with the real ocicni ad62f4e
    and v0.4.3, tests/test_ocicni_recorded.py); [] elsewhere."""
    if release.runtime != "crio" or not release.validates_on_load:
        return []
    late = [p.type or "" for p in network.plugins if (facts.get(p.type or "") or BinaryFacts("")).probe_timed_out]
    return list(dict.fromkeys(late))


def _list_key_error(parsed: ParsedFile, lib: Libcni) -> Optional[str]:
    """``lib``'s error for a list key it reads before `plugins`, or None."""
    document = parsed.document
    if parsed.candidate.kind != "conflist" or not isinstance(document, dict):
        return None
    declared = document.get("cniVersion", "")
    if not isinstance(declared, str):
        return None  # `invalid cniVersion type` comes first (config/parse reports it)
    return list_keys(document, declared, lib).error


def _load_step(
    parsed: ParsedFile,
    release: RuntimeRelease,
    loaded: Optional[LoadedList],
    facts: Mapping[str, BinaryFacts],
    probed: bool,
) -> Step:
    lib = release.libcni
    path = os.path.abspath(parsed.path)
    kind = "config list file" if parsed.candidate.kind == "conflist" else "config file"
    view = lib_view(parsed, lib)
    unknown = view.unknown
    if parsed.candidate.problem is not None:
        error, unknown = reading_error(parsed)
    else:
        error = view.load_error if view.network is None else (loaded.error if loaded else None)
    if unknown:
        return Step("unknown", detail=unknown)
    if error is None and view.network is None:
        # an unrendered template (CNI108) that is valid JSON: libcni loads whatever the
        # placeholders happen to say, so only the rendered file can be predicted
        return Step("unknown", detail="an unrendered template: predict the rendered file instead")
    if error:
        if lib.load_error_capital:
            error = error.replace("failed to parse plugin config", "Failed to parse plugin config")
        if release.runtime == "containerd":
            text = f"failed to load CNI {kind} {path}: {error}: invalid cni config"
            return Step(
                "fail",
                text,
                wrapped=f"cni config load failed: {text}: failed to load cni config",
                detail="go-cni stops at the first file that fails to load: the node stays NotReady",
            )
        if release.runtime in ("crio", "dockershim"):
            return Step(
                "fail",
                f"Error loading CNI {kind} {path}: {error}",
                exact=release.runtime == "crio",
                detail=f"{release.display} logs this and skips the file; the next valid file becomes the default network"
                + _crio_without_another(release, path),
            )
        return Step("fail", error, detail="the first config file does not load: libcni's caller has no network")
    network = view.network
    assert network is not None and loaded is not None
    if not release.validates_on_load:
        return OK
    if not probed:
        return Step("unknown", detail=f"{release.display} runs VERSION on every plugin at load; run with probing")
    blocking = version_blocks_load(network, release, facts)
    if blocking:
        return Step(
            "unknown",
            plugin=blocking[0],
            detail=f"{', '.join(blocking)} did not answer VERSION within cnidoctor's probe timeout; CRI-O's ocicni "
            "validates without a deadline (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3 loadNetworks passes "
            "context.Background to ValidateNetworkList), so if it never answers, CRI-O's network load never "
            "finishes and no default network is chosen",
        )
    errors: List[str] = []
    for plugin in network.plugins:
        problem = validate_error(facts.get(plugin.type or ""), plugin.type or "", loaded.version, lib)
        if problem:
            errors.append(problem)
    unasked = [p.type or "" for p in network.plugins if _version_not_run(facts.get(p.type or ""))]
    if not errors and unasked:  # cnidoctor did not run VERSION on it (CNI505): no verdict
        return Step(
            "unknown", detail=f"{release.display} runs VERSION on {', '.join(unasked)} at load; cnidoctor did not"
        )
    if not errors:
        return OK
    joined = "[" + " ".join(errors) + "]"
    if release.runtime == "crio":
        return Step(
            "fail",
            f"Error validating CNI config file {path}: {joined}",
            detail="CRI-O (ocicni ValidateNetworkList) logs this and skips the file; without another valid file: "
            f"`{crio_no_network_text(release, os.path.dirname(path))}`",
        )
    return Step(
        "fail",
        f"Error validating CNI config list {path}: {joined}",
        exact=False,
        detail="kubelet dockershim skips the file; without another valid file the node reports `cni config uninitialized`",
    )


# ---------------------------------------------------------------------------------------------
# ADD


def _loopback(walk: _Walk, release: RuntimeRelease, facts: Mapping[str, BinaryFacts], verb: str) -> None:
    """The runtime's built-in `cni-loopback` network runs before the pod network (go-cni
    Setup attaches `lo` first; ocicni and dockershim likewise)."""
    if release.runtime == "libcni":
        return
    lib = release.libcni
    lo = facts.get("loopback")
    if lo is None:
        return
    prefix = loopback_prefix(verb, lib)
    error = lo.lookup_error(lib)
    if error:
        walk.fail(prefix + error, "loopback", "the runtime's built-in loopback network runs first")
        return
    if release.loopback_version:
        text = rejection(lo, release.loopback_version)
        if text:
            walk.fail(
                prefix + text,
                "loopback",
                f"{release.label} configures its loopback network as cniVersion {release.loopback_version}",
            )


Refusal = Callable[[Optional[BinaryFacts], str], Optional[str]]


def _dependents_walk(
    walk: _Walk,
    plugin: PluginConf,
    deps: Sequence[Executed],
    facts: Mapping[str, BinaryFacts],
    prefix: str,
    sees: str,
    lib: Libcni,
    refuse: Refusal = rejection,
) -> None:
    """IPAM and delegates run from inside the plugin; their errors surface through it (containernetworking/cni:pkg/invoke/delegate.go@v1.3.0; containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList))."""
    for dep in deps:
        dep_facts = facts.get(dep.type)
        if dep_facts is None:
            continue
        exact = dep.role == "ipam"
        via = f"{dep.type} runs inside {plugin.type}"
        error = dep_facts.error if dep_facts.problem else None  # the plugin's own libcni formats it
        if error:
            walk.fail(prefix + error, plugin.type, via, exact)
            return
        text = refuse(dep_facts, _sees_for(dep, sees))
        if text:
            walk.fail(prefix + text, plugin.type, via, exact)
            return


PROBE_BASIS = "version-probe"  # Step.basis: inferred from the VERSION probe, not from the verb itself
UNDECODABLE = ("unexpected end of JSON input", "invalid character ")
KILLED = "netplugin failed with no error message: signal: killed"  # killed at the deadline, silent


def probe_verb_error(info: BinaryFacts, lib: Libcni, verb: str) -> Tuple[Optional[str], str]:
    """What a binary whose VERSION probe failed most likely does on ``verb`` (issue 9, class 2):
    (text, "") for a failure, (None, "") when the verb succeeds, (None, why) when unknowable.

    The probe ran the same binary with the same exec path libcni uses for every verb
    (containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0 (ExecPlugin, pluginErr)):

    * a non-zero exit, a silent hang killed at the runtime's deadline or a crash on stderr gives
      the same `netplugin failed ...` text on ADD, CHECK and DEL;
    * exit 0 with empty or non-JSON stdout: ADD must type the result, `failed to unmarshal raw
      result: <json error>` (containernetworking/cni:pkg/invoke/exec.go@v1.1.1 (fixupResultVersion));
      CHECK and DEL ignore stdout (ExecPluginWithoutResult) and succeed.
    Anything else (an error object the plugin printed, a reply missing a field, a process that
    held stdout past the deadline) says nothing certain about the verbs.
    """
    error = info.probe_error or ""
    if _version_not_run(info):  # CNI505: not run from here, or refused as root
        return None, f"cnidoctor did not run {info.type} (see CNI505); only running {verb.upper()} could tell"
    if info.probe_timed_out and error != KILLED:
        # what a plugin printed before the kill, or whether a child keeps the runtime waiting
        # past its deadline, depends on timing
        return None, f"{info.type}'s VERSION probe timed out; what {verb.upper()} prints depends on timing"
    if error.startswith("netplugin failed") and lib.wraps_exec_errors:
        return error, ""
    reason = error[len("decoding version info: ") :] if error.startswith("decoding version info: ") else ""
    if reason.startswith(UNDECODABLE) and lib.at_least("1.1.1"):
        return (f"failed to unmarshal raw result: {reason}" if verb == "add" else None), ""
    return None, f"{info.type}'s VERSION probe failed ({error or 'no reply'}); only running {verb.upper()} could tell"


def _probe_failure(walk: _Walk, info: BinaryFacts, prefix: str, lib: Libcni, verb: str) -> None:
    text, unknown = probe_verb_error(info, lib, verb)
    if unknown:
        walk.doubt(unknown)
    elif text and walk.doubts:
        # an inference behind an unknowable earlier plugin is not committed to
        walk.doubt(f"{info.type} then most likely fails: {prefix}{text}")
    elif text:
        why = f"inferred from {info.type}'s VERSION probe: the same binary fails the same way on {verb.upper()}"
        walk.fail(prefix + text, info.type, why, basis=PROBE_BASIS)


def _lookup(walk: _Walk, info: Optional[BinaryFacts], ptype: str, prefix: str, lib: Libcni, probed: bool) -> None:
    """Step 1: libcni's FindInPath and exec (every verb)."""
    if info is None:
        if not probed:
            walk.doubt("plugins were not probed (--no-probe)")
        return
    error = info.lookup_error(lib)
    if error and info.problem == "invalid-name" and not lib.rejects_path_in_type:
        walk.doubt(f"libcni {lib.version} executes a type containing a path ({ptype}, CVE-2021-20206)")
    elif error:
        walk.fail(prefix + error, ptype)


def _add_plugin(
    walk: _Walk, plugin: PluginConf, ctx: _Context, previous: Tuple[Optional[str], Optional[str]]
) -> Optional[str]:
    """One plugin's ADD, in code order; returns the result version it hands on (None: unknowable)."""
    lib, sees = ctx.lib, ctx.sees
    ptype = plugin.type or ""
    prefix = plugin_prefix(plugin, "add", lib)
    info = ctx.facts.get(ptype)
    _lookup(walk, info, ptype, prefix, lib, ctx.probed)
    if lib.at_least("0.8.0") and ctx.name_problem:
        # utils.ValidateNetworkName inside addNetwork, before the plugin runs (cni@v1.1.2 libcni/api.go:402)
        walk.fail(prefix + ctx.name_problem[0], ptype, "libcni validates the network name before every ADD")
    _skel_name(walk, info, plugin, ctx.name_problem, prefix)
    if info is not None:
        text = rejection(info, sees)
        if text:
            walk.fail(prefix + text, ptype)
        if info.probed and not info.probe_ok:
            _probe_failure(walk, info, prefix, lib, "add")
    _apply_known(walk, ctx.known, plugin, "body", "add", prefix)
    _apply_node_state(walk, ctx.node_state, plugin, "body", prefix)
    # chained prevResult (libcni >= 1.0 passes the previous result in its own version)
    result_before, type_before = previous
    if type_before is not None and not lib.result_typed_by_config:
        if result_before is None:
            walk.doubt(
                f"{type_before} does not negotiate versions: the result version it hands to {ptype} "
                "is unknowable without running it (`could not parse prevResult: ...` if it differs)"
            )
        elif result_before != sees and info is not None and info.negotiates:
            family = prev_result_family(sees, info.reply_version)
            if family is not None and result_before not in family:
                text, exact = prev_result_error(family, result_before, ptype)
                walk.fail(
                    prefix + text,
                    ptype,
                    f"libcni {lib.version} hands on {type_before}'s result as {result_before}, not the list's {sees}",
                    exact,
                )
    _dependents_walk(walk, plugin, _dependents(ctx.binaries, plugin.index), ctx.facts, prefix, sees, lib)
    _apply_known(walk, ctx.known, plugin, "ipam", "add", prefix)
    _apply_node_state(walk, ctx.node_state, plugin, "ipam", prefix)
    # the runtime types this plugin's stdout (containernetworking/cni:pkg/invoke/exec.go@v1.1.2 (fixupResultVersion); containernetworking/cni#895)
    result = known_result_version(info, sees, lib)
    typed = (ctx.version or "0.1.0") if lib.result_typed_by_config else result
    if typed is not None and typed not in lib.result_versions and try_parse(typed) is not None:
        walk.fail(
            prefix + f"unsupported CNI result version {go_quote(typed)}",
            ptype,
            f"libcni {lib.version} knows result versions up to {lib.current}; the plugin already did its work (leak)",
        )
    return result


@dataclass(frozen=True)
class _Context:
    """What every plugin of one verb's walk needs to know."""

    lib: Libcni
    version: str
    sees: str
    facts: Mapping[str, BinaryFacts]
    probed: bool
    binaries: Tuple[Executed, ...]
    known: Tuple[KnownRefusal, ...]
    name: str
    name_problem: Optional[Tuple[str, str]]
    node_state: Tuple[NodeRefusal, ...] = ()


def _context(
    parsed: ParsedFile,
    network: NetworkList,
    loaded: LoadedList,
    release: RuntimeRelease,
    facts: Mapping[str, BinaryFacts],
    probed: bool,
    static: Sequence[Finding],
    node_state: Sequence[NodeRefusal] = (),
) -> _Context:
    name = network_name(network, parsed, release)
    return _Context(
        release.libcni,
        loaded.version,
        plugin_sees(loaded.version),
        facts,
        probed,
        executed_binaries(network),
        known_refusals(network, static),
        name,
        name_errors(name),
        tuple(node_state),
    )


def _add_step(network: NetworkList, release: RuntimeRelease, ctx: _Context, loopback: bool = True) -> Step:
    """``loopback``: False leaves out the runtime's own loopback network (what the default
    network alone gives, for a runtime that attaches both concurrently)."""
    walk = _Walk()
    if loopback:
        _loopback(walk, release, ctx.facts, "add")
    previous: Tuple[Optional[str], Optional[str]] = (None, None)
    for plugin in network.plugins:
        if walk.failure is not None:
            break  # AddNetworkList returns at the first failing plugin
        result = _add_plugin(walk, plugin, ctx, previous)
        previous = (result, plugin.type or "")
    wrap = {
        "containerd": kubelet_view.SETUP,
        "crio": f'failed to create pod network sandbox k8s_<pod>({SANDBOX}): error adding pod <namespace>_<pod> to CNI network "{ctx.name}": {{error}}',
        "dockershim": 'networkPlugin cni failed to set up pod "<pod>_<namespace>" network: {error}',
    }.get(release.runtime)
    return walk.result(wrap)


# ---------------------------------------------------------------------------------------------
# CHECK


def _check_plugins(walk: _Walk, network: NetworkList, ctx: _Context) -> None:
    for plugin in network.plugins:  # CHECK errors are returned bare (cni@v1.0.1 libcni/api.go:474-478)
        info = ctx.facts.get(plugin.type or "")
        _lookup(walk, info, plugin.type or "", "", ctx.lib, True)
        _skel_name(walk, info, plugin, ctx.name_problem, "")
        if info is not None and info.probed and not info.probe_ok:
            _probe_failure(walk, info, "", ctx.lib, "check")
        text = check_refusal(info, ctx.sees)
        if text:
            walk.fail(text, plugin.type)
        _apply_known(walk, ctx.known, plugin, "body", "check", "")
        _dependents_walk(
            walk, plugin, _dependents(ctx.binaries, plugin.index), ctx.facts, "", ctx.sees, ctx.lib, check_refusal
        )
        _apply_known(walk, ctx.known, plugin, "ipam", "check", "")
        if walk.failure is not None:
            return


def never_sends_check(release: RuntimeRelease) -> bool:
    """containerd (go-cni) and dockershim never call CheckNetworkList; libcni < 0.7 has no CHECK."""
    return not release.calls_check or not release.libcni.has_check


def check_not_sent(release: RuntimeRelease) -> Step:
    return Step("not_sent", called=False, detail=f"{release.display} never sends CNI CHECK")


def _check_step(network: NetworkList, loaded: LoadedList, release: RuntimeRelease, ctx: _Context) -> Step:
    lib = release.libcni
    if never_sends_check(release):
        return check_not_sent(release)
    version = loaded.version
    walk = _Walk()
    if not ctx.probed:
        walk.doubt("plugins were not probed (--no-probe)")
    gate = _parse_gate(version, lib)
    below = gate is None and parse_version(version or "0.1.0") < (0, 4, 0)
    if release.runtime == "crio":
        wrap = (
            f"failed to get network status for pod sandbox k8s_<pod>({SANDBOX}): "
            f'error checking pod <namespace>_<pod> for CNI network "{ctx.name}": {{error}}'
        )
        if gate:
            walk.fail(gate, None, "ocicni's version gate before CHECK: pod creation fails right after ADD")
            return walk.result(wrap)
        if below:
            return Step(
                "not_sent", called=False, detail="list < 0.4.0: CRI-O reads the pod's netns instead of sending CHECK"
            )
    else:
        wrap = None
        if gate:
            walk.fail(gate, None)
            return walk.result()
        if below:
            walk.fail(f"configuration version {go_quote(version)} does not support the CHECK command", None)
            return walk.result()
    if loaded.disable_check:
        return Step("ok", detail="disableCheck: true - libcni returns before running any plugin")
    cache = cache_lookup_error(ctx.name, ctx.lib)
    if cache:
        walk.fail(cache, None, "libcni looks up the cached result before running any plugin")
        return walk.result(wrap)
    _check_plugins(walk, network, ctx)
    step = walk.result(wrap)
    return step if step.outcome != "ok" else Step("ok", detail="only reached when ADD succeeded")


# ---------------------------------------------------------------------------------------------
# DEL


def cache_lookup_error(name: str, lib: Libcni) -> Optional[str]:
    """libcni's cached-result lookup for a nameless network (a single .conf without "name",
    issue 9 class 4): CHECK, and DEL of lists >= 0.4.0 before v1.2.0, fail before any plugin runs
    (containernetworking/cni:libcni/api.go@v1.1.2 (getCacheFilePath, CheckNetworkList,
    DelNetworkList); from v0.8.0, which added the path check). The runtime picks the container ID
    and names the pod's default interface eth0."""
    if name or not lib.at_least("0.8.0"):
        return None
    return (
        'failed to get network "" cached result: cache file path requires network name (""), '
        f'container ID ("{SANDBOX}"), and interface name ("eth0")'
    )


def _del_plugin(walk: _Walk, plugin: PluginConf, ctx: _Context) -> None:
    info = ctx.facts.get(plugin.type or "")
    prefix = plugin_prefix(plugin, "delete", ctx.lib)
    if info is not None:  # not probed: the doubt is recorded once by _del
        _lookup(walk, info, plugin.type or "", prefix, ctx.lib, True)
    _skel_name(walk, info, plugin, ctx.name_problem, prefix)
    if info is not None and info.probed and not info.probe_ok:
        _probe_failure(walk, info, prefix, ctx.lib, "del")
    text = rejection(info, ctx.sees)
    if text:
        walk.fail(prefix + text, plugin.type)
    _apply_known(walk, ctx.known, plugin, "body", "del", prefix)
    _dependents_walk(walk, plugin, _dependents(ctx.binaries, plugin.index), ctx.facts, prefix, ctx.sees, ctx.lib)
    _apply_known(walk, ctx.known, plugin, "ipam", "del", prefix)


def _del_step(network: NetworkList, loaded: LoadedList, release: RuntimeRelease, ctx: _Context) -> Step:
    lib = release.libcni
    walk = _Walk()
    wrap = {
        "containerd": kubelet_view.DESTROY,
        "crio": f'error removing pod <namespace>_<pod> from CNI network "{ctx.name}": {{error}}',
    }.get(release.runtime)
    _loopback(walk, release, ctx.facts, "delete")
    if lib.has_check:
        gate = _parse_gate(loaded.version, lib)
        if gate:
            # DelNetworkList's gate precedes the plugin loop: no prefix in any release (containernetworking/cni:libcni/api.go@v1.3.0 (plugin type=... failed wrapper))
            walk.fail(gate, None, "teardown stops before any plugin runs: the IP lease and cache file leak")
            return walk.result(wrap)
        cache = cache_lookup_error(ctx.name, lib)
        newer = try_parse(loaded.version or "")
        if cache and not lib.at_least("1.2.0") and newer is not None and newer >= (0, 4, 0):
            # v1.2.0 drops a failed lookup and runs the plugins without a cached result
            # (containernetworking/cni:libcni/api.go@v1.2.3 (DelNetworkList))
            walk.fail(cache, None, "teardown stops before any plugin runs: the IP lease leaks")
            return walk.result(wrap)
    if not ctx.probed:
        walk.doubt("plugins were not probed (--no-probe)")
    for plugin in reversed(network.plugins):  # DEL runs the chain in reverse
        _del_plugin(walk, plugin, ctx)
        if walk.failure is not None:
            break
    return walk.result(wrap)


# ---------------------------------------------------------------------------------------------
# STATUS


def status_error(info: BinaryFacts) -> Tuple[Optional[str], bool]:
    """What an old skel answers to CNI_COMMAND=STATUS (containernetworking/cni:pkg/skel/skel.go@v1.1.2; containernetworking/cni:pkg/skel/skel.go@v1.3.0): skel 0.8-1.1
    (VERSION reply 0.4.0 from plugins >= 0.8.7, or 1.0.0) says `missing containerID`; skel <= 0.7
    `unknown CNI_COMMAND: STATUS`. A 0.4.0 reply can be either (plugins 0.8.0-0.8.6 vendor 0.7)."""
    reply = info.reply_version
    parsed = try_parse(reply) if reply else None
    if parsed is None or parsed >= (1, 1, 0):
        return None, True
    if parsed >= (1, 0, 0):
        return "missing containerID", True
    if parsed >= (0, 4, 0):
        return "missing containerID", False
    return "unknown CNI_COMMAND: STATUS", True


def _status_step(
    network: NetworkList, loaded: LoadedList, release: RuntimeRelease, facts: Mapping[str, BinaryFacts], probed: bool
) -> Step:
    version = loaded.version
    parsed = try_parse(version) if version else None
    if parsed is None or parsed < (1, 1, 0):
        return Step("not_sent", called=False, detail="STATUS is sent only for lists >= 1.1.0")
    walk = _Walk()
    if not probed:
        walk.doubt("plugins were not probed (--no-probe)")
    for plugin in network.plugins:
        info = facts.get(plugin.type or "")
        if info is None:
            continue
        error = info.lookup_error(release.libcni)
        if error:
            walk.fail(error, plugin.type)
            break
        text, exact = status_error(info)
        if text:
            walk.fail(
                text,
                plugin.type,
                f"{plugin.type} answers VERSION with {info.reply_version}: its skel predates STATUS",
                exact,
            )
            break
    return walk.result("NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: {error}")


# ---------------------------------------------------------------------------------------------


def predict(
    parsed: ParsedFile,
    modelled: Modelled,
    facts: Mapping[str, BinaryFacts],
    *,
    probed: bool,
    static: Sequence[Finding] = (),
    node_state: Sequence[NodeRefusal] = (),
) -> Dict[StepName, Step]:
    """Every step for ``parsed`` on ``modelled`` (facts: by type; empty when not probed).
    ``static``: the file's static findings; those in PLUGIN_SIDE_FINDINGS feed the verbs."""
    release = modelled.release
    lib = release.libcni
    network = lib_view(parsed, lib).network
    loaded = list_version(network, parsed.document, lib) if network is not None else None
    load = _load_step(parsed, release, loaded, facts, probed)
    if network is None or loaded is None or loaded.error:
        if load.outcome == "unknown":
            rest = Step("unknown", detail="depends on whether the config loads")
        else:
            rest = Step("fail", detail="not reached: the config does not load")
        check = check_not_sent(release) if never_sends_check(release) else rest
        return kubelet_view.annotate(
            {"load": load, "add": rest, "check": check, "del": rest}, release.runtime, modelled.version
        )
    ctx = _context(parsed, network, loaded, release, facts, probed, static, node_state)
    add = _add_step(network, release, ctx)
    steps: Dict[StepName, Step] = {
        "load": load,
        "add": add,
        "check": _check_step(network, loaded, release, ctx),
        "del": _del_step(network, loaded, release, ctx),
    }
    if release.runs_status and lib.has_status_gc:
        steps["status"] = _status_step(network, loaded, release, facts, probed)
    # the default network alone, for a runtime that attaches its loopback network concurrently
    alone = _add_step(network, release, ctx, loopback=False) if add.plugin == "loopback" else None
    ipless = ipless_result(network, ctx) if add.outcome == "ok" else None
    if ipless is not None:
        steps["add"] = replace(add, plugin=ipless, detail=_ipless_detail(ipless, ctx))
    return kubelet_view.annotate(steps, release.runtime, modelled.version, alone, no_pod_ip=ipless is not None)


def _ipless_detail(ptype: str, ctx: _Context) -> str:
    typed = (ctx.version or "0.1.0") if ctx.lib.result_typed_by_config else ctx.sees
    return (
        f"libcni's ADD succeeds, but its result holds no IP for the pod: {ptype} prints a 0.2.0-era result "
        f"(`ip4`/`ip6`, no cniVersion) that libcni {ctx.lib.version} types as {typed}, a result type without "
        "`ip4`/`ip6`"
    )


def prediction(
    parsed: ParsedFile,
    modelled: Modelled,
    facts: Mapping[str, BinaryFacts],
    *,
    probed: bool,
    static: Sequence[Finding] = (),
    node_state: Sequence[NodeRefusal] = (),
) -> Prediction:
    """The report's prediction for ``parsed``, the file the runtime's loader ends up with (see
    the module docstring for what that is per runtime)."""
    release = modelled.release
    steps = predict(parsed, modelled, facts, probed=probed, static=static, node_state=node_state)
    network = lib_view(parsed, release.libcni).network
    loaded = list_version(network, parsed.document, release.libcni) if network is not None else None
    selection: SelectionRule = "first-file" if release.runtime in FIRST_FILE_RUNTIMES else "first-loadable"
    return Prediction(
        runtime=ModelledRuntime(
            name=release.runtime,
            version=modelled.version,
            libcni=release.libcni.version,
            release=release.label,
            glue=release.glue,
        ),
        selected_file=parsed.path,
        selection=selection,
        list_version=loaded.version if loaded is not None else None,
        steps=tuple(steps.items()),
    )


# ---------------------------------------------------------------------------------------------
# no config at all


def _runtime_of(modelled: Modelled) -> ModelledRuntime:
    release = modelled.release
    return ModelledRuntime(
        name=release.runtime,
        version=modelled.version,
        libcni=release.libcni.version,
        release=release.label,
        glue=release.glue,
    )


def crio_no_network_text(release: RuntimeRelease, conf_dir: str) -> str:
    """ocicni's Status() and pod-setup error when it has no default network, in the release's
    wording (errMissingDefaultNetwork, cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3; `No ...` up to
    the commit CRI-O 1.28 vendors). Measured per generation by tests/test_ocicni_recorded.py."""
    lead = "no" if release.lowercase_no_config else "No"
    return f"{lead} CNI configuration file in {conf_dir}. Has your network provider started?"


def _crio_without_another(release: RuntimeRelease, path: str) -> str:
    if release.runtime != "crio":
        return ""
    return f"; without one: `{crio_no_network_text(release, os.path.dirname(path))}`"


def no_config_step(release: RuntimeRelease, conf_dir: str) -> Step:
    """The load step when the config directory holds no file the runtime reads (empty, missing,
    or only other extensions; libcni ConfFiles returns no error for a missing directory,
    containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles))."""
    detail = "no network config: the node stays NotReady and every pod waits for its network"
    if release.runtime in FIRST_FILE_RUNTIMES:
        # containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir; v1.0.x wraps the same words with
        # errors.Wrapf); containerd's Load adds `cni config load failed: %v: %w`
        # (containerd/go-cni:cni.go@v1.1.13 (Load)).
        text = f"no network config found in {conf_dir}: cni plugin not initialized"
        wrapped = f"cni config load failed: {text}: failed to load cni config"
        return Step("fail", text, wrapped=wrapped if release.runtime == "containerd" else None, detail=detail)
    if release.runtime == "crio":
        # CRI-O prints its network_dir setting verbatim (its default has a trailing slash)
        return Step("fail", crio_no_network_text(release, conf_dir), exact=False, detail=detail)
    return Step(
        "fail",
        "cni config uninitialized",
        wrapped="network plugin is not ready: cni config uninitialized",
        detail=detail,
    )


def config_dir(parsed: Sequence[ParsedFile], paths: Sequence[str]) -> Optional[str]:
    """The one config directory checked when the runtime's loader finds nothing in it (None:
    files were named one by one, or several paths were given). A directory that does not exist
    counts: the runtimes read it as empty."""
    if len(paths) != 1 or os.path.isfile(paths[0]):
        return None
    return paths[0]


def no_config_prediction(modelled: Modelled, conf_dir: str) -> Prediction:
    """The prediction when the runtime finds no network config at all (issue 9, class 1): the
    load fails with the runtime's own text and no verb is reached."""
    release = modelled.release
    rest = Step("fail", detail="not reached: there is no network config")
    check = check_not_sent(release) if never_sends_check(release) else rest
    steps: Dict[StepName, Step] = {"load": no_config_step(release, conf_dir), "add": rest, "check": check, "del": rest}
    steps = kubelet_view.annotate(steps, release.runtime, modelled.version)
    selection: SelectionRule = "first-file" if release.runtime in FIRST_FILE_RUNTIMES else "first-loadable"
    return Prediction(
        runtime=_runtime_of(modelled),
        selected_file=None,
        selection=selection,
        list_version=None,
        steps=tuple(steps.items()),
    )
