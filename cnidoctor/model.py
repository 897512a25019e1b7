"""The data that flows through the pipeline: frozen records, no behaviour beyond small helpers.

discover -> parse -> validate -> resolve -> probe -> cross-check -> findings -> reporter.
Every stage consumes and returns these types; only ``cli.py`` prints.
"""

from __future__ import annotations

import enum
import os
from dataclasses import field
from typing import Any, Callable, Literal, Mapping, Optional, Tuple

from .frozen import dataclass

__all__ = [
    "DEFAULT_BIN_DIR",
    "DEFAULT_CONF_DIR",
    "FAIL_ON_VALUES",
    "Candidate",
    "FailOn",
    "Finding",
    "ModelledRuntime",
    "NetworkDirLoad",
    "NetworkList",
    "Options",
    "ParsedFile",
    "PluginConf",
    "PluginRefusal",
    "PluginStatus",
    "Prediction",
    "Report",
    "Rule",
    "RuntimeEvidence",
    "RuntimeSource",
    "RuntimeSummary",
    "Selection",
    "Severity",
    "Step",
]


# Where the runtimes look when nothing says otherwise (containerd@v1.7.0
# pkg/cri/config/config_unix.go DefaultConfig: NetworkPluginConfDir, NetworkPluginBinDir).
DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_BIN_DIR = "/opt/cni/bin"

# --fail-on and the settings file's fail-on: a severity label, or never.
FailOn = Literal["error", "warning", "info", "never"]
FAIL_ON_VALUES: Tuple[FailOn, ...] = ("error", "warning", "info", "never")


class Severity(enum.IntEnum):
    """Ordered so that ``--fail-on`` is a plain comparison."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


@dataclass(frozen=True)
class PluginRefusal:
    """What a rule's finding establishes the plugin itself refuses (the prediction turns it into
    a plugin-side failure): the verbs it breaks and where in the plugin it happens ("body": the
    plugin's own code after skel's checks; "ipam": inside its IPAM plugin, relayed by the plugin
    as its own error; "decode": either, by where the finding points - inside `ipam` or not)."""

    verbs: Tuple[str, ...]
    stage: Literal["body", "ipam", "decode"]
    why: str


@dataclass(frozen=True)
class Rule:
    """One entry of the catalog. The catalog is the documentation (``cnidoctor rules``/``explain``).

    ``code`` is permanent and never reused. ``runtime_errors`` are the exact texts the runtime
    prints when this problem bites (``references`` name the upstream source); explain matches
    them back to the rule. ``example`` is the problem, ``correct_example`` the same config done
    right, ``when_to_ignore`` when suppressing the finding is reasonable (ShellCheck's and ruff's
    rule pages are the model). ``superseded_by``: a probe-based rule whose finding at the same
    file and pointer replaces this static one. ``plugin_side``: a finding of this rule means the
    plugin itself refuses the config (the prediction uses it).
    """

    code: str
    name: str
    severity: Severity
    summary: str
    meaning: str
    example: str
    fix: str
    runtime_errors: Tuple[str, ...] = ()
    references: Tuple[str, ...] = ()
    correct_example: str = ""
    when_to_ignore: str = ""
    superseded_by: Optional[str] = None
    plugin_side: Optional[PluginRefusal] = None

    def at(
        self,
        file: Optional[str],
        pointer: str,
        message: str,
        *,
        plugin: Optional[str] = None,
        predicts: Optional[str] = None,
        fix: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
        severity: Optional[Severity] = None,
    ) -> Finding:
        """A finding of this rule at ``file``/``pointer``, with the rule's default severity
        unless the check knows this occurrence is milder (or worse)."""
        return Finding(
            code=self.code,
            severity=severity if severity is not None else self.severity,
            message=message,
            file=file,
            pointer=pointer,
            line=line,
            column=column,
            plugin=plugin,
            predicts=predicts,
            fix=fix if fix is not None else self.fix,
        )


@dataclass(frozen=True)
class Finding:
    """A problem at a place. ``pointer`` is an RFC 6901 JSON pointer ("" = whole document).

    ``file`` is None for node-level findings (a bin dir, the runtime). ``line``/``column`` are
    1-based and filled in by the engine from the pointer, only for files that have findings.
    """

    code: str
    severity: Severity
    message: str
    file: Optional[str]
    pointer: str = ""
    line: Optional[int] = None
    column: Optional[int] = None
    plugin: Optional[str] = None
    predicts: Optional[str] = None
    fix: Optional[str] = None

    @property
    def help(self) -> str:
        return f"cnidoctor explain {self.code}"

    def sort_key(self) -> Tuple[str, int, int, str, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.pointer, self.code)


FileKind = Literal["conflist", "conf"]


@dataclass(frozen=True)
class Candidate:
    """A directory entry the runtimes would consider, in runtime order, with its bytes.

    ``problem`` is set when the entry cannot be read as a regular file; the runtime then fails
    with ``error reading <path>: ...`` (containerd) or skips it (CRI-O): see ``discover``.
    """

    path: str
    kind: FileKind
    data: Optional[bytes] = None
    problem: Optional[str] = None  # e.g. "dangling-symlink", "not-regular", "unreadable", "too-large"
    detail: str = ""  # OS error text for ``problem``
    directory: Optional[str] = None  # the config dir it was found in; None when named directly


@dataclass(frozen=True)
class PluginConf:
    """One plugin object as libcni sees it after decoding into its NetConf struct.

    ``pointer`` locates the object in its file ("" for a single ``.conf``, "/plugins/N" in a
    list). ``type`` is None when absent/empty; Go's case-insensitive field matching is already
    applied (``"Type"`` counts as ``type``).
    """

    index: int
    pointer: str
    type: Optional[str]
    raw: Mapping[str, Any]
    ipam_type: Optional[str] = None
    capabilities: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkList:
    """The network configuration list libcni builds from a file (a ``.conf`` is up-converted).

    ``cni_version`` is None when the key is absent, "" when empty. ``cni_versions`` is the
    1.1.0 ``cniVersions`` array when present and well-formed.
    """

    name: Optional[str]
    cni_version: Optional[str]
    plugins: Tuple[PluginConf, ...]
    cni_versions: Optional[Tuple[str, ...]] = None
    disable_check: Any = None
    disable_gc: Any = None
    from_single_conf: bool = False


@dataclass(frozen=True)
class NetworkDirLoad:
    """How libcni v1.3.0 loads a ``.conflist`` where that differs from v1.2.3: NetworkConfFromFile
    also appends every ``<dir>/<network name>/*.conf`` to the plugins, and a list without
    ``plugins`` is no longer refused by the parser (containernetworking/cni:libcni/conf.go@v1.3.0
    (NetworkConfFromFile, NetworkPluginConfsFromFiles)).

    ``network``: the list v1.3.0 builds (inlined plugins, then the folder's), None when it fails;
    ``load_error``: its exact text then; ``unknown``: why the outcome cannot be predicted ("" when
    it can). ``files``: the folder's ``*.conf`` files in libcni's order.
    """

    folder: str
    files: Tuple[str, ...]
    network: Optional[NetworkList]
    load_error: Optional[str] = None
    unknown: str = ""


@dataclass(frozen=True)
class ParsedFile:
    """What the parse stage learned about one candidate.

    ``document`` is the decoded JSON (None on a syntax error). ``network`` is the list libcni
    would build, or None when libcni fails to load the file; ``load_error`` is then the exact
    libcni error text (e.g. ``error parsing configuration list: no name``).
    ``locate`` maps a JSON pointer to (line, column); it is computed lazily because clean
    files never need it.
    """

    candidate: Candidate
    document: Any
    network: Optional[NetworkList]
    load_error: Optional[str]
    findings: Tuple[Finding, ...]
    locate: Callable[[str], Tuple[int, int]] = field(default=lambda _pointer: (1, 1), compare=False, repr=False)
    network_dir: Optional[NetworkDirLoad] = None  # libcni v1.3.0's view, when it differs

    @property
    def path(self) -> str:
        return self.candidate.path


@dataclass(frozen=True)
class Selection:
    """The file the runtime will use as its default network."""

    file: str
    network: Optional[str]
    cni_version: Optional[str]
    sha256: Optional[str] = None  # of the file's bytes: `cnidoctor aggregate` compares nodes on it


@dataclass(frozen=True)
class Options:
    """What to check and how; built by the CLI from flags. ``bin_dirs`` empty means the
    runtimes' default (DEFAULT_BIN_DIR)."""

    paths: Tuple[str, ...] = (DEFAULT_CONF_DIR,)
    probe: bool = False
    bin_dirs: Tuple[str, ...] = ()
    runtimes: Tuple[str, ...] = ()
    probe_timeout: float = 5.0
    use_cache: bool = True
    # Read the node's runtime (its configuration decides the dirs and the modelled release):
    # set by the CLI for --host-root, and for a plain `check` of this node (no path arguments).
    host_root: Optional[str] = None
    dirs_from_flags: bool = False  # --bin-dir or path arguments were given: they win

    @property
    def search_dirs(self) -> Tuple[str, ...]:
        """The plugin dirs libcni searches, absolute, in order."""
        return tuple(os.path.abspath(d) for d in (self.bin_dirs or (DEFAULT_BIN_DIR,)))


# The steps of a pod's network life the prediction models, in the order the report shows them.
StepName = Literal["load", "add", "check", "del", "status"]
STEP_ORDER: Tuple[StepName, ...] = ("load", "add", "check", "del", "status")
# "unknown": only running the plugin could tell; "not_sent": the runtime never performs the step.
Outcome = Literal["ok", "fail", "unknown", "not_sent"]
# How the runtime's loader picks its file: the lexically first (containerd, libcni) or the
# first that loads (CRI-O, dockershim).
SelectionRule = Literal["first-file", "first-loadable"]


@dataclass(frozen=True)
class Step:
    """One predicted step; see crosscheck/predict.py for what each field means."""

    outcome: Outcome
    error: Optional[str] = None
    wrapped: Optional[str] = None
    called: bool = True
    exact: bool = True
    plugin: Optional[str] = None
    detail: str = ""
    basis: Optional[str] = None  # "version-probe": inferred from the VERSION probe, not measured
    # what the kubelet receives over CRI, and what only the runtime's log shows
    # (crosscheck/kubelet_view.py, per runtime release)
    kubelet_error: Optional[str] = None
    runtime_log: Optional[str] = None
    kubelet_note: str = ""
    kubelet_alternatives: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelledRuntime:
    """The runtime release a prediction is for."""

    name: str
    version: str
    libcni: str
    release: str
    glue: str


@dataclass(frozen=True)
class SkippedFile:
    """A file CRI-O's ocicni passes over before it reaches its default network
    (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3 loadNetworks). ``reason``: "load" (libcni cannot
    load it), "validate" (ValidateNetworkList fails) or "unknown" (skipped, but cnidoctor does not
    predict why: an unrendered template); ``text``: the line ocicni logs, None
    when cnidoctor cannot say it exactly."""

    file: str
    reason: str
    text: Optional[str] = None


@dataclass(frozen=True)
class Prediction:
    """A pod's network life on one modelled runtime, for the file its loader ends up with."""

    runtime: ModelledRuntime
    selected_file: Optional[str]  # None: the runtime finds no network config at all
    selection: SelectionRule
    list_version: Optional[str]
    steps: Tuple[Tuple[StepName, Step], ...]
    skipped: Tuple[SkippedFile, ...] = ()  # CRI-O: the files skipped before selected_file

    def step(self, name: StepName) -> Optional[Step]:
        return next((step for key, step in self.steps if key == name), None)


@dataclass(frozen=True)
class PluginStatus:
    """What resolution and the VERSION probe found for one plugin type the configs execute."""

    type: str
    path: Optional[str]
    problem: Optional[str]
    error: Optional[str]
    cni_version: Optional[str]
    supported: Tuple[str, ...]
    probe_error: Optional[str]
    from_cache: bool


RuntimeSource = Literal["detected", "flag", "default"]


@dataclass(frozen=True)
class RuntimeEvidence:
    """One thing read on the node that the runtime summary rests on."""

    kind: str
    path: str
    detail: str = ""


@dataclass(frozen=True)
class RuntimeSummary:
    """The runtime a run modelled and where each part came from (the JSON report's ``runtime``).

    ``source_runtime``: detected on the node, named with --runtime, or the default assumption;
    ``source_version``: buildinfo|package|version-file|data-dir|exec|flag|default;
    ``source_dirs``: the runtime's configuration, the flags/paths given, or the defaults.
    Paths are node paths (without --host-root).
    """

    name: str
    version: Optional[str]
    libcni: Optional[str]
    config_file: Optional[str]
    conf_dir: str
    bin_dirs: Tuple[str, ...]
    max_conf_num: Optional[int]
    default_network: Optional[str]
    source_runtime: RuntimeSource
    source_version: str
    source_dirs: str
    host_root: Optional[str] = None
    evidence: Tuple[RuntimeEvidence, ...] = ()
    notes: Tuple[str, ...] = ()
    installed: Tuple[str, ...] = ()
    kubelet_endpoint: Optional[str] = None


@dataclass(frozen=True)
class Report:
    """The result of one run; reporters are pure functions of this."""

    inputs: Tuple[str, ...]
    selected: Optional[Selection]
    findings: Tuple[Finding, ...]
    files: Tuple[str, ...] = ()
    prediction: Optional[Prediction] = None
    plugins: Tuple[PluginStatus, ...] = ()
    runtime: Optional[RuntimeSummary] = None
    # what the node-state checks (CNI7xx) read; None: node state not checked in this run
    node_state: Optional[Tuple[str, ...]] = None

    def counts(self) -> Mapping[str, int]:
        out = {s.label: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
        for f in self.findings:
            out[f.severity.label] += 1
        return out
