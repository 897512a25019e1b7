"""Undo what logs, terminals and web pages do to an error line before it is matched.

Runtimes log errors through Go's %q or structured loggers (``msg="... \"abc\" ..."``), kubelet
events re-quote them again, users paste from HTML (``&#34;``) or word processors (curly quotes).
Each layer of Go quoting turns ``"`` into ``\\"``; we peel layers until no escaped quote is left.
"""

from __future__ import annotations

import html
import re

MAX_INPUT = 64 * 1024  # characters of one message considered; a pasted log uses --log instead

_ESCAPE = re.compile(r'\\(["\\nrt])')
_ESCAPES = {'"': '"', "\\": "\\", "n": " ", "r": " ", "t": " "}
_CURLY = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00a0": " ", "\u200b": "", "\ufeff": ""}
)


def unescape_once(text: str) -> str:
    """One layer of Go string quoting: \\" -> ", \\\\ -> \\, \\n/\\t -> space (keeps a line one line)."""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text)


def normalise(text: str) -> str:
    """The text as the runtime first printed it, on one line."""
    text = text[:MAX_INPUT]
    if "&#" in text or "&quot;" in text or "&amp;" in text:
        text = html.unescape(text)
    text = text.translate(_CURLY)
    for _ in range(4):  # kubelet event -> CRI error -> containerd log: at most a few layers
        if '\\"' not in text and "\\\\" not in text:
            break
        text = unescape_once(text)
    text = re.sub(r'\\n(?=[\s"]|$)', " ", text)  # an escaped newline at the end of a quoted stderr
    # a message wrapped over several lines (kubectl describe, terminals) is one message
    return re.sub(r"\s*\n\s*", " ", text).strip()
