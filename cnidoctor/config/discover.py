"""Stage 1: paths -> candidate config files, in the order the runtimes read them.

For a directory this is libcni ``ConfFiles(dir, [".conf", ".conflist", ".json"])`` followed by
``sort.Strings`` as go-cni (containerd), ocicni (CRI-O) and the kubelet call it
(cni@v1.3.0 libcni/conf.go:298-324; go-cni opts.go ``loadFromConfDir``; containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf)-4.4):

* entries come from ``os.ReadDir`` (sorted by name = Go string order = byte order of the name);
* an entry whose *directory entry* is a directory is skipped; a symlink to a directory is kept
  and later fails ``error reading <f>: read <f>: is a directory``;
* the name is kept when ``filepath.Ext(name)`` (text from the last dot, case-sensitive) is one of
  the three extensions, so hidden files such as ``.10-x.conflist`` count;
* a missing directory is not an error for libcni: the runtime reports "no network config".

Files named explicitly on the command line are analysed whatever their extension (kind by
extension; anything that is not ``.conflist`` is read as a single-plugin ``.conf``, as go-cni does).

Reading is defensive: nothing here may block (a FIFO is never opened), follow a loop forever,
read an unbounded file or raise. Problems become findings (CNI002-CNI005, CNI012, CNI016) and the candidate
carries ``problem``/``detail`` so later stages know the runtime could not read it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .. import gojson
from ..frozen import dataclass
from ..fsperms import non_root_writers, non_root_writers_of
from ..model import Candidate, FileKind, Finding, Severity
from ..rules import directory as rules

EXTENSIONS: Tuple[str, ...] = (".conf", ".conflist", ".json")

# A CNI config is a few hundred bytes; the largest real one we know (a Windows conflist with
# policies) is ~3 KiB. Anything above 1 MiB is not a hand-written config (a log or a binary
# renamed by mistake); we refuse to read it rather than buffer it (CNI005).
MAX_CONFIG_BYTES = 1024 * 1024

# Names that look like CNI configs kept aside but whose extension the runtimes ignore (CNI012).
_IGNORED_SUFFIXES: Tuple[str, ...] = (
    ".yaml",
    ".yml",
    ".cilium_bak",
    ".bak",
    ".orig",
    ".old",
    ".save",
    ".disabled",
    ".backup",
    ".dpkg-old",
    ".dpkg-dist",
    ".dpkg-new",
    ".rpmsave",
    ".rpmnew",
    ".rpmorig",
    ".tmp",
    ".swp",
    "~",
)

# Go's os.PathError texts for the errno values we can meet (syscall.Errno.Error() on Linux).
_GO_ERRNO_TEXT: Mapping[int, str] = {
    errno.ENOENT: "no such file or directory",
    errno.EACCES: "permission denied",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "not a directory",
    errno.ENXIO: "no such device or address",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "input/output error",
    errno.EPERM: "operation not permitted",
}


@dataclass(frozen=True)
class Discovered:
    """What discovery found: candidates in runtime order, per-entry findings, and the config
    directories that exist and could be listed (input to the directory-level rules).

    ``subdirectories`` maps each listed directory to the names of its sub-directories (libcni
    1.3.0 appends ``<dir>/<network name>/*.conf`` to a list: CNI013).
    """

    candidates: Tuple[Candidate, ...]
    findings: Tuple[Finding, ...]
    directories: Tuple[str, ...]
    subdirectories: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)


def go_ext(name: str) -> str:
    """Go ``filepath.Ext``: the suffix from the final dot of the last element, "" if none.

    Unlike ``os.path.splitext`` a leading dot counts: ``Ext(".conf") == ".conf"``.
    """
    base = name.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:] if dot >= 0 else ""


def kind_of(name: str) -> FileKind:
    """go-cni/ocicni: ``.conflist`` is parsed as a list, everything else as a single plugin."""
    return "conflist" if name.endswith(".conflist") else "conf"


def go_errno_text(exc: OSError) -> str:
    """The text Go prints for this errno (Python's strerror differs in case and wording)."""
    if exc.errno is not None and exc.errno in _GO_ERRNO_TEXT:
        return _GO_ERRNO_TEXT[exc.errno]
    return (exc.strerror or str(exc)).lower()


def _byte_key(name: str) -> bytes:
    """Go compares strings byte-wise; names that are not UTF-8 come back surrogate-escaped."""
    return os.fsencode(name)


def looks_ignored(name: str) -> bool:
    """A name the runtimes skip but that looks like a CNI config someone kept aside."""
    if go_ext(name) in EXTENSIONS:
        return False
    lowered = name.lower()
    has_config_part = any(
        ext + "." in lowered or ext + "_" in lowered or lowered.endswith(ext + "~") for ext in EXTENSIONS
    )
    if has_config_part:
        return True
    return lowered.endswith((".yaml", ".yml", ".cilium_bak")) and _mentions_cni(lowered)


def _mentions_cni(lowered: str) -> bool:
    return any(word in lowered for word in ("cni", "conflist", "calico", "cilium", "flannel", "multus", "net"))


@dataclass(frozen=True)
class _ReadOutcome:
    """A candidate file's bytes, or why they could not be read."""

    data: Optional[bytes] = None
    problem: Optional[str] = None
    detail: str = ""
    finding: Optional[Finding] = None
    info: Optional[os.stat_result] = None  # the fstat of the file read (its owner and mode)


def discover(paths: Sequence[str]) -> Discovered:
    """Candidates for every path: directories are listed like libcni, files are taken as named."""
    candidates: List[Candidate] = []
    findings: List[Finding] = []
    directories: List[str] = []
    subdirs: Dict[str, Tuple[str, ...]] = {}
    seen: set = set()
    for path in paths:
        kind = _path_kind(path)
        if kind == "dir":
            listed = _list_directory(path, findings)
            if listed is None:
                continue
            entries, sub = listed
            directories.append(path)
            subdirs[path] = sub
            _check_writers(path, True, findings)
            for full, _name in entries:
                if full not in seen:
                    seen.add(full)
                    candidate, info = _candidate(full, path, findings)
                    candidates.append(candidate)
                    _check_writers(full, False, findings, info)
        elif kind == "missing" and go_ext(path) not in EXTENSIONS:
            findings.append(_missing_dir(path))
        elif path not in seen:
            seen.add(path)
            candidates.append(_candidate(path, None, findings)[0])
    return Discovered(tuple(candidates), tuple(findings), tuple(directories), subdirs)


def _check_writers(path: str, is_dir: bool, findings: List[Finding], info: Optional[os.stat_result] = None) -> None:
    """CNI016 for a listed config dir or a config file in it that a non-root user can change
    (the runtime reads them as root). Files named one by one are a repository's, not the node's.
    ``info``: the file's stat when it was just read (else it is stat'ed here)."""
    why = non_root_writers(path) if info is None else non_root_writers_of(info)
    if why is not None:
        findings.append(rules.writable_config(path, is_dir, why))


def _path_kind(path: str) -> str:
    """'dir' (following symlinks, as the runtime's ReadDir does), 'missing' or 'file'."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            try:
                os.lstat(path)
            except OSError:
                return "missing"
        return "file"
    return "dir" if stat.S_ISDIR(st.st_mode) else "file"


def _missing_dir(path: str) -> Finding:
    # libcni ConfFiles returns no files and no error for a missing dir, so the runtimes print
    # their "no config" texts (cni@v1.3.0 libcni/conf.go:302-306; go-cni opts.go, containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1).
    return rules.CONFIG_DIR_MISSING.at(
        path,
        "",
        f"{path} does not exist: containerd, CRI-O and the kubelet find no network config here "
        "(libcni treats a missing directory as an empty one) and the node stays NotReady",
        predicts=rules.no_config_text(path),
    )


def _list_directory(path: str, findings: List[Finding]) -> Optional[Tuple[List[Tuple[str, str]], Tuple[str, ...]]]:
    """(config entries in runtime order, sub-directory names), or None if it cannot be listed."""
    try:
        with os.scandir(path) as it:
            entries = sorted(((e.name, _is_real_dir(e)) for e in it), key=lambda pair: _byte_key(pair[0]))
    except OSError as exc:
        findings.append(_unlistable_dir(path, exc))
        return None
    chosen: List[Tuple[str, str]] = []
    sub: List[str] = []
    for name, is_dir in entries:
        full = os.path.normpath(os.path.join(path, name))  # Go filepath.Join cleans the path
        if is_dir:
            sub.append(name)
        elif go_ext(name) in EXTENSIONS:
            chosen.append((full, name))
        elif looks_ignored(name):
            findings.append(_ignored(full, name))
    return chosen, tuple(sub)


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    """Go ``DirEntry.IsDir`` looks at the entry itself, never through a symlink."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _unlistable_dir(path: str, exc: OSError) -> Finding:
    text = f"open {path}: {go_errno_text(exc)}"
    if denied_to_this_user(exc):
        return _not_readable_as_user(path, "config directory")
    # go-cni opts.go loadFromConfDir: ConfFiles error -> "failed to read config file: %v: %w".
    return rules.UNREADABLE_ENTRY.at(
        path,
        "",
        f"cannot list config directory {path} ({text}); the runtime cannot either and loads no network",
        predicts=f"failed to read config file: {text}: failed to read config file",
    )


def _ignored(full: str, name: str) -> Finding:
    return rules.IGNORED_EXTENSION.at(
        full,
        "",
        f"{name!r} looks like a CNI config but its extension {go_ext(name) or '(none)'!r} is not "
        ".conf/.conflist/.json: containerd, CRI-O and the kubelet never read it",
    )


def _candidate(
    path: str, directory: Optional[str], findings: List[Finding]
) -> Tuple[Candidate, Optional[os.stat_result]]:
    """The candidate for ``path``, and the stat of the file read (None when it was not read)."""
    outcome = read_config(path)
    if outcome.finding is not None:
        findings.append(outcome.finding)
    return Candidate(
        path=path,
        kind=kind_of(path),
        data=outcome.data,
        problem=outcome.problem,
        detail=outcome.detail,
        directory=directory,
    ), outcome.info


def read_config(path: str, limit: int = MAX_CONFIG_BYTES) -> _ReadOutcome:
    """Read ``path`` as the runtime would (following symlinks), without ever blocking.

    stat (and lstat when stat fails) first: dangling links, loops, directories and special
    files are reported and never opened; then open with O_NONBLOCK and re-check with fstat (the entry may have been
    swapped between stat and open) and read at most ``limit + 1`` bytes.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        # lstat only now (one system call less per readable file): when stat succeeds, so
        # would lstat of the same path, as every component before the last one resolved
        try:
            os.lstat(path)
        except OSError as lexc:
            return _unreadable(path, "unreadable", lexc, "open")
        problem = (
            "dangling-symlink"
            if exc.errno == errno.ENOENT
            else ("symlink-loop" if exc.errno == errno.ELOOP else "unreadable")
        )
        return _unreadable(path, problem, exc, "open")
    if stat.S_ISDIR(st.st_mode):
        # os.ReadFile opens a directory fine and fails on read (EISDIR).
        return _unreadable(path, "directory", OSError(errno.EISDIR, "is a directory"), "read")
    if not stat.S_ISREG(st.st_mode):
        return _special(path, st.st_mode)
    if st.st_size > limit:
        return _too_large_prefix(path, st.st_size, limit)
    return _read_regular(path, limit)


def _read_regular(path: str, limit: int) -> _ReadOutcome:
    outcome = _read_at_most(path, limit + 1)
    if outcome.data is not None and len(outcome.data) > limit:
        return _too_large(path, len(outcome.data), limit)
    return outcome


def _read_at_most(path: str, count: int) -> _ReadOutcome:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        return _unreadable(path, "unreadable", exc, "open")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _special(path, st.st_mode)
        chunks: List[bytes] = []
        remaining = count
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        return _unreadable(path, "unreadable", exc, "read")
    finally:
        os.close(fd)
    return _ReadOutcome(data=b"".join(chunks), info=st)


# How much of a file above the limit is read to find where Go's JSON scanner stops on it.
PREFIX_BYTES = 64 * 1024


def _too_large_prefix(path: str, size: int, limit: int) -> _ReadOutcome:
    """A file above the limit: libcni still reads it whole (os.ReadFile in ConfFromFile /
    ConfListFromFile, containernetworking/cni:libcni/conf.go@v1.3.0) and Go's scanner
    (encoding/json checkValid) stops at the first bad byte. When that byte lies within the
    first PREFIX_BYTES, the prefix fails exactly as the whole file does, so the prefix is
    handed on as the file's content and the load error is predicted from it; otherwise the
    file is not analysed."""
    outcome = _read_at_most(path, PREFIX_BYTES)
    if outcome.data is None or not _fails_within(outcome.data):
        return _too_large(path, size, limit)
    finding = rules.FILE_TOO_LARGE.at(
        path,
        "",
        f"{path} is {size} bytes, above cnidoctor's {limit}-byte limit for a CNI config; its first "
        f"{len(outcome.data)} bytes already fail Go's JSON scanner, and the runtime, which reads the "
        "file whole, fails on the same byte (see the other finding on this file)",
    )
    return _ReadOutcome(data=outcome.data, finding=finding)


def _fails_within(prefix: bytes) -> bool:
    """True when Go's scanner rejects ``prefix`` before its end (not for running out of input)."""
    try:
        gojson.decode(prefix)
    except gojson.GoSyntaxError as err:
        return err.offset < len(prefix)
    return False


# ``Candidate.problem`` for an entry only cnidoctor's own (non-root) user cannot read: the
# runtime reads it as root, so nothing about its load can be predicted.
NOT_READABLE_AS_USER = "not-readable-as-user"


def denied_to_this_user(exc: OSError) -> bool:
    """EACCES while not root: a permission the runtime (root) does not hit. CIS Kubernetes
    Benchmark 1.1.9/1.1.10 (CNI files 600, owned by root) makes this the normal case on a
    hardened node for an unprivileged check."""
    return exc.errno == errno.EACCES and os.geteuid() != 0


def _not_readable_as_user(path: str, what: str) -> Finding:
    return rules.UNREADABLE_ENTRY.at(
        path,
        "",
        f"cannot read {what} {path} as uid {os.geteuid()} (permission denied); run as root to check it: "
        "the runtime reads it as root, so nothing is predicted from it",
        severity=Severity.INFO,
    )


def _unreadable(path: str, problem: str, exc: OSError, op: str) -> _ReadOutcome:
    detail = f"{op} {path}: {go_errno_text(exc)}"
    if denied_to_this_user(exc):
        return _ReadOutcome(
            problem=NOT_READABLE_AS_USER, detail=detail, finding=_not_readable_as_user(path, "config file")
        )
    why = {
        "dangling-symlink": "is a symlink whose target does not exist",
        "symlink-loop": "is a symlink loop",
        "directory": "is (a symlink to) a directory with a config extension",
    }.get(problem, f"cannot be read ({go_errno_text(exc)})")
    finding = rules.UNREADABLE_ENTRY.at(
        path,
        "",
        f"{path} {why}: libcni fails with 'error reading {path}: {detail}'; containerd then loads "
        "no network if this file comes first, CRI-O and the kubelet skip it",
        predicts=rules.load_failure_text(path, f"error reading {path}: {detail}"),
    )
    return _ReadOutcome(problem=problem, detail=detail, finding=finding)


def _special(path: str, mode: int) -> _ReadOutcome:
    if stat.S_ISFIFO(mode):
        what, effect, predicts = (
            "a FIFO (named pipe)",
            ("the runtime's os.ReadFile blocks until a writer appears, so containerd's CNI load hangs"),
            None,
        )
    elif stat.S_ISSOCK(mode):
        detail = f"open {path}: no such device or address"
        what, effect, predicts = (
            "a socket",
            f"libcni fails with 'error reading {path}: {detail}'",
            (rules.load_failure_text(path, f"error reading {path}: {detail}")),
        )
    else:
        what, effect, predicts = "a device node", "the runtime would read the device itself", None
    finding = rules.NOT_REGULAR_FILE.at(
        path,
        "",
        f"{path} is {what}, not a regular file (cnidoctor did not open it): {effect}",
        predicts=predicts,
    )
    return _ReadOutcome(problem="not-regular", detail=what, finding=finding)


def _too_large(path: str, size: int, limit: int) -> _ReadOutcome:
    finding = rules.FILE_TOO_LARGE.at(
        path,
        "",
        f"{path} is {size} bytes, above cnidoctor's {limit}-byte limit for a CNI config; it was not "
        "analysed (the runtime reads it whole; it is probably not a network config)",
    )
    return _ReadOutcome(problem="too-large", detail=f"{size} bytes", finding=finding)
