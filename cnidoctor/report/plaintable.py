"""``tabulate(rows, tablefmt="plain", disable_numparse=True)`` for rows of strings, without importing tabulate.

Why: importing tabulate (0.10) runs ``importlib.metadata.version("tabulate")`` at import, which
pulls in email, zipfile, csv and pathlib and scans sys.path: ~30-60 ms, about a quarter of a cold
``cnidoctor check`` on a node, paid by every run whose report has a finding. The text reporter
only ever asks for the plain format over string cells, no headers, so the steps below replay
what tabulate does for exactly that call (python-tabulate tabulate/__init__.py@v0.10.0:
``tabulate`` -> ``_align_column`` -> ``_format_table``), line for line, and
tests/test_plaintable.py checks the output byte for byte against tabulate itself.

Whatever this replay does not cover goes to tabulate: wcwidth installed (tabulate then measures
East Asian wide characters), rows of different lengths, or a cell tabulate would read as its
SEPARATING_LINE marker.
"""

from __future__ import annotations

import re
from typing import List, Sequence

__all__ = ["plain_table"]

# tabulate/__init__.py@v0.10.0 _ansi_escape_pat: CSI sequences and OSC 8 hyperlinks.
_ANSI_CODES = re.compile(
    r"""
    (
        \x1b\[
        [\x30-\x3f]*
        [\x20-\x2f]*
        [\x40-\x7e]
    |
        \x1b\]8;
        (\w+=\w+:?)*
        ;
        ([^\x1b]+)
        \x1b\\
        ([^\x1b]+)
        \x1b\]8;;\x1b\\
    )
""",
    re.VERBOSE,
)
_MULTILINE = re.compile(r"\r|\n|\r\n")  # tabulate's _multiline_codes
_LINE_BREAK = re.compile("[\r\n]")  # how tabulate measures the lines of a cell
_SEPARATING_LINE = "\001"


def plain_table(rows: Sequence[Sequence[str]]) -> str:
    """What ``tabulate(rows, tablefmt="plain", disable_numparse=True)`` returns."""
    if not _replayable(rows):
        from tabulate import tabulate

        return str(tabulate(rows, tablefmt="plain", disable_numparse=True))
    if not rows:
        return ""
    text = "\t".join(cell for row in rows for cell in row)
    invisible = _ANSI_CODES.search(text) is not None
    multiline = _MULTILINE.search(text) is not None
    columns = [_align_column([str(cell) for cell in column], invisible, multiline) for column in zip(*rows)]
    widths = [max(_cell_width(cell, invisible, multiline) for cell in column) for column in columns]
    lines: List[str] = []
    for row in zip(*columns):
        if multiline:
            lines.extend(_multiline_row(row, widths))
        else:
            lines.append("  ".join(row).rstrip())
    return "\n".join(lines)


def _replayable(rows: Sequence[Sequence[str]]) -> bool:
    """False where tabulate would take a path this module does not replay."""
    if len({len(row) for row in rows}) > 1:
        return False
    for row in rows:
        if any(not isinstance(cell, str) for cell in row):
            return False
        if any(cell.strip() == _SEPARATING_LINE for cell in row[:2]):
            return False
    from importlib.util import find_spec

    return find_spec("wcwidth") is None  # tabulate measures with wcwidth.wcswidth when it can


def _visible_width(text: str) -> int:
    return len(_ANSI_CODES.sub(r"\4", text))


def _line_width(text: str, invisible: bool) -> int:
    return _visible_width(text) if invisible else len(text)


def _cell_width(cell: str, invisible: bool, multiline: bool) -> int:
    """tabulate's _choose_width_fn: the widest line of a cell."""
    if multiline:
        return max(_line_width(line, invisible) for line in _LINE_BREAK.split(cell))
    return _line_width(cell, invisible)


def _pad_right(width: int, text: str) -> str:
    return text.ljust(width)  # tabulate: "{0:<%ds}" % width


def _align_column(cells: List[str], invisible: bool, multiline: bool) -> List[str]:
    """tabulate's _align_column for a left-aligned column, surrounding whitespace stripped."""
    cells = [cell.strip() for cell in cells]
    if multiline:
        line_widths = [[_line_width(line, invisible) for line in _LINE_BREAK.split(cell)] for cell in cells]
        widest = max(max(widths) for widths in line_widths)
        if not invisible:
            return ["\n".join(_pad_right(widest, line) for line in cell.splitlines()) for cell in cells]
        lengths = [[len(line) for line in _LINE_BREAK.split(cell)] for cell in cells]
        pads = [[widest - (w - n) for w, n in zip(ws, ns)] for ws, ns in zip(line_widths, lengths)]
        return [
            "\n".join(_pad_right(pad, line) for line, pad in zip(cell.splitlines() or cell, cell_pads))
            for cell, cell_pads in zip(cells, pads)
        ]
    widths = [_line_width(cell, invisible) for cell in cells]
    widest = max(widths)
    if not invisible:
        return [_pad_right(widest, cell) for cell in cells]
    return [_pad_right(widest - (w - len(cell)), cell) for cell, w in zip(cells, widths)]


def _multiline_row(row: Sequence[str], widths: Sequence[int]) -> List[str]:
    """tabulate's _append_multiline_row: cells split into lines, short cells padded with blanks."""
    cell_lines = [cell.splitlines() for cell in row]
    height = max(len(lines) for lines in cell_lines)
    padded = [lines + [" " * width] * (height - len(lines)) for lines, width in zip(cell_lines, widths)]
    return ["  ".join(cell[i] for cell in padded).rstrip() for i in range(height)]
