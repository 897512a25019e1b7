"""Reporters: pure functions ``render(report, options) -> str``, imported lazily by format name.

Formats: ``text`` (people), ``json`` (versioned, schema in ``cnidoctor/report/report.schema.json``),
``sarif`` (SARIF 2.1.0 for GitHub code scanning), ``github`` (workflow-command annotations),
``npd`` (one line for a node-problem-detector custom plugin).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Callable, Dict

from ..model import Finding, Report, Severity

FORMATS: Dict[str, str] = {
    "text": "text",
    "json": "jsonreport",
    "sarif": "sarif",
    "github": "github",
    "npd": "npd",
    "preflight": "preflight",
}

TOOL_NAME = "cnidoctor"
# The package's home; SARIF needs an absolute informationUri and GitHub shows it with the tool.
INFORMATION_URI = "https://pypi.org/project/cnidoctor/"


@dataclass(frozen=True)
class RenderOptions:
    """How to render.

    ``color``: ANSI styling (the CLI decides from --color, NO_COLOR, FORCE_COLOR and the TTY).
    ``base_dir``: the directory paths are made relative to (SARIF URIs, annotations).
    ``width``: terminal width the text table wraps messages to.
    """

    color: bool = False
    base_dir: str = "."
    tool_version: str = "0"
    width: int = 100


def renderer(fmt: str) -> Callable[[Report, RenderOptions], str]:
    """The ``render`` function of format ``fmt``; KeyError for an unknown format."""
    module = importlib.import_module(f".{FORMATS[fmt]}", __name__)
    render: Callable[[Report, RenderOptions], str] = module.render
    return render


def relative_path(path: str, base_dir: str) -> str:
    """``path`` relative to ``base_dir`` with forward slashes when it lies inside it.

    Paths outside ``base_dir`` stay absolute: a ``../`` path is meaningless to code scanning.
    """
    absolute = os.path.abspath(path)
    base = os.path.abspath(base_dir)
    try:
        inside = os.path.commonpath([absolute, base]) == base
    except ValueError:  # different drives (not on Linux, but commonpath can still refuse)
        inside = False
    if not inside:
        return absolute.replace(os.sep, "/")
    return os.path.relpath(absolute, base).replace(os.sep, "/")


def worst_first(findings: tuple[Finding, ...]) -> list[Finding]:
    """Findings ordered by severity (errors first), then by place: what a one-liner shows first."""
    return sorted(findings, key=lambda f: (-int(f.severity), f.sort_key()))


def plural(count: int, word: str) -> str:
    """``1 error``, ``2 errors``; "info" is a mass noun and never takes an s."""
    return f"{count} {word}" if count == 1 or word == "info" else f"{count} {word}s"


def summary_counts(report: Report) -> str:
    """``2 errors, 1 warning`` (zero counts left out); ``no problems`` when clean."""
    counts = report.counts()
    parts = [
        plural(counts[s.label], s.label) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO) if counts[s.label]
    ]
    return ", ".join(parts) if parts else "no problems"
