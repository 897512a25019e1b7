"""One line for a node-problem-detector custom plugin (``--format npd``).

NPD trims the plugin's stdout and cuts it to ``max_output_length`` bytes (default 80) to make the
node condition's message; the exit code decides the condition: 0 OK, 1 problem, anything else
Unknown (node-problem-detector docs/custom_plugin_monitor.md). So the
line names the worst finding first and always fits 80 bytes whole, with "(+N more)" kept.

The exit code (``exit_code``) is 2, Unknown, when cnidoctor could not decide: a plugin it could
not run from where it runs (CNI505: from inside a container, the node's loader is missing there;
or as a non-root user) and no error-level finding that fails the node on its own.
"""

from __future__ import annotations

import os
from typing import List

from ..model import Finding, Report, Severity
from . import RenderOptions, worst_first

MAX_BYTES = 80
ELLIPSIS = "..."
EXIT_UNKNOWN = 2  # plugin.go@v1.36.0: any exit status other than 0 (OK) and 1 (NonOK)
UNDECIDED_CODES = frozenset({"CNI505"})  # a plugin's VERSION reply could not be learnt


def exit_code(report: Report, decided: int) -> int:
    """``decided`` (0/1 from --fail-on), or Unknown when the verdict hangs on a plugin cnidoctor
    could not probe from here and no error finding decides on its own."""
    if any(f.severity >= Severity.ERROR for f in report.findings):
        return decided
    if any(f.code in UNDECIDED_CODES for f in report.findings):
        return EXIT_UNKNOWN
    return decided


def render(report: Report, options: RenderOptions) -> str:
    return one_line(report, MAX_BYTES) + "\n"


def one_line(report: Report, limit: int = MAX_BYTES) -> str:
    findings = root_cause_first(report)
    if not findings:
        return fit(_clean_line(report), "", limit)
    more = len(findings) - 1
    suffix = f" (+{more} more)" if more else ""
    return fit(_finding_line(findings[0]), suffix, limit)


def root_cause_first(report: Report) -> List[Finding]:
    """Worst first; among equally severe findings, the one that breaks the default network:
    a finding predicting the selected file's LOAD error, then its ADD error, then one on the
    selected file, then the rest in file order."""
    prediction = report.prediction
    failing = {}
    if prediction is not None:
        for name in ("load", "add"):
            step = prediction.step(name)
            if step is not None and step.outcome == "fail" and step.error:
                failing[name] = step.error
    selected = prediction.selected_file if prediction is not None else None

    def rank(finding: Finding) -> int:
        if finding.predicts and finding.predicts == failing.get("load"):
            return 0
        if finding.predicts and finding.predicts == failing.get("add"):
            return 1
        return 2 if selected is not None and finding.file == selected else 3

    return sorted(worst_first(report.findings), key=lambda f: (-int(f.severity), rank(f)))


def _clean_line(report: Report) -> str:
    if report.selected is not None:
        name = os.path.basename(report.selected.file)
        version = report.selected.cni_version or "?"
        return f"OK {name} network={report.selected.network or '?'} cniVersion={version}"
    return f"OK {len(report.files)} CNI config files checked"


def _finding_line(finding: Finding) -> str:
    where: List[str] = []
    if finding.file is not None:
        where.append(os.path.basename(finding.file))
    elif finding.plugin:
        where.append(finding.plugin)
    place = f" {where[0]}:" if where else ":"
    return f"{finding.code}{place} {finding.message}"


def fit(text: str, suffix: str, limit: int) -> str:
    """``text`` + ``suffix`` on one line within ``limit`` UTF-8 bytes, cutting ``text`` (never
    the suffix, never inside a character) and marking the cut with "..."."""
    text = " ".join(text.split())
    if len((text + suffix).encode("utf-8")) <= limit:
        return text + suffix
    budget = limit - len((ELLIPSIS + suffix).encode("utf-8"))
    cut = text.encode("utf-8")[: max(0, budget)].decode("utf-8", errors="ignore").rstrip()
    return cut + ELLIPSIS + suffix
