"""Text reporter: what an SRE reads at 3 a.m.

Order: the runtime prediction (will pods get networking?), the file the runtime will use, then
one table per file (line:col, severity, code, message) with the fix and the exact runtime error
beneath each finding, then one summary line. A clean run is two short lines.
"""

from __future__ import annotations

import os
import textwrap
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

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
from . import (
    KnownPaths,
    PathShortener,
    RenderOptions,
    display_path,
    known_paths,
    plural,
    summary_counts,
    worst_first,
)
from .plaintable import plain_table

NODE_GROUP = "node (plugin binaries, runtime)"
SEVERITY_STYLE: Dict[Severity, Tuple[str, bool]] = {
    Severity.ERROR: ("red", True),
    Severity.WARNING: ("yellow", True),
    Severity.INFO: ("blue", False),
}
MIN_MESSAGE_WIDTH = 30
MIN_WIDTH = 60


def render(report: Report, options: RenderOptions) -> str:
    paint = _Painter(options.color)
    width = max(MIN_WIDTH, options.width)
    known = KnownPaths(known_paths(report), options.base_dir)
    blocks: List[str] = []
    if not options.quiet:
        if report.runtime is not None:
            blocks.append(render_runtime(report.runtime, paint, width))
        if report.prediction is not None:
            shorten = PathShortener(report.prediction.selected_file, known, options.base_dir)
            prediction = render_prediction(report.prediction, paint, width, shorten, options.base_dir)
            lines = [prediction, _node_state_line(report.node_state), *_unchecked_lines(report.prediction, width)]
            blocks.append("\n".join(lines))
        if report.selected is not None:
            blocks.append(render_selected(report.selected, report.prediction, paint, width, options.base_dir))
    for group, findings in group_by_file(report.findings):
        blocks.append(render_group(group, findings, report, options, paint, known))
    if not options.quiet:
        blocks.append(render_summary(report, paint, options.base_dir))
        if report.findings:
            blocks[-1] += "\n" + "\n".join(paint(line, dim=True) for line in _wrap(_silence_hint(report), width))
    if not blocks:
        return ""
    # A clean run stays compact: no blank lines between its two or three short lines.
    return ("\n\n" if report.findings else "\n").join(blocks) + "\n"


def _silence_hint(report: Report) -> str:
    """How to silence a finding on purpose, as kubeadm's preflight says how to skip a check."""
    code = worst_first(report.findings)[0].code
    return f"To silence a finding: --ignore {code}, or an [[ignore]] entry with codes and a reason in .cnidoctor.toml."


def _wrap(text: str, width: int, indent: str = "  ", first: str = "") -> List[str]:
    """Words never break (paths, error texts stay greppable); continuation lines are indented."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first]


def _wrap_headed(label: str, rest: str, width: int, paint: _Painter, indent: str = "  ") -> str:
    """``Label: rest`` wrapped to ``width``; the label is painted after wrapping so escape codes
    never count as columns."""
    lines = _wrap(f"{label}: {rest}", width, indent)
    lines[0] = paint(label, bold=True) + lines[0][len(label) :]
    return "\n".join(lines)


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


def render_runtime(runtime: RuntimeSummary, paint: _Painter, width: int = 80) -> str:
    """What runs (and how that is known), then where it looks for configs and plugins."""
    return _wrap_headed("Runtime", _runtime_text(runtime), width, paint)


def _runtime_text(runtime: RuntimeSummary) -> str:
    what = runtime.name + (f" {runtime.version}" if runtime.version else "")
    lib = f"libcni {runtime.libcni}" if runtime.libcni else "libcni unknown"
    if runtime.source_runtime == "flag":
        return f"{what} ({lib}), from --runtime"
    if runtime.source_runtime == "default":
        return f"{what} ({lib}) assumed: not read from a node (--host-root DIR reads one, --runtime names one)"
    how = VERSION_SOURCE_WORDS.get(runtime.source_version, runtime.source_version)
    config = f", config {runtime.config_file}" if runtime.config_file else ", no config file (built-in defaults)"
    dirs = f"; configs in {runtime.conf_dir}, plugins in {', '.join(runtime.bin_dirs)}"
    return f"{what} ({lib}; {how}){config}{dirs}"


# -- prediction ---------------------------------------------------------------------------------


def render_prediction(
    prediction: Prediction,
    paint: _Painter,
    width: int = 80,
    shorten: Callable[[str], str] = str,
    base_dir: str = ".",
) -> str:
    runtime = _runtime_label(prediction.runtime)
    head = runtime
    if prediction.selected_file:
        head += f" with {display_path(prediction.selected_file, base_dir)}"
    else:
        head += " (no config file will load)"
    ordered = sorted(prediction.steps, key=lambda item: STEP_ORDER.index(item[0]))
    if ordered and all(step.outcome in ("ok", "not_sent") and step.kubelet_error is None for _, step in ordered):
        return _wrap_headed("Prediction", f"{head}: {_all_ok(ordered)}", width, paint)
    lines = [_wrap_headed("Prediction", head + ":", width, paint)]
    for name, step in ordered:
        lines.extend(_step_lines(name, step, paint, width, shorten))
    return "\n".join(lines)


def _node_state_line(checked: Optional[Tuple[str, ...]]) -> str:
    """What the node-state checks (CNI7xx) read, so a clean ADD is never read as "the node is fine"."""
    if checked is None:
        return "  node state not checked (files only or --no-probe)"
    return "  node state checked: " + (", ".join(checked) if checked else "nothing the selected network depends on")


UNCHECKED = "not checked: what the plugins do on ADD beyond VERSION (results, timeouts); run a test pod to confirm"


def _unchecked_lines(prediction: Prediction, width: int) -> List[str]:
    """A plugin's result or a hang on ADD alone never shows in its VERSION reply (issue 9, class 8):
    say so whenever ADD is sent and not already predicted to fail."""
    add = prediction.step("add")
    if add is None or not add.called or add.outcome == "fail":
        return []
    return _wrap(UNCHECKED, width, "    ", "  ")


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


def _step_lines(
    name: StepName, step: Step, paint: _Painter, width: int = 80, shorten: Callable[[str], str] = str
) -> List[str]:
    """One line per step; a failure also shows the runtime's outer message and the reason."""
    detail = shorten(step.detail)
    label = f"  {name.upper():<7}"
    pad = " " * len(label)
    if not step.called:
        return _step(label, "not sent", f" ({detail})" if detail else "", width, lambda w: paint(w, dim=True))
    if step.outcome == "ok" and step.kubelet_error is not None:  # libcni succeeds, the runtime fails the pod
        lines = _step(label, "FAILS", " in the runtime (libcni: ok)", width, lambda w: paint(w, fg="red", bold=True))
        return (
            lines
            + _shown_lines(step, "", width, pad, shorten)
            + (_wrap(f"why: {detail}", width, pad + "  ", pad) if detail else [])
        )
    if step.outcome == "ok":
        return [label + paint("ok", fg="green")]
    if step.outcome != "fail":
        return _step(label, step.outcome, f" ({detail})" if detail else "", width, lambda w: paint(w, fg="yellow"))
    error = shorten(step.error or "")
    lines = _step(label, "FAILS", f": {error}" if error else "", width, lambda w: paint(w, fg="red", bold=True))
    lines += _shown_lines(step, error, width, pad, shorten)
    if detail:
        lines += _wrap(f"why: {detail}", width, pad + "  ", pad)
    return lines


def _shown_lines(step: Step, error: str, width: int, pad: str, shorten: Callable[[str], str]) -> List[str]:
    """Where the step's text appears: the kubelet's view and the runtime's log, each labelled,
    when the release is modelled (crosscheck/kubelet_view.py); else the runtime's outer message."""
    if step.kubelet_error is None:
        wrapped = shorten(step.wrapped or "")
        return _wrap(f"runtime shows: {wrapped}", width, pad + "  ", pad) if wrapped and wrapped != error else []
    lines = _wrap(f"kubelet sees: {shorten(step.kubelet_error)}", width, pad + "  ", pad)
    for other in step.kubelet_alternatives:
        lines += _wrap(f"or: {shorten(other)}", width, pad + "  ", pad)
    if step.runtime_log and step.runtime_log != step.kubelet_error:
        lines += _wrap(
            f"only in the runtime's log and status (crictl info): {shorten(step.runtime_log)}", width, pad + "  ", pad
        )
    if step.kubelet_note:
        lines += _wrap(f"note: {shorten(step.kubelet_note)}", width, pad + "  ", pad)
    return lines


def _step(label: str, word: str, rest: str, width: int, style: Callable[[str], str]) -> List[str]:
    lines = _wrap(word + rest, width, " " * len(label) + "  ", label)
    lines[0] = label + style(word) + lines[0][len(label) + len(word) :]
    return lines


# -- selection ----------------------------------------------------------------------------------


def render_selected(
    selected: Selection,
    prediction: Optional[Prediction],
    paint: _Painter,
    width: int = 80,
    base_dir: str = ".",
) -> str:
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
        reads = (
            f"reads {_beside(prediction.selected_file, selected.file, base_dir)} first"
            if prediction.selected_file is not None
            else "finds no network config"
        )
        text = (
            f"{display_path(selected.file, base_dir)}{suffix} for CRI-O and the kubelet, which skip files that "
            f"fail to load; {prediction.runtime.name} {reads}"
        )
        return _wrap_headed("Default network", text, width, paint)
    return _wrap_headed("Runtime will use", f"{display_path(selected.file, base_dir)}{suffix}", width, paint)


def _beside(path: str, named: str, base_dir: str) -> str:
    """``path`` by its base name when it sits in the same directory as ``named``, shown just before."""
    return os.path.basename(path) if os.path.dirname(path) == os.path.dirname(named) else display_path(path, base_dir)


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
    group: Optional[str],
    findings: List[Finding],
    report: Report,
    options: RenderOptions,
    paint: _Painter,
    known: Optional[KnownPaths] = None,
) -> str:
    title = display_path(group, options.base_dir) if group is not None else NODE_GROUP
    if group is not None and report.selected is not None and report.selected.file == group:
        title += " (used by the runtime)"
    width = max(MIN_MESSAGE_WIDTH, max(MIN_WIDTH, options.width) - _fixed_columns_width(findings))
    if known is None:
        known = KnownPaths(known_paths(report), options.base_dir)
    shorten = PathShortener(group, known, options.base_dir)
    rows = [
        (
            _location(f),
            paint.severity(f.severity),
            paint.severity(f.severity, f.code),
            _details(f, width, paint, shorten),
        )
        for f in findings
    ]
    table = plain_table(rows)
    heading = "\n".join(paint(line, bold=True) for line in _wrap(title, max(MIN_WIDTH, options.width)))
    return heading + "\n" + textwrap.indent(table, "  ")


def _location(finding: Finding) -> str:
    if finding.file is None:
        return finding.plugin or "-"
    if finding.line is None:
        return "-"
    return f"{finding.line}:{finding.column or 1}"


def _fixed_columns_width(findings: Sequence[Finding]) -> int:
    """Width taken by indent, location, severity and code columns plus tabulate's gaps."""
    location = max((len(_location(f)) for f in findings), default=1)
    severity = max(len(f.severity.label) for f in findings) if findings else len("warning")
    return 2 + location + 2 + severity + 2 + len("CNI000") + 2


def _slug(code: str) -> str:
    from ..rules import catalog

    rule = catalog().get(code)
    return f" ({rule.name})" if rule is not None else ""


def _details(finding: Finding, width: int, paint: _Painter, shorten: Callable[[str], str] = str) -> str:
    """The message with the rule's slug (yamllint's ``(trailing-spaces)``), then ``fix:`` and
    ``runtime error:`` lines, ending with how to learn more."""
    lines = _wrap(shorten(finding.message) + _slug(finding.code), width, "")
    if finding.fix:
        lines += _labelled("fix", shorten(finding.fix), width, paint)
    if finding.predicts:
        lines += _labelled("runtime error", shorten(finding.predicts), width, paint)
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


def render_summary(report: Report, paint: _Painter, base_dir: str = ".") -> str:
    """Counts, then where: how many of the checked files have findings, and the findings on
    other paths (a directory, a settings file) or on the node, so the numbers add up."""
    checked = len(report.files)
    if not report.findings:
        return paint(f"No problems found in {plural(checked, 'file')} checked.", fg="green")
    files = set(report.files)
    named = list(dict.fromkeys(f.file for f in report.findings if f.file is not None))
    in_checked = [name for name in named if name in files]
    elsewhere = [display_path(name, base_dir) for name in named if name not in files]
    places = []
    if in_checked:
        places.append(f"in {len(in_checked)} of {plural(checked, 'file')} checked")
    if elsewhere:
        places.append("in " + (", ".join(elsewhere) if len(elsewhere) <= 2 else plural(len(elsewhere), "other path")))
    if any(f.file is None for f in report.findings):
        places.append("on the node")
    if not in_checked:
        places.append(f"({plural(checked, 'file')} checked)" if checked else "(no config file checked)")
    counts = paint(summary_counts(report), bold=True)
    return f"{counts} {_join(places)}."


def _join(places: Sequence[str]) -> str:
    words = [p for p in places if not p.startswith("(")]
    tail = [p for p in places if p.startswith("(")]
    text = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + (words[-1] if words else "")
    return " ".join([text] + tail) if text else " ".join(tail)
