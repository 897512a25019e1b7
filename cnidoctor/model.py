"""The data that flows through the pipeline: frozen records, no behaviour beyond small helpers.

discover -> parse -> validate -> resolve -> probe -> cross-check -> findings -> reporter.
Every stage consumes and returns these types; only ``cli.py`` prints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Optional, Tuple

__all__ = [
    "Candidate",
    "Finding",
    "NetworkList",
    "ParsedFile",
    "PluginConf",
    "PluginRefusal",
    "Report",
    "Rule",
    "Selection",
    "Severity",
]


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
    stage: str
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
    ) -> Finding:
        """A finding of this rule at ``file``/``pointer`` with the rule's default severity."""
        return Finding(
            code=self.code,
            severity=self.severity,
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
class Report:
    """The result of one run; reporters are pure functions of this."""

    inputs: Tuple[str, ...]
    selected: Optional[Selection]
    findings: Tuple[Finding, ...]
    files: Tuple[str, ...] = ()
    prediction: Optional[Mapping[str, Any]] = None
    plugins: Tuple[Mapping[str, Any], ...] = ()

    def counts(self) -> Mapping[str, int]:
        out = {s.label: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
        for f in self.findings:
            out[f.severity.label] += 1
        return out
