"""`cnidoctor explain`: recognise a runtime's CNI error text and say what broke and what to change.

Importing this package is cheap: the knowledge base (kb.json) is loaded and compiled on the
first explanation, so `cnidoctor check` and `cnidoctor explain CODE` never pay for it.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from ..frozen import dataclass
from .events import is_normal_event, split_events
from .matcher import Explanation, explain, is_cni_related

__all__ = ["Explanation", "LogGroup", "explain", "explain_events", "is_cni_related", "scan_log", "split_events"]


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
    """Every CNI-related event of a log (see events.py: a message and its continuation lines),
    explained, grouped by distinct error; at most ``limit`` groups. A group's line numbers are
    the first lines of its events."""
    groups: dict = {}
    for number, text in split_events(lines):
        if is_normal_event(text) or not is_cni_related(text):
            continue
        explanation = explain(text)
        key = _signature(explanation)
        if key in groups:
            groups[key][0].append(number)
        elif len(groups) < limit:
            groups[key] = ([number], explanation)
    ordered = sorted(groups.values(), key=lambda g: (not g[1].recognised, g[0][0]))
    return [LogGroup(tuple(numbers), explanation) for numbers, explanation in ordered]


def explain_events(text: str, limit: int = 50) -> List[LogGroup]:
    """A pasted multi-line excerpt (kubectl describe Events, a journal): one explanation per
    distinct CNI error in it, never one stitched from several events."""
    return scan_log(text.splitlines(), limit)
