"""Text reporter: what an SRE reads at 3 a.m.

Order: the runtime prediction (will pods get networking?), the file the runtime will use, then
one table per file (line:col, severity, code, message) with the fix and the exact runtime error
beneath each finding, then one summary line. A clean run is two short lines.
"""

from __future__ import annotations

import textwrap
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from tabulate import tabulate

from ..model import (
    STEP_ORDER,
    Finding,
    ModelledRuntime,
    Prediction,
    Report,
    RuntimeSummary,
    Selection,
    Severity,
    Step,
    StepName,
)
from . import RenderOptions, plural, summary_counts

NODE_GROUP = "node (plugin binaries, runtime)"
SEVERITY_STYLE: Dict[Severity, Tuple[str, bool]] = {
    Severity.ERROR: ("red", True),
    Severity.WARNING: ("yellow", True),
    Severity.INFO: ("blue", False),
}
MIN_MESSAGE_WIDTH = 40


def render(report: Report, options: RenderOptions) -> str:
    paint = _Painter(options.color)
    blocks: List[str] = []
    if report.runtime is not None:
        blocks.append(render_runtime(report.runtime, paint))
    if report.prediction is not None:
        blocks.append(render_prediction(report.prediction, paint))
    if report.selected is not None:
        blocks.append(render_selected(report.selected, report.prediction, paint))
    for group, findings in group_by_file(report.findings):
        blocks.append(render_group(group, findings, report, options, paint))
    blocks.append(render_summary(report, paint))
    # A clean run stays compact: no blank lines between its two or three short lines.
    return ("\n\n" if report.findings else "\n").join(blocks) + "\n"


class _Painter:
    """click.style when colour is on, identity otherwise (click.style is a pure function)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, fg: Optional[str] = None, bold: bool = False, dim: bool = False) -> str:
        if not self.enabled or not text:
            return text
        import click

        return click.style(text, fg=fg, bold=bold or None, dim=dim or None)

    def severity(self, severity: Severity, text: Optional[str] = None) -> str:
        fg, bold = SEVERITY_STYLE[severity]
        return self(text if text is not None else severity.label, fg=fg, bold=bold)


# -- runtime ------------------------------------------------------------------------------------

VERSION_SOURCE_WORDS: Mapping[str, str] = {
    "buildinfo": "read from its Go build info",
    "package": "read from the package database",
    "version-file": "read from CRI-O's version file",
    "data-dir": "read from its data-dir name",
    "exec": "read from its --version",
    "default": "release not read from the node",
}


def render_runtime(runtime: RuntimeSummary, paint: _Painter) -> str:
    """One line: what runs (and how that is known), then where it looks for configs and plugins."""
    label = paint("Runtime", bold=True)
    what = runtime.name + (f" {runtime.version}" if runtime.version else "")
    lib = f"libcni {runtime.libcni}" if runtime.libcni else "libcni unknown"
    if runtime.source_runtime == "flag":
        return f"{label}: {what} ({lib}), from --runtime"
    if runtime.source_runtime == "default":
        return f"{label}: {what} ({lib}) assumed: not read from a node (--host-root DIR reads one, --runtime names one)"
    how = VERSION_SOURCE_WORDS.get(runtime.source_version, runtime.source_version)
    config = f", config {runtime.config_file}" if runtime.config_file else ", no config file (built-in defaults)"
    dirs = f"; configs in {runtime.conf_dir}, plugins in {', '.join(runtime.bin_dirs)}"
    return f"{label}: {what} ({lib}; {how}){config}{dirs}"


# -- prediction ---------------------------------------------------------------------------------


def render_prediction(prediction: Prediction, paint: _Painter) -> str:
    runtime = _runtime_label(prediction.runtime)
    head = f"{paint('Prediction', bold=True)}: {runtime}"
    head += f" with {prediction.selected_file}" if prediction.selected_file else " (no config file will load)"
    ordered = sorted(prediction.steps, key=lambda item: STEP_ORDER.index(item[0]))
    if ordered and all(step.outcome in ("ok", "not_sent") for _, step in ordered):
        return f"{head}: {_all_ok(ordered)}"
    lines = [head + ":"]
    for name, step in ordered:
        lines.extend(_step_lines(name, step, paint))
    return "\n".join(lines)


def _all_ok(steps: Sequence[Tuple[StepName, Step]]) -> str:
    """``no config or version problem predicted for LOAD, ADD, DEL; CHECK is not sent.`` Not "succeed":
    node state the runtime needs (flannel's subnet.env, a CNI daemon) is not checked."""
    sent = [name.upper() for name, step in steps if step.called]
    unsent = [name.upper() for name, step in steps if not step.called]
    text = f"no config or version problem predicted for {', '.join(sent)}" if sent else "nothing is sent"
    if unsent:
        text += f"; {' and '.join(unsent)} {'is' if len(unsent) == 1 else 'are'} not sent"
    return text + "."


def _runtime_label(runtime: ModelledRuntime) -> str:
    name = runtime.name or "runtime"
    label = f"{name} {runtime.version}" if runtime.version else name
    if runtime.libcni and name != "libcni":
        label += f" (libcni {runtime.libcni})"
    return label


def _step_lines(name: StepName, step: Step, paint: _Painter) -> List[str]:
    """One line per step; a failure also shows the runtime's outer message and the reason."""
    detail = step.detail
    label = f"  {name.upper():<7}"
    pad = " " * len(label)
    if not step.called:
        return [label + paint("not sent", dim=True) + (f" ({detail})" if detail else "")]
    if step.outcome == "ok":
        return [label + paint("ok", fg="green")]
    if step.outcome != "fail":
        return [label + paint(step.outcome, fg="yellow") + (f" ({detail})" if detail else "")]
    error = step.error
    lines = [label + paint("FAILS", fg="red", bold=True) + (f": {error}" if error else "")]
    if step.wrapped and step.wrapped != error:
        lines.append(pad + f"runtime shows: {step.wrapped}")
    if detail:
        lines.append(pad + f"why: {detail}")
    return lines


# -- selection ----------------------------------------------------------------------------------


def render_selected(selected: Selection, prediction: Optional[Prediction], paint: _Painter) -> str:
    """The default network. ``selected`` is the first file that loads (what CRI-O and the
    kubelet use); containerd reads the first file whatever it holds, so when the prediction
    names another file, say both rather than contradict the prediction above."""
    details = []
    if selected.network is not None:
        details.append(f'network "{selected.network}"')
    if selected.cni_version is not None:
        details.append(f'cniVersion "{selected.cni_version}"')
    suffix = f" ({', '.join(details)})" if details else ""
    if prediction is not None and prediction.selected_file != selected.file:
        return (
            f"{paint('Default network', bold=True)}: {selected.file}{suffix} for CRI-O and the kubelet, "
            f"which skip files that fail to load; {prediction.runtime.name} reads {prediction.selected_file} first"
        )
    return f"{paint('Runtime will use', bold=True)}: {selected.file}{suffix}"


# -- findings -----------------------------------------------------------------------------------


def group_by_file(findings: Sequence[Finding]) -> List[Tuple[Optional[str], List[Finding]]]:
    """Findings per file in the order given (the engine sorts them); node-level ones last."""
    groups: Dict[Optional[str], List[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.file, []).append(finding)
    ordered: List[Tuple[Optional[str], List[Finding]]] = [
        (name, items) for name, items in groups.items() if name is not None
    ]
    if None in groups:
        ordered.append((None, groups[None]))
    return ordered


def render_group(
    group: Optional[str], findings: List[Finding], report: Report, options: RenderOptions, paint: _Painter
) -> str:
    title = group if group is not None else NODE_GROUP
    if group is not None and report.selected is not None and report.selected.file == group:
        title += " (used by the runtime)"
    width = max(MIN_MESSAGE_WIDTH, options.width - _fixed_columns_width(findings))
    rows = [
        (_location(f), paint.severity(f.severity), paint.severity(f.severity, f.code), _details(f, width, paint))
        for f in findings
    ]
    table = tabulate(rows, tablefmt="plain", disable_numparse=True)
    return paint(title, bold=True) + "\n" + textwrap.indent(table, "  ")


def _location(finding: Finding) -> str:
    if finding.file is None:
        return finding.plugin or "-"
    if finding.line is None:
        return "-"
    return f"{finding.line}:{finding.column or 1}"


def _fixed_columns_width(findings: Sequence[Finding]) -> int:
    """Width taken by indent, location, severity and code columns plus tabulate's gaps."""
    location = max((len(_location(f)) for f in findings), default=1)
    return 2 + location + 2 + len("warning") + 2 + len("CNI000") + 2


def _details(finding: Finding, width: int, paint: _Painter) -> str:
    """The message, then ``fix:`` and ``runtime error:`` lines, ending with how to learn more."""
    lines = textwrap.wrap(finding.message, width, break_long_words=False, break_on_hyphens=False) or [""]
    if finding.fix:
        lines += _labelled("fix", finding.fix, width, paint)
    if finding.predicts:
        lines += _labelled("runtime error", finding.predicts, width, paint)
    lines.append(paint(f"see: cnidoctor explain {finding.code}", dim=True))
    return "\n".join(lines)


def _labelled(label: str, text: str, width: int, paint: _Painter) -> List[str]:
    prefix = f"{label}: "
    wrapped = textwrap.wrap(
        text, width, initial_indent=prefix, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
    ) or [prefix]
    wrapped[0] = paint(prefix, fg="cyan") + wrapped[0][len(prefix) :]
    return wrapped


# -- summary ------------------------------------------------------------------------------------


def render_summary(report: Report, paint: _Painter) -> str:
    checked = len(report.files)
    if not report.findings:
        return paint(f"No problems found in {plural(checked, 'file')} checked.", fg="green")
    with_findings = len({f.file for f in report.findings if f.file is not None})
    places = [f"in {plural(with_findings, 'file')}"] if with_findings else []
    if any(f.file is None for f in report.findings):
        places.append("on the node")
    counts = paint(summary_counts(report), bold=True)
    return f"{counts} {' and '.join(places)} ({plural(checked, 'file')} checked)."
