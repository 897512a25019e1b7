"""Whole-result cache: a periodic ``cnidoctor check`` on an unchanged node replays its last output.

A ``check`` run's output (the exact bytes printed and the exit code) is a function of:

* the request: cnidoctor's version, the Python running it, the argv, the working directory
  (settings are found upwards from it and relative paths are shown relative to it), the
  effective uid, and the environment that changes rendering (``ENV_KEYS``: NO_COLOR,
  FORCE_COLOR, GITHUB_ACTIONS, COLUMNS ...), whether stdout is a terminal and its width;
* every path the run looked at: while the slow path runs, :class:`Recorder` notes each path
  passed to ``stat``/``lstat``/``access``/``readlink``/``listdir``/``scandir``, each file opened
  for reading and each program started (a Python audit hook, PEP 578), plus the reported config
  files and the package's own files. Each is keyed by its ``lstat`` identity (device, inode,
  size, mtime_ns, ctime_ns, mode, uid, gid; for a symlink also its target's) or the errno that
  stat'ing it gave, so a touched, renamed, replaced or chmod'ed file, a new file in a listed
  directory (the directory's mtime) and a file appearing where the run found none all miss.
  A path only ``lstat``'ed or ``readlink``'ed (os.path.realpath walking /, /usr, /tmp ...) is
  keyed by its shape (inode, type, mode, owner, link target), not by times that change whenever
  a sibling comes or goes. The probe, ELF and build-info caches are inputs like any file: the
  report says which answers came from them, so a first run (which writes them) is not stored
  and the second is;
* state no file identity captures, from ``/proc``, never keyed by identity: the running
  processes (read by the runtime detection of a node check) by a fingerprint of the runtime and
  kubelet processes (pid, ``exe``, argv), re-read on every warm run, so a runtime restarted with
  other flags misses; ``mountinfo`` by the mounts that hold a recorded path and their noexec
  flag (what plugins.resolve decides by; pods' mounts come and go without a miss); any other
  /proc file by its content. A run that read /sys or an interface's address (a socket ioctl) is
  not stored. The clock: the only read a report depends on is the service-account token check
  (expired or not); an entry is valid until the earliest future expiry of a token in a file the
  run read, and a run that read the clock anywhere else is not stored. A run that started
  processes and lasted as long as ``--probe-timeout`` may contain a child killed by its deadline
  (a loaded node, not a property of the binaries) and is not stored, like the probe cache's
  timeouts.

The look-up imports nothing beyond ``os``, ``sys``, ``marshal`` and ``zlib``: it runs before
click, the reporters or the pipeline are imported. One file per request (``result-<hash>``) in
the probe cache's directory, written atomically, at most ``MAX_FILES`` of them. A file that is
truncated, corrupt (CRC-32 checked before unmarshalling), from another format or Python, not
owned by this user or writable by others is ignored; one that cannot be written is skipped.
"""

from __future__ import annotations

import marshal
import os
import sys
import time

# typing costs milliseconds at start-up, and this module is the start-up: annotations only.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

    Identity = Tuple[int, ...]

FORMAT = 5
MAGIC = b"cnidoctor-result\n"
PREFIX = "result-"
MAX_FILES = 64  # bounded: a node runs a handful of distinct command lines
# Environment that changes what a check prints (cli._use_color, cli.default_format,
# shutil.get_terminal_size, the cache location, the output encoding).
ENV_KEYS = (
    "NO_COLOR",
    "FORCE_COLOR",
    "GITHUB_ACTIONS",
    "COLUMNS",
    "LINES",
    "CNIDOCTOR_CACHE_DIR",
    "XDG_CACHE_HOME",
    "HOME",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "LC_ALL",
    "LC_CTYPE",
    "LANG",
)
# locate.classify's program names: the processes whose command line decides a node's runtime.
PROCESS_NAMES = frozenset(("containerd", "crio", "k3s", "rke2", "cri-dockerd", "kubelet"))
# The real functions: the recorder wraps os.stat & co. while the slow path runs.
_LSTAT = os.lstat
_STAT = os.stat
_LISTDIR = os.listdir
_READLINK = os.readlink


def find(argv: Sequence[str]) -> Optional[Tuple[bytes, int]]:
    """The output and exit code that serve ``argv`` without the CLI, or None to run the CLI."""
    if list(argv) == ["--version"]:
        # Byte-identical to click.version_option(prog_name="cnidoctor") in cli.py.
        from . import __version__

        return f"cnidoctor, version {__version__}\n".encode(), 0
    request = request_key(argv)
    if request is None:
        return None
    entry = _load(request)
    if entry is None or not _still_valid(entry):
        return None
    return entry[5], int(entry[6])


def cacheable(argv: Sequence[str]) -> bool:
    """Only ``check`` runs that neither opt out (``--no-cache``) nor ask for help."""
    args = list(argv)
    if not args or args[0] != "check":
        return False
    return not any(a in ("--no-cache", "--help", "-h") for a in args[1:])


def request_key(argv: Sequence[str]) -> Optional[Tuple[Any, ...]]:
    """Everything but the file system that a check's output depends on; None: not cacheable."""
    if not cacheable(argv):
        return None
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8":  # click re-encodes other streams; replay writes UTF-8 bytes
        return None
    try:
        cwd = os.getcwd()
        tty = os.isatty(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    from . import __version__

    env = tuple(os.environ.get(k) for k in ENV_KEYS)
    return (FORMAT, __version__, sys.version, sys.executable, tuple(argv), cwd, os.geteuid(), env, tty, _width())


def _width() -> Optional[Tuple[int, int]]:
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr] # as shutil does
    except (AttributeError, ValueError, OSError):
        return None
    return (size.columns, size.lines)


def _file_name(request: Tuple[Any, ...]) -> str:
    import zlib

    data = repr(request).encode("utf-8", "surrogatepass")  # marshal's bytes vary with interning
    return f"{PREFIX}{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _cache_dir() -> str:
    from .cache import cache_dir

    return cache_dir()


def _load(request: Tuple[Any, ...]) -> Optional[Tuple[Any, ...]]:
    """The stored entry for ``request``, or None when missing, foreign or damaged."""
    import zlib

    path = os.path.join(_cache_dir(), _file_name(request))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or info.st_mode & 0o022:
            return None  # another user's (or a group/world-writable) file is never trusted
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    head = len(MAGIC) + 8
    if not data.startswith(MAGIC) or data[len(MAGIC) : head] != b"%08x" % zlib.crc32(data[head:]):
        return None
    try:
        entry = marshal.loads(data[head:])
    except (ValueError, EOFError, TypeError):
        return None
    if not (isinstance(entry, tuple) and len(entry) == 7 and entry[0] == request):
        return None
    if not (isinstance(entry[5], bytes) and isinstance(entry[6], int)):
        return None
    return entry


def _still_valid(entry: Tuple[Any, ...]) -> bool:
    """Every recorded path has the identity it had, and the runtime processes are the same."""
    if entry[4] is not None and time.time() >= entry[4]:
        return False  # a token the report called valid has expired since
    try:
        for path, kind, identity in entry[1]:
            if KEYS[kind](path) != identity:
                return False
        if not all(process_fingerprint(root) == fingerprint for root, fingerprint in entry[2]):
            return False
        paths = [path for path, _, _ in entry[1]]
        return all(mounts_key(table, paths) == key for table, key in entry[3])
    except (TypeError, ValueError):
        return False


def identity_of(path: str) -> Identity:
    """The ``lstat`` identity of ``path`` (and its target's when a symlink), or (errno,)."""
    try:
        info = _LSTAT(path)
    except OSError as exc:
        return (exc.errno or -1,)
    except ValueError:  # an embedded NUL
        return (-2,)
    own = (
        info.st_dev,
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_mode,
        info.st_uid,
        info.st_gid,
    )
    if (info.st_mode & 0o170000) != 0o120000:
        return own
    return own + identity_of_target(path)


def shape_of(path: str) -> Identity:
    """What resolving a path through ``path`` depends on: which inode it is, its type and
    permissions, and a symlink's target; not its size or times. os.path.realpath lstats every
    ancestor of a binary (/, /usr, /tmp ...), whose mtimes change whenever a sibling comes or
    goes; what a run reads below them is recorded with its full identity."""
    try:
        info = _LSTAT(path)
    except OSError as exc:
        return (exc.errno or -1,)
    except ValueError:
        return (-2,)
    shape: Identity = (info.st_dev, info.st_ino, info.st_mode, info.st_uid, info.st_gid)
    if (info.st_mode & 0o170000) == 0o120000:
        try:
            return shape + (_READLINK(path),)  # type: ignore[operator]
        except OSError as exc:
            return shape + (exc.errno or -1,)
    return shape


def content_of(path: str) -> Identity:
    """A /proc file (mountinfo: which mounts are noexec) by its bytes: length and CRC-32."""
    import zlib

    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 22)
    except OSError as exc:
        return (exc.errno or -1,)
    return (len(data), zlib.crc32(data))


def mounts_key(table: str, paths: Sequence[str]) -> Tuple[Tuple[str, bool], ...]:
    """The mounts of ``table`` (a mountinfo) that hold a recorded path, with their noexec flag:
    what plugins.resolve.noexec_mount decides by. Other mounts (a pod's, coming and going) are
    left out, so pod churn on a node does not miss."""
    try:
        with open(table, "rb") as handle:
            text = handle.read(1 << 24).decode("utf-8", "replace")
    except OSError as exc:
        return ((str(exc.errno), False),)
    above = set()
    for path in paths:
        while path not in above and len(path) > 1:
            above.add(path)
            path = path.rsplit("/", 1)[0] or "/"
    above.add("/")
    out = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) >= 6:
            point = _unescape_octal(fields[4])
            if point in above:
                out.append((point, "noexec" in fields[5].split(",")))
    return tuple(out)


def _unescape_octal(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo (proc(5))."""
    if "\\" not in field:
        return field
    parts = field.split("\\")
    out = [parts[0]]
    for part in parts[1:]:
        code = part[:3]
        out.append(chr(int(code, 8)) + part[3:] if len(code) == 3 and code.isdigit() else "\\" + part)
    return "".join(out)


def identity_of_target(path: str) -> Identity:
    try:
        info = _STAT(path)
    except (OSError, ValueError) as exc:
        return (getattr(exc, "errno", None) or -1,)
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode)


IDENTITY, SHAPE, CONTENT = 1, 0, 2  # how a recorded path is compared; a stronger kind wins
KEYS = {IDENTITY: identity_of, SHAPE: shape_of, CONTENT: content_of}


def _exists(path: str) -> bool:
    try:
        _STAT(path)
    except (OSError, ValueError):
        return False
    return True


def process_fingerprint(root: str) -> Tuple[Tuple[int, str, Tuple[str, ...]], ...]:
    """(pid, exe, argv) of every process under ``root``/proc that locate.classify would name."""
    proc = f"{root}/proc"
    found = []
    try:
        entries = _LISTDIR(proc)
    except OSError:
        return ()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/cmdline", "rb") as handle:
                raw = handle.read(1 << 16)
        except OSError:
            continue
        if not raw:
            continue
        argv = tuple(p.decode("utf-8", "replace") for p in raw.rstrip(b"\0").split(b"\0"))
        try:
            exe = _READLINK(f"{proc}/{entry}/exe")
        except OSError:
            exe = ""
        if _named(argv[0] if argv else "") or _named(exe):
            found.append((int(entry), exe, argv))
    return tuple(sorted(found))


def _named(path: str) -> bool:
    words = path.rsplit("/", 1)[-1].split()
    return bool(words) and words[0] in PROCESS_NAMES


class Recorder:
    """Notes every path the slow path looks at (installed before the CLI is imported)."""

    def __init__(self, argv: Sequence[str], request: Tuple[Any, ...]) -> None:
        self.argv = list(argv)
        self.request = request
        self.cwd = request[5]
        self.started = time.monotonic()
        self.seen: Dict[str, Tuple[int, Identity]] = {}  # path -> (kind: IDENTITY/SHAPE/CONTENT, key)
        self.proc_roots: List[str] = []
        self.mount_tables: List[str] = []
        self.tainted = ""  # why the result cannot be stored
        self.children = 0
        self.opened: List[str] = []
        self.clock_for_tokens = False
        self.clock_other = False
        self.active = True
        self.real: Dict[str, Any] = {}
        # The probe, ELF and build-info caches are inputs like any file (the report says which
        # answers came from them); only this cache's own files are not.
        self.skip = (os.path.join(_cache_dir(), PREFIX), os.path.join(_cache_dir(), "." + PREFIX), "/dev/")

    def note(self, path: Any, kind: int = IDENTITY) -> None:
        try:
            text = os.fsdecode(os.fspath(path))
        except TypeError:
            return  # a file descriptor
        if not text:
            return
        if not text.startswith("/"):
            text = os.path.join(self.cwd, text)
        known = self.seen.get(text)
        if (known is not None and known[0] >= kind) or "/__pycache__/" in text or text.startswith(self.skip):
            return
        if self._volatile(text):
            return
        self.seen[text] = (kind, KEYS[kind](text))

    def _volatile(self, path: str) -> bool:
        """/proc is never keyed by identity (its mtimes say nothing): a process's files are covered
        by the process fingerprint, other files (/proc/self/mountinfo ...) by their content.
        /sys is not cacheable at all."""
        if path == "/sys" or path.startswith("/sys/"):
            self.tainted = "the run read /sys"
            return True
        at = path.find("/proc/") if not path.endswith("/proc") else len(path) - 5
        if at < 0:
            return False
        root = path[:at]
        if not _exists(f"{root}/proc/self/stat"):
            return False  # a directory that is merely called proc
        first = path[at + 6 :].split("/", 1)[0]
        if path.endswith("/mountinfo"):
            if path not in self.mount_tables:
                self.mount_tables.append(path)
        elif path.endswith("/proc") or first.isdigit():
            if root not in self.proc_roots:
                self.proc_roots.append(root)
        elif path not in self.seen:
            self.seen[path] = (CONTENT, ())  # content_of's own open() comes back here
            self.seen[path] = (CONTENT, content_of(path))
        return True

    def audit(self, event: str, args: Tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = args
            if _reads_only(mode, flags):
                self.note(path)
                if isinstance(path, str):
                    self.opened.append(path)
        elif event in ("os.listdir", "os.scandir"):
            self.note(args[0] if args[0] is not None else ".")
        elif event == "socket.__new__":
            # crosscheck.nodestate asks the kernel for an interface's address (SIOCGIFADDR):
            # state no file identity captures
            self.tainted = "the run read interface addresses"
        elif event == "subprocess.Popen":
            self.children += 1
            self.note(args[0] if args[0] is not None else (args[1][0] if args[1] else ""))

    def install(self) -> None:
        sys.addaudithook(self.audit)
        self.real = {name: getattr(os, name) for name in ("stat", "access", "lstat", "readlink")}
        for name, kind in (("stat", IDENTITY), ("access", IDENTITY), ("lstat", SHAPE), ("readlink", SHAPE)):
            setattr(os, name, self._wrap(getattr(os, name), kind))
        self.real_time = time.time
        time.time = self._clock
        # The per-file workers (engine._in_workers forks them) would record into their own copy,
        # which is lost; the parent notes the files they read (discovery, report.files).
        os.register_at_fork(after_in_child=self.stop)

    def stop(self) -> None:
        self.active = False
        for name, real in self.real.items():
            setattr(os, name, real)
        time.time = self.real_time

    def _clock(self) -> float:
        """time.time while recording. The one clock read a report depends on is the token check
        (crosscheck.nodestate.check_token: expired or not); any other makes the run unstorable."""
        caller = sys._getframe(1).f_code.co_name
        if caller == "check_token":
            self.clock_for_tokens = True
        elif caller != "<module>":  # an import's own start time (logging._startTime)
            self.clock_other = True
        return self.real_time()

    def _valid_until(self) -> Optional[float]:
        """The earliest expiry, still to come, of a token in a file the run read: a hit after
        it would call an expired token valid. None when no token check read the clock."""
        if not self.clock_for_tokens:
            return None
        from .crosscheck.nodestate import token_expiry

        now = self.real_time()
        ahead = []
        for path in dict.fromkeys(self.opened):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    exp = token_expiry(handle.read(1 << 20))
            except OSError:
                continue
            if exp is not None and exp > now:
                ahead.append(float(exp))
        return min(ahead) if ahead else None

    def _wrap(self, real: Any, kind: int) -> Any:
        def recorded(path: Any, *args: Any, **kwargs: Any) -> Any:
            self.note(path, kind)
            return real(path, *args, **kwargs)

        return recorded

    def finish(self, output: bytes, code: int, files: Iterable[str], timeout: float) -> None:
        """Store the finished output unless the run cannot be replayed honestly."""
        if self.tainted:
            return _not_stored(self.tainted)
        if self.clock_other:
            return _not_stored("the run read the clock")
        if self.children and time.monotonic() - self.started >= timeout:
            # a child may have been killed by its deadline: a loaded node, not the binaries
            return _not_stored("the run started processes and lasted as long as --probe-timeout")
        for path in files:
            self.note(path)
        for path in package_files():
            self.note(path)
        records = []
        for path, (kind, first) in self.seen.items():
            if KEYS[kind](path) != first:
                # changed while the run read it (the probe cache on a first run): the output
                # may be of the old state; the next run stores its own
                return _not_stored(f"{path} changed during the run")
            records.append((path, kind, first))
        procs = tuple((root, process_fingerprint(root)) for root in self.proc_roots)
        paths = [path for path, _, _ in records]
        mounts = tuple((table, mounts_key(table, paths)) for table in self.mount_tables)
        entry = (self.request, tuple(records), procs, mounts, self._valid_until(), output, code)
        _store(self.request, entry)


def _not_stored(reason: str) -> None:
    if os.environ.get("CNIDOCTOR_DEBUG"):
        sys.stderr.write(f"cnidoctor: result not cached: {reason}\n")


def _reads_only(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return not any(c in mode for c in "wax+")
    return isinstance(flags, int) and flags & os.O_ACCMODE == os.O_RDONLY and not flags & os.O_CREAT


def package_files() -> List[str]:
    """cnidoctor's own sources and data: an edited checkout must not replay an old answer."""
    top = os.path.dirname(os.path.abspath(__file__))
    out = []
    for folder, dirs, names in os.walk(top, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        out.append(folder)
        out.extend(os.path.join(folder, n) for n in names if n.endswith((".py", ".json", ".conf", ".conflist")))
    return out


def _store(request: Tuple[Any, ...], entry: Tuple[Any, ...]) -> None:
    import zlib

    from .cache import write_bytes_atomically

    payload = marshal.dumps(entry)
    data = MAGIC + b"%08x" % zlib.crc32(payload) + payload
    if write_bytes_atomically(_file_name(request), data):
        _prune()


def _prune() -> None:
    """Keep the newest MAX_FILES results (the cache is bounded)."""
    directory = _cache_dir()
    try:
        names = [n for n in os.listdir(directory) if n.startswith(PREFIX)]
        if len(names) <= MAX_FILES:
            return
        dated = sorted(names, key=lambda n: os.stat(os.path.join(directory, n)).st_mtime_ns)
        for name in dated[: len(names) - MAX_FILES]:
            os.unlink(os.path.join(directory, name))
    except OSError:
        pass


_RECORDER: Optional[Recorder] = None


def start_recording(argv: Sequence[str]) -> None:
    """Begin noting the paths this run reads (only for runs whose result may be stored)."""
    global _RECORDER
    request = request_key(argv)
    if request is not None and _RECORDER is None:
        _RECORDER = Recorder(argv, request)
        _RECORDER.install()


def offer(text: str, color: bool, code: int, files: Iterable[str], timeout: float) -> None:
    """cli.check's finished output: stored when this run is being recorded (never fails)."""
    if _RECORDER is None:
        return
    try:
        if not color:  # what click.echo writes without colour
            from click._compat import strip_ansi

            text = strip_ansi(text)
        _RECORDER.finish(text.encode("utf-8"), code, files, timeout)
    except (UnicodeError, OSError, ValueError):
        pass
