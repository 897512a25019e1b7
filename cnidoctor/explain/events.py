"""Split a multi-line paste (a `kubectl describe pod` Events excerpt, a journal or runtime log) into
events: the lines that make up one error message each.

An event starts at a line that carries a record prefix (a journal or klog header, a logrus
``time=``, an ISO timestamp, a `kubectl describe`/`kubectl get events` row). Lines without one
belong to the event above when the message visibly continues across the line break (a family's
text spans it: a terminal-wrapped message) or when they do not read as the start of a message
themselves (cilium's "\\nIs the agent running?" tail, a stack trace); a line that starts a known
message of its own starts a new event, so two errors are never stitched into one. A blank line
always ends an event; the Events table's header lines are dropped.
"""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

from .matcher import find_hits
from .normalise import normalise

_RECORD_START = re.compile(
    r"""^(?:
        [A-Z][a-z]{2}\ +\d{1,2}\ \d\d:\d\d:\d\d\ \S+\ [^\s:]+:\     # journalctl: "Nov 24 16:00:55 host kubelet[1]: "
      | [IWEF]\d{4}\ \d\d:\d\d:\d\d\.\d+                           # klog: "E1124 16:00:55.242475"
      | time="                                                      # logrus (containerd, CRI-O)
      | \d{4}-\d\d-\d\d[T\ ]\d\d:\d\d:\d\d                          # ISO timestamp (calico, multus logs)
      | \s*(?:\S+\s+)?(?:Warning|Normal)\s+[A-Z][A-Za-z]+\s         # kubectl describe / get events row
    )""",
    re.VERBOSE,
)
# `kubectl describe` prints these above the rows; they are not messages.
_TABLE_HEADER = re.compile(r"^\s*(?:Events:|Type\s+Reason\s+Age|----\s+------)")
# A `Normal` event row reports progress ("Pod sandbox changed, it will be killed and re-created."),
# never an error, even when it mentions a sandbox.
_NORMAL_ROW = re.compile(r"^\s*(?:\S+\s+)?Normal\s+[A-Z][A-Za-z]+\s")
# How far into a line a family may begin and still count as "the line starts a message".
_START_SLACK = 3


def starts_record(line: str) -> bool:
    return bool(_RECORD_START.match(line))


def is_normal_event(text: str) -> bool:
    return bool(_NORMAL_ROW.match(text))


def _spans_break(previous: str, line: str) -> bool:
    """A family's text runs across the line break between ``previous`` and ``line``."""
    before = normalise(previous)
    boundary = len(before)
    # A family already complete above the break (its free-text tail would swallow any next line)
    # does not make the next line its continuation.
    complete_above = {(hit.entry.id, hit.start) for hit in find_hits(before) if hit.complete}
    joined = normalise(previous + "\n" + line)
    return any(
        hit.start < boundary < hit.end and (hit.entry.id, hit.start) not in complete_above for hit in find_hits(joined)
    )


def _starts_message(line: str) -> bool:
    """The line, read alone, begins with a known message (a cause or a runtime wrapper)."""
    norm = normalise(line)
    return any(hit.start <= _START_SLACK for hit in find_hits(norm))


def split_events(lines: Sequence[str]) -> List[Tuple[int, str]]:
    """(first line number, text) of every event in ``lines``, in order; numbers start at 1."""
    events: List[Tuple[int, str]] = []
    start, current = 0, []  # type: int, List[str]

    def close() -> None:
        if current:
            events.append((start, "\n".join(current)))
            current.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip() or _TABLE_HEADER.match(line):
            close()
            continue
        continues = (
            current
            and not starts_record(line)
            and (_spans_break("\n".join(current), line) or not _starts_message(line))
        )
        if continues:
            current.append(line)
            continue
        close()
        start = number
        current.append(line)
    close()
    return events
