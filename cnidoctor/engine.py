"""The pipeline, in one place: discover -> parse -> validate -> semantics -> (resolve -> probe
start) -> directory -> node state -> (probe collect -> cross-check) -> settings -> locate -> Report.

Every stage is a pure function of data except discovery (reads the file system) and the node
stage (runs plugins with CNI_COMMAND=VERSION, only with --probe); the node stage is imported
lazily, and its subprocess and ELF machinery only when probing. The probes start as soon as
the parsed files name the binaries, and are collected only where the cross-check needs the
replies: the plugins answer while everything that does not depend on them runs.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from .config import discover, netconf, netdir, parse, validate
from .model import (
    DEFAULT_CONF_DIR,
    Candidate,
    Finding,
    Options,
    ParsedFile,
    Report,
    RuntimeSummary,
    Selection,
)
from .rules import catalog, scope, semantics
from .rules import directory as discovery_rules
from .settings import Settings

if TYPE_CHECKING:
    from .crosscheck.facts import NodeResult
    from .crosscheck.nodestate import NodeStateResult
    from .crosscheck.predict import NodeRefusal
    from .crosscheck.probing import Started
    from .runtime.detect import NodeRuntime
    from .runtime.matrix import Modelled

__all__ = ["DEFAULT_CONF_DIR", "Options", "run"]


def analyse_one(item: ParsedFile) -> List[Finding]:
    """Per-file static findings: load/syntax (from parse), schema, semantics."""
    with netconf.SharedLookups():  # both read the same plugin objects: one grouping each
        return [*item.findings, *validate.validate(item), *semantics.check(item)]


# Per-file work is pure and independent, so large inputs (a config repository checked in CI)
# are spread over the CPUs. The pool never saves CPU time: forking and the copy-on-write of the
# parsed files the workers touch add 10-15% (bench/static.py on 2 cores, 5,000 and 10,000
# files; about 25% at 2,000), so it is used only where the wall time it saves is seconds.
PARALLEL_MIN_FILES = 4000


def per_file(candidates: Sequence[Candidate]) -> Tuple[Tuple[ParsedFile, ...], List[Finding]]:
    """Parse and analyse every candidate, in input order; the analysis in parallel when worth it.

    Parsing stays in this process: its results are what every later stage reads, and shipping
    them back from workers (pickling every document, network and locator) cost more CPU than
    the parsing itself. Workers forked after it inherit the parsed files and send back only
    their findings, which are few."""
    workers = min(os.cpu_count() or 1, 8)
    with _without_cycle_collection():
        with netdir.listings_kept():  # each conf dir listed once for libcni 1.3.0's plugin folders
            parsed = [parse.parse(c) for c in candidates]
        found: Optional[List[List[Finding]]] = None
        if len(parsed) >= PARALLEL_MIN_FILES and workers > 1:
            found = _in_workers(parsed, workers)
        if found is None:
            found = [analyse_one(item) for item in parsed]
    return tuple(parsed), [f for findings in found for f in findings]


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector for the per-file stage. Every object it allocates
    survives the stage (the parse results), so each collection only traverses them again and
    frees nothing: at 10,000 files that was about a tenth of the stage. Reference counting
    still frees everything else; collection resumes afterwards. Forked workers inherit it."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# The parsed files the forked workers analyse: set just before the pool forks, so each worker
# inherits them (copy-on-write) and is sent only index ranges.
_FOR_WORKERS: Sequence[ParsedFile] = ()


def _analyse_range(bounds: Tuple[int, int]) -> Optional[bytes]:
    """Run in a worker: the findings of files [start, stop), pickled here, so that a finding
    pickle cannot take comes back as None and is redone in the parent: left to the pool, the
    failure kills the worker and Pool.map waits forever."""
    import pickle  # here, not at import: only a pooled run ships results

    start, stop = bounds
    found = [analyse_one(item) for item in _FOR_WORKERS[start:stop]]
    try:
        return pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)
    except (RecursionError, pickle.PicklingError):
        return None


def _in_workers(parsed: Sequence[ParsedFile], workers: int) -> Optional[List[List[Finding]]]:
    """Fork-based pool (the parent's imports and parse results are inherited); None when no
    pool can be had, and the caller then works serially."""
    import multiprocessing
    import pickle

    global _FOR_WORKERS
    chunk = max(16, len(parsed) // (workers * 8))
    ranges = [(start, min(start + chunk, len(parsed))) for start in range(0, len(parsed), chunk)]
    _FOR_WORKERS = parsed
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            shipped = pool.map(_analyse_range, ranges, chunksize=1)
    except (OSError, ValueError, ImportError):
        return None
    finally:
        _FOR_WORKERS = ()
    found: List[List[Finding]] = []
    for (start, stop), pickled in zip(ranges, shipped):
        # our own worker's bytes, never outside input
        found.extend(pickle.loads(pickled) if pickled is not None else [analyse_one(p) for p in parsed[start:stop]])
    return found


def run(options: Options, settings: Settings) -> Report:
    """Run the whole pipeline for ``options`` and return the report (never prints)."""
    node = read_runtime(options)
    options = with_node_dirs(options, node)
    found = discover.discover(options.paths)
    parsed, file_findings = per_file(found.candidates)
    detected = node.detected.modelled if node is not None and node.detected is not None else None
    # resolve + probe start here; the plugins answer while the rest runs, node_stage collects
    started = start_probes(parsed, options, detected)
    findings = list(found.findings)
    findings.extend(file_findings)
    directory = discovery_rules.check_directories(parsed, found.directories, found.subdirectories)
    findings.extend(directory.findings)
    state = node_state(options, parsed, directory.selection)
    on_runtime = runtime_findings(options, node) + runtime_checks(options, node, parsed)
    fixed = (node.detected.config.default_network or "") if node is not None and node.detected is not None else ""
    node_result = node_stage(parsed, directory.selection, options, detected, state.refusals, fixed, started)
    # the runtime's default network (CRI-O: cni_default_network) is never "shadowed" (CNI007)
    findings = [f for f in findings if not (f.code == "CNI007" and _is_selected(f, node_result.selected))]
    if node_result.rejected is not None:  # a modelled CRI-O: CNI011 as its ocicni compares names
        findings = discovery_rules.duplicate_names_for_crio(findings, parsed, node_result.rejected)
    if node_result.scope is not None:  # the releases the node stage computed its checks for
        findings = scope.weigh_static(findings, node_result.scope, parsed)
    findings.extend(node_result.findings)
    findings.extend(on_runtime)
    findings.extend(state.findings)
    findings = drop_superseded(findings)
    kept = settings.apply(findings, [p.path for p in parsed])
    located = locate(kept, parsed)
    prediction = node_result.prediction
    if prediction is not None and _cri_plugin_refused(node):
        from .crosscheck import kubelet_view

        prediction = kubelet_view.cri_plugin_not_loaded(prediction)
    return Report(
        inputs=tuple(options.paths),
        selected=node_result.selected,
        findings=tuple(sorted(located, key=Finding.sort_key)),
        files=tuple(p.path for p in parsed),
        prediction=prediction,
        plugins=node_result.plugins,
        runtime=runtime_summary(options, node, node_result.modelled),
        node_state=state.checked,
    )


def start_probes(parsed: Sequence[ParsedFile], options: Options, detected: Optional[Modelled]) -> Optional[Started]:
    """With ``--probe``: resolve every binary the parsed files execute and start its VERSION
    probe, for node_stage to collect (None without probing: no process is started)."""
    if not options.probe:
        return None
    from .crosscheck import probing
    from .crosscheck.context import runtime_scope

    return probing.start(parsed, options, runtime_scope(options, detected))


def read_runtime(options: Options) -> Optional[NodeRuntime]:
    """The node's runtime under ``--host-root`` (None when the run checks files only)."""
    if options.host_root is None:
        return None
    from .runtime.detect import detect_runtime  # lazy: a files-only run reads no runtime

    return detect_runtime(options.host_root, allow_exec=options.probe, timeout=options.probe_timeout)


def with_node_dirs(options: Options, node: Optional[NodeRuntime]) -> Options:
    """The dirs the node's runtime really uses, unless PATHS / --bin-dir were given."""
    if options.host_root is None:
        return options
    from .crosscheck.runtime_view import node_dirs

    paths, bin_dirs = node_dirs(options, node)
    return replace(options, paths=paths, bin_dirs=bin_dirs)


def _cri_plugin_refused(node: Optional[NodeRuntime]) -> bool:
    """The detected runtime does not load its CRI plugin (CNI609: containerd >= 2.1 with both
    bin_dir and bin_dirs), read from its configuration, not from whichever findings exist: on a
    node with two runtimes the other one's configuration does not decide this prediction."""
    return node is not None and node.detected is not None and not node.detected.config.cri_plugin_loads


def runtime_findings(options: Options, node: Optional[NodeRuntime]) -> List[Finding]:
    """The runtime's configuration problems (CNI6xx), their files shown under the host root."""
    if node is None:
        return []
    from .crosscheck.runtime_view import on_host

    return [replace(f, file=on_host(options.host_root, f.file)) if f.file else f for f in node.findings]


def runtime_checks(options: Options, node: Optional[NodeRuntime], parsed: Sequence[ParsedFile]) -> List[Finding]:
    """The runtime's configuration checked against the configs (crosscheck/runtime_checks)."""
    if node is None:
        return []
    from .crosscheck import runtime_checks as checks  # lazy: a files-only run reads no runtime

    return checks.check(options, node, parsed)


def runtime_summary(options: Options, node: Optional[NodeRuntime], modelled: Optional[Modelled]) -> RuntimeSummary:
    from .crosscheck.runtime_view import summarise

    return summarise(options, node, modelled)


@functools.lru_cache(maxsize=1)
def superseded_by() -> Dict[str, str]:
    """A static expectation yields to the measured fact at the same place (the rules'
    superseded_by). Built on first use, not at import: the catalog imports every rule family
    (and the prediction with rules.binaries), which a cold run imports while the probes run."""
    return {code: r.superseded_by for code, r in catalog().items() if r.superseded_by}


def drop_superseded(findings: Sequence[Finding]) -> List[Finding]:
    """Remove static findings that a probe-based finding at the same file and pointer replaces."""
    measured = {(f.code, f.file, f.pointer) for f in findings}
    replaced_by = superseded_by()
    return [f for f in findings if (replaced_by.get(f.code), f.file, f.pointer) not in measured]


def node_state(options: Options, parsed: Sequence[ParsedFile], selection: Optional[Selection]) -> NodeStateResult:
    """The selected network's node state (CNI7xx), read before the prediction that it feeds."""
    from .crosscheck import nodestate  # lazy: a files-only run reads no node state

    return nodestate.check(options, parsed, selection)


def node_stage(
    parsed: Sequence[ParsedFile],
    selection: Optional[Selection],
    options: Options,
    detected: Optional[Modelled] = None,
    refusals: Sequence[NodeRefusal] = (),
    fixed_default: str = "",
    started: Optional[Started] = None,
) -> NodeResult:
    """Collect the probes (``--probe``; ``started`` by start_probes, else started here) and
    cross-check, or only check configs against runtime libraries (no processes).
    ``fixed_default``: the detected CRI-O's ``cni_default_network``."""
    from .crosscheck import facts as node  # lazy: static runs skip subprocess and ELF machinery

    if options.probe:
        return node.probe_node(parsed, selection, options, detected, refusals, fixed_default, started)
    return node.check_configs_only(parsed, selection, options, detected, refusals, fixed_default)


def _is_selected(finding: Finding, selected: Optional[Selection]) -> bool:
    return selected is not None and finding.file == selected.file


def locate(findings: Iterable[Finding], parsed: Sequence[ParsedFile]) -> List[Finding]:
    """Fill in line/column from each finding's JSON pointer (only files with findings pay):
    a parsed file through its locator, a ``.conf`` of a libcni v1.3.0 plugin folder (whose
    findings point into it, crosscheck/folderplugins) through one made from its bytes."""
    by_path: Dict[str, ParsedFile] = {p.path: p for p in parsed}
    folder_files = {f for p in parsed if p.network_dir is not None for f in p.network_dir.files}
    folder_locators: Dict[str, Optional[Callable[[str], Tuple[int, int]]]] = {}
    out: List[Finding] = []
    for finding in findings:
        item = by_path.get(finding.file or "")
        if finding.line is None and item is not None and item.document is not None:
            line, column = item.locate(finding.pointer)
            finding = replace(finding, line=line, column=column)
        elif finding.line is None and finding.file in folder_files:
            if finding.file not in folder_locators:
                folder_locators[finding.file] = netdir.locator(finding.file)
            found = folder_locators[finding.file]
            line, column = found(finding.pointer) if found is not None else (1, 1)
            finding = replace(finding, line=line, column=column)
        elif finding.line is None and finding.file is not None:
            finding = replace(finding, line=1, column=1)
        out.append(finding)
    return out
