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
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..frozen import dataclass
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
# A path made only of these characters can only match inside one run of them: the match's
# start follows a character outside [\w./-] (so a run start, or a `+`/`@` inside the run) and
# its end precedes one outside [\w.+@-] (so the run end, or a `/` inside the run).
_PATH_RUN = re.compile(r"[\w./+@-]+")


class KnownPaths:
    """The paths a report names, indexed once per report: each display under a file header is
    then a few dictionary look-ups instead of a regular expression over every path (with
    10,000 files, one alternation of 10,000 paths compiled and scanned per file)."""

    def __init__(self, known: Iterable[str], base_dir: str) -> None:
        self.paths = frozenset(p for p in known if p and "/" in p)
        self.base_dir = base_dir
        self.runs_only = all(_PATH_RUN.fullmatch(p) for p in self.paths)
        self._display: Dict[str, str] = {}

    def display(self, path: str) -> str:
        shown = self._display.get(path)
        if shown is None:
            shown = self._display[path] = display_path(path, self.base_dir)
        return shown


class PathShortener:
    """Rewrites absolute paths inside message text for display under one file's header.

    The header names ``home``; inside its block a path in ``home``'s directory is shown by its
    base name (the header already says where it is) and any other known path relative to the
    working directory. Only the display changes: JSON and SARIF keep the messages whole.
    A path is replaced where it is not preceded by [\\w./-] nor followed by [\\w.+@-], the
    longest known path first.
    """

    def __init__(self, home: Optional[str], known: Iterable[str] | KnownPaths, base_dir: str) -> None:
        self._known = known if isinstance(known, KnownPaths) else KnownPaths(known, base_dir)
        self._home = home
        self._home_dir = os.path.dirname(home) if home else None
        self._pattern: Optional[re.Pattern[str]] = None
        home_key = {home} if home and "/" in home else set()
        self._extra = frozenset(home_key - self._known.paths)
        self._runs_only = self._known.runs_only and all(_PATH_RUN.fullmatch(p) for p in self._extra)
        if not self._runs_only:
            self._pattern = self._alternation()

    def _shown(self, path: str) -> str:
        if path == self._home and os.path.dirname(path) != path:
            return os.path.basename(path) or path
        if self._home_dir is not None and os.path.dirname(path) == self._home_dir:
            return os.path.basename(path)
        return self._known.display(path)

    def _replacement(self, path: str) -> Optional[str]:
        """What ``path`` is shown as, or None when it is no known path or shown unchanged."""
        if path not in self._known.paths and path not in self._extra:
            return None
        shown = self._shown(path)
        return None if shown == path else shown

    def _alternation(self) -> Optional[re.Pattern[str]]:
        """The general case (a known path with characters outside [\\w./+@-]): one regular
        expression over every path that changes, longest first."""
        mapping = {p: self._replacement(p) for p in self._known.paths | self._extra}
        order = sorted((p for p, shown in mapping.items() if shown is not None), key=len, reverse=True)
        if not order:
            return None
        alternatives = "|".join(re.escape(p) + _PATH_END for p in order)
        return re.compile(r"(?<![\w./-])(?:" + alternatives + ")")

    def __call__(self, text: str) -> str:
        if not text or "/" not in text:
            return text
        if not self._runs_only:
            if self._pattern is None:
                return text
            return self._pattern.sub(lambda m: self._shown(m.group(0)), text)
        return self._in_runs(text)

    def _in_runs(self, text: str) -> str:
        parts: List[str] = []
        done = 0
        for run in _PATH_RUN.finditer(text):
            word = run.group(0)
            if "/" not in word:
                continue
            offset = run.start()
            ends = [len(word), *(j for j in range(len(word) - 1, 0, -1) if word[j] == "/")]
            start = 0
            while start < len(word):
                match = self._longest(word, start, ends)
                if match is not None:
                    end, shown = match
                    parts += [text[done : offset + start], shown]
                    done = offset + end
                    start = end
                else:
                    start += 1
                start = _next_start(word, start)
        parts.append(text[done:])
        return "".join(parts)

    def _longest(self, word: str, start: int, ends: Sequence[int]) -> Optional[Tuple[int, str]]:
        for end in ends:  # descending
            if end <= start:
                return None
            shown = self._replacement(word[start:end])
            if shown is not None:
                return end, shown
        return None


def _next_start(word: str, start: int) -> int:
    """The first position from ``start`` where a path may begin inside a run: right after a
    `+` or `@` (the run's own start is handled by the caller); len(word) if none."""
    while start < len(word) and word[start - 1] not in "+@":
        start += 1
    return start


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
