"""``--format concise``: one line per finding, ``path:line:col: CODE [severity] message``.

The convention of ruff's ``concise``, shellcheck's ``gcc`` and yamllint's ``parsable`` formats,
which editors (vim's errorformat, emacs' compilation-mode) and grep read. A finding on a file
without a position is placed at 1:1; a node-level finding (a plugin binary, the runtime) is
placed on ``node`` (or ``node/<plugin>``). A summary line follows unless ``--quiet``.
"""

from __future__ import annotations

from typing import List

from ..model import Finding, Report
from . import KnownPaths, PathShortener, RenderOptions, display_path, known_paths, summary_counts


def render(report: Report, options: RenderOptions) -> str:
    known = KnownPaths(known_paths(report), options.base_dir)
    lines: List[str] = [_line(f, known, options) for f in report.findings]
    if not options.quiet:
        lines.append(_summary(report))
    return "".join(line + "\n" for line in lines)


def _line(finding: Finding, known: KnownPaths, options: RenderOptions) -> str:
    shorten = PathShortener(finding.file, known, options.base_dir)
    message = " ".join(shorten(finding.message).split())
    return f"{_place(finding, options)}: {finding.code} [{finding.severity.label}] {message}"


def _place(finding: Finding, options: RenderOptions) -> str:
    if finding.file is None:
        where = f"node/{finding.plugin}" if finding.plugin else "node"
        return f"{where}:1:1"
    return f"{display_path(finding.file, options.base_dir)}:{finding.line or 1}:{finding.column or 1}"


def _summary(report: Report) -> str:
    if not report.findings:
        return f"No problems found in {len(report.files)} file(s) checked."
    return f"Found {summary_counts(report)}."
