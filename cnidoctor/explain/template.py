"""Error-text templates: the Go format string with typed placeholders, compiled to a regex.

A KB pattern is written like the runtime's own format string, so a reviewer can hold it next to
the Go source: ``failed to find plugin {plugin:q} in path {bin_dirs:list}``. Placeholders are
``{name:kind}``; ``{...}`` marks the point after which a pasted message may be cut off (the rest
becomes optional, word by word); ``{{``/``}}`` are literal braces. Literal spaces match any run
of white space (terminals and ``kubectl describe`` re-wrap long lines). Matching is
case-insensitive because releases differ in capitalisation (libcni v0.7.x ``Failed to parse
plugin config``, dockershim ``NetworkPlugin cni`` vs ``networkPlugin cni``).
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any, Dict, List, Optional, Pattern, Tuple

from ..frozen import dataclass

# What each Go verb looks like once substituted (after unescaping, see normalise.py).
KINDS: Dict[str, str] = {
    # %q of a string: "..." (the value may itself be "…" when a user elided it)
    "q": r'"(?P<{n}>[^"\n]*)"',
    # a version, quoted or not: users retype `unsupported CNI result version 1.0.0` without quotes
    "qv": r'"?(?P<{n}>[0-9A-Za-z.+-]*)"?',
    # %q of a []string, or the same list elided as [...] / truncated without the closing bracket
    "list": r"\[(?P<{n}>[^\]\n]*)\]?",
    # a bare token: plugin type, network name, verb
    "word": r"(?P<{n}>[^\s\"',;:\[\]()]+)",
    # a file-system path or bin dir (colons end it: Go wraps errors with ": ")
    "path": r"(?P<{n}>[^\s\"';:,\[\]]*[^\s\"';:,\[\].])",  # a sentence's full stop is not part of it
    "int": r"(?P<{n}>-?\d+)",
    # an identifier: a Go constant or env-file key such as FLANNEL_SUBNET (a sentence's "." is not part of it)
    "ident": r"(?P<{n}>[A-Za-z0-9_]+)",
    # %T of a decoded JSON value: float64, bool, string, map[string]interface {}, []interface {}, <nil>
    "gotype": r"(?P<{n}><[^>\s]{{1,20}}>|(?:\[\])*(?:map\[[a-z]+\])?\*?[A-Za-z0-9_.]+(?: ?\{{\}})?)",
    # Go's quoting of an offending byte in encoding/json errors: 'x', '\x00', 'ï'
    "gochar": r"(?P<{n}>'(?:[^'\\\n]|\\.){{1,8}}'|[^\s']{{1,60}})",
    # free text up to the next literal (or to the end when last)
    "text": r"(?P<{n}>.*?)",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{\.\.\.\}|\{(?P<name>[a-z_][a-z0-9_]*)(?::(?P<kind>[a-z]+))?\}")


@dataclass(frozen=True)
class Compiled:
    """One compiled template: the regex, its placeholders, and how much of it is literal text."""

    template: str
    regex: Pattern[str]
    kinds: Tuple[Tuple[str, str], ...]
    literal_length: int
    requires_context: bool = False


def _literal(text: str, split_words: bool) -> List[str]:
    """Literal text as regex pieces; spaces match any white space. Split into words when the
    text lies in the truncatable tail, so a message cut mid-sentence still matches its prefix."""
    pieces: List[str] = []
    for word in re.split(r"(\s+)", text):
        if not word:
            continue
        piece = r"\s+" if word.isspace() else re.escape(word)
        if split_words or not pieces:
            pieces.append(piece)
        else:
            pieces[-1] += piece
    return pieces


@dataclass
class _Parts:
    """A template split into the text before and after its first variable."""

    head: List[str] = field(default_factory=list)
    tail: List[str] = field(default_factory=list)
    kinds: List[Tuple[str, str]] = field(default_factory=list)
    literal_length: int = 0
    in_tail: bool = False

    def add(self, piece: str) -> None:
        (self.tail if self.in_tail else self.head).append(piece)

    def add_literal(self, text: str) -> None:
        self.literal_length += len(text.strip())
        for piece in _literal(text, split_words=self.in_tail):
            self.add(piece)


def _split(template: str) -> _Parts:
    parts = _Parts()
    pos = 0
    pending = ""
    for m in _TOKEN.finditer(template):
        pending += template[pos : m.start()]
        pos = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            pending += token[0]
            continue
        parts.add_literal(pending)
        pending = ""
        if token == "{...}":
            parts.in_tail = True
            continue
        name, kind = m.group("name"), m.group("kind") or "text"
        if kind not in KINDS:
            raise ValueError(f"unknown placeholder kind {kind!r} in template {template!r}")
        last = m.end() == len(template)
        # a trailing free-text placeholder must be greedy (to the end of the line), else it is empty
        regex = f"(?P<{name}>[^\n]*)" if kind == "text" and last else KINDS[kind].format(n=name)
        parts.add(regex)
        parts.kinds.append((name, kind))
    parts.add_literal(pending + template[pos:])
    return parts


def compile_template(template: str) -> Compiled:
    parts = _split(template)
    # nested optional tail: a(?:b(?:c)?)? - a message cut anywhere after the head still matches
    optional = ""
    for piece in reversed(parts.tail):
        optional = f"(?:{piece}{optional})?"
    regex = re.compile("".join(parts.head) + optional, re.IGNORECASE)
    return Compiled(template, regex, tuple(parts.kinds), parts.literal_length)


_LIST_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s"]+)')


def convert(kind: str, raw: Optional[str]) -> Any:
    """A captured placeholder as a Python value: lists become lists of strings."""
    if raw is None:
        return None
    if kind == "list":
        items = [q if q is not None and w == "" else w for q, w in _LIST_ITEM.findall(raw)]
        return [item for item in items if item not in ("...", "…")]
    if kind == "int":
        return int(raw)
    if kind == "gochar" and len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    return raw
