"""Node stage: collect the VERSION probes crosscheck/probing.py started (every executed binary
resolved once, each path probed once), gather what was learned into a NodeContext, run the node checks over it (NODE_CHECKS: CNI410 in
rules/binaries.py, CNI511-519 in rules/skew.py), and predict the selected file.

Runtimes: ``options.runtimes`` (``--runtime containerd@1.6.3``, repeatable) select the releases
findings are computed for; without it every containerd and CRI-O release of the support matrix
(runtimes.DEFAULT_RUNTIMES, lines in use: runtimes.DEFAULT_SCOPE_FROM) is checked and findings
name the affected ranges. The prediction models one runtime: the first ``--runtime`` given, else
runtimes.default_runtime() - the newest CRI-O release when the node has /etc/crio and no
/etc/containerd/config.toml, otherwise the newest containerd release.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, List, Optional, Sequence, Tuple

from ..config import validate
from ..frozen import dataclass
from ..model import (
    Finding,
    NetworkList,
    Options,
    ParsedFile,
    PluginStatus,
    Prediction,
    Selection,
    Severity,
    SkippedFile,
)
from ..rules import binaries, semantics, skew
from ..rules import directory as directory_rules
from ..rules import replies as probe_rules
from ..runtime import matrix as runtimes
from . import folderplugins, predict, probing
from .compare import BinaryFacts, Executed
from .context import NodeContext, RuntimeScope, runtime_scope

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.probe import ProbeResult
    from ..plugins.resolve import Resolution

NodeCheck = Callable[[NodeContext], Tuple[Finding, ...]]

# The checks the crosscheck stage runs over every NodeContext, probed or not (without probing
# the context has no facts and only the runtime-library checks can fire).
NODE_CHECKS: Tuple[NodeCheck, ...] = (
    skew.check_config_version_rejections,  # CNI511
    skew.check_chain_result_versions,  # CNI512
    skew.check_result_version_support,  # CNI513
    skew.check_status_gc_plugins,  # CNI515
    skew.check_loopback_skew,  # CNI516
    binaries.check_loopback_present,  # CNI410
)


@dataclass(frozen=True)
class NodeResult:
    """What the node stage found: findings, the per-step prediction and each plugin's status."""

    findings: Tuple[Finding, ...] = ()
    prediction: Optional[Prediction] = None
    plugins: Tuple[PluginStatus, ...] = ()
    scope: Optional[RuntimeScope] = None  # the runtime releases the checks were computed for
    selected: Optional[Selection] = None  # the modelled runtime's default network (runtime_choice)
    rejected: Optional[Tuple[str, ...]] = None  # CRI-O: files of shared names it skips (crio_rejected)

    @property
    def modelled(self) -> Optional[runtimes.Modelled]:
        """The runtime release the prediction modelled."""
        return self.scope.modelled if self.scope is not None else None


def run_node_checks(ctx: NodeContext) -> List[Finding]:
    return [finding for check in NODE_CHECKS for finding in check(ctx)]


# ---------------------------------------------------------------------------------------------
# resolve + probe


def gather(
    parsed: Sequence[ParsedFile], selection: Optional[Selection], options: Options, started: probing.Started
) -> Tuple[NodeContext, List[Finding]]:
    """Collect the probes ``probing.start`` started (every executed type resolved once, every
    found path probed once with CNI_COMMAND=VERSION); returns the context and the findings of
    resolution and probing (CNI401-409, CNI50x)."""
    probes = started.collect()
    resolutions = started.resolutions
    facts = {
        t: _binary_facts(t, res, probes.get(res.path or "") if res.problem is None else None)
        for t, res in resolutions.items()
    }
    ctx = NodeContext(
        tuple(parsed), selection, started.scope, options, True, resolutions, probes, started.occurrences, facts
    )
    return ctx, _gathering_findings(ctx)


def _gathering_findings(ctx: NodeContext) -> List[Finding]:
    dirs = ctx.options.search_dirs
    findings: List[Finding] = list(binaries.bin_dir_findings(dirs, ctx.options.host_root))
    findings.extend(binaries.writable_findings(dirs, ctx.resolutions, ctx.options.host_root))
    for item, binary in ctx.occurrences:
        res = ctx.resolutions[binary.type]
        if binary.implied:
            res = replace(res, type=binary.type)
        findings.extend(binaries.resolution_findings(res, item.path, binary.pointer))
        result = ctx.probes.get(res.path or "") if res.problem is None else None
        if result is not None:
            found = probe_rules.probe_findings(result, binary.type, item.path, binary.pointer)
            findings.extend(_refusal_fix(_weigh_probe_failure(f, binary, ctx.scope), result) for f in found)
    findings.extend(folderplugins.folder_findings(ctx))  # libcni v1.3.0's <dir>/<name>/*.conf plugins
    for directory in dirs:
        in_dir = {p: r for p, r in ctx.probes.items() if os.path.dirname(p) == directory}
        findings.extend(binaries.generation_findings(directory, in_dir))
    return findings


def _refusal_fix(finding: Finding, result: ProbeResult) -> Finding:
    """CNI505 for a binary refused as root (plugins/probe.py): running as root is not the cure."""
    from ..plugins.probe import REFUSED_AS_ROOT

    if finding.code != "CNI505" or not result.detail.startswith(REFUSED_AS_ROOT):
        return finding
    fix = (
        f"Give {result.path} and its directory back to root (`chown root:root`, `chmod go-w`: see CNI411), "
        "then run cnidoctor again to probe it."
    )
    return replace(finding, fix=fix)


def _binary_facts(plugin_type: str, res: Resolution, result: Optional[ProbeResult]) -> BinaryFacts:
    return BinaryFacts(
        type=plugin_type,
        path=res.path,
        problem=res.problem,
        error=res.error,
        exec_error=res.exec_error,
        probed=result is not None,
        probe_ok=bool(result and result.ok),
        supported=tuple(result.supported) if result else (),
        reply_version=result.cni_version if result else None,
        legacy=bool(result and result.legacy),
        probe_error=result.error if result else None,
        probe_timed_out=bool(result and result.timed_out),
    )


def plugin_statuses(ctx: NodeContext) -> Tuple[PluginStatus, ...]:
    """The report's "plugins": one entry per resolved type, in first-use order."""
    out: List[PluginStatus] = []
    for plugin_type, res in ctx.resolutions.items():
        result = ctx.probes.get(res.path or "") if res.problem is None else None
        out.append(
            PluginStatus(
                type=plugin_type,
                path=res.path,
                problem=res.problem,
                error=res.error,
                cni_version=result.cni_version if result else None,
                supported=tuple(result.supported) if result else (),
                probe_error=result.error if result else None,
                from_cache=bool(result and result.from_cache),
            )
        )
    return tuple(out)


def _weigh_probe_failure(finding: Finding, binary: Executed, scope: RuntimeScope) -> Finding:
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
# the prediction


def _selected(parsed: Sequence[ParsedFile], selection: Optional[Selection]) -> Optional[ParsedFile]:
    if selection is None:
        return None
    for item in parsed:
        if item.path == selection.file:
            return item
    return None


@dataclass(frozen=True)
class RuntimeChoice:
    """What the modelled runtime's loader does with the config directory: ``loader_file`` is
    the file the prediction describes (loadable or not), ``default`` the runtime's default
    network (None: it has none, or it is unknown). The report's ``selected``, the prediction's
    ``selected_file`` and the default-network findings all come from this one choice."""

    loader_file: Optional[ParsedFile]
    default: Optional[ParsedFile]
    prediction: Optional[Prediction] = None
    fixed: bool = False  # chosen by CRI-O's cni_default_network, not by file order
    skipped: Tuple[SkippedFile, ...] = ()  # CRI-O: the files ocicni passed over before ``default``


def _directory_entries(parsed: Sequence[ParsedFile], chosen: Optional[ParsedFile]) -> Tuple[ParsedFile, ...]:
    if chosen is not None:
        directory = chosen.candidate.directory
    else:
        directory = next((p.candidate.directory for p in parsed if p.candidate.directory is not None), None)
    if directory is None:
        return ()
    return tuple(p for p in parsed if p.candidate.directory == directory)


def _predict_file(ctx: NodeContext, item: ParsedFile) -> Prediction:
    # the node state (crosscheck/nodestate.py) was read for the directory's selected file
    state = ctx.node_refusals if ctx.selection is not None and item.path == ctx.selection.file else ()
    return predict.prediction(
        item, ctx.scope.modelled, ctx.facts, probed=ctx.probed, static=_static_findings(item), node_state=state
    )


def _load_outcome(prediction: Prediction) -> str:
    step = prediction.step("load")
    return step.outcome if step is not None else "ok"


def runtime_choice(ctx: NodeContext, fixed_default: str = "") -> RuntimeChoice:
    """The modelled runtime's file and default network.

    containerd (go-cni) and a bare libcni caller take the lexically first config file and stop
    there, so a first file that fails to load leaves them without a network
    (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir)). CRI-O (ocicni loadNetworks) and
    dockershim skip every file that fails to load *or* to validate (ValidateNetworkList: a
    plugin binary not found in plugin_dirs, a version it does not support) and make the first
    survivor the default (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks);
    releases whose ocicni does not validate, runtimes.RuntimeRelease.validates_on_load False,
    only skip unloadable files); a CRI-O ``cni_default_network`` (``fixed_default``, read from
    the detected CRI-O's configuration) fixes the default by name. A file cnidoctor's user cannot read stops the walk: the
    runtime reads it as root and whether it is the default is unknown. Files named one by one
    (no directory) are predicted only when one of them is the selection.
    """
    chosen = _selected(ctx.parsed, ctx.selection)
    entries = _directory_entries(ctx.parsed, chosen)
    if not entries:
        return RuntimeChoice(chosen, chosen, _predict_file(ctx, chosen) if chosen else None)
    if ctx.scope.modelled.release.runtime in predict.FIRST_FILE_RUNTIMES:
        first = entries[0]
        prediction = _predict_file(ctx, first)
        default = first if first is chosen and _load_outcome(prediction) != "fail" else None
        return RuntimeChoice(first, default, prediction)
    fixed = fixed_default if fixed_default and ctx.scope.modelled.release.runtime == "crio" else None
    return _ocicni_walk(ctx, entries, fixed)


def _network_name(item: ParsedFile) -> str:
    return _crio_name(item.network, item.path)


def _crio_name(network: Optional[NetworkList], path: str) -> str:
    """ocicni names a network after its list, or after its file when the name is empty."""
    name = network.name if network is not None else ""
    return name or os.path.basename(path)


def _ocicni_walk(ctx: NodeContext, entries: Sequence[ParsedFile], wanted: Optional[str]) -> RuntimeChoice:
    """ocicni's loadNetworks over the directory's files in order: the default is the first file
    that loads and validates; every file it logs and skips before that is ``skipped``; with no
    default, the prediction describes the first failing file. ``wanted``: CRI-O's
    ``cni_default_network``, a name that is never ``changeable``, so the default is the first
    usable file of that name, never just the first file, and with none (CNI636 reports it) every
    file is skipped (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (initCNI, syncNetworkConfig,
    loadNetworks))."""
    fixed = wanted is not None
    fallback: Optional[RuntimeChoice] = None
    passed: List[SkippedFile] = []
    release = ctx.scope.modelled.release
    for item in entries:
        if item.candidate.problem == "not-readable-as-user":
            return _with_skipped(RuntimeChoice(item, None, _predict_file(ctx, item), fixed=fixed), passed)
        # the list as this release's libcni loads it (1.3.0 also reads <dir>/<name>/*.conf)
        network = predict.lib_view(item, release.libcni).network
        if item.candidate.problem is not None or network is None:
            # ocicni logs "Error loading CNI config ..." and skips it
            passed.append(_load_skip(ctx, item))
            continue
        prediction = _predict_file(ctx, item)
        if predict.version_blocks_load(network, release, ctx.facts):
            # ocicni's load waits on this file's VERSION calls: no default is chosen (yet)
            return _with_skipped(RuntimeChoice(item, None, prediction, fixed=fixed), passed)
        ours = wanted is None or _crio_name(network, item.path) == wanted
        if _load_outcome(prediction) != "fail":
            if ours:
                return _with_skipped(RuntimeChoice(item, item, prediction, fixed=fixed), passed)
            continue  # "Found CNI network ...": loaded, just not the default
        passed.append(_skip_of(item, prediction))
        if ours:
            fallback = fallback or RuntimeChoice(item, None, prediction, fixed=fixed)
    return _with_skipped(fallback or RuntimeChoice(None, None, fixed=fixed), passed)


def _load_skip(ctx: NodeContext, item: ParsedFile) -> SkippedFile:
    """A file ocicni cannot load; its text is the load step's when cnidoctor can predict it."""
    if item.candidate.problem is not None:
        return SkippedFile(item.path, "load")
    return _skip_of(item, _predict_file(ctx, item))


def _skip_of(item: ParsedFile, prediction: Prediction) -> SkippedFile:
    """The skip's class and ocicni's log line, read off the load step (predict._load_step words
    it as ocicni.go@v0.4.3 loadNetworks logs it: "Error loading CNI config list file ..." or
    "Error validating CNI config file ...: [every ValidateNetworkList failure]")."""
    step = prediction.step("load")
    if step is not None and step.outcome == "unknown":
        return SkippedFile(item.path, "unknown")  # e.g. an unrendered template: skipped, reason not predicted
    text = step.error if step is not None and step.outcome == "fail" and step.exact else None
    reason = "validate" if text is not None and text.startswith("Error validating ") else "load"
    return SkippedFile(item.path, reason, text)


def _with_skipped(choice: RuntimeChoice, passed: Sequence[SkippedFile]) -> RuntimeChoice:
    return replace(choice, skipped=tuple(passed)) if passed else choice


def _static_findings(item: ParsedFile) -> Tuple[Finding, ...]:
    """The file's schema and semantic findings (pure; recomputed for the one predicted file):
    predict.PLUGIN_SIDE_FINDINGS turns some of them into plugin-side failures of the verbs."""
    if item.network is None:
        return ()
    return tuple(validate.validate(item)) + tuple(semantics.check(item))


def predicted(ctx: NodeContext, choice: Optional[RuntimeChoice] = None) -> Optional[Prediction]:
    """The prediction for the file the modelled runtime's loader ends up with (None: no file)."""
    choice = choice or runtime_choice(ctx)
    found = choice.prediction
    if found is None:
        conf_dir = predict.config_dir(ctx.parsed, ctx.options.paths)
        found = predict.no_config_prediction(ctx.scope.modelled, conf_dir) if conf_dir else None
    return replace(found, skipped=choice.skipped) if found is not None and choice.skipped else found


def selected(choice: RuntimeChoice, release: runtimes.RuntimeRelease) -> Optional[Selection]:
    """The report's ``selected``: the modelled runtime's default network, None when it has none.
    CRI-O names a nameless network after its file (``_network_name``); the list is read as the
    release's libcni reads it (predict.lib_view)."""
    item = choice.default
    if item is None:
        return None
    network = predict.lib_view(item, release.libcni).network
    data = item.candidate.data
    digest = hashlib.sha256(data).hexdigest() if data is not None else None
    name = (
        _crio_name(network, item.path) if release.runtime == "crio" and network else (network.name if network else None)
    )
    return Selection(item.path, name, network.cni_version if network else None, digest)


def crio_rejected(ctx: NodeContext) -> Optional[Tuple[str, ...]]:
    """For a modelled CRI-O, the files that share a network name with another file and that
    ocicni skips because they do not load or validate (loadNetworks compares names only among
    the files that pass, cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3); None for other runtimes."""
    release = ctx.scope.modelled.release
    if release.runtime != "crio":
        return None
    loadable = [item for item in ctx.parsed if item.candidate.problem is None and item.network is not None]
    names = [(item.candidate.directory, _network_name(item)) for item in loadable]
    shared = [item for item, key in zip(loadable, names) if names.count(key) > 1]
    return tuple(
        item.path
        for item in shared
        if predict.lib_view(item, release.libcni).network is None or _load_outcome(_predict_file(ctx, item)) == "fail"
    )


def fallback_findings(ctx: NodeContext, choice: RuntimeChoice) -> List[Finding]:
    """CNI015 where the runtime's default network is not the first file that loads: CRI-O
    skipped a file that does not validate and pods fall back to this one."""
    first_loadable = _selected(ctx.parsed, ctx.selection)
    default = choice.default
    if choice.fixed or default is None or first_loadable is None or default is first_loadable:
        return []
    return [directory_rules.fallback_default(default, first_loadable, ctx.scope.modelled.release.display)]


def probe_node(
    parsed: Sequence[ParsedFile],
    selection: Optional[Selection],
    options: Options,
    detected: Optional[runtimes.Modelled] = None,
    refusals: Sequence[predict.NodeRefusal] = (),
    fixed_default: str = "",
    started: Optional[probing.Started] = None,
) -> NodeResult:
    """Resolve, probe (CNI_COMMAND=VERSION only), cross-check, predict. ``fixed_default``: the
    detected CRI-O's ``cni_default_network`` ("" when unset or not CRI-O). ``started``: the probes
    ``probing.start`` began for these files (started here when None)."""
    if started is None:
        started = probing.start(parsed, options, runtime_scope(options, detected))
    ctx, findings = gather(parsed, selection, options, started)
    ctx = replace(ctx, node_refusals=tuple(refusals))
    findings.extend(run_node_checks(ctx))
    choice = runtime_choice(ctx, fixed_default)
    findings.extend(fallback_findings(ctx, choice))
    return NodeResult(
        tuple(findings),
        predicted(ctx, choice),
        plugin_statuses(ctx),
        ctx.scope,
        _report_selected(ctx, choice),
        crio_rejected(ctx),
    )


def check_configs_only(
    parsed: Sequence[ParsedFile],
    selection: Optional[Selection],
    options: Options,
    detected: Optional[runtimes.Modelled] = None,
    refusals: Sequence[predict.NodeRefusal] = (),
    fixed_default: str = "",
) -> NodeResult:
    """No processes: runtime-library checks only (CNI513) and a prediction whose
    plugin-dependent steps are "unknown"."""
    ctx = NodeContext(
        tuple(parsed), selection, runtime_scope(options, detected), options, node_refusals=tuple(refusals)
    )
    choice = runtime_choice(ctx, fixed_default)
    findings = run_node_checks(ctx) + fallback_findings(ctx, choice)
    return NodeResult(
        tuple(findings), predicted(ctx, choice), (), ctx.scope, _report_selected(ctx, choice), crio_rejected(ctx)
    )


def _report_selected(ctx: NodeContext, choice: RuntimeChoice) -> Optional[Selection]:
    # files named one by one (pre-commit): no directory, no runtime default to claim. A default
    # the config side did not select is a list libcni 1.3.0 completes from <dir>/<name>/*.conf
    in_directory = choice.default is not None and choice.default.candidate.directory is not None
    if ctx.selection is None and not in_directory:
        return None
    return selected(choice, ctx.scope.modelled.release)
