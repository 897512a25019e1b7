"""How Go prints values, for predicting runtime error texts exactly: fmt's ``%q`` and ``%T``
and the JSON kind word of encoding/json's UnmarshalTypeError. One place for all stages."""

from __future__ import annotations

from typing import Any, List, Union

__all__ = ["go_quote", "go_type_name", "json_kind"]

_GO_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 0x5C: "\\\\", 0x22: '\\"'}


def go_quote(data: Union[bytes, str]) -> str:
    """fmt %q == strconv.Quote: printable runes kept, invalid UTF-8 bytes as \\xHH, others escaped."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    text = raw.decode("utf-8", "surrogateescape")
    out: List[str] = ['"']
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code in _GO_ESCAPES:
            out.append(_GO_ESCAPES[code])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif char.isprintable():
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_type_name(value: Any) -> str:
    """fmt's %T of a value decoded into interface{} (libcni's ``invalid name type %T``)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def json_kind(value: Any) -> str:
    """The word Go's UnmarshalTypeError uses for a JSON value ("cannot unmarshal <kind> into")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
