"""plain_table must print what tabulate's plain format prints, byte for byte, for the text reporter's rows."""

from __future__ import annotations

import random
import sys
from typing import List, Tuple

import pytest
from tabulate import tabulate

from cnidoctor.report.plaintable import plain_table

# Pieces the text reporter's cells are made of, plus the awkward ones: colour codes, OSC 8 links,
# every line break tabulate and str.splitlines disagree on, surrounding and inner whitespace.
PIECES = (
    "a",
    "CNI301",
    "12:3",
    "-",
    "error",
    "",
    " ",
    "  indented",
    "trailing  ",
    "\n",
    "\r\n",
    "\r",
    "\v",
    "\x0c",
    "\u2028",
    "\t",
    "\x1b[1;31m",
    "\x1b[0m",
    "\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\",
    'fix: set "cniVersion"',
    "\u00e9t\u00e9",
)


def _cell(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


def _rows(rng: random.Random) -> List[Tuple[str, ...]]:
    return [tuple(_cell(rng) for _ in range(4)) for _ in range(rng.randint(1, 5))]


@pytest.mark.parametrize("seed", range(400))
def test_matches_tabulate_on_random_rows(seed: int) -> None:
    rows = _rows(random.Random(seed))
    assert plain_table(rows) == tabulate(rows, tablefmt="plain", disable_numparse=True)


def test_matches_tabulate_on_a_report_row() -> None:
    rows = [
        ("3:5", "\x1b[31merror\x1b[0m", "\x1b[31mCNI301\x1b[0m", "bridge: no ipam\n  fix: add an ipam section"),
        ("-", "\x1b[33mwarning\x1b[0m", "\x1b[33mCNI007\x1b[0m", "one line"),
    ]
    assert plain_table(rows) == tabulate(rows, tablefmt="plain", disable_numparse=True)


def test_numbers_and_booleans_stay_text() -> None:
    rows = [("1", "True", "1,000", "2.50"), ("10", "False", "x", "1e3")]
    assert plain_table(rows) == tabulate(rows, tablefmt="plain", disable_numparse=True)


def test_separating_line_marker_goes_to_tabulate() -> None:
    rows = [("\001", "x", "y", "z"), ("a", "b", "c", "d")]
    assert plain_table(rows) == tabulate(rows, tablefmt="plain", disable_numparse=True)


def test_empty_table() -> None:
    assert plain_table([]) == tabulate([], tablefmt="plain", disable_numparse=True)


def test_a_render_does_not_import_tabulate() -> None:
    was = sys.modules.pop("tabulate", None)
    try:
        plain_table([("1:1", "error", "CNI301", "message\nfix")])
        assert "tabulate" not in sys.modules
    finally:
        if was is not None:
            sys.modules["tabulate"] = was
