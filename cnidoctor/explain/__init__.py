"""`cnidoctor explain`: recognise a runtime's CNI error text and say what broke and what to change.

Importing this package is cheap: the knowledge base (kb.json) is loaded and compiled on the
first explanation, so `cnidoctor check` and `cnidoctor explain CODE` never pay for it.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from .matcher import Explanation, explain, is_cni_related

__all__ = ["Explanation", "LogGroup", "explain", "is_cni_related", "scan_log"]

from dataclasses import dataclass


@dataclass(frozen=True)
class LogGroup:
    """Lines of a log that explain the same way (same best family, or the same unknown text)."""

    line_numbers: Tuple[int, ...]
    explanation: Explanation


def _signature(explanation: Explanation) -> str:
    if explanation.matches:
        top = explanation.matches[0]
        return top.entry.id + repr(
            sorted(
                (k, repr(v))
                for k, v in top.variables.items()
                if k in ("config_version", "plugin", "file", "binary", "result_version")
            )
        )
    return "unrecognised:" + explanation.normalised[-200:]


def scan_log(lines: Sequence[str], limit: int = 50) -> List[LogGroup]:
    """Every CNI-related line of a log, explained, grouped; at most ``limit`` groups."""
    groups: dict = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or not is_cni_related(line):
            continue
        explanation = explain(line)
        key = _signature(explanation)
        if key in groups:
            groups[key][0].append(number)
        elif len(groups) < limit:
            groups[key] = ([number], explanation)
    ordered = sorted(groups.values(), key=lambda g: (not g[1].recognised, g[0][0]))
    return [LogGroup(tuple(numbers), explanation) for numbers, explanation in ordered]
