"""What the kernel will do when the runtime execs a plugin file, predicted without executing it.

Go's ``os/exec`` calls execve(2) directly (no shell fallback), so the outcomes are the kernel's:

* ELF for another machine, malformed ELF, unknown format without ``#!`` -> ENOEXEC
  ``exec format error`` (containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2) ENOEXEC; containernetworking/cni:pkg/invoke/find.go@v1.3.0; execve(2)).
* ELF whose ``PT_INTERP`` dynamic loader is absent, script whose ``#!`` interpreter is absent
  (including ``/bin/sh\\r`` from a CRLF file) -> ENOENT ``no such file or directory`` although the
  plugin exists (containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2) ENOENT; containernetworking/cni:pkg/invoke/find.go@v1.3.0; execve(2)).
* interpreter that is a directory or lacks the execute bit -> EACCES ``permission denied``.

The kernel's ``binfmt_script`` reads at most 256 bytes (BINPRM_BUF_SIZE) of the ``#!`` line and
splits the interpreter from its argument at the first space or tab only. Files are only read,
never executed. Paths (loader, interpreter) are node paths: with a host root (``--host-root``,
the node mounted into a pod) they are looked up under it, chroot-style (cnidoctor/hostpath.py),
because that is where the runtime's execve finds them. The probe, though, runs the file from
here: a loader or interpreter the node has but this container lacks makes the kernel refuse it
here with ENOENT although the node runs it. That is ``blocked_here``, not a broken plugin.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import stat
from typing import TYPE_CHECKING, Dict, FrozenSet, Optional, Tuple

if TYPE_CHECKING:
    from ..cache import DiskTable

from ..frozen import dataclass
from ..hostpath import is_host_root, resolve_under

__all__ = ["ExecInfo", "inspect"]

ELF_MAGIC = b"\x7fELF"
BINPRM_BUF_SIZE = 256  # linux include/uapi/linux/binfmts.h

# uname -m -> architectures (our names below) that kernel runs natively, incl. compat modes.
_HOST_RUNS: Dict[str, FrozenSet[str]] = {
    "x86_64": frozenset({"x86_64", "i386"}),
    "i686": frozenset({"i386"}),
    "i386": frozenset({"i386"}),
    "aarch64": frozenset({"aarch64", "arm"}),
    "arm64": frozenset({"aarch64", "arm"}),
    "armv7l": frozenset({"arm"}),
    "armv6l": frozenset({"arm"}),
    "ppc64le": frozenset({"ppc64le"}),
    "ppc64": frozenset({"ppc64"}),
    "s390x": frozenset({"s390x"}),
    "riscv64": frozenset({"riscv64"}),
    "mips64": frozenset({"mips64", "mips"}),
    "loongarch64": frozenset({"loongarch64"}),
}

# Our name for the host's own machine, used in messages ("host x86_64").
_HOST_NAME = {"arm64": "aarch64", "i686": "i386", "armv7l": "arm", "armv6l": "arm"}


@dataclass(frozen=True)
class ExecInfo:
    """The file's format and the kernel's predicted verdict.

    ``problem`` is None (would exec) or one of "wrong-arch", "missing-loader",
    "missing-interpreter", "unknown-format", "not-executable" (interpreter not executable).
    ``errno_text`` is the Go/syscall text of the predicted execve error.
    """

    kind: str  # "elf" | "script" | "other" | "empty" | "unreadable"
    arch: Optional[str] = None  # "x86_64", "aarch64", ... for ELF
    interpreter: Optional[str] = None  # PT_INTERP loader or #! interpreter
    problem: Optional[str] = None
    errno_text: Optional[str] = None
    detail: str = ""
    # Why this process cannot exec the file although the node can (a loader or #! interpreter
    # present under the host root but not here); the VERSION probe is then not run.
    blocked_here: Optional[str] = None


def _runs_on_host(arch: str, machine: str) -> Optional[bool]:
    """True/False when known; None for an unknown host (then we do not judge)."""
    runs = _HOST_RUNS.get(machine)
    return None if runs is None else arch in runs


def _binfmt_emulator(arch: str) -> Optional[str]:
    """A registered, enabled binfmt_misc handler (qemu-user) lets the kernel run foreign ELF."""
    name = {"i386": "qemu-i386", "arm": "qemu-arm"}.get(arch, f"qemu-{arch}")
    entry = os.path.join("/proc/sys/fs/binfmt_misc", name)
    try:
        with open(entry, encoding="utf-8", errors="replace") as handle:
            return name if handle.readline().strip() == "enabled" else None
    except OSError:
        return None


def _elf_arch(machine: str, bits: int, little: bool) -> str:
    """A friendly name for (e_machine, class, endianness): what ``uname -m`` would say."""
    names = {
        "EM_X86_64": "x86_64",
        "EM_386": "i386",
        "EM_AARCH64": "aarch64",
        "EM_ARM": "arm",
        "EM_S390": "s390x" if bits == 64 else "s390",
        "EM_RISCV": f"riscv{bits}",
        "EM_LOONGARCH": "loongarch64",
        "EM_PPC": "ppc",
    }
    if machine == "EM_PPC64":
        return "ppc64le" if little else "ppc64"
    if machine == "EM_MIPS":
        return ("mips64" if bits == 64 else "mips") + ("el" if little else "")
    if machine in names:
        return names[machine]
    return machine.replace("EM_", "").lower() if isinstance(machine, str) else f"e_machine {machine}"


def _check_path_exec(path: str, shown: Optional[str] = None) -> Tuple[Optional[str], str]:
    """(errno text, why) for execve of an interpreter/loader path, or (None, "") when fine.
    ``shown`` is the name the message uses (the node path when ``path`` is under a host root)."""
    name = shown or path
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file or directory", f"{name} does not exist"
    except NotADirectoryError:
        return "not a directory", f"a component of {name} is not a directory"
    except OSError as exc:
        return os.strerror(exc.errno or errno.EACCES).lower(), f"{name}: {exc.strerror}"
    if stat.S_ISDIR(info.st_mode):
        return "permission denied", f"{name} is a directory"
    if not info.st_mode & 0o111:
        return "permission denied", f"{name} has no execute bit"
    return None, ""


def _check_on_node(path: str, host_root: Optional[str]) -> Tuple[Optional[str], str]:
    """:func:`_check_path_exec` for a node path, as the runtime's execve on the node meets it."""
    if not is_host_root(host_root) or not path.startswith("/"):
        return _check_path_exec(path)
    local = resolve_under(host_root or "/", path)
    if local is None:
        return "too many levels of symbolic links", f"{path}: too many levels of symbolic links"
    return _check_path_exec(local, shown=path)


def _blocked_here(what: str, path: str, host_root: Optional[str]) -> Optional[str]:
    """Why this process cannot exec through ``path`` although the node can (None: it can)."""
    if not is_host_root(host_root):
        return None
    errno_text, why = _check_path_exec(path)
    if errno_text is None:
        return None
    return (
        f"its {what} {path} exists on the node (under {host_root}) but not for this process "
        f"({why}), so the kernel would refuse to run it here"
    )


# The header fields we read, for the files whose reading needs no pyelftools (see _plain_elf):
# e_type and e_machine values with the names pyelftools gives them (elftools/elf/enums.py@v0.33,
# from the System V gABI / linux include/uapi/linux/elf-em.h).
_E_TYPES = {2: "ET_EXEC", 3: "ET_DYN"}
_E_MACHINES = {
    3: "EM_386",
    8: "EM_MIPS",
    20: "EM_PPC",
    21: "EM_PPC64",
    22: "EM_S390",
    40: "EM_ARM",
    62: "EM_X86_64",
    183: "EM_AARCH64",
    243: "EM_RISCV",
    258: "EM_LOONGARCH",
}
PT_DYNAMIC, PT_INTERP = 2, 3
_INTERP_MAX = 4096  # PATH_MAX: a longer PT_INTERP string is left to pyelftools


def _plain_elf(path: str) -> Optional[Tuple[str, str, int, bool, Optional[str]]]:
    """(e_type, e_machine names, class bits, little endian, PT_INTERP path) of a well-formed ELF
    file read with ``struct`` alone, or None for anything unusual, which pyelftools then reads.

    Importing pyelftools costs tens of milliseconds, a large share of a first run's start-up.
    This reads exactly what ELFFile + iter_segments + get_interp_name read (the ELF header, then
    program headers in order up to PT_INTERP, then the NUL-terminated UTF-8 path at its
    p_offset) and only where their result is certain; every case in which pyelftools could
    raise or name a value differently (a short file, an unknown class, data encoding, type or
    machine, PN_XNUM, a small e_phentsize, a PT_DYNAMIC met first, whose segment object parses
    the section headers, an unterminated or non-UTF-8 path) returns None (elftools/elf/
    elffile.py, segments.py, dynamic.py@v0.33)."""
    import struct

    try:
        with open(path, "rb") as handle:
            # the headers and the interpreter path sit at the start (binaries are megabytes);
            # anything beyond this is left to pyelftools
            data = handle.read(1 << 16)
    except OSError:
        return None
    if len(data) < 64 or data[:4] != ELF_MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
        return None
    bits, little = (32 if data[4] == 1 else 64), data[5] == 1
    end = "<" if little else ">"
    if bits == 32:
        e_type, e_machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum = struct.unpack_from(
            end + "HHIIIIIHHH", data, 16
        )
        phdr, phdr_size = end + "IIIIIIII", 32
    else:
        e_type, e_machine, _, _, e_phoff, _, _, _, e_phentsize, e_phnum = struct.unpack_from(
            end + "HHIQQQIHHH", data, 16
        )
        phdr, phdr_size = end + "IIQQQQQQ", 56
    if e_type not in _E_TYPES or e_machine not in _E_MACHINES or e_phnum >= 0xFFFF:
        return None
    if e_phoff > 0 and e_phentsize < phdr_size:
        return None
    loader = None
    for index in range(e_phnum):
        at = e_phoff + index * e_phentsize
        if at + phdr_size > len(data):
            return None
        fields = struct.unpack_from(phdr, data, at)
        p_type, p_offset = fields[0], fields[1] if bits == 32 else fields[2]
        if p_type == PT_DYNAMIC:
            return None
        if p_type == PT_INTERP:
            nul = data.find(b"\0", p_offset, p_offset + _INTERP_MAX)
            if nul < 0:
                return None
            try:
                loader = data[p_offset:nul].decode("utf-8")
            except UnicodeDecodeError:
                return None
            break
    return _E_TYPES[e_type], _E_MACHINES[e_machine], bits, little, loader


def _elf_facts(path: str) -> Tuple[str, str, Optional[str]]:
    """(e_type, architecture, PT_INTERP path); raises whatever pyelftools raises on a bad file."""
    plain = _plain_elf(path)
    if plain is not None:
        e_type, e_machine, bits, little, loader = plain
        return e_type, _elf_arch(e_machine, bits, little), loader
    from elftools.elf.elffile import ELFFile

    with open(path, "rb") as handle:
        elf = ELFFile(handle)
        e_type = elf["e_type"]
        arch = _elf_arch(elf["e_machine"], elf.elfclass, elf.little_endian)
        loader = None
        for segment in elf.iter_segments():
            if segment["p_type"] == "PT_INTERP":
                loader = str(segment.get_interp_name())  # type: ignore[attr-defined]  # an InterpSegment
                break
    return e_type, arch, loader


def _inspect_elf(path: str, machine: str, host_root: Optional[str] = None) -> ExecInfo:
    try:
        e_type, arch, loader = _elf_facts(path)
    except Exception as exc:
        return ExecInfo(
            "elf",
            problem="unknown-format",
            errno_text="exec format error",
            detail=f"ELF headers cannot be parsed ({type(exc).__name__}: {exc}); truncated or corrupt download?",
        )
    if e_type not in ("ET_EXEC", "ET_DYN"):
        return ExecInfo(
            "elf",
            arch=arch,
            problem="unknown-format",
            errno_text="exec format error",
            detail=f"ELF {arch} of type {e_type}, not an executable",
        )
    host = _HOST_NAME.get(machine, machine)
    if _runs_on_host(arch, machine) is False:
        emulator = _binfmt_emulator(arch)
        if emulator is None:
            return ExecInfo(
                "elf",
                arch=arch,
                interpreter=loader,
                problem="wrong-arch",
                errno_text="exec format error",
                detail=f"ELF {arch}, host {host}",
            )
        return ExecInfo(
            "elf",
            arch=arch,
            interpreter=loader,
            detail=f"ELF {arch}, host {host}: runs only through binfmt_misc {emulator}",
        )
    if loader is not None:
        errno_text, why = _check_on_node(loader, host_root)
        if errno_text is not None:
            return ExecInfo(
                "elf",
                arch=arch,
                interpreter=loader,
                problem="missing-loader",
                errno_text=errno_text,
                detail=f"ELF {arch} dynamically linked; loader {why}",
            )
        return ExecInfo(
            "elf",
            arch=arch,
            interpreter=loader,
            detail=f"ELF {arch}, dynamically linked ({loader})",
            blocked_here=_blocked_here("loader", loader, host_root),
        )
    return ExecInfo("elf", arch=arch, detail=f"ELF {arch}, static")


def _shebang_interpreter(head: bytes) -> str:
    """binfmt_script: the text after ``#!`` up to newline, blanks stripped, cut at space/tab."""
    line = head[2:].split(b"\n", 1)[0]
    line = line.lstrip(b" \t")
    for index, byte in enumerate(line):
        if byte in b" \t":
            line = line[:index]
            break
    return line.decode("utf-8", "surrogateescape")


def _inspect_script(head: bytes, host_root: Optional[str] = None) -> ExecInfo:
    interpreter = _shebang_interpreter(head)
    if not interpreter:
        return ExecInfo(
            "script", problem="unknown-format", errno_text="exec format error", detail="#! line names no interpreter"
        )
    errno_text, why = _check_on_node(interpreter, host_root)
    crlf = interpreter.endswith("\r")
    if errno_text is None:
        return ExecInfo(
            "script",
            interpreter=interpreter,
            detail=f"script for {interpreter}",
            blocked_here=_blocked_here("#! interpreter", interpreter, host_root),
        )
    if crlf:
        why = (
            f"the #! line ends in a carriage return (Windows line endings), so the kernel "
            f"looks for {interpreter[:-1]!r} + CR, which does not exist"
        )
    problem = (
        "missing-interpreter" if errno_text in ("no such file or directory", "not a directory") else "not-executable"
    )
    return ExecInfo(
        "script", interpreter=interpreter, problem=problem, errno_text=errno_text, detail=f"script interpreter: {why}"
    )


# Resolution and the probe's pre-flight both ask about the same files in one run: remember the
# verdict per file identity (a replaced file has a new inode, size or mtime).
_SEEN: Dict[Tuple[str, int, int, int, int, str, str], ExecInfo] = {}

# Across runs, verdicts are kept next to the probe cache (same identity key), so a periodic run
# on an unchanged node neither imports nor runs the ELF parser. Enabled by the node stage unless
# --no-cache; a verdict that depends on another file (the loader or #! interpreter) is re-checked.
_DISK: Optional[DiskTable] = None


def enable_disk_cache() -> None:
    global _DISK
    from ..cache import DiskTable

    _DISK = DiskTable("exec.json", 1)
    _DISK.load()


def save_disk_cache() -> None:
    """Write the verdicts atomically when something new was learnt (errors are ignored)."""
    if _DISK is not None:
        _DISK.save()


def _from_disk(key: str, host_root: Optional[str]) -> Optional[ExecInfo]:
    entry = _DISK.get(key) if _DISK is not None else None
    if not isinstance(entry, dict):
        return None
    try:
        info = ExecInfo(**entry)
    except TypeError:
        return None
    if info.interpreter is not None and (
        info.problem is not None or is_host_root(host_root) or not os.path.exists(info.interpreter)
    ):
        return None  # depends on another file (here and on the node) that may have changed: look again
    return info


def inspect(path: str, machine: Optional[str] = None, host_root: Optional[str] = None) -> ExecInfo:
    """Predict execve(2) of ``path`` (a regular file) by its content. Never executes it.

    ``machine`` is ``uname -m`` of the node (default: this host). ``host_root``: the node's
    ``/`` as this process sees it; loader and #! paths are then looked up under it.
    """
    machine = machine or os.uname().machine
    root = os.path.abspath(host_root) if host_root and is_host_root(host_root) else ""
    try:
        info = os.stat(path)
    except OSError:
        return _inspect(path, machine, root or None)
    key = (path, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, machine, root)
    if key not in _SEEN:
        disk_key = json.dumps(list(key) if root else list(key[:-1]))
        found = _from_disk(disk_key, root or None)
        if found is None:
            found = _inspect(path, machine, root or None)
            if _DISK is not None:
                _DISK.put(disk_key, dataclasses.asdict(found))
        _SEEN[key] = found
    return _SEEN[key]


def _inspect(path: str, machine: str, host_root: Optional[str] = None) -> ExecInfo:
    try:
        with open(path, "rb") as handle:
            head = handle.read(BINPRM_BUF_SIZE)
    except OSError as exc:
        return ExecInfo("unreadable", detail=f"cannot read to inspect: {exc.strerror}")
    if head.startswith(ELF_MAGIC):
        return _inspect_elf(path, machine, host_root)
    if head.startswith(b"#!"):
        return _inspect_script(head, host_root)
    if not head:
        return ExecInfo(
            "empty",
            problem="unknown-format",
            errno_text="exec format error",
            detail="empty file (interrupted download or copy?)",
        )
    return ExecInfo(
        "other",
        problem="unknown-format",
        errno_text="exec format error",
        detail="neither ELF nor a #! script (Go's os/exec does not fall back to /bin/sh)",
    )
