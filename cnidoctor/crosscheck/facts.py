"""Node stage: resolve every executed binary once, probe each path once (VERSION only),
cross-check versions against the plugins and the runtimes' libcni, predict the selected file.

Runtimes: ``options.runtimes`` (``--runtime containerd@1.6.3``, repeatable) select the releases
findings are computed for; without it every containerd and CRI-O release of the support matrix
(runtimes.DEFAULT_RUNTIMES, lines in use: runtimes.DEFAULT_SCOPE_FROM) is checked and findings name the affected ranges. The prediction
models one runtime: the first ``--runtime`` given, else runtimes.default_runtime() - the newest
CRI-O release when the node has /etc/crio and no /etc/containerd/config.toml, otherwise the
newest containerd release.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..model import Finding, ParsedFile, PluginConf, Selection, Severity
from ..rules import skew
from ..runtime import matrix as runtimes
from ..versions import SPEC_VERSIONS, go_quote_list, try_parse
from . import compare as crosscheck
from . import predict
from .compare import BinaryFacts, Executed, executed_binaries, list_version, plugin_sees, rejection

DEFAULT_BIN_DIR = "/opt/cni/bin"
LOOPBACK = "loopback"


@dataclass(frozen=True)
class NodeResult:
    findings: Tuple[Finding, ...] = ()
    prediction: Optional[Mapping[str, Any]] = None
    plugins: Tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class _Scope:
    releases: Tuple[runtimes.Modelled, ...]
    modelled: runtimes.Modelled
    findings: Tuple[Finding, ...]
    explicit: bool = False  # the user named the runtime(s) with --runtime


def _scope(options: Any) -> _Scope:
    """Parse --runtime; an unknown value becomes CNI519 and the defaults are used."""
    specs = tuple(getattr(options, "runtimes", ()) or ())
    try:
        releases = runtimes.select(specs)
        modelled = runtimes.modelled_for_prediction(specs)
        return _Scope(releases, modelled, (), explicit=bool(specs))
    except runtimes.RuntimeSpecError as exc:
        finding = skew.UNKNOWN_RUNTIME.at(None, "", str(exc))
        return _Scope(runtimes.select(()), runtimes.modelled_for_prediction(()), (finding,))


def _loadable(parsed: Sequence[ParsedFile]) -> List[ParsedFile]:
    return [p for p in parsed if p.network is not None]


def _bin_dirs(options: Any) -> Tuple[str, ...]:
    dirs = tuple(getattr(options, "bin_dirs", ()) or ()) or (DEFAULT_BIN_DIR,)
    return tuple(os.path.abspath(d) for d in dirs)


# ---------------------------------------------------------------------------------------------
# resolve + probe


def _gather(
    parsed: Sequence[ParsedFile], options: Any, scope: _Scope
) -> Tuple[Dict[str, BinaryFacts], List[Finding], List[Mapping[str, Any]]]:
    modelled = scope.modelled
    from ..plugins import elfinfo, probe, resolve
    from ..rules import binaries
    from ..rules import replies as probe_rules

    dirs = _bin_dirs(options)
    findings: List[Finding] = list(binaries.bin_dir_findings(dirs))
    occurrences: List[Tuple[ParsedFile, Executed]] = [
        (item, binary)
        for item in _loadable(parsed)
        for binary in executed_binaries(item.network)  # type: ignore[arg-type]
    ]
    types = list(dict.fromkeys([b.type for _, b in occurrences] + [LOOPBACK]))
    use_cache = bool(getattr(options, "use_cache", True))
    if use_cache:
        elfinfo.enable_disk_cache()
    resolutions = {t: resolve.find_in_path(t, dirs) for t in types}
    paths = [r.path for r in resolutions.values() if r.path is not None and r.problem is None]
    probes = probe.probe_all(
        paths,
        cni_version=modelled.release.libcni.current,
        timeout=float(getattr(options, "probe_timeout", 5.0)),
        use_cache=use_cache,
    )
    if use_cache:
        elfinfo.save_disk_cache()
    for item, binary in occurrences:
        res = resolutions[binary.type]
        if binary.implied:
            res = replace(res, type=binary.type)
        findings.extend(binaries.resolution_findings(res, item.path, binary.pointer))
        result = probes.get(res.path or "") if res.problem is None else None
        if result is not None:
            found = probe_rules.probe_findings(result, binary.type, item.path, binary.pointer)
            findings.extend(_weigh_probe_failure(f, binary, scope) for f in found)
    for directory in dirs:
        in_dir = {p: r for p, r in probes.items() if os.path.dirname(p) == directory}
        findings.extend(binaries.generation_findings(directory, in_dir))
    facts: Dict[str, BinaryFacts] = {}
    plugins: List[Mapping[str, Any]] = []
    for plugin_type, res in resolutions.items():
        result = probes.get(res.path or "") if res.problem is None else None
        facts[plugin_type] = BinaryFacts(
            type=plugin_type,
            path=res.path,
            problem=res.problem,
            error=res.error,
            exec_error=getattr(res, "exec_error", None),
            probed=result is not None,
            probe_ok=bool(result and result.ok),
            supported=tuple(result.supported) if result else (),
            reply_version=result.cni_version if result else None,
            legacy=bool(result and getattr(result, "legacy", False)),
            probe_error=result.error if result else None,
        )
        plugins.append(
            {
                "type": plugin_type,
                "path": res.path,
                "problem": res.problem,
                "error": res.error,
                "cni_version": result.cni_version if result else None,
                "supported": list(result.supported) if result else [],
                "probe_error": result.error if result else None,
                "from_cache": bool(result and result.from_cache),
            }
        )
    return facts, findings, plugins


def _weigh_probe_failure(finding: Finding, binary: Executed, scope: _Scope) -> Finding:
    """A rejected VERSION reply (CNI501) only hurts where the runtime asks VERSION: CRI-O and
    dockershim validate the *top-level* plugins of each file (ValidateNetworkList,
    containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList)); containerd never asks, and nobody asks IPAM or delegate binaries."""
    if finding.code != "CNI501":
        return finding
    if binary.role != "plugin":
        why = (
            f"only top-level plugins are validated, so this {binary.role} binary's reply harms no runtime; "
            "cnidoctor just cannot learn which versions it supports"
        )
    elif not any(m.release.validates_on_load for m in scope.releases):
        why = "no runtime in scope asks VERSION (containerd never does), so nothing fails today"
    else:
        return finding
    message = finding.message.split("; ", 1)[0] + "; " + why
    return replace(finding, severity=Severity.WARNING, message=message)


# ---------------------------------------------------------------------------------------------
# cross-check findings


def _ranges(items: Sequence[runtimes.Modelled]) -> str:
    return runtimes.compact_ranges([m.release for m in items])


def _plugin_at(item: ParsedFile, index: int) -> PluginConf:
    assert item.network is not None
    return item.network.plugins[index]


def _newest_lib(items: Sequence[runtimes.Modelled]) -> runtimes.Libcni:
    return max((m.release.libcni for m in items), key=lambda lib: lib.key)


def _rejections(
    item: ParsedFile, releases: Sequence[runtimes.Modelled], facts: Mapping[str, BinaryFacts]
) -> List[Finding]:
    """CNI511 per executed binary whose supported versions lack what it will be told: refused on
    ADD by the plugin (skel), and refused at load by validating runtimes (CRI-O, dockershim)."""
    assert item.network is not None
    groups: Dict[Tuple[str, str], List[Tuple[runtimes.Modelled, str]]] = {}
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
        _rejection_finding(item, binary, sees, groups[(binary.pointer, sees)], facts[binary.type])
        for binary, sees in order
    ]


def _refusal_kind(binary: Executed, sees: str, info: BinaryFacts, modelled: runtimes.Modelled) -> Optional[str]:
    """ "validate" when the runtime's ValidateNetworkList rejects the file at load (top-level
    plugins only, containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList)), "add" when the plugin's skel refuses the verb, else None."""
    if sees in info.supported:
        return None
    if binary.role == "plugin" and modelled.release.validates_on_load:
        return "validate"
    return "add" if info.negotiates else None


def _rejection_finding(
    item: ParsedFile, binary: Executed, sees: str, affected: Sequence[Tuple[runtimes.Modelled, str]], info: BinaryFacts
) -> Finding:
    where = f"{binary.type} ({info.path}) supports {go_quote_list(info.supported)}"
    role = {"plugin": "plugin", "ipam": "IPAM plugin", "delegate": "delegate"}[binary.role]
    implied = " (implied default)" if binary.implied else ""
    via = "" if binary.role == "plugin" else f", run by {_plugin_at(item, binary.index).type}"
    adding = [m for m, kind in affected if kind == "add"]
    validating = [m for m, kind in affected if kind == "validate"]
    parts = []
    if adding:
        parts.append(f"every pod ADD fails on {_ranges(adding)}")
    if validating:
        parts.append(f"{_ranges(validating)} skip this file at load")
    message = f"{role} {where}{implied}{via}, not cniVersion {crosscheck.go_quote(sees)}: " + "; ".join(parts)
    if adding and any(not m.release.libcni.wraps_plugin_errors for m in adding):
        message += " (libcni < 1.0 prints the error without the `plugin type=... failed (add): ` prefix)"
    if adding:
        lib = _newest_lib(adding)
        text = predict._prefix(_plugin_at(item, binary.index), "add", lib) + (rejection(info, sees) or "")
    else:
        text = f"plugin {binary.type} does not support config version {crosscheck.go_quote(sees)}"
    return skew.PLUGIN_REJECTS_CONFIG_VERSION.at(item.path, binary.pointer, message, plugin=binary.type, predicts=text)


def _chain_mismatches(
    item: ParsedFile, releases: Sequence[runtimes.Modelled], facts: Mapping[str, BinaryFacts]
) -> List[Finding]:
    """CNI512: a non-negotiating plugin followed by another plugin, on libcni >= 1.0."""
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
        affected: Dict[str, List[runtimes.Modelled]] = {}
        for modelled in new_lib:
            loaded = list_version(item.network, item.document, modelled.release.libcni)
            if not loaded.error:
                affected.setdefault(plugin_sees(loaded.version), []).append(modelled)
        for sees, rows in affected.items():
            result = predict._known_result_version(prev, sees)
            pointer = f"{before.pointer}/type"
            if result is None:
                message = (
                    f"{before.type} does not negotiate versions (legacy VERSION reply), so the result version it "
                    f"hands to {after.type} is unknowable without running it; if it is not {sees}, "
                    f"{after.type} fails `could not parse prevResult: ...` on {_ranges(rows)}"
                )
                out.append(
                    replace(
                        skew.CHAIN_RESULT_VERSION_MISMATCH.at(item.path, pointer, message, plugin=before.type),
                        severity=Severity.INFO,
                    )
                )
                continue
            family = crosscheck.prev_result_family(sees, nxt.reply_version if nxt and nxt.negotiates else None)
            if result == sees or family is None or result in family:
                continue
            text = predict._prefix(after, "add", _newest_lib(rows)) + crosscheck.prev_result_error(family, result)
            message = (
                f"{before.type} answers in {result} (legacy VERSION reply), the list is {sees}: {after.type} cannot "
                f"parse its prevResult on {_ranges(rows)}"
            )
            out.append(
                skew.CHAIN_RESULT_VERSION_MISMATCH.at(item.path, pointer, message, plugin=before.type, predicts=text)
            )
    return out


def _result_version_unsupported(item: ParsedFile, releases: Sequence[runtimes.Modelled]) -> List[Finding]:
    """CNI513 (static): a spec version newer than the runtime lib's result types."""
    assert item.network is not None
    groups: Dict[str, List[runtimes.Modelled]] = {}
    for modelled in releases:
        lib = modelled.release.libcni
        loaded = list_version(item.network, item.document, lib)
        version = loaded.version
        if loaded.error or version not in SPEC_VERSIONS or version in lib.result_versions:
            continue
        groups.setdefault(version, []).append(modelled)
    out: List[Finding] = []
    first = item.network.plugins[0] if item.network.plugins else None
    for version, rows in groups.items():
        lib = _newest_lib(rows)
        prefix = predict._prefix(first, "add", lib) if first is not None else ""
        text = prefix + f"unsupported CNI result version {crosscheck.go_quote(version)}"
        newest = max(lib.current for lib in (m.release.libcni for m in rows))
        message = (
            f"cniVersion {crosscheck.go_quote(version)} is newer than the result versions of the runtime's libcni "
            f"(at most {newest}): ADD fails after the first plugin did its work (leaking its IP and "
            f"interface) on {_ranges(rows)}"
        )
        out.append(skew.RUNTIME_RESULT_VERSION_UNSUPPORTED.at(item.path, "/cniVersion", message, predicts=text))
    return out


def _status_old_plugins(
    item: ParsedFile, releases: Sequence[runtimes.Modelled], facts: Mapping[str, BinaryFacts]
) -> List[Finding]:
    """CNI515: STATUS/GC runtimes, a >= 1.1.0 list, a plugin whose skel predates STATUS."""
    assert item.network is not None
    out: List[Finding] = []
    for plugin in item.network.plugins:
        info = facts.get(plugin.type or "")
        if info is None or not info.probed or not info.probe_ok:
            continue
        text, _exact = predict.status_error(info)
        if text is None:
            continue
        rows = []
        for modelled in releases:
            release = modelled.release
            if not (release.runs_status and release.libcni.has_status_gc):
                continue
            loaded = list_version(item.network, item.document, release.libcni)
            parsed = try_parse(loaded.version) if loaded.version and not loaded.error else None
            if parsed is not None and parsed >= (1, 1, 0):
                rows.append(modelled)
        if rows:
            message = (
                f"{plugin.type} answers VERSION with {info.reply_version}: its skel predates STATUS/GC, which "
                f"{_ranges(rows)} send for this >= 1.1.0 list; the node turns NetworkReady=false"
            )
            out.append(
                skew.STATUS_GC_OLD_PLUGIN.at(
                    item.path, f"{plugin.pointer}/type", message, plugin=plugin.type, predicts=text
                )
            )
    return out


def _loopback_skew(releases: Sequence[runtimes.Modelled], facts: Mapping[str, BinaryFacts]) -> List[Finding]:
    """CNI516: the runtime's built-in loopback network version vs the loopback binary."""
    info = facts.get(LOOPBACK)
    if info is None or not info.negotiates:
        return []
    groups: Dict[str, List[runtimes.Modelled]] = {}
    for modelled in releases:
        version = modelled.release.loopback_version
        if version and version not in info.supported:
            groups.setdefault(version, []).append(modelled)
    out: List[Finding] = []
    for version, rows in groups.items():
        lib = _newest_lib(rows)
        prefix = predict._loopback_prefix("add", lib)
        text = prefix + (rejection(info, version) or "")
        message = (
            f"{info.path} supports {go_quote_list(info.supported)}, but {_ranges(rows)} run the built-in "
            f"loopback network as cniVersion {version}: every pod sandbox fails"
        )
        out.append(skew.RUNTIME_LOOPBACK_SKEW.at(None, "", message, plugin=LOOPBACK, predicts=text))
    return out


def _loopback_missing(releases: Sequence[runtimes.Modelled], facts: Mapping[str, BinaryFacts]) -> List[Finding]:
    """CNI410: runtimes with a built-in loopback network (containerd, dockershim) run the
    `loopback` binary for every sandbox; nothing in net.d names it, so check it here."""
    from ..rules import binaries

    info = facts.get(LOOPBACK)
    users = [m for m in releases if m.release.loopback_version]
    if info is None or info.path is not None or not users:
        return []
    lib = _newest_lib(users)
    text = predict._loopback_prefix("add", lib) + (info.error or "")
    message = (
        f"no `loopback` plugin in the bin dirs: {_ranges(users)} run it for every pod's lo "
        f"interface before the default network, so every sandbox fails"
    )
    return [binaries.RUNTIME_LOOPBACK_MISSING.at(None, "", message, plugin=LOOPBACK, predicts=text)]


# ---------------------------------------------------------------------------------------------
# entry points


def _selected(parsed: Sequence[ParsedFile], selection: Optional[Selection]) -> Optional[ParsedFile]:
    if selection is None:
        return None
    for item in parsed:
        if item.path == selection.file:
            return item
    return None


def runtime_file(
    parsed: Sequence[ParsedFile], selection: Optional[Selection], release: runtimes.RuntimeRelease
) -> Optional[ParsedFile]:
    """The file ``release``'s loader ends up with, loadable or not.

    ``selection`` (rules/discovery.py) is the first file that loads: what CRI-O and dockershim
    use, as they skip broken files. containerd (go-cni) and a bare libcni caller take the
    lexically first config file of the directory and stop there, so a broken first file is what
    they "select" (its load step fails; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9; cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks)). Without any loadable file
    they still read that first file; only CRI-O/dockershim then have nothing to predict for.
    Files named one by one (no directory) are predicted only when one of them is the selection.
    """
    chosen = _selected(parsed, selection)
    if release.runtime not in predict.FIRST_FILE_RUNTIMES:
        return chosen
    if chosen is not None:
        directory = chosen.candidate.directory
    else:
        directory = next((p.candidate.directory for p in parsed if p.candidate.directory is not None), None)
    if directory is None:
        return chosen
    return next((p for p in parsed if p.candidate.directory == directory), chosen)


def _static_findings(item: ParsedFile) -> Tuple[Finding, ...]:
    """The file's schema and semantic findings (pure; recomputed for the one predicted file):
    predict.PLUGIN_SIDE_FINDINGS turns some of them into plugin-side failures of the verbs."""
    from ..config import validate
    from ..rules import semantics

    if item.network is None:
        return ()
    return tuple(validate.validate(item)) + tuple(semantics.check(item))


def _prediction(
    parsed: Sequence[ParsedFile],
    selection: Optional[Selection],
    modelled: runtimes.Modelled,
    facts: Mapping[str, BinaryFacts],
    probed: bool,
) -> Optional[Mapping[str, Any]]:
    chosen = runtime_file(parsed, selection, modelled.release)
    if chosen is None:
        return None
    return predict.prediction_dict(chosen, modelled, facts, probed=probed, static=_static_findings(chosen))


def _fleet_wide(findings: List[Finding], scope: _Scope) -> List[Finding]:
    """Without --runtime every known release is in scope, including long-unsupported ones; a
    config that only old runtimes reject (a 1.0.0 list on containerd <= 1.5) is then fragile,
    not broken, so it is a warning. Naming the runtime (--runtime) restores the error."""
    if scope.explicit:
        return findings
    return [
        replace(
            f, severity=Severity.WARNING, message=f.message + "; name your runtime with --runtime for a definite answer"
        )
        if f.severity > Severity.WARNING
        else f
        for f in findings
    ]


def check(parsed: Sequence[ParsedFile], selection: Optional[Selection], options: Any) -> NodeResult:
    """Resolve, probe (CNI_COMMAND=VERSION only), cross-check, predict."""
    scope = _scope(options)
    facts, findings, plugins = _gather(parsed, options, scope)
    findings.extend(scope.findings)
    for item in _loadable(parsed):
        findings.extend(_rejections(item, scope.releases, facts))
        findings.extend(_chain_mismatches(item, scope.releases, facts))
        findings.extend(_fleet_wide(_result_version_unsupported(item, scope.releases), scope))
        findings.extend(_status_old_plugins(item, scope.releases, facts))
    findings.extend(_loopback_skew(scope.releases, facts))
    findings.extend(_loopback_missing(scope.releases, facts))
    prediction = _prediction(parsed, selection, scope.modelled, facts, probed=True)
    return NodeResult(tuple(findings), prediction, tuple(plugins))


def check_static(parsed: Sequence[ParsedFile], selection: Optional[Selection], options: Any) -> NodeResult:
    """No processes: runtime-library checks only (CNI513, CNI519) and a prediction whose
    plugin-dependent steps are "unknown"."""
    scope = _scope(options)
    findings: List[Finding] = list(scope.findings)
    for item in _loadable(parsed):
        findings.extend(_fleet_wide(_result_version_unsupported(item, scope.releases), scope))
    prediction = _prediction(parsed, selection, scope.modelled, {}, probed=False)
    return NodeResult(tuple(findings), prediction, ())
