"""TOML documents with positions: decode with the standard library, locate keys in the text.

``tomllib`` (Python >= 3.11, ``tomli`` below) gives the data but no positions, and a syntax error
only as text ending in ``(at line L, column C)``. Findings must name the line and column of the
runtime's key, so keys are located by a small scan of the text that follows TOML's table and
dotted-key rules (enough for runtime configs: headers, ``[[arrays]]``, bare/quoted/dotted keys).
"""

from __future__ import annotations

import re
import sys
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from ..frozen import dataclass

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as _toml

KeyPath = Tuple[str, ...]

_ERROR_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)\s*$")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class TomlDocument:
    """A decoded document, or the syntax error (message, line, column) when it does not parse."""

    text: str
    data: Optional[Dict[str, Any]]
    error: Optional[str] = None
    error_line: Optional[int] = None
    error_column: Optional[int] = None

    def locate(self, path: KeyPath) -> Tuple[Optional[int], Optional[int]]:
        """1-based (line, column) of the key ``path`` (or its table header); (None, None) if absent."""
        return locate_key(self.text, path)


def load_toml(text: str) -> TomlDocument:
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        message = str(exc)
        match = _ERROR_POSITION.search(message)
        line = int(match.group(1)) if match else None
        column = int(match.group(2)) if match else None
        if match is None and "end of document" in message:
            line, column = _end_position(text)
        return TomlDocument(text, None, message, line, column)
    except (ValueError, RecursionError) as exc:  # e.g. absurd nesting
        return TomlDocument(text, None, str(exc))
    return TomlDocument(text, data)


def _end_position(text: str) -> Tuple[int, int]:
    """Line and column just after the last character (where "end of document" errors point)."""
    lines = text.split("\n")
    return (len(lines), len(lines[-1]) + 1)


def json_pointer(path: KeyPath) -> str:
    """RFC 6901 pointer for a TOML key path (``("crio","network","plugin_dirs")``)."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)


def _split_key(text: str) -> Tuple[List[str], int]:
    """Parse a dotted key at the start of ``text``; returns (parts, characters consumed).

    Stops at the first character that cannot continue a key (``=``, ``]``). Returns ([], 0) for
    anything that is not a key."""
    parts: List[str] = []
    i = 0
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return ([], 0)
        char = text[i]
        if char in "\"'":
            end = _quoted_end(text, i)
            if end < 0:
                return ([], 0)
            raw = text[i + 1 : end]
            parts.append(_unescape(raw) if char == '"' else raw)
            i = end + 1
        else:
            match = _BARE_KEY.match(text, i)
            if not match:
                return ([], 0)
            parts.append(match.group(0))
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        return (parts, i)


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i
        i += 1
    return -1


def _unescape(raw: str) -> str:
    try:
        decoded = _toml.loads(f'k = "{raw}"')["k"]
    except _toml.TOMLDecodeError:
        return raw
    return str(decoded)


def _key_lines(text: str) -> List[Tuple[int, int, KeyPath, bool]]:
    """(line, column, full key path, is_header) for every header and key/value line.

    Lines inside multi-line strings, arrays and inline tables are skipped: the scan carries the
    open bracket depth and an unterminated triple quote from line to line, and goes on scanning
    the rest of the line a multi-line string closes on (an array may continue there)."""
    found: List[Tuple[int, int, KeyPath, bool]] = []
    table: KeyPath = ()
    depth = 0
    quote: Optional[str] = None
    for number, line in enumerate(text.splitlines(), start=1):
        if depth or quote:
            depth, quote = _scan_value(line, depth, quote)
            continue
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        if not stripped or stripped[0] == "#":
            continue
        if stripped.startswith("["):
            parts, _ = _split_key(stripped[2:] if stripped.startswith("[[") else stripped[1:])
            if parts:
                table = tuple(parts)
                found.append((number, indent + 1, table, True))
            continue
        parts, used = _split_key(stripped)
        rest = stripped[used:]
        if parts and rest.startswith("="):
            found.append((number, indent + 1, table + tuple(parts), False))
            depth, quote = _scan_value(rest[1:], 0, None)
    return found


def _scan_value(value: str, depth: int, quote: Optional[str]) -> Tuple[int, Optional[str]]:
    """Bracket depth and open triple quote after ``value``, starting from ``depth``/``quote``.

    Single-line strings (escapes in basic strings honoured) and comments are skipped."""
    i, n = 0, len(value)
    while i < n:
        if quote is not None:
            end = _triple_end(value, i, quote)
            if end < 0:
                return depth, quote
            i, quote = end, None
            continue
        char = value[i]
        if char == "#":
            break
        if value.startswith('"""', i) or value.startswith("'''", i):
            quote = value[i : i + 3]
            i += 3
        elif char in "\"'":
            end = _quoted_end(value, i)
            i = n if end < 0 else end + 1
        else:
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            i += 1
    return max(depth, 0), quote


def _triple_end(value: str, start: int, quote: str) -> int:
    """Index just after the triple quote closing a multi-line string, -1 if not on this line.

    Up to two quote characters right before the closing three belong to the string (TOML v1.0.0,
    multi-line basic and literal strings)."""
    i = start
    while i < len(value):
        if quote == '"""' and value[i] == "\\":
            i += 2
            continue
        if value.startswith(quote, i):
            end = i + 3
            while end < len(value) and end - i < 5 and value[end] == quote[0]:
                end += 1
            return end
        i += 1
    return -1


def written_keys(text: str) -> FrozenSet[KeyPath]:
    """Every key path written in ``text`` (table headers included)."""
    return frozenset(key for _, _, key, _ in _key_lines(text))


def locate_key(text: str, path: KeyPath) -> Tuple[Optional[int], Optional[int]]:
    """Where ``path`` is written: the key itself, else the header of the table, else a prefix.

    The last occurrence wins, as a later assignment is the one a decoder keeps (a repeated key is
    a TOML error anyway)."""
    entries = _key_lines(text)
    for length in range(len(path), 0, -1):
        wanted = path[:length]
        hits = [(line, col) for line, col, key, _ in entries if key == wanted]
        if hits:
            return hits[-1]
    return (None, None)
