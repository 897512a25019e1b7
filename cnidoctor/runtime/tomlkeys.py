"""Where a key is written in a TOML text: line and column for findings.

tomllib gives values only, no positions, so this scans the text the way a person reads it:
table headers (``[a."b.c"]``, ``[[a]]``) set the current table, a ``key = value`` line (dotted
keys allowed) defines ``table + key``. Multi-line strings and arrays are skipped so their
contents are never mistaken for keys. Good enough for the hand-written configs runtimes read;
an unlocatable key simply gets no position.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

Position = Tuple[int, int]  # 1-based line, column
KeyPath = Tuple[str, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _read_key(text: str, start: int) -> Tuple[Optional[KeyPath], int]:
    """Parse a (dotted) key at ``start``; return the parts and the index after it."""
    parts: List[str] = []
    i = start
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text):
            return None, i
        char = text[i]
        if char in "\"'":
            end = text.find(char, i + 1)
            if end < 0:
                return None, i
            raw = text[i + 1 : end]
            parts.append(raw.replace('\\"', '"') if char == '"' else raw)
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if not match:
                return None, i
            parts.append(match.group(0))
            i = match.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return tuple(parts), i


def _strip_value_state(value: str, state: Optional[str]) -> Optional[str]:
    """Track whether a value leaves an open multi-line string or array behind.

    ``state`` is None (normal), '\"\"\"' / \"'''\" (inside a multi-line string) or '[' + depth.
    """
    i = 0
    depth = int(state[1:]) if state and state.startswith("[") else 0
    quote = state if state in ('"""', "'''") else None
    while i < len(value):
        if quote:
            end = value.find(quote, i)
            if end < 0:
                return quote
            i, quote = end + 3, None
            continue
        char = value[i]
        if value.startswith('"""', i) or value.startswith("'''", i):
            quote = value[i : i + 3]
            i += 3
        elif char in "\"'":
            end = value.find(char, i + 1)
            i = len(value) if end < 0 else end + 1
        elif char == "#":
            break
        elif char == "[":
            depth += 1
            i += 1
        elif char == "]":
            depth -= 1
            i += 1
        else:
            i += 1
    if quote:
        return quote
    if depth > 0:
        return f"[{depth}"
    return None


def key_positions(text: str) -> Dict[KeyPath, Position]:
    """Every table header and key definition in ``text`` with its first position."""
    found: Dict[KeyPath, Position] = {}
    table: KeyPath = ()
    state: Optional[str] = None
    for number, line in enumerate(text.splitlines(), start=1):
        if state is not None:
            state = _strip_value_state(line, state)
            continue
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            array = stripped.startswith("[[")
            key, _ = _read_key(stripped, 2 if array else 1)
            if key is not None:
                table = key
                found.setdefault(key, (number, indent + 1))
            continue
        key, after = _read_key(stripped, 0)
        if key is None or after >= len(stripped) or stripped[after] != "=":
            continue
        found.setdefault(table + key, (number, indent + 1))
        state = _strip_value_state(stripped[after + 1 :], None)
    return found


def locate(text: str, path: Sequence[str]) -> Optional[Position]:
    """Position of ``path``, or of its longest located prefix (the table it would live in)."""
    positions = key_positions(text)
    for length in range(len(path), 0, -1):
        position = positions.get(tuple(path[:length]))
        if position is not None:
            return position
    return None


def pointer(path: Sequence[str]) -> str:
    """RFC 6901 pointer for a TOML key path (``~`` and ``/`` escaped)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
