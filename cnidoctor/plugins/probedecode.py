"""Decode a plugin's VERSION reply exactly as the runtime's libcni does, with Go's error texts.

What this models (all read at cni@v1.1.2 and unchanged v0.8.0-v1.3.0 unless noted):

* ``version.PluginDecoder.Decode`` (pkg/version/plugin.go:64-83): ``json.Unmarshal`` into
  ``struct{cniVersion string; supportedVersions []string}``, then ``missing field cniVersion``,
  the legacy ``{"cniVersion":"0.2.0"}`` special case, ``missing field supportedVersions``.
* ``RawExec.pluginErr`` (pkg/invoke/raw_exec.go:72-84): how a non-zero exit becomes an error.
* ``invoke.GetVersionInfo`` (pkg/invoke/exec.go:151-173): the exact-match
  ``unknown CNI_COMMAND: VERSION`` fallback to "supports 0.1.0".

Go's ``encoding/json`` first scans the whole input for syntax (``checkValid``) and only then
decodes, so a syntax error anywhere wins over a type error; type errors do not stop decoding,
the first one is returned at the end. Texts below are the ones Go's scanner and
``UnmarshalTypeError`` produce. Pure functions, no I/O.
"""

from __future__ import annotations

import json
import signal
from typing import Any, List, Optional, Tuple

from ..frozen import dataclass
from ..gofmt import go_quote

__all__ = [
    "UNKNOWN_VERSION_COMMAND",
    "VersionInfo",
    "decode_version_reply",
    "exit_text",
    "go_quote",
    "go_syntax_error",
    "plugin_error",
]

# cni pkg/invoke/exec.go GetVersionInfo: this exact error text means "plugin predates VERSION".
UNKNOWN_VERSION_COMMAND = "unknown CNI_COMMAND: VERSION"


@dataclass(frozen=True)
class VersionInfo:
    """A reply libcni accepted: its ``cniVersion`` and the supported list as libcni sees it."""

    cni_version: str
    supported: Tuple[str, ...]
    legacy: bool = False  # True when libcni substituted a list (0.2.0 reply or unknown command)


# ---------------------------------------------------------------------------------------------
# Go string quoting (fmt %q == strconv.Quote)


def _quote_char(byte: int) -> str:
    """encoding/json scanner.go quoteChar: the offending byte in single quotes."""
    if byte == 0x27:
        return "'\\''"
    if byte == 0x22:
        return "'\"'"
    quoted = go_quote(chr(byte).encode("utf-8"))
    return "'" + quoted[1:-1] + "'"


# ---------------------------------------------------------------------------------------------
# Go encoding/json syntax check (scanner.go), returning Go's error text or None


class _Syntax(Exception):
    pass


_WS = b" \t\r\n"
_LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}


class _Scanner:
    """A recursive-descent equivalent of Go's state-machine scanner, same messages."""

    def __init__(self, data: bytes, max_depth: int = 10000) -> None:
        self.data = data
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth

    def fail(self, context: str) -> _Syntax:
        if self.pos >= len(self.data):
            return _Syntax("unexpected end of JSON input")
        return _Syntax(f"invalid character {_quote_char(self.data[self.pos])} {context}")

    def peek(self) -> Optional[int]:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def skip_ws(self) -> None:
        while self.pos < len(self.data) and self.data[self.pos] in _WS:
            self.pos += 1

    def document(self) -> None:
        self.skip_ws()
        self.value()
        self.skip_ws()
        if self.pos < len(self.data):
            raise self.fail("after top-level value")

    def value(self) -> None:
        byte = self.peek()
        if byte is None:
            raise self.fail("")
        if byte == ord("{"):
            self.container(ord("}"), self.member, "after object key:value pair")
        elif byte == ord("["):
            self.container(ord("]"), self.value, "after array element")
        elif byte == ord('"'):
            self.string()
        elif byte == ord("-") or ord("0") <= byte <= ord("9"):
            self.number()
        elif byte in _LITERALS:
            self.literal(_LITERALS[byte])
        else:
            raise self.fail("looking for beginning of value")

    def container(self, close: int, item: Any, after: str) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise _Syntax("exceeded max depth")
        self.pos += 1
        self.skip_ws()
        if self.peek() == close:
            self.pos += 1
            self.depth -= 1
            return
        while True:
            if close == ord("}") and self.peek() != ord('"'):
                raise self.fail("looking for beginning of object key string")
            item()
            self.skip_ws()
            byte = self.peek()
            if byte == ord(","):
                self.pos += 1
                self.skip_ws()
                continue
            if byte == close:
                self.pos += 1
                self.depth -= 1
                return
            raise self.fail(after)

    def member(self) -> None:
        self.string()
        self.skip_ws()
        if self.peek() != ord(":"):
            raise self.fail("after object key")
        self.pos += 1
        self.skip_ws()
        self.value()

    def string(self) -> None:
        self.pos += 1
        while True:
            byte = self.peek()
            if byte is None:
                raise self.fail("")
            if byte == ord('"'):
                self.pos += 1
                return
            if byte < 0x20:
                raise self.fail("in string literal")
            if byte == ord("\\"):
                self.pos += 1
                self.escape()
                continue
            self.pos += 1

    def escape(self) -> None:
        byte = self.peek()
        if byte is None:
            raise self.fail("")
        if byte in b'bfnrt\\/"':
            self.pos += 1
            return
        if byte != ord("u"):
            raise self.fail("in string escape code")
        self.pos += 1
        for _ in range(4):
            hexdigit = self.peek()
            if hexdigit is None:
                raise self.fail("")
            if hexdigit not in b"0123456789abcdefABCDEF":
                raise self.fail("in \\u hexadecimal character escape")
            self.pos += 1

    def digits(self) -> int:
        start = self.pos
        while self.peek() is not None and ord("0") <= self.data[self.pos] <= ord("9"):
            self.pos += 1
        return self.pos - start

    def number(self) -> None:
        if self.peek() == ord("-"):
            self.pos += 1
            byte = self.peek()
            if byte is None:
                raise self.fail("")
            if not ord("0") <= byte <= ord("9"):
                raise self.fail("in numeric literal")
        if self.peek() == ord("0"):
            self.pos += 1
        else:
            self.digits()
        if self.peek() == ord("."):
            self.pos += 1
            if self.peek() is None:
                raise self.fail("")
            if self.digits() == 0:
                raise self.fail("after decimal point in numeric literal")
        if self.peek() in (ord("e"), ord("E")):
            self.pos += 1
            if self.peek() in (ord("+"), ord("-")):
                self.pos += 1
            if self.peek() is None:
                raise self.fail("")
            if self.digits() == 0:
                raise self.fail("in exponent of numeric literal")

    def literal(self, word: bytes) -> None:
        for expected in word:
            byte = self.peek()
            if byte is None:
                raise self.fail("")
            if byte != expected:
                raise self.fail(f"in literal {word.decode()} (expecting {_quote_char(expected)})")
            self.pos += 1


def go_syntax_error(data: bytes) -> Optional[str]:
    """Go's json.Unmarshal syntax error for ``data`` (e.g. ``unexpected end of JSON input``)."""
    try:
        _Scanner(data).document()
    except _Syntax as exc:
        return str(exc)
    except RecursionError:
        return "exceeded max depth"
    return None


# ---------------------------------------------------------------------------------------------
# Decoding into the two Go structs libcni uses


def _go_kind(value: Any) -> str:
    """The ``Value`` word of Go's UnmarshalTypeError for a decoded JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


class _Obj(List[Any]):
    """A JSON object as ordered (key, value) pairs, so duplicate keys behave as in Go."""


def _load(data: bytes) -> Any:
    text = data.decode("utf-8", "replace")  # Go replaces invalid UTF-8 with U+FFFD
    return json.loads(text, object_pairs_hook=_Obj)


def _kind(value: Any) -> str:
    if isinstance(value, _Obj):
        return "object"
    if isinstance(value, list):
        return "array"
    return _go_kind(value)


def _field_match(key: str, field: str) -> bool:
    """Go matches a JSON key to a struct field exactly or, failing that, case-insensitively."""
    return key == field or key.casefold() == field.casefold()


def _type_error(value: Any, where: str, go_type: str) -> str:
    return f"json: cannot unmarshal {_kind(value)} into {where} of type {go_type}"


def _decode_fields(
    document: Any, go_name: str, struct: str, fields: Tuple[Tuple[str, str], ...]
) -> Tuple[dict, Optional[str]]:
    """Assign ``fields`` ((json name, "string"|"[]string"|"uint")) from ``document`` as Go does.

    Returns (values, first type error). JSON null leaves a string field unchanged and sets a
    slice to nil, as encoding/json does.
    """
    values: dict = {}
    error: Optional[str] = None
    if document is None:
        return values, None
    if not isinstance(document, _Obj):
        return values, _type_error(document, "Go value", go_name)
    for key, value in document:
        match = next((f for f in fields if key == f[0]), None) or next(
            (f for f in fields if _field_match(key, f[0])), None
        )
        if match is None:
            continue
        name, go_type = match
        where = f"Go struct field {struct}.{name}"
        assigned, problem = _assign(value, go_type, where)
        if problem is not None:
            error = error or problem
        elif value is not None or go_type == "[]string":
            values[name] = assigned
    return values, error


def _assign(value: Any, go_type: str, where: str) -> Tuple[Any, Optional[str]]:
    if value is None:
        return None, None
    if go_type == "string":
        if isinstance(value, str):
            return value, None
        return None, _type_error(value, where, "string")
    if go_type == "uint":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, _type_error(value, where, "uint")
        if isinstance(value, float) or value < 0 or value >= 2**64:
            return None, f"json: cannot unmarshal number {value} into {where} of type uint"
        return value, None
    if not isinstance(value, list) or isinstance(value, _Obj):
        return None, _type_error(value, where, "[]string")
    items: List[str] = []
    problem: Optional[str] = None
    for item in value:
        if isinstance(item, str):
            items.append(item)
        elif item is None:
            items.append("")
        else:
            problem = problem or _type_error(item, where, "string")
            items.append("")
    return items, problem


def decode_version_reply(stdout: bytes) -> Tuple[Optional[VersionInfo], Optional[str]]:
    """libcni ``PluginDecoder.Decode``: (info, None) or (None, exact libcni error text)."""
    syntax = go_syntax_error(stdout)
    if syntax is not None:
        return None, f"decoding version info: {syntax}"
    values, type_error = _decode_fields(
        _load(stdout),
        "version.pluginInfo",
        "pluginInfo",
        (("cniVersion", "string"), ("supportedVersions", "[]string")),
    )
    if type_error is not None:
        return None, f"decoding version info: {type_error}"
    cni_version = values.get("cniVersion") or ""
    supported = values.get("supportedVersions") or []
    if cni_version == "":
        return None, "decoding version info: missing field cniVersion"
    if not supported:
        if cni_version == "0.2.0":
            # Legacy plugins (plugins <= v0.5, skel before supportedVersions) said only 0.2.0.
            return VersionInfo(cni_version, ("0.1.0", "0.2.0"), legacy=True), None
        return None, "decoding version info: missing field supportedVersions"
    return VersionInfo(cni_version, tuple(supported)), None


def plugin_error(stdout: bytes, stderr: bytes, exec_error: str) -> str:
    """libcni >= v0.8.0 ``RawExec.pluginErr`` text for a failed run (types.Error.Error()).

    ``exec_error`` is Go's ``err.Error()``: ``exit status 1``, ``signal: killed`` or
    ``fork/exec P: permission denied``. Unreleased cni main appends ``: <err>`` to the
    stderr form; every release up to v1.3.0 prints only the quoted stderr.
    """
    if not stdout:
        if not stderr:
            return f"netplugin failed with no error message: {exec_error}"
        return f"netplugin failed: {go_quote(stderr)}"
    syntax = go_syntax_error(stdout)
    if syntax is not None:
        return f"netplugin failed but error parsing its diagnostic message {go_quote(stdout)}: {syntax}"
    values, type_error = _decode_fields(
        _load(stdout),
        "types.Error",
        "Error",
        (("code", "uint"), ("msg", "string"), ("details", "string")),
    )
    if type_error is not None:
        return f"netplugin failed but error parsing its diagnostic message {go_quote(stdout)}: {type_error}"
    message = values.get("msg") or ""
    details = values.get("details") or ""
    return f"{message}; {details}" if details else message


# Go's syscall signal names (zsignal_linux_*.go signals table), used by ProcessState.String().
_GO_SIGNAL_NAMES = {
    signal.SIGHUP: "hangup",
    signal.SIGINT: "interrupt",
    signal.SIGQUIT: "quit",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGKILL: "killed",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGUSR2: "user defined signal 2",
    signal.SIGPIPE: "broken pipe",
    signal.SIGALRM: "alarm clock",
    signal.SIGTERM: "terminated",
    signal.SIGSYS: "bad system call",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGXFSZ: "file size limit exceeded",
}


def exit_text(wait_status: int) -> str:
    """Go ``os.ProcessState.String()`` for a raw wait status: ``exit status N`` / ``signal: killed``."""
    import os

    if os.WIFEXITED(wait_status):
        return f"exit status {os.WEXITSTATUS(wait_status)}"
    if os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        try:
            name = _GO_SIGNAL_NAMES.get(signal.Signals(number), f"signal {number}")
        except ValueError:
            name = f"signal {number}"
        text = f"signal: {name}"
        return text + " (core dumped)" if os.WCOREDUMP(wait_status) else text
    return f"wait status {wait_status}"
