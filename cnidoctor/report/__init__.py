"""Reporters: pure functions ``render(report, options) -> str``, imported lazily by format name.

Formats: ``text`` (people), ``json`` (versioned, schema in ``cnidoctor/report/report.schema.json``),
``sarif`` (SARIF 2.1.0 for GitHub code scanning), ``github`` (workflow-command annotations),
``npd`` (one line for a node-problem-detector custom plugin), ``concise`` (one
``path:line:col: CODE [severity] message`` line per finding, for grep and editors).
"""

from __future__ import annotations

import importlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional

from ..model import Finding, Report, Severity

FORMATS: Dict[str, str] = {
    "text": "text",
    "json": "jsonreport",
    "sarif": "sarif",
    "github": "github",
    "npd": "npd",
    "preflight": "preflight",
    "concise": "concise",
}

TOOL_NAME = "cnidoctor"
# The package's home; SARIF needs an absolute informationUri and GitHub shows it with the tool.
INFORMATION_URI = "https://pypi.org/project/cnidoctor/"
# The source repository (setup.cfg [metadata] url; tests/test_reporters.py keeps them equal): rule
# documentation links (SARIF helpUri) point into its docs/rules.md.
SOURCE_URL = "https://github.com/cnidoctor/cnidoctor"


@dataclass(frozen=True)
class RenderOptions:
    """How to render.

    ``color``: ANSI styling (the CLI decides from --color, NO_COLOR, FORCE_COLOR and the TTY).
    ``base_dir``: the directory paths are made relative to (SARIF URIs, annotations).
    ``width``: terminal width the text table wraps messages to.
    ``quiet``: findings only (text, concise): no runtime, prediction or summary lines.
    """

    color: bool = False
    base_dir: str = "."
    tool_version: str = "0"
    width: int = 80
    quiet: bool = False


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


def display_path(path: str, base_dir: str) -> str:
    """How a person sees ``path``: relative to ``base_dir`` when below it, else absolute."""
    return relative_path(path, base_dir)


_PATH_END = r"(?![\w.+@-])"


class PathShortener:
    """Rewrites absolute paths inside message text for display under one file's header.

    The header names ``home``; inside its block a path in ``home``'s directory is shown by its
    base name (the header already says where it is) and any other known path relative to the
    working directory. Only the display changes: JSON and SARIF keep the messages whole.
    """

    def __init__(self, home: Optional[str], known: Iterable[str], base_dir: str) -> None:
        home_dir = os.path.dirname(home) if home else None
        mapping: Dict[str, str] = {}
        for path in set(known) | ({home} if home else set()):
            if not path or "/" not in path:
                continue
            if path == home and os.path.dirname(path) != path:
                mapping[path] = os.path.basename(path) or path
            elif home_dir is not None and os.path.dirname(path) == home_dir:
                mapping[path] = os.path.basename(path)
            else:
                mapping[path] = display_path(path, base_dir)
        self._mapping = {k: v for k, v in mapping.items() if k != v}
        order = sorted(self._mapping, key=len, reverse=True)
        alternatives = "|".join(re.escape(p) + _PATH_END for p in order)
        self._pattern = re.compile(r"(?<![\w./-])(?:" + alternatives + ")") if order else None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: self._mapping[m.group(0)], text)


def known_paths(report: Report) -> List[str]:
    """Every path a report names: checked files, finding files, the selected file."""
    paths = list(report.files) + [f.file for f in report.findings if f.file]
    if report.selected is not None:
        paths.append(report.selected.file)
    if report.prediction is not None and report.prediction.selected_file:
        paths.append(report.prediction.selected_file)
    return list(dict.fromkeys(paths))


def render_statistics(report: Report) -> str:
    """``--statistics``: one line per code, most frequent first, as ``ruff --statistics``:
    count, code, slug (the rule's name), then the summary line."""
    from ..rules import catalog

    counts = Counter(f.code for f in report.findings)
    if not counts:
        return "No problems found.\n"
    rules = catalog()
    width = len(str(max(counts.values())))
    lines = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        rule = rules.get(code)
        slug = rule.name if rule is not None else "-"
        lines.append(f"{count:>{width}}  {code}  {slug}")
    return "\n".join(lines) + "\n"
