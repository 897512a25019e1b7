"""The Go build information embedded in an ELF binary, read as Go's ``debug/buildinfo`` reads it.

Nothing is executed. Two steps, each following Go's source:

1. Locate and decode the blob (``golang/go:src/debug/buildinfo/buildinfo.go@go1.19``
   ``readRawBuildInfo``, ``decodeString``, ``readString``): read up to 64 KiB from the
   ``.go.buildinfo`` section's address, or, when the section headers are gone, from the first
   writable, non-executable ``PT_LOAD`` segment (``elfExe.DataStart``/``ReadData``); find the magic ``\\xff Go buildinf:`` at a 16-byte aligned
   offset; header byte 14 is the pointer size and byte 15 the flags. With ``flags & 2`` (Go
   >= 1.18) two uvarint-length strings follow the 32-byte header (Go version, module info);
   otherwise the header holds two pointers (endianness ``flags & 1``) to Go string headers
   ``{data, len}``, which are followed through the ``PT_LOAD`` segments. The module info is
   framed by 16 sentinel bytes at each end (``cmd/go/internal/modload/build.go``
   ``infoStart``/``infoEnd``) and is empty unless ``len >= 33`` and ``mod[-17] == '\\n'``.
   (Go 1.19 steps past an unaligned magic with ``&^ 16``; this reader moves to the next
   16-byte boundary, which is what that line means to do.)
2. Parse the module info text (``golang/go:src/runtime/debug/mod.go@go1.19``,
   ``ParseBuildInfo``): ``path``, ``mod``, ``dep``, ``=>`` and ``build`` lines; a malformed
   line makes the whole read fail, as in Go (``go version -m`` prints nothing for it).

Reads are bounded (the ELF headers, at most 64 KiB of data, and the two strings, which must lie
inside that window or one ``PT_LOAD`` segment). Results are remembered per file identity for the
process and, after ``enable_disk_cache()``, across runs in the probe cache directory, as
``elfinfo.inspect`` does. Failures are returned as a reason, never raised.
"""

from __future__ import annotations

import json
import os
import re
import struct
from typing import TYPE_CHECKING, Any, BinaryIO, Dict, List, Optional, Sequence, Tuple

from .frozen import dataclass

if TYPE_CHECKING:
    from .cache import DiskTable

__all__ = [
    "BuildInfo",
    "BuildInfoError",
    "Module",
    "enable_disk_cache",
    "find_module",
    "go_unquote",
    "inspect_build_info",
    "ldflags_values",
    "ldflags_version",
    "module_version",
    "parse_modinfo",
    "read_build_info",
    "save_disk_cache",
    "setting",
]

BUILDINFO_MAGIC = b"\xff Go buildinf:"
BUILDINFO_ALIGN = 16
BUILDINFO_HEADER = 32
DATA_WINDOW = 64 * 1024  # debug/buildinfo reads this much from DataStart
MAX_STRING = 1 << 20  # a pointer-format string longer than this is not a build-info string
FLAG_BIG_ENDIAN = 0x1
FLAG_VERSION_INLINE = 0x2
SENTINEL_LEN = 16


@dataclass(frozen=True)
class Module:
    """One module line (``runtime/debug.Module``): path, version, sum and its ``=>`` replacement."""

    path: str
    version: str
    sum: str = ""
    replace: Optional[Module] = None


@dataclass(frozen=True)
class BuildInfo:
    """``runtime/debug.BuildInfo`` plus the Go version (``debug/buildinfo.Read``).

    ``main`` is None for GOPATH-mode builds (no ``mod`` line, e.g. Debian's packages), and
    ``deps`` is then empty. ``settings`` keeps the ``build`` lines in order, values unquoted.
    """

    go_version: str
    path: str
    main: Optional[Module]
    deps: Tuple[Module, ...]
    settings: Tuple[Tuple[str, str], ...]


class BuildInfoError(ValueError):
    """The module info text does not parse (Go: ``could not parse Go build info: line N: …``)."""


# ---------------------------------------------------------------------------------------------
# Step 1: the raw blob


@dataclass(frozen=True)
class _Load:
    """A PT_LOAD program header: where a part of the file is mapped."""

    vaddr: int
    offset: int
    filesz: int
    flags: int


def _uvarint(data: bytes, pos: int) -> Tuple[int, int]:
    """encoding/binary.Uvarint: (value, bytes used); used <= 0 on truncation or overflow."""
    value = shift = 0
    for index in range(pos, min(len(data), pos + 10)):
        byte = data[index]
        if index - pos == 9 and byte > 1:
            return 0, -(index - pos + 1)
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, index - pos + 1
        shift += 7
    return 0, 0


def _decode_string(data: bytes, pos: int) -> Tuple[bytes, int]:
    """debug/buildinfo.decodeString: (string, next position); (b"", -1) when out of range."""
    length, used = _uvarint(data, pos)
    if used <= 0 or length >= len(data) - pos - used:
        return b"", -1
    start = pos + used
    return data[start : start + length], start + length


def _read_at(handle: BinaryIO, loads: Sequence[_Load], addr: int, size: int) -> Optional[bytes]:
    """elfExe.ReadData: up to ``size`` bytes at virtual ``addr`` from the segment containing it."""
    for load in loads:
        if load.filesz and load.vaddr <= addr <= load.vaddr + load.filesz - 1:
            count = min(size, load.vaddr + load.filesz - addr)
            handle.seek(load.offset + addr - load.vaddr)
            data = handle.read(count)
            return data if len(data) == count else None
    return None


def _elf_layout(handle: BinaryIO) -> Tuple[Optional[int], List[_Load], int, bool]:
    """(DataStart address, PT_LOAD segments, pointer size, little endian) via pyelftools."""
    from elftools.elf.elffile import ELFFile

    elf = ELFFile(handle)
    loads = [
        _Load(seg["p_vaddr"], seg["p_offset"], seg["p_filesz"], seg["p_flags"])
        for seg in elf.iter_segments()
        if seg["p_type"] == "PT_LOAD"
    ]
    start: Optional[int] = None
    if elf.num_sections():
        section = elf.get_section_by_name(".go.buildinfo")
        if section is not None:
            start = section["sh_addr"]
    if start is None:
        pf_x, pf_w = 0x1, 0x2
        start = next((load.vaddr for load in loads if load.flags & (pf_x | pf_w) == pf_w), None)
    return start, loads, elf.elfclass // 8, elf.little_endian


def _find_header(window: bytes) -> Optional[int]:
    """The offset of the first 16-byte aligned magic with a whole header after it."""
    pos = 0
    while True:
        index = window.find(BUILDINFO_MAGIC, pos)
        if index < 0 or len(window) - index < BUILDINFO_HEADER:
            return None
        if index % BUILDINFO_ALIGN == 0:
            return index
        pos = (index + BUILDINFO_ALIGN - 1) & ~(BUILDINFO_ALIGN - 1)


def _read_pointer_string(handle: BinaryIO, loads: Sequence[_Load], addr: int, ptr_size: int, order: str) -> bytes:
    """debug/buildinfo.readString: a Go string header ``{data, len}`` at ``addr`` (Go < 1.18)."""
    header = _read_at(handle, loads, addr, 2 * ptr_size)
    if header is None or len(header) < 2 * ptr_size:
        return b""
    fmt = order + ("I" if ptr_size == 4 else "Q")
    data_addr = struct.unpack(fmt, header[:ptr_size])[0]
    length = struct.unpack(fmt, header[ptr_size:])[0]
    if length == 0 or length > MAX_STRING:
        return b""
    data = _read_at(handle, loads, data_addr, length)
    return data if data is not None and len(data) == length else b""


def _strip_framing(mod: bytes) -> bytes:
    """Drop modload's infoStart/infoEnd sentinels; anything else means no module info."""
    if len(mod) >= 33 and mod[-17:-16] == b"\n":
        return mod[SENTINEL_LEN:-SENTINEL_LEN]
    return b""


def _raw_build_info(handle: BinaryIO) -> Tuple[bytes, bytes]:
    """(Go version, module info) as bytes; raises ValueError with Go's reason when absent."""
    start, loads, _, _ = _elf_layout(handle)
    if start is None:
        raise ValueError("not a Go executable (no data segment)")
    window = _read_at(handle, loads, start, DATA_WINDOW)
    if not window:
        raise ValueError("not a Go executable (build info address outside the file)")
    index = _find_header(window)
    if index is None:
        raise ValueError("not a Go executable (no build info magic)")
    data = window[index:]
    ptr_size, flags = data[14], data[15]
    if flags & FLAG_VERSION_INLINE:
        version, pos = _decode_string(data, BUILDINFO_HEADER)
        mod = _decode_string(data, pos)[0] if pos >= 0 else b""
    else:
        if ptr_size not in (4, 8):
            raise ValueError(f"not a Go executable (pointer size {ptr_size})")
        order = ">" if flags & FLAG_BIG_ENDIAN else "<"
        fmt = order + ("I" if ptr_size == 4 else "Q")
        version_addr = struct.unpack(fmt, data[16 : 16 + ptr_size])[0]
        mod_addr = struct.unpack(fmt, data[16 + ptr_size : 16 + 2 * ptr_size])[0]
        version = _read_pointer_string(handle, loads, version_addr, ptr_size, order)
        mod = _read_pointer_string(handle, loads, mod_addr, ptr_size, order)
    if not version:
        raise ValueError("not a Go executable (empty Go version)")
    return version, _strip_framing(mod)


# ---------------------------------------------------------------------------------------------
# Step 2: the module info text


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


def _unescape(body: str, quote: str) -> str:
    """The inside of a Go double-quoted literal (strconv.unquote); ValueError when invalid."""
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char == quote or char == "\n":
            raise ValueError("unescaped quote or newline")
        if char != "\\":
            out += char.encode("utf-8", "surrogateescape")
            index += 1
            continue
        kind = body[index + 1 : index + 2]
        if kind in _SIMPLE_ESCAPES and kind != "'":
            out += _SIMPLE_ESCAPES[kind].encode()
            index += 2
        elif kind in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[kind]
            digits = body[index + 2 : index + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
                raise ValueError("bad hex escape")
            value = int(digits, 16)
            if kind == "x":
                out.append(value)
            elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise ValueError("bad unicode escape")
            else:
                out += chr(value).encode("utf-8")
            index += 2 + width
        elif kind and kind in "01234567":
            digits = body[index + 1 : index + 4]
            if len(digits) != 3 or not re.fullmatch(r"[0-7]{3}", digits) or int(digits, 8) > 255:
                raise ValueError("bad octal escape")
            out.append(int(digits, 8))
            index += 4
        else:
            raise ValueError("unknown escape")
    return out.decode("utf-8", "surrogateescape")


def go_unquote(text: str) -> str:
    """strconv.Unquote for the string forms ``"…"`` and `` `…` ``; ValueError when invalid.

    (``golang/go:src/strconv/quote.go@go1.19``; invalid UTF-8 from ``\\xNN`` is kept as
    surrogate escapes.)
    """
    if len(text) < 2 or text[0] != text[-1] or text[0] not in '"`':
        raise ValueError("not a quoted string")
    body = text[1:-1]
    if text[0] == "`":
        if "`" in body:
            raise ValueError("backquote inside raw string")
        return body.replace("\r", "")
    return _unescape(body, '"')


def _quoted_prefix(text: str) -> str:
    """strconv.QuotedPrefix: the shortest valid quoted string at the start of ``text``."""
    quote = text[0]
    index = 1
    while index < len(text):
        char = text[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == quote:
            candidate = text[: index + 1]
            go_unquote(candidate)
            return candidate
        if char == "\n" and quote == '"':
            break
        index += 1
    raise ValueError("unterminated quoted string")


def _needs_quote(text: str, key: bool) -> bool:
    """runtime/debug quoteKey / quoteValue."""
    specials = '= \t\r\n"`' if key else ' \t\r\n"`'
    return (key and not text) or any(c in specials for c in text)


def _module_line(columns: List[str]) -> Module:
    if len(columns) not in (2, 3):
        raise BuildInfoError(f"expected 2 or 3 columns; got {len(columns)}")
    return Module(columns[0], columns[1], columns[2] if len(columns) == 3 else "")


def _build_setting(kv: str) -> Tuple[str, str]:
    """One ``build`` line's ``key=value``, unquoting each side as ParseBuildInfo does."""
    if not kv:
        raise BuildInfoError("build line missing '='")
    if kv[0] == "=":
        raise BuildInfoError("build line with missing key")
    if kv[0] in '`"':
        try:
            raw_key = _quoted_prefix(kv)
        except ValueError:
            raise BuildInfoError("invalid quoted key in build line") from None
        if len(kv) == len(raw_key):
            raise BuildInfoError("build line missing '=' after quoted key")
        if kv[len(raw_key)] != "=":
            raise BuildInfoError(f"unexpected character after quoted key: {kv[len(raw_key)]!r}")
        key, raw_value = go_unquote(raw_key), kv[len(raw_key) + 1 :]
    else:
        key, sep, raw_value = kv.partition("=")
        if not sep:
            raise BuildInfoError("build line missing '=' after key")
        if _needs_quote(key, key=True):
            raise BuildInfoError(f"unquoted key {key!r} must be quoted")
    if raw_value[:1] in ("`", '"'):
        try:
            return key, go_unquote(raw_value)
        except ValueError:
            raise BuildInfoError("invalid quoted value in build line") from None
    if _needs_quote(raw_value, key=False):
        raise BuildInfoError(f"unquoted value {raw_value!r} must be quoted")
    return key, raw_value


class _Parsed:
    """Mutable state while parsing; frozen into a BuildInfo at the end."""

    def __init__(self) -> None:
        self.path = ""
        self.main: Optional[Module] = None
        self.deps: List[Module] = []
        self.settings: List[Tuple[str, str]] = []
        self.last: Optional[str] = None  # "main" or "dep": which module a => line replaces

    def replace_last(self, replacement: Module) -> None:
        if self.last == "main" and self.main is not None:
            self.main = Module(self.main.path, self.main.version, self.main.sum, replacement)
        elif self.last == "dep":
            dep = self.deps[-1]
            self.deps[-1] = Module(dep.path, dep.version, dep.sum, replacement)
        else:
            raise BuildInfoError("replacement with no module on previous line")
        self.last = None

    def line(self, line: str) -> None:
        kind, sep, rest = line.partition("\t")
        if kind == "path" and sep:
            self.path = rest
        elif kind == "mod" and sep:
            self.main, self.last = _module_line(rest.split("\t")), "main"
        elif kind == "dep" and sep:
            self.deps.append(_module_line(rest.split("\t")))
            self.last = "dep"
        elif kind == "=>" and sep:
            columns = rest.split("\t")
            if len(columns) != 3:
                raise BuildInfoError(f"expected 3 columns for replacement; got {len(columns)}")
            self.replace_last(Module(columns[0], columns[1], columns[2]))
        elif kind == "build" and sep:
            self.settings.append(_build_setting(rest))


def parse_modinfo(text: str, go_version: str = "") -> BuildInfo:
    """runtime/debug.ParseBuildInfo of the module info text; BuildInfoError names the line.

    As in Go, a final line without ``\\n`` is ignored and unknown line kinds are skipped.
    """
    state = _Parsed()
    lines = text.split("\n")[:-1]  # strings.Cut loop: text after the last newline is dropped
    for number, line in enumerate(lines, start=1):
        try:
            state.line(line)
        except BuildInfoError as exc:
            raise BuildInfoError(f"could not parse Go build info: line {number}: {exc}") from None
    return BuildInfo(go_version, state.path, state.main, tuple(state.deps), tuple(state.settings))


# ---------------------------------------------------------------------------------------------
# Reading a file (cached per identity: in the process, and on disk next to the probe cache)


Identity = Tuple[str, int, int, int, int]
_SEEN: Dict[Identity, Tuple[Optional[BuildInfo], str]] = {}

# Like elfinfo's exec verdicts: kept in the probe cache directory under the same identity key
# (realpath, st_dev, st_ino, st_size, st_mtime_ns), so a periodic run on an unchanged node
# neither imports nor runs the ELF parser. Off unless the caller enables it (not with --no-cache).
_DISK: Optional[DiskTable] = None


def enable_disk_cache() -> None:
    """Load remembered build info from the cache dir (a missing or foreign file is ignored)."""
    global _DISK
    from .cache import DiskTable

    _DISK = DiskTable("buildinfo.json", 1)
    _DISK.load()


def save_disk_cache() -> None:
    """Write the cache atomically when something new was read (errors are ignored)."""
    if _DISK is not None:
        _DISK.save()


def _module_to_json(module: Optional[Module]) -> Optional[List[Any]]:
    if module is None:
        return None
    return [module.path, module.version, module.sum, _module_to_json(module.replace)]


def _module_from_json(data: Any) -> Optional[Module]:
    if data is None:
        return None
    path, version, sum_, replace = data
    return Module(str(path), str(version), str(sum_), _module_from_json(replace))


def _to_json(entry: Tuple[Optional[BuildInfo], str]) -> Dict[str, Any]:
    info, reason = entry
    if info is None:
        return {"reason": reason}
    return {
        "go": info.go_version,
        "path": info.path,
        "main": _module_to_json(info.main),
        "deps": [_module_to_json(dep) for dep in info.deps],
        "settings": [list(s) for s in info.settings],
    }


def _from_json(data: Any) -> Optional[Tuple[Optional[BuildInfo], str]]:
    """An entry written by _to_json, or None when it is not one (then the file is read again)."""
    try:
        if "reason" in data:
            return None, str(data["reason"])
        deps = tuple(m for m in (_module_from_json(d) for d in data["deps"]) if m is not None)
        settings = tuple((str(k), str(v)) for k, v in data["settings"])
        return BuildInfo(str(data["go"]), str(data["path"]), _module_from_json(data["main"]), deps, settings), ""
    except (KeyError, TypeError, ValueError):
        return None


def _identity(path: str) -> Optional[Identity]:
    try:
        real = os.path.realpath(path)
        info = os.stat(real)
    except (OSError, ValueError):
        return None
    return (real, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _read_file(path: str) -> Tuple[Optional[BuildInfo], str]:
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"\x7fELF":
                return None, "not an ELF file"
            handle.seek(0)
            version, mod = _raw_build_info(handle)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    except ValueError as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"ELF headers cannot be parsed ({type(exc).__name__}: {exc})"
    go_version = version.decode("utf-8", "replace")
    try:
        return parse_modinfo(mod.decode("utf-8", "surrogateescape"), go_version), ""
    except BuildInfoError as exc:
        return None, str(exc)


def _cached_read(path: str, key: Identity) -> Tuple[Optional[BuildInfo], str]:
    disk_key = json.dumps(list(key))
    remembered = _DISK.get(disk_key) if _DISK is not None else None
    found = _from_json(remembered) if remembered is not None else None
    if found is not None:
        return found
    found = _read_file(path)
    if _DISK is not None:
        _DISK.put(disk_key, _to_json(found))
    return found


def inspect_build_info(path: str) -> Tuple[Optional[BuildInfo], str]:
    """(build info, "") or (None, why not) for the ELF file at ``path``. Never raises."""
    key = _identity(path)
    if key is None:
        return None, "cannot stat the file"
    if key not in _SEEN:
        _SEEN[key] = _cached_read(path, key)
    return _SEEN[key]


def read_build_info(path: str) -> Optional[BuildInfo]:
    """The build info of a Go ELF binary, or None (not Go, not ELF, unreadable, truncated)."""
    return inspect_build_info(path)[0]


# ---------------------------------------------------------------------------------------------
# Questions asked of a BuildInfo


def find_module(info: BuildInfo, module_path: str) -> Optional[Module]:
    """The main module or the dep with exactly this path (the path as required, before ``=>``)."""
    if info.main is not None and info.main.path == module_path:
        return info.main
    return next((dep for dep in info.deps if dep.path == module_path), None)


def _is_versioned(version: str) -> bool:
    return bool(version) and version != "(devel)"


def module_version(info: BuildInfo, module_path: str) -> Optional[str]:
    """The version of ``module_path`` compiled in, as recorded (``v1.1.2``), honouring ``=>``.

    A replacement by another module version (``=> github.com/k3s-io/containerd/v2
    v2.0.2-k3s2``) gives the replacement's version; a local-directory replacement (version
    ``(devel)`` or empty) leaves the required version as the best answer. None when absent or
    when only ``(devel)`` is known.
    """
    module = find_module(info, module_path)
    if module is None:
        return None
    if module.replace is not None and _is_versioned(module.replace.version):
        return module.replace.version
    return module.version if _is_versioned(module.version) else None


def setting(info: BuildInfo, key: str) -> Optional[str]:
    """The value of the last ``build`` setting named ``key``, or None."""
    found = None
    for name, value in info.settings:
        if name == key:
            found = value
    return found


def _split_quoted(text: str) -> List[str]:
    """How ``go build`` splits ``-ldflags`` (``golang/go:src/cmd/internal/quoted/quoted.go@go1.19``
    ``Split``: blanks separate, '…' or "…" group without escapes); ValueError if unterminated."""
    fields: List[str] = []
    index = 0
    spaces = " \t\n\r"
    while index < len(text):
        while index < len(text) and text[index] in spaces:
            index += 1
        if index >= len(text):
            break
        if text[index] in "\"'":
            end = text.find(text[index], index + 1)
            if end < 0:
                raise ValueError(f"unterminated {text[index]} string")
            fields.append(text[index + 1 : end])
            index = end + 1
            continue
        start = index
        while index < len(text) and text[index] not in spaces:
            index += 1
        fields.append(text[start:index])
    return fields


def ldflags_values(info: BuildInfo) -> Dict[str, str]:
    """Every ``-X importpath.name=value`` of the recorded ``-ldflags``; the last one wins, as in
    the linker (``golang/go:src/cmd/link/internal/ld/data.go@go1.19`` ``addstrdata1``). Empty when the
    build used ``-trimpath`` (Go then does not record ``-ldflags``) or the flags do not split."""
    flags = setting(info, "-ldflags")
    if not flags:
        return {}
    try:
        args = _split_quoted(flags)
    except ValueError:
        return {}
    values: Dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        name = arg.lstrip("-") if arg.startswith("-") else None
        if name == "X" and index + 1 < len(args):
            assignment = args[index + 1]
            index += 2
        elif name is not None and name.startswith("X="):
            assignment = name[2:]
            index += 1
        else:
            index += 1
            continue
        symbol, sep, value = assignment.partition("=")
        if sep and symbol:
            values[symbol] = value
    return values


def ldflags_version(info: BuildInfo, symbol: str) -> Optional[str]:
    """The value injected with ``-X <symbol>=…`` (e.g.
    ``github.com/containerd/containerd/version.Version``), or None."""
    return ldflags_values(info).get(symbol)
