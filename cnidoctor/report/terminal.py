"""Markdown as a terminal shows it: what `cnidoctor explain` prints unless --format markdown.

Headings lose their ``#`` marks (the title is bold, sections bold and underlined when colour is
on), paragraphs and list items wrap to the terminal width without breaking words, and fenced
code is shown indented, unwrapped, without its fences (as ``man`` shows examples).
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Callable, List, Optional, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Rule

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BULLET = re.compile(r"^(\s*)([-*]|\d+\.)\s+(.*)$")

Style = Callable[[str, bool, bool], str]


def _plain(text: str, bold: bool, underline: bool) -> str:
    return text


def render_markdown(markdown: str, width: int = 80, style: Optional[Style] = None) -> str:
    """``markdown`` rendered for a terminal ``width`` columns wide."""
    paint = style or _plain
    out: List[str] = []
    paragraph: List[str] = []
    in_code = False

    def flush() -> None:
        if paragraph:
            out.extend(_wrap(" ".join(paragraph), width, "", ""))
            paragraph.clear()

    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            flush()
            in_code = not in_code
            continue
        if in_code:
            out.append("    " + line if line else "")
            continue
        heading = HEADING.match(line)
        bullet = BULLET.match(line)
        if heading:
            flush()
            title = heading.group(2).strip()
            out.append(paint(title, True, len(heading.group(1)) > 1))
        elif bullet:
            flush()
            indent = bullet.group(1) + "  "
            out.extend(_wrap(bullet.group(3), width, bullet.group(1) + "- ", indent))
        elif not line.strip():
            flush()
            out.append("")
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(_squeeze(out)).strip("\n") + "\n"


def _wrap(text: str, width: int, first: str, rest: str) -> List[str]:
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    ) or [first.rstrip()]


def _squeeze(lines: List[str]) -> List[str]:
    """At most one blank line in a row."""
    out: List[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return out


def rules_table(rules: Sequence[Rule], width: int = 80) -> str:
    """`cnidoctor rules`: code, name and severity in columns, the summary wrapped into what is
    left of ``width``; below 100 columns the summary goes on its own indented lines."""
    name_width = max((len(r.name) for r in rules), default=4)
    left = 6 + 2 + name_width + 2 + len("severity") + 2
    header = f"{'code':<6}  {'name':<{name_width}}  {'severity':<8}  summary"
    if width - left < 40:
        lines = [f"{'code':<6}  {'name':<{name_width}}  severity", ""]
        for rule in rules:
            lines.append(f"{rule.code:<6}  {rule.name:<{name_width}}  {rule.severity.label}")
            lines.extend(_wrap(rule.summary, width, "        ", "        "))
        return "\n".join(lines) + "\n"
    lines = [header.rstrip(), "-" * min(width, left + 7)]
    for rule in rules:
        first = f"{rule.code:<6}  {rule.name:<{name_width}}  {rule.severity.label:<8}  "
        lines.extend(_wrap(rule.summary, width, first, " " * len(first)))
    return "\n".join(line.rstrip() for line in lines) + "\n"
