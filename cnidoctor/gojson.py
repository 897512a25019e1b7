"""JSON decoding exactly as Go's encoding/json does it (the decoder libcni and the plugins use).

Two paths:

* ``decode`` - the fast path. The stdlib C decoder, configured to reject what Go rejects
  (NaN/Infinity, control characters, several top-level values, comments, trailing commas, a
  UTF-8 BOM) and to remember duplicate keys. Whenever it fails or cannot be trusted (deep
  nesting, float64 overflow) the pure-Python scanner below decides, so the answer is always Go's.
* ``scan`` - an iterative (never recursive) scanner over the raw bytes that reproduces Go's
  scanner.go error texts byte for byte and records where every value starts, so a JSON pointer
  maps back to a line and column. It only runs for files that have a problem.

Go behaviour modelled (go/src/encoding/json, Go >= 1.20):
* scanner.go ``checkValid`` runs over the whole input before any decoding, so a syntax error
  anywhere wins over a type error; ``maxNestingDepth`` = 10000 (``exceeded max depth``).
* error texts ``invalid character <quoteChar(c)> <context>``; at end of input the scanner is fed
  one ``' '`` (``scanner.eof``), which is why a truncated number reads ``invalid character ' '
  in numeric literal`` while a truncated object reads ``unexpected end of JSON input``.
* decode.go ``unquote``: invalid UTF-8 inside strings becomes U+FFFD (one per bad byte), lone
  surrogate escapes become U+FFFD; bytes outside strings are syntax errors.
* duplicate keys: the last value wins, silently.
* numbers decoded into ``interface{}`` are float64: a literal outside float64's range is
  ``json: cannot unmarshal number <lit> into Go value of type float64``.
* struct decoding (``unmarshal``): every key that case-folds to a field's name is decoded into
  that field, in the order the decoder reads them, so the last one wins and any of them can
  raise the type error (``field_members``); ``null`` leaves a field unchanged (maps and slices
  become nil); the first type error wins and reads
  ``json: cannot unmarshal <kind> into Go struct field <Struct>.<a.b> of type <T>``.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .frozen import dataclass
from .gofmt import go_type_name, json_kind

__all__ = [
    "MAX_DEPTH",
    "Decoded",
    "DuplicateKeyDict",
    "Fields",
    "GoField",
    "GoSyntaxError",
    "GoType",
    "Locator",
    "ScanResult",
    "StructResult",
    "decode",
    "field_key",
    "field_members",
    "field_value",
    "fold_key",
    "go_type_name",
    "line_column",
    "pointer_join",
    "pointer_tokens",
    "quote_char",
    "scan",
    "unmarshal",
]

MAX_DEPTH = 10000  # go/src/encoding/json/scanner.go maxNestingDepth
BOM = b"\xef\xbb\xbf"
_ERRORS = "cnidoctor-go-utf8"


def _per_byte_replacement(exc: UnicodeError) -> Tuple[str, int]:
    """Go's decoder writes one U+FFFD per invalid byte (utf8.DecodeRune returns size 1)."""
    assert isinstance(exc, UnicodeDecodeError)
    return "\ufffd" * (exc.end - exc.start), exc.end


codecs.register_error(_ERRORS, _per_byte_replacement)


class GoSyntaxError(ValueError):
    """A Go ``*json.SyntaxError``: ``str()`` is Go's text, ``offset`` the index of the bad byte
    (``len(data)`` for an unexpected end; Go's own Offset is one more than our index)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class DuplicateKeyDict(dict):
    """An object with duplicate keys: behaves as Go's map (last value wins); ``pairs`` keeps the
    members in document order, duplicates included, for Go's struct decoding."""

    pairs: List[Tuple[str, Any]]


@dataclass(frozen=True)
class Decoded:
    """A JSON value as encoding/json decodes it, with the quirks met on the way."""

    value: Any
    duplicates: bool = False  # some object repeats a key
    invalid_utf8: bool = False  # some string held invalid UTF-8 (replaced by U+FFFD)
    overflow: Optional[str] = None  # first number literal outside float64's range


@dataclass
class ScanResult:
    """What the slow scanner learned. ``positions`` maps a pointer to the byte offset of the
    member's key (object members) or of the value (array elements, the root)."""

    value: Any = None
    error: Optional[GoSyntaxError] = None
    error_pointer: str = ""
    positions: Dict[str, int] = field(default_factory=dict)
    duplicates: List[Tuple[str, int, int]] = field(default_factory=list)  # pointer, first, repeat
    invalid_utf8: List[str] = field(default_factory=list)
    overflow: Optional[Tuple[str, str]] = None  # (pointer, literal)


# ----------------------------------------------------------------------------- helpers


def quote_char(c: int) -> str:
    """scanner.go quoteChar: the byte as a rune, quoted by strconv.Quote, in single quotes."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    return "'" + _go_quote_rune(chr(c)) + "'"


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\\": "\\\\"}


def _go_quote_rune(ch: str) -> str:
    """strconv.Quote of one rune (without the quotes); Python's isprintable matches Go's IsPrint
    for U+0000-U+00FF, the only runes a single byte can produce."""
    if ch in _GO_ESCAPES:
        return _GO_ESCAPES[ch]
    if ch.isprintable():
        return ch
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02x}"
    return f"\\u{ord(ch):04x}"


def escape_token(token: Union[str, int]) -> str:
    """RFC 6901 reference token: ``~`` -> ``~0``, ``/`` -> ``~1``."""
    text = str(token)
    if "~" in text or "/" in text:
        text = text.replace("~", "~0").replace("/", "~1")
    return text


def pointer(path: Iterable[Union[str, int]]) -> str:
    """RFC 6901 JSON pointer of a path of keys and indexes ("" = the whole document)."""
    return "".join("/" + escape_token(p) for p in path)


def pointer_join(base: str, token: Union[str, int]) -> str:
    """RFC 6901: append one reference token."""
    return base + "/" + escape_token(token)


def pointer_tokens(pointer: str) -> List[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def line_column(data: bytes, offset: int) -> Tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    offset = max(0, min(offset, len(data)))
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", _ERRORS)) + 1


def members(obj: Mapping[str, Any]) -> Sequence[Tuple[str, Any]]:
    """An object's members in document order, duplicates included when they exist."""
    if isinstance(obj, DuplicateKeyDict):
        return obj.pairs
    return list(obj.items())


# ----------------------------------------------------------------------------- fast path

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONG_DIGITS = re.compile(r"[0-9]{300}")  # may not fit float64: let the scanner decide


class _Rejected(ValueError):
    """Raised inside the C decoder for input Python accepts but Go does not."""


def _reject_constant(name: str) -> Any:
    raise _Rejected(name)  # NaN, Infinity, -Infinity: not JSON for Go


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Rejected(text)  # Go: cannot unmarshal number ... of type float64
    return value


def decode(data: bytes) -> Decoded:
    """Decode ``data`` as Go's json.Unmarshal into interface{} would; raises GoSyntaxError."""
    if data.startswith(BOM):
        return _slow_decode(data)  # Go does not skip a BOM: the scanner reports it
    invalid = False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, invalid = data.decode("utf-8", _ERRORS), True
    # 300 digits in a row need 300 digits: counted in C first, the regex (tried at every
    # character) only runs on files with that many (ASCII digits are the same bytes in data)
    if len(data) - len(data.translate(None, b"0123456789")) >= 300 and _LONG_DIGITS.search(text):
        return _slow_decode(data)
    duplicates: List[bool] = []

    def pairs_hook(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            duplicates.append(True)
            dup = DuplicateKeyDict(obj)
            dup.pairs = pairs
            return dup
        return obj

    try:
        value = json.loads(
            text, object_pairs_hook=pairs_hook, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except (ValueError, RecursionError):
        return _slow_decode(data)
    if _SURROGATE_ESCAPE.search(text):
        value = _fix_surrogates(value)
    return Decoded(value, bool(duplicates), invalid)


def _slow_decode(data: bytes) -> Decoded:
    result = scan(data, build=True)
    if result.error is not None:
        raise result.error
    return Decoded(
        result.value,
        bool(result.duplicates),
        bool(result.invalid_utf8),
        result.overflow[1] if result.overflow else None,
    )


def _fix_surrogates(value: Any) -> Any:
    """Go's unquote turns a lone surrogate escape into U+FFFD; Python keeps it. Iterative."""
    root = [value]
    todo: List[Tuple[Any, Any]] = [(root, 0)]
    while todo:
        holder, key = todo.pop()
        item = holder[key]
        if isinstance(item, str):
            holder[key] = _SURROGATE.sub("\ufffd", item)
        elif isinstance(item, list):
            todo.extend((item, i) for i in range(len(item)))
        elif isinstance(item, dict):
            fixed = {_SURROGATE.sub("\ufffd", k): v for k, v in item.items()}
            if fixed.keys() != item.keys():
                item.clear()
                item.update(fixed)
            todo.extend((item, k) for k in list(item))
    return root[0]


# ----------------------------------------------------------------------------- slow scanner

_WS = re.compile(rb"[ \t\n\r]*")
# Unrolled-loop form: linear time even on an unterminated string (a nested-quantifier form
# backtracks exponentially on a config cut off inside a long string).
_STRING = re.compile(rb'"([^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*)"')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = {0x74: (b"true", True), 0x66: (b"false", False), 0x6E: (b"null", None)}
_POINTER_DEPTH = 128  # deeper values are located at their ancestor at this depth
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")


@dataclass
class _Frame:
    """An object or array being parsed."""

    container: Any  # dict / list when building, else None
    pointer: str
    is_object: bool
    keys: Dict[str, int] = field(default_factory=dict)  # key -> offset (objects)
    pairs: List[Tuple[str, Any]] = field(default_factory=list)
    count: int = 0
    key: str = ""


class _Scanner:
    """One pass over ``data``; the grammar as an explicit stack (no recursion)."""

    def __init__(self, data: bytes, build: bool) -> None:
        self.data = data
        self.n = len(data)
        self.build = build
        self.result = ScanResult()
        self.stack: List[_Frame] = []

    def fail(self, offset: int, context: str, pointer: str) -> None:
        char = self.data[offset] if offset < self.n else 0x20  # scanner.eof steps one ' '
        message = f"invalid character {quote_char(char)} {context}"
        raise _Stop(GoSyntaxError(message, offset), pointer)

    def eof(self, pointer: str) -> None:
        raise _Stop(GoSyntaxError("unexpected end of JSON input", self.n), pointer)

    def ws(self, pos: int) -> int:
        match = _WS.match(self.data, pos)
        return match.end() if match else pos

    def run(self) -> ScanResult:
        try:
            value = self.parse()
            self.result.value = value
        except _Stop as stop:
            self.result.error = stop.error
            self.result.error_pointer = stop.pointer
        return self.result

    def parse(self) -> Any:
        pos = self.ws(0)
        pointer = ""
        while True:
            # expecting a value at ``pos`` for ``pointer``
            if pos >= self.n:
                self.eof(pointer)
            if (not self.stack or not self.stack[-1].is_object) and self.shallow():
                self.result.positions[pointer] = pos
            char = self.data[pos]
            if char in (0x7B, 0x5B):  # { [
                pos, pointer, opened = self.open(pos, pointer, char == 0x7B)
                if opened:
                    continue
                value: Any = self.empty(char == 0x7B)
            else:
                value, pos = self.scalar(pos, pointer)
            # a value is complete: hand it to its container, closing containers as needed
            while True:
                if not self.stack:
                    pos = self.ws(pos)
                    if pos < self.n:
                        self.fail(pos, "after top-level value", pointer)
                    return value
                frame = self.stack[-1]
                self.store(frame, value)
                pos = self.ws(pos)
                if pos >= self.n:
                    self.eof(frame.pointer)
                char = self.data[pos]
                close = 0x7D if frame.is_object else 0x5D
                if char == 0x2C:  # ,
                    pos = self.ws(pos + 1)
                    if frame.is_object:
                        pos, pointer = self.key(pos, frame)
                    else:
                        pointer = self.child(frame.pointer, frame.count)
                    break
                if char == close:
                    self.stack.pop()
                    value, pos, pointer = self.finish(frame), pos + 1, frame.pointer
                    continue
                context = "after object key:value pair" if frame.is_object else "after array element"
                self.fail(pos, context, frame.pointer)

    def shallow(self) -> bool:
        return len(self.stack) <= _POINTER_DEPTH

    def child(self, pointer: str, token: Union[str, int]) -> str:
        """The pointer of a member/element; below _POINTER_DEPTH levels the container's own
        (pointers of deep values would cost quadratic time and memory; locate() falls back to
        the nearest recorded ancestor anyway)."""
        return pointer_join(pointer, token) if self.shallow() else pointer

    def empty(self, is_object: bool) -> Any:
        if not self.build:
            return None
        return {} if is_object else []

    def open(self, pos: int, pointer: str, is_object: bool) -> Tuple[int, str, bool]:
        """Push a container; returns (pos, pointer of the first member, False if empty)."""
        if len(self.stack) + 1 > MAX_DEPTH:
            self.fail(pos, "exceeded max depth", pointer)
        container = self.empty(is_object)
        frame = _Frame(container, pointer, is_object)
        pos = self.ws(pos + 1)
        close = 0x7D if is_object else 0x5D
        if pos < self.n and self.data[pos] == close:
            return pos + 1, pointer, False
        self.stack.append(frame)
        if is_object:
            pos, first = self.key(pos, frame)
            return pos, first, True
        return pos, self.child(pointer, 0), True

    def key(self, pos: int, frame: _Frame) -> Tuple[int, str]:
        """Read ``"key" :`` and return the value position and the member's pointer."""
        if pos >= self.n:
            self.eof(frame.pointer)
        if self.data[pos] != 0x22:
            self.fail(pos, "looking for beginning of object key string", frame.pointer)
        start = pos
        name, pos = self.string(pos, frame.pointer, is_key=True)
        member = self.child(frame.pointer, name)
        if name in frame.keys:
            self.result.duplicates.append((member, frame.keys[name], start))
            if self.shallow():
                self.forget(member)
        frame.keys[name] = start
        frame.key = name
        if self.shallow():
            self.result.positions[member] = start
        pos = self.ws(pos)
        if pos >= self.n:
            self.eof(frame.pointer)
        if self.data[pos] != 0x3A:  # :
            self.fail(pos, "after object key", frame.pointer)
        return self.ws(pos + 1), member

    def forget(self, member: str) -> None:
        """A repeated key replaces the earlier value: drop positions inside the dead one."""
        prefix = member + "/"
        for pointer in [p for p in self.result.positions if p.startswith(prefix)]:
            del self.result.positions[pointer]

    def store(self, frame: _Frame, value: Any) -> None:
        if frame.is_object:
            if self.build:
                frame.pairs.append((frame.key, value))
        elif self.build:
            frame.container.append(value)
        frame.count += 1

    def finish(self, frame: _Frame) -> Any:
        if not self.build:
            return None
        if not frame.is_object:
            return frame.container
        obj = dict(frame.pairs)
        if len(obj) != len(frame.pairs):
            dup = DuplicateKeyDict(obj)
            dup.pairs = frame.pairs
            return dup
        return obj

    def scalar(self, pos: int, pointer: str) -> Tuple[Any, int]:
        char = self.data[pos]
        if char == 0x22:
            return self.string(pos, pointer, is_key=False)
        if char == 0x2D or char in _DIGITS:
            return self.number(pos, pointer)
        if char in _LITERALS:
            return self.literal(pos, pointer)
        self.fail(pos, "looking for beginning of value", pointer)
        raise AssertionError("unreachable")

    def string(self, pos: int, pointer: str, is_key: bool) -> Tuple[str, int]:
        match = _STRING.match(self.data, pos)
        if match is None:
            self.string_error(pos + 1, pointer)
            raise AssertionError("unreachable")
        raw = match.group(1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", _ERRORS)
            if len(self.result.invalid_utf8) < 100:
                self.result.invalid_utf8.append(pointer_join(pointer, text) if is_key else pointer)
        if "\\" in text:
            text = json.decoder.scanstring('"' + text + '"', 1, True)[0]  # type: ignore[attr-defined]
            text = _SURROGATE.sub("\ufffd", text)
        return text, match.end()

    def string_error(self, pos: int, pointer: str) -> None:
        """Walk a string the regex rejected with scanner.go's string states."""
        data, n = self.data, self.n
        while pos < n:
            char = data[pos]
            if char == 0x22:
                raise AssertionError("regex and walk disagree")
            if char < 0x20:
                self.fail(pos, "in string literal", pointer)
            if char != 0x5C:
                pos += 1
                continue
            pos += 1
            esc = data[pos] if pos < n else 0x20
            if esc == 0x75:  # \u
                for k in range(pos + 1, pos + 5):
                    if k >= n or data[k] not in _HEX:
                        self.fail(k, "in \\u hexadecimal character escape", pointer)
                pos += 5
            elif esc in b'bfnrt\\/"':
                pos += 1
            else:
                self.fail(pos, "in string escape code", pointer)
        self.eof(pointer)

    def number(self, pos: int, pointer: str) -> Tuple[Any, int]:
        match = _NUMBER.match(self.data, pos)
        data = self.data
        if match is None:  # a lone '-': stateNeg
            self.fail(pos + 1, "in numeric literal", pointer)
            raise AssertionError("unreachable")
        end = match.end()
        literal = match.group(0)
        nxt = data[end] if end < self.n else 0x20
        if nxt == 0x2E and b"." not in literal and b"e" not in literal.lower():
            self.fail(end + 1, "after decimal point in numeric literal", pointer)
        if nxt in (0x65, 0x45) and b"e" not in literal.lower():
            sign = end + 1
            if sign < self.n and data[sign] in (0x2B, 0x2D):
                sign += 1
            self.fail(sign, "in exponent of numeric literal", pointer)
        return self.number_value(literal.decode("ascii"), pointer), end

    def number_value(self, literal: str, pointer: str) -> Any:
        as_float = float(literal)
        if as_float in (float("inf"), float("-inf")) and self.result.overflow is None:
            self.result.overflow = (pointer, literal)
        if not self.build:
            return None
        if "." in literal or "e" in literal or "E" in literal or len(literal) > 4000:
            return as_float
        return int(literal)

    def literal(self, pos: int, pointer: str) -> Tuple[Any, int]:
        word, value = _LITERALS[self.data[pos]]
        name = word.decode()
        for k in range(1, len(word)):
            if pos + k >= self.n or self.data[pos + k] != word[k]:
                self.fail(pos + k, f"in literal {name} (expecting {quote_char(word[k])})", pointer)
        return value, pos + len(word)


class _Stop(Exception):
    def __init__(self, error: GoSyntaxError, pointer: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.pointer = pointer


def scan(data: bytes, build: bool = False) -> ScanResult:
    """Scan ``data`` as Go's scanner does; never raises, never recurses."""
    return _Scanner(data, build).run()


# ----------------------------------------------------------------------------- locator


class Locator:
    """Maps RFC 6901 pointers to (line, column); scans the file only on first use."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._scan: Optional[ScanResult] = None

    @property
    def scanned(self) -> ScanResult:
        if self._scan is None:
            self._scan = scan(self.data)
        return self._scan

    def root(self) -> int:
        match = _WS.match(self.data)
        return match.end() if match else 0

    def offset(self, pointer: str) -> int:
        """Byte offset of ``pointer``, or of its nearest existing ancestor."""
        if pointer == "":
            return self.root()  # the common case needs no scan
        positions = self.scanned.positions
        while pointer and pointer not in positions:
            pointer = pointer[: pointer.rfind("/")]
        return positions[pointer] if pointer else self.root()

    def __call__(self, pointer: str) -> Tuple[int, int]:
        return line_column(self.data, self.offset(pointer))

    def pointer_at(self, offset: int) -> str:
        """The innermost member or value that starts at or before ``offset``."""
        best, where = "", -1
        for pointer, start in self.scanned.positions.items():
            if where < start <= offset:
                best, where = pointer, start
        return best


# ----------------------------------------------------------------------------- struct decoding


@dataclass(frozen=True)
class GoType:
    """A Go type as encoding/json decodes into it (one model for libcni's types and the plugins').

    ``kind``: "string", "bool", "int", "uint", "float", "any", "map" (map[string]elem), "slice"
    ([]elem), "struct"; plus the address types the reference plugins parse after decoding: "ip"
    (net.IP UnmarshalText: "" means nil, anything else must parse), "cidr" (cni types.IPNet
    UnmarshalJSON: a JSON string, then net.ParseCIDR; null reaches ParseCIDR("") and fails) and
    "static-cidr" (the static plugin's Address.address string, ParseCIDR'd after decoding).
    ``unmarshal`` decodes the kinds libcni's own structs use (string, bool, any, map, slice,
    struct); config/plugin_check.py walks all of them.
    ``name`` is reflect's Type.String() (``types.IPAM``, ``map[string]bool``), the ``of type T``
    of Go's error; ``struct_name`` its Name() (``IPAM``), the Struct of a field error.
    """

    kind: str
    name: str
    elem: Optional[GoType] = None  # slice / map element
    fields: Tuple[GoField, ...] = ()  # struct: its JSON fields (embedded structs flattened)
    struct_name: str = ""


@dataclass(frozen=True)
class GoField:
    """One struct field: its JSON name (the tag, or the Go field name when there is no tag)."""

    name: str
    type: GoType
    since: str = ""  # first release of the program whose struct has this field ("" = always)


@dataclass
class StructResult:
    """A value decoded into a Go struct: the value, or the error encoding/json returns."""

    value: Any = None
    error: Optional[str] = None
    error_pointer: str = ""
    folded: List[Tuple[str, str]] = field(default_factory=list)  # (pointer, field json name)


def _fold(text: str) -> str:
    """Go's case folding for field names (decode.go foldName): ASCII letters fold to upper case;
    a non-ASCII rune folds to the smallest rune of its fold set, which is ASCII only for U+017F
    (long s -> 'S') and U+212A (Kelvin -> 'K'). Field names here are ASCII."""
    if text.isascii():
        return text.upper()
    return "".join(c.upper() if c.isascii() else _FOLD_TO_ASCII.get(c, c) for c in text)


class _Folds(Dict[str, str]):
    """_fold's results by key. Looked up through ``__getitem__``, a C call that runs Python code
    only for a key met for the first time: every key of every object is folded, and object keys
    repeat across files. The bound keeps a hostile input from growing it without end."""

    def __missing__(self, text: str) -> str:
        folded = _fold(text)
        if len(self) < 1 << 16:
            self[text] = folded
        return folded


fold_key: Callable[[str], str] = _Folds().__getitem__  # Go's folding of a key (_fold), memoised


_FOLD_TO_ASCII = {"\u017f": "S", "\u212a": "K"}


class Fields:
    """An object's members grouped by the struct field encoding/json decodes each into: the key
    case-folded (decode.go object: cachedTypeFields' byExactName, else byFoldedName), each group
    in the order the decoder meets its members. The last member of a group is what the field
    holds; any of them can raise the decode's (first) type error.

    ``sort_keys``: the object reached the decoder through json.Marshal of a map, which writes
    each key once, in sorted order (encode.go mapEncoder) - what every plugin object is after
    libcni (cni@v1.1.2 libcni/conf.go ConfListFromBytes and InjectConf, which
    api.go buildOneConfig calls before every plugin call). Otherwise the
    members in document order, duplicates included.

    Built once, it answers any number of field lookups (a plugin object is read for a dozen
    fields); ``field_members`` is one lookup in a fresh one. The exact-name-first lookup only
    matters for structs with two fields that differ in case alone; none of the structs
    modelled here has such a pair.
    """

    __slots__ = ("_groups", "_last", "_obj", "has_variants")

    def __init__(self, obj: Mapping[str, Any], sort_keys: bool = False) -> None:
        self._obj = obj
        self._groups: Optional[Dict[str, List[Tuple[str, Any]]]] = None
        if sort_keys:
            keys = list(obj)
            try:
                last = dict(zip(map(fold_key, keys), keys))  # folded name -> key, the last one wins
            except AttributeError:  # a key that is not a string (no JSON object has one)
                keys = [k for k in keys if isinstance(k, str)]
                last = dict(zip(map(fold_key, keys), keys))
            self.has_variants = len(last) != len(keys)  # two or more members of one field
            if self.has_variants:  # nearly no object has any: then the order is immaterial
                keys.sort()  # dict keys are unique, json.Marshal writes each once
                last = dict(zip(map(fold_key, keys), keys))
                self._groups = _grouped((k, obj[k]) for k in keys)
        else:
            self._groups = _grouped(members(obj))
            last = {name: group[-1][0] for name, group in self._groups.items()}
            self.has_variants = len(self._groups) != sum(map(len, self._groups.values()))
        self._last = last

    def members(self, field: str) -> Tuple[Tuple[str, Any], ...]:
        """The members that decode into struct field ``field``, in decoding order."""
        folded = fold_key(field)
        if self._groups is not None:
            return tuple(self._groups.get(folded, ()))
        key = self._last.get(folded)
        return () if key is None else ((key, self._obj[key]),)

    def key(self, field: str) -> Optional[str]:
        """The key whose value struct field ``field`` ends up with (None when no key reaches it)."""
        return self._last.get(fold_key(field))

    def value(self, field: str) -> Any:
        """The value struct field ``field`` ends up with (None when no key reaches it)."""
        if self._groups is not None:
            group = self._groups.get(fold_key(field))
            return group[-1][1] if group else None
        key = self._last.get(fold_key(field))
        return None if key is None else self._obj[key]


def _grouped(pairs: Iterable[Tuple[Any, Any]]) -> Dict[str, List[Tuple[str, Any]]]:
    """The members with a string key by folded key, each group in the order given."""
    groups: Dict[str, List[Tuple[str, Any]]] = {}
    for pair in pairs:
        key = pair[0]
        if isinstance(key, str):
            folded = fold_key(key)
            group = groups.get(folded)
            if group is None:
                groups[folded] = [pair]
            else:
                group.append(pair)
    return groups


def field_members(obj: Mapping[str, Any], field: str, sort_keys: bool = False) -> Tuple[Tuple[str, Any], ...]:
    """The members of ``obj`` that encoding/json decodes into struct field ``field``, in the
    order it decodes them (``Fields``; build one to look up several fields of one object)."""
    return Fields(obj, sort_keys).members(field)


def field_key(obj: Mapping[str, Any], field: str, sort_keys: bool = False) -> Optional[str]:
    """The key whose value struct field ``field`` ends up with (the last of ``field_members``)."""
    return Fields(obj, sort_keys).key(field)


def field_value(obj: Mapping[str, Any], field: str, sort_keys: bool = False) -> Any:
    """The value struct field ``field`` ends up with (None when no key reaches it)."""
    return Fields(obj, sort_keys).value(field)


class _StructDecoder:
    def __init__(self, sort_keys: bool) -> None:
        self.sort_keys = sort_keys  # json.Marshal of a map sorts keys (libcni re-marshals plugins)
        self.result = StructResult()

    def members(self, obj: Mapping[str, Any]) -> Sequence[Tuple[str, Any]]:
        return sorted(obj.items()) if self.sort_keys else members(obj)

    def error(self, value: Any, gotype: GoType, pointer: str, struct: str, fields: Sequence[str]) -> None:
        if self.result.error is not None:
            return  # decode.go saveError keeps the first error only
        kind = json_kind(value)
        if struct or fields:
            where = f"Go struct field {struct}.{'.'.join(fields)}"
        else:
            where = "Go value"
        self.result.error = f"json: cannot unmarshal {kind} into {where} of type {gotype.name}"
        self.result.error_pointer = pointer

    def decode(
        self, value: Any, current: Any, gotype: GoType, pointer: str, struct: str, fields: Tuple[str, ...]
    ) -> Any:
        """Decode ``value`` into a Go value of ``gotype`` whose current content is ``current``."""
        kind = gotype.kind
        if kind == "any":
            return value
        if value is None:  # literalStore null: maps/slices/interfaces reset, others unchanged
            return None if kind in ("map", "slice") else current
        if kind == "string" and isinstance(value, str):
            return value
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind == "map" and isinstance(value, dict):
            return self.decode_map(value, current, gotype, pointer, struct, fields)
        if kind == "slice" and isinstance(value, list):
            assert gotype.elem is not None
            return [
                self.decode(item, None, gotype.elem, pointer_join(pointer, i), struct, fields)
                for i, item in enumerate(value)
            ]
        if kind == "struct" and isinstance(value, dict):
            return self.decode_struct(value, current, gotype, pointer, fields)
        self.error(value, gotype, pointer, struct, fields)
        return current

    def decode_map(
        self, value: Mapping[str, Any], current: Any, gotype: GoType, pointer: str, struct: str, fields: Tuple[str, ...]
    ) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(current) if isinstance(current, dict) else {}
        assert gotype.elem is not None
        for key, item in self.members(value):
            # a map element is decoded into a fresh zero value (decode.go object, mapElem)
            out[key] = self.decode(item, None, gotype.elem, pointer_join(pointer, key), struct, fields)
        return out

    def decode_struct(
        self, value: Mapping[str, Any], current: Any, gotype: GoType, pointer: str, fields: Tuple[str, ...]
    ) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(current) if isinstance(current, dict) else {}
        exact, folded = _field_maps(gotype)
        for key, item in self.members(value):
            name = key if key in exact else folded.get(fold_key(key))
            if name is None:
                continue  # unknown keys are skipped
            member = pointer_join(pointer, key)
            if name != key:
                self.result.folded.append((member, name))
            out[name] = self.decode(item, out.get(name), exact[name], member, gotype.struct_name, fields + (name,))
        return out


_FIELD_MAPS: Dict[int, Tuple[GoType, Dict[str, GoType], Dict[str, str]]] = {}


def _field_maps(gotype: GoType) -> Tuple[Dict[str, GoType], Dict[str, str]]:
    """A struct's fields by exact JSON name and by folded name (decode.go cachedTypeFields).

    Cached by identity: the Go types are module constants, and hashing a nested frozen
    dataclass on every plugin object cost more than the decode itself."""
    cached = _FIELD_MAPS.get(id(gotype))
    if cached is None or cached[0] is not gotype:
        cached = (gotype, {f.name: f.type for f in gotype.fields}, {fold_key(f.name): f.name for f in gotype.fields})
        _FIELD_MAPS[id(gotype)] = cached
    return cached[1], cached[2]


def unmarshal(value: Any, gotype: GoType, pointer: str = "", sort_keys: bool = False) -> StructResult:
    """json.Unmarshal of an already-decoded JSON ``value`` into a fresh Go value of ``gotype``.

    ``sort_keys`` models a value that went through json.Marshal of a map first (libcni
    ConfListFromBytes re-marshals every plugin), which visits keys in sorted order.
    """
    decoder = _StructDecoder(sort_keys)
    decoder.result.value = decoder.decode(value, None, gotype, pointer, "", ())
    return decoder.result
