"""Predict a pod's network life on one modelled runtime: config load, ADD, CHECK, DEL (+ STATUS
where the runtime runs it), each with outcome ok | fail | unknown and, for fail, the exact text.

Representation (the report's "prediction"):

    {"runtime": {"name", "version", "libcni", "release", "glue"}, "selected_file", "list_version",
     "steps": {"load"|"add"|"check"|"del"[|"status"]: {"outcome", "error", ...}}}

* ``outcome``: "ok", "fail" or "unknown" (only running the plugin could tell).
* ``error``: for "fail", the text the runtime's CNI library returns (go-cni's/ocicni's own text
  for load), paths included; None otherwise.
* ``wrapped``: the runtime's outer message around ``error`` when it adds one, with
  ``<sandbox-id>``/``<pod>``/``<namespace>`` placeholders for values only a real pod has.
* ``called``: False when the runtime never performs the step (containerd and dockershim never
  send CHECK; CRI-O skips CNI CHECK for lists < 0.4.0); the outcome is then "ok".
* ``exact``: False when the inner text is known but a component may add words of its own
  (e.g. a meta plugin relaying its delegate's error).
* ``detail``: why, in words; ``plugin``: the plugin type the failure is blamed on.

Ground truth: cni-facts.md §10 (measured): libcni >= 1.0 wraps ADD/DEL per-plugin errors as
`plugin type="X" failed (add|delete): `, CHECK/STATUS errors and the version gate before the
plugin loop are bare; DEL runs in reverse; IPAM skew is reported through the main plugin.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .crosscheck import (
    BinaryFacts,
    Executed,
    LoadedList,
    executed_binaries,
    go_dirs,
    go_quote,
    list_version,
    plugin_sees,
    prev_result_error,
    prev_result_family,
    rejection,
    validate_error,
)
from .model import NetworkList, ParsedFile, PluginConf
from .runtimes import Libcni, Modelled, RuntimeRelease
from .versions import VersionError, parse_version, try_parse

__all__ = ["Step", "predict", "prediction_dict"]

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$")
SANDBOX = "<sandbox-id>"


@dataclass(frozen=True)
class Step:
    outcome: str
    error: Optional[str] = None
    wrapped: Optional[str] = None
    called: bool = True
    exact: bool = True
    plugin: Optional[str] = None
    detail: str = ""

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"outcome": self.outcome, "error": self.error}
        if self.wrapped is not None:
            out["wrapped"] = self.wrapped
        if not self.called:
            out["called"] = False
        if not self.exact:
            out["exact"] = False
        if self.plugin is not None:
            out["plugin"] = self.plugin
        if self.detail:
            out["detail"] = self.detail
        return out


OK = Step("ok")


@dataclass
class _Walk:
    """Accumulates a verb's walk over the chain: the first definite failure, or doubts."""

    doubts: List[str] = field(default_factory=list)
    failure: Optional[Step] = None

    def fail(self, error: str, plugin: Optional[str], detail: str = "", exact: bool = True) -> None:
        if self.failure is None:
            self.failure = Step("fail", error, plugin=plugin, detail=detail, exact=exact)

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
            return Step("fail", step.error, wrapped, True, step.exact, step.plugin, detail)
        if self.doubts:
            return Step("unknown", detail="; ".join(self.doubts))
        return OK


# ---------------------------------------------------------------------------------------------
# helpers


def _raw_name(plugin: PluginConf) -> str:
    """The plugin object's own `name` (Go case-insensitive field match), shown by
    pluginDescription (cni@v1.0.1 libcni/api.go:517-528)."""
    value = None
    for key, item in plugin.raw.items():
        if key.lower() == "name":
            value = item
    return value if isinstance(value, str) else ""


def _prefix(plugin: PluginConf, verb: str, lib: Libcni) -> str:
    if not lib.wraps_plugin_errors:
        return ""
    desc = f"type={go_quote(plugin.type or '')}"
    name = _raw_name(plugin)
    if name:
        desc += f" name={go_quote(name)}"
    return f"plugin {desc} failed ({verb}): "


def _loopback_prefix(verb: str, lib: Libcni) -> str:
    return f'plugin type="loopback" failed ({verb}): ' if lib.wraps_plugin_errors else ""


def _parse_gate(version: str, lib: Libcni) -> Optional[str]:
    """version.GreaterThanOrEqualTo's ParseVersion error, as DEL/CHECK meet it (§3.1)."""
    try:
        parse_version(version, empty_is_010=not lib.empty_version_breaks_teardown)
    except VersionError as exc:
        return str(exc)
    return None


def _known_result_version(facts: Optional[BinaryFacts], sees: str) -> Optional[str]:
    """The version a plugin's ADD result carries: the config's for negotiating plugins (skel
    plugins print `types.PrintResult(result, conf.CNIVersion)`); a legacy 0.2.0 replier prints
    0.2.0; anything else is unknowable without running it (None)."""
    if facts is None or facts.negotiates or not facts.probed:
        return sees
    if facts.legacy and facts.reply_version == "0.2.0":
        return "0.2.0"
    return None


def _dependents(binaries: Sequence[Executed], index: int) -> List[Executed]:
    return [b for b in binaries if b.index == index and b.role != "plugin"]


def _sees_for(binary: Executed, sees: str) -> str:
    return plugin_sees(binary.own_version or "") if binary.has_own_version else sees


# ---------------------------------------------------------------------------------------------
# load


def _load(parsed: ParsedFile, release: RuntimeRelease, loaded: Optional[LoadedList],
          facts: Mapping[str, BinaryFacts], probed: bool) -> Step:
    lib = release.libcni
    path = os.path.abspath(parsed.path)
    kind = "config list file" if parsed.candidate.kind == "conflist" else "config file"
    error = parsed.load_error if parsed.network is None else (loaded.error if loaded else None)
    if error:
        if lib.load_error_capital:
            error = error.replace("failed to parse plugin config", "Failed to parse plugin config")
        if release.runtime == "containerd":
            text = f"failed to load CNI {kind} {path}: {error}: invalid cni config"
            return Step("fail", text, wrapped=f"cni config load failed: {text}: failed to load cni config",
                        detail="go-cni stops at the first file that fails to load: the node stays NotReady")
        if release.runtime in ("crio", "dockershim"):
            return Step("fail", f"Error loading CNI {kind} {path}: {error}",
                        exact=release.runtime == "crio",
                        detail=f"{release.display} logs this and skips the file; the next valid file becomes the default network")
        return Step("fail", error)
    network = parsed.network
    assert network is not None and loaded is not None
    if not release.validates_on_load:
        return OK
    if not probed:
        return Step("unknown", detail=f"{release.display} runs VERSION on every plugin at load; run with probing")
    errors: List[str] = []
    for plugin in network.plugins:
        problem = validate_error(facts.get(plugin.type or ""), plugin.type or "", loaded.version, lib)
        if problem:
            errors.append(problem)
    if not errors:
        return OK
    joined = "[" + " ".join(errors) + "]"
    if release.runtime == "crio":
        return Step("fail", f"Error validating CNI config file {path}: {joined}",
                    detail="CRI-O (ocicni ValidateNetworkList) logs this and skips the file; without another valid file: "
                           f"`no CNI configuration file in {os.path.dirname(path)}/. Has your network provider started?`")
    return Step("fail", f"Error validating CNI config list {path}: {joined}", exact=False,
                detail="kubelet skips the file; without another valid file the node reports `cni config uninitialized`")


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
    prefix = _loopback_prefix(verb, lib)
    error = lo.lookup_error(lib)
    if error:
        walk.fail(prefix + error, "loopback", f"the runtime's built-in loopback network runs first")
        return
    if release.loopback_version:
        text = rejection(lo, release.loopback_version)
        if text:
            walk.fail(prefix + text, "loopback",
                      f"{release.label} configures its loopback network as cniVersion {release.loopback_version}")


def _dependents_walk(walk: _Walk, plugin: PluginConf, deps: Sequence[Executed], facts: Mapping[str, BinaryFacts],
                     prefix: str, sees: str, lib: Libcni) -> None:
    """IPAM and delegates run from inside the plugin; their errors surface through it (§10.5)."""
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
        text = rejection(dep_facts, _sees_for(dep, sees))
        if text:
            walk.fail(prefix + text, plugin.type, via, exact)
            return


def _add(network: NetworkList, loaded: LoadedList, release: RuntimeRelease,
         facts: Mapping[str, BinaryFacts], probed: bool) -> Step:
    lib = release.libcni
    walk = _Walk()
    _loopback(walk, release, facts, "add")
    version = loaded.version
    sees = plugin_sees(version)
    binaries = executed_binaries(network)
    name = network.name or ""
    previous: Optional[str] = None
    previous_type: Optional[str] = None
    for plugin in network.plugins:
        ptype = plugin.type or ""
        prefix = _prefix(plugin, "add", lib)
        if lib.at_least("0.8.0") and name and not NAME_PATTERN.match(name):
            # utils.ValidateNetworkName inside addNetwork (cni@v1.0.1 libcni/api.go:398-400)
            walk.fail(prefix + f"invalid characters found in network name; {name}", ptype)
        info = facts.get(ptype)
        if info is None and not probed:
            walk.doubt("plugins were not probed (--no-probe)")
        elif info is not None:
            error = info.lookup_error(lib)
            if error and info.problem == "invalid-name" and not lib.rejects_path_in_type:
                walk.doubt(f"libcni {lib.version} executes a type containing a path ({ptype}, CVE-2021-20206)")
            elif error:
                walk.fail(prefix + error, ptype)
            text = rejection(info, sees)
            if text:
                walk.fail(prefix + text, ptype)
            if info.probed and not info.probe_ok:
                walk.doubt(f"{ptype}'s VERSION probe failed; libcni does not gate ADD on VERSION")
        # chained prevResult (libcni >= 1.0 passes the previous result in its own version)
        if previous_type is not None and not lib.result_typed_by_config:
            if previous is None:
                walk.doubt(f"{previous_type} does not negotiate versions: the result version it hands to {ptype} "
                           "is unknowable without running it (`could not parse prevResult: ...` if it differs)")
            elif previous != sees and info is not None and info.negotiates:
                family = prev_result_family(sees, info.reply_version)
                if family is not None and previous not in family:
                    walk.fail(prefix + prev_result_error(family, previous), ptype,
                              f"{previous_type} answers in {previous}, not the list's {sees}")
        _dependents_walk(walk, plugin, _dependents(binaries, plugin.index), facts, prefix, sees, lib)
        # the runtime types this plugin's stdout (cni-facts §1.7)
        result = _known_result_version(info, sees)
        typed = (version or "0.1.0") if lib.result_typed_by_config else result
        if typed is not None and typed not in lib.result_versions and try_parse(typed) is not None:
            walk.fail(prefix + f"unsupported CNI result version {go_quote(typed)}", ptype,
                      f"libcni {lib.version} knows result versions up to {lib.current}; the plugin already did its work (leak)")
        previous, previous_type = result, ptype
    wrap = {
        "containerd": f'failed to setup network for sandbox "{SANDBOX}": {{error}}',
        "crio": f'failed to create pod network sandbox k8s_<pod>({SANDBOX}): error adding pod <namespace>_<pod> to CNI network "{name}": {{error}}',
        "dockershim": 'networkPlugin cni failed to set up pod "<pod>_<namespace>" network: {error}',
    }.get(release.runtime)
    return walk.result(wrap)


# ---------------------------------------------------------------------------------------------
# CHECK


def _check_plugins(walk: _Walk, network: NetworkList, sees: str, facts: Mapping[str, BinaryFacts], lib: Libcni) -> None:
    binaries = executed_binaries(network)
    for plugin in network.plugins:  # CHECK errors are returned bare (cni@v1.0.1 libcni/api.go:474-478)
        info = facts.get(plugin.type or "")
        if info is None:
            continue
        error = info.lookup_error(lib)
        if error:
            walk.fail(error, plugin.type)
            return
        text = rejection(info, sees)
        if text:
            walk.fail(text, plugin.type)
            return
        _dependents_walk(walk, plugin, _dependents(binaries, plugin.index), facts, "", sees, lib)


def _check(network: NetworkList, loaded: LoadedList, release: RuntimeRelease,
           facts: Mapping[str, BinaryFacts], probed: bool) -> Step:
    lib = release.libcni
    if not release.calls_check or not lib.has_check:
        who = release.display
        return Step("ok", called=False, detail=f"{who} never sends CNI CHECK")
    version = loaded.version
    walk = _Walk()
    if not probed:
        walk.doubt("plugins were not probed (--no-probe)")
    gate = _parse_gate(version, lib)
    below = gate is None and parse_version(version or "0.1.0") < (0, 4, 0)
    if release.runtime == "crio":
        name = network.name or ""
        wrap = (f"failed to get network status for pod sandbox k8s_<pod>({SANDBOX}): "
                f'error checking pod <namespace>_<pod> for CNI network "{name}": {{error}}')
        if gate:
            walk.fail(gate, None, "ocicni's version gate before CHECK: pod creation fails right after ADD")
            return walk.result(wrap)
        if below:
            return Step("ok", called=False, detail="list < 0.4.0: CRI-O reads the pod's netns instead of sending CHECK")
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
    _check_plugins(walk, network, plugin_sees(version), facts, lib)
    step = walk.result(wrap)
    return step if step.outcome != "ok" else Step("ok", detail="only reached when ADD succeeded")


# ---------------------------------------------------------------------------------------------
# DEL


def _del(network: NetworkList, loaded: LoadedList, release: RuntimeRelease,
         facts: Mapping[str, BinaryFacts], probed: bool) -> Step:
    lib = release.libcni
    walk = _Walk()
    name = network.name or ""
    wrap = {
        "containerd": f'failed to destroy network for sandbox "{SANDBOX}": {{error}}',
        "crio": f'error removing pod <namespace>_<pod> from CNI network "{name}": {{error}}',
    }.get(release.runtime)
    _loopback(walk, release, facts, "delete")
    version = loaded.version
    if lib.has_check:
        gate = _parse_gate(version, lib)
        if gate:
            # DelNetworkList's gate precedes the plugin loop: no prefix in any release (§10.2)
            walk.fail(gate, None, "teardown stops before any plugin runs: the IP lease and cache file leak")
            return walk.result(wrap)
    if not probed:
        walk.doubt("plugins were not probed (--no-probe)")
    sees = plugin_sees(version)
    binaries = executed_binaries(network)
    for plugin in reversed(network.plugins):  # DEL runs the chain in reverse
        info = facts.get(plugin.type or "")
        prefix = _prefix(plugin, "delete", lib)
        if info is not None:
            error = info.lookup_error(lib)
            if error:
                walk.fail(prefix + error, plugin.type)
                break
            text = rejection(info, sees)
            if text:
                walk.fail(prefix + text, plugin.type)
                break
        _dependents_walk(walk, plugin, _dependents(binaries, plugin.index), facts, prefix, sees, lib)
        if walk.failure is not None:
            break
    return walk.result(wrap)


# ---------------------------------------------------------------------------------------------
# STATUS


def status_error(info: BinaryFacts) -> Tuple[Optional[str], bool]:
    """What an old skel answers to CNI_COMMAND=STATUS (cni-facts §3.2 #41/#42): skel 0.8-1.1
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


def _status(network: NetworkList, loaded: LoadedList, release: RuntimeRelease,
            facts: Mapping[str, BinaryFacts], probed: bool) -> Step:
    version = loaded.version
    parsed = try_parse(version) if version else None
    if parsed is None or parsed < (1, 1, 0):
        return Step("ok", called=False, detail="STATUS is sent only for lists >= 1.1.0")
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
            walk.fail(text, plugin.type, f"{plugin.type} answers VERSION with {info.reply_version}: its skel predates STATUS", exact)
            break
    return walk.result("NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: {error}")


# ---------------------------------------------------------------------------------------------


def predict(parsed: ParsedFile, modelled: Modelled, facts: Mapping[str, BinaryFacts], *, probed: bool) -> Dict[str, Step]:
    """Every step for ``parsed`` on ``modelled`` (facts: by type; empty when not probed)."""
    release = modelled.release
    lib = release.libcni
    network = parsed.network
    loaded = list_version(network, parsed.document, lib) if network is not None else None
    load = _load(parsed, release, loaded, facts, probed)
    if network is None or loaded is None or loaded.error:
        unreached = Step("fail", detail="not reached: the config does not load")
        steps = {"load": load, "add": unreached, "check": unreached, "del": unreached}
        return steps
    steps = {
        "load": load,
        "add": _add(network, loaded, release, facts, probed),
        "check": _check(network, loaded, release, facts, probed),
        "del": _del(network, loaded, release, facts, probed),
    }
    if release.runs_status and lib.has_status_gc:
        steps["status"] = _status(network, loaded, release, facts, probed)
    return steps


def prediction_dict(parsed: ParsedFile, modelled: Modelled, facts: Mapping[str, BinaryFacts], *,
                    probed: bool) -> Dict[str, Any]:
    """The report's "prediction" object."""
    release = modelled.release
    steps = predict(parsed, modelled, facts, probed=probed)
    loaded = (list_version(parsed.network, parsed.document, release.libcni)
              if parsed.network is not None else None)
    return {
        "runtime": {
            "name": release.runtime,
            "version": modelled.version,
            "libcni": release.libcni.version,
            "release": release.label,
            "glue": release.glue,
        },
        "selected_file": parsed.path,
        "list_version": loaded.version if loaded is not None else None,
        "steps": {name: step.as_dict() for name, step in steps.items()},
    }
