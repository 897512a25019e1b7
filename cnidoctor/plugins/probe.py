"""The VERSION probe, as the runtime's libcni does it, and nothing more.

libcni ``invoke.GetVersionInfo`` (cni@v1.1.2 pkg/invoke/exec.go:151-173, containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList)):
stdin ``{"cniVersion":"<lib Current()>"}`` and the environment ``CNI_COMMAND=VERSION``,
``CNI_CONTAINERID=``, ``CNI_NETNS=dummy``, ``CNI_IFNAME=dummy``, ``CNI_ARGS=``,
``CNI_PATH=dummy``. The runtime's own environment sits underneath; cnidoctor passes none of
its own, only a fixed PATH, so a user's environment cannot change a plugin's answer.

Safety: only ``CNI_COMMAND=VERSION`` is ever sent; the child runs in cnidoctor's one sandbox
(``cnidoctor/child.py``: argv is the absolute path, no shell, cwd ``/``, own process group
SIGKILLed at the deadline, stdout and stderr kept up to 64 KiB each, pipes closed without
waiting for grandchildren that hold them open, where libcni itself would hang,
containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0). A file
cnidoctor already knows cannot exec (resolve.py) is not executed at all; a type containing
``/`` never reaches this module (resolve.find_in_path rejects it, CVE-2021-20206).

From inside a container reading the node under a host root, the probe runs the node's file with
this container's loader and interpreters: a file the node runs may fail here with ENOENT or
ENOEXEC for reasons that are not the node's (a loader only the node has). Such a file is not
probed, or its exec failure is not held against it: the result says "cannot probe from here"
(executed False, no error), which the report shows as CNI505, never as a broken plugin.
"""

from __future__ import annotations

import _thread
import atexit
import os
import stat
import threading
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .. import cache as probecache
from ..child import OUTPUT_CAP, SAFE_PATH, ChildRun, run_child
from ..frozen import dataclass
from ..fsperms import non_root_writers
from .probedecode import UNKNOWN_VERSION_COMMAND, decode_version_reply, exit_text, plugin_error

if TYPE_CHECKING:  # pragma: no cover
    from .resolve import Resolution

__all__ = [
    "CANNOT_PROBE_HERE",
    "CURRENT_LIB_VERSION",
    "DEFAULT_TIMEOUT",
    "OUTPUT_CAP",
    "REFUSED_AS_ROOT",
    "ProbeResult",
    "Probing",
    "probe_all",
    "probe_env",
    "probe_one",
    "probe_resolved",
]

DEFAULT_TIMEOUT = 5.0
MAX_PARALLEL = 8
# What libcni >= v1.2.0 sends (version.Current(), containernetworking/cni:pkg/version/version.go at each release tag); skel ignores it for VERSION.
CURRENT_LIB_VERSION = "1.1.0"
# How a result's detail starts when the file could not be run from where cnidoctor runs.
CANNOT_PROBE_HERE = "cannot probe from here"
# How it starts when cnidoctor, running as root, refused a file a non-root user can change.
REFUSED_AS_ROOT = "not run as root"


@dataclass(frozen=True)
class ProbeResult:
    """One plugin's VERSION reply as libcni would decode it.

    ``ok``: libcni accepts the reply. ``supported`` is the list libcni uses (legacy 0.2.0 reply
    -> ("0.1.0", "0.2.0"); ``unknown CNI_COMMAND: VERSION`` error -> ("0.1.0",)). ``error`` is
    libcni's exact text. ``executed`` is False when cnidoctor predicted an exec failure (or
    could not run the file as this user) and did not start it.
    """

    path: str
    ok: bool
    cni_version: Optional[str]
    supported: Tuple[str, ...]
    error: Optional[str]
    timed_out: bool = False
    from_cache: bool = False
    stdout: str = ""
    stderr: str = ""
    exit_status: Optional[str] = None  # Go's text: "exit status 0", "signal: killed"
    legacy: bool = False  # libcni substituted the list (0.2.0 reply or unknown VERSION)
    executed: bool = True
    truncated: bool = False
    detail: str = ""

    def as_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out["supported"] = list(self.supported)
        return out


def probe_env() -> Dict[str, str]:
    """Exactly libcni's VERSION environment plus a fixed PATH; nothing from our environment."""
    return {
        "CNI_COMMAND": "VERSION",
        "CNI_CONTAINERID": "",
        "CNI_NETNS": "dummy",
        "CNI_IFNAME": "dummy",
        "CNI_ARGS": "",
        "CNI_PATH": "dummy",
        "PATH": SAFE_PATH,
    }


def version_stdin(cni_version: str) -> bytes:
    """``fmt.Sprintf(`{"cniVersion":%q}`, version.Current())``."""
    from .probedecode import go_quote

    return ('{"cniVersion":' + go_quote(cni_version) + "}").encode()


# ---------------------------------------------------------------------------------------------
# Pre-flight: never start what cannot (or must not) run


def _not_probed(path: str, detail: str) -> ProbeResult:
    """No verdict: the probe was not (or could not be) run; not a failure of the plugin."""
    return ProbeResult(path, False, None, (), None, executed=False, detail=detail)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _unsafe_as_root(path: str) -> Optional[ProbeResult]:
    """Running as root, never execute a file a non-root user can change: the file itself, its
    directory (a user who can write it can swap the file between our checks and the exec) or
    the bin dir that names it (cnidoctor/fsperms.py; CNI411 reports the permissions)."""
    if not _running_as_root():
        return None
    real = os.path.realpath(path)
    for where in dict.fromkeys((real, os.path.dirname(real), os.path.dirname(os.path.abspath(path)))):
        why = non_root_writers(where)
        if why is not None:
            what = "it" if where == real else f"its directory {where}"
            return _not_probed(
                path,
                f"{REFUSED_AS_ROOT}: {what} is {why}, so a non-root user controls what would run as root; "
                "nothing is predicted from this plugin",
            )
    return None


def _not_runnable(path: str, host_root: Optional[str] = None) -> Optional[ProbeResult]:
    """A result without executing when the file is not a runnable regular file (or, as root,
    one a non-root user could have replaced)."""
    from .elfinfo import inspect
    from .resolve import EXEC_ERROR_PREFIX, noexec_mount

    unsafe = _unsafe_as_root(path)
    if unsafe is not None:
        return unsafe

    def refused(errno_text: str, detail: str) -> ProbeResult:
        text = f"{EXEC_ERROR_PREFIX}fork/exec {path}: {errno_text}"
        return ProbeResult(path, False, None, (), text, executed=False, detail=detail)

    try:
        info = os.stat(path)
    except (OSError, ValueError) as exc:
        return refused("no such file or directory", f"cannot stat: {exc}")
    if not stat.S_ISREG(info.st_mode):
        return refused("permission denied", "not a regular file")
    if not info.st_mode & 0o111:
        return refused("permission denied", "no execute bit")
    mount = noexec_mount(path)
    if mount is not None:
        return refused("permission denied", f"on a noexec mount ({mount})")
    predicted = inspect(path, host_root=host_root)
    if predicted.problem is not None and predicted.errno_text is not None:
        return refused(predicted.errno_text, predicted.detail)
    if predicted.blocked_here is not None:
        return _not_probed(path, f"{CANNOT_PROBE_HERE}: {predicted.blocked_here}")
    if not os.access(path, os.X_OK):
        # The runtime runs as root; we are not allowed to run it: no verdict, not a failure.
        return _not_probed(path, "not executable by this user (run cnidoctor as root to probe it)")
    return None


KEPT_TEXT = 4096  # characters of stdout/stderr/error kept in a result (and the cache)


def _text(data: bytes) -> str:
    return _shorten(data.decode("utf-8", "replace"))


def _shorten(text: Optional[str]) -> str:
    """Bound what a result carries; libcni's text is exact up to this length."""
    if text is None:
        return ""
    return text if len(text) <= KEPT_TEXT else text[:KEPT_TEXT] + f"... [{len(text) - KEPT_TEXT} more characters]"


def _interpret(path: str, run: ChildRun) -> ProbeResult:
    """Turn one run into libcni's verdict (GetVersionInfo + pluginErr + PluginDecoder)."""
    out, err, status = run.out, run.err, run.status
    stdout, stderr = bytes(out.data), bytes(err.data)
    truncated = out.truncated or err.truncated
    base: Dict[str, Any] = dict(path=path, stdout=_text(stdout), stderr=_text(stderr), truncated=truncated)
    if status is None:
        # libcni's context kill yields "signal: killed" (a child still holding stdout makes
        # the runtime wait past its own timeout, containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0; Go os/exec (Wait waits for stdout to close)).
        error = plugin_error(stdout, stderr, "signal: killed")
        detail = (
            "the plugin exited but a process it started kept stdout/stderr open; the "
            "runtime's libcni waits for that process, past its own timeout"
            if run.lingering
            else "no reply before the timeout"
        )
        return ProbeResult(
            ok=False,
            cni_version=None,
            supported=(),
            error=error,
            timed_out=True,
            exit_status="signal: killed",
            detail=detail,
            **base,
        )
    status_text = exit_text(status)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        if out.truncated:
            return ProbeResult(
                ok=False,
                cni_version=None,
                supported=(),
                exit_status=status_text,
                error=f"VERSION reply larger than {OUTPUT_CAP} bytes; not decoded",
                **base,
            )
        info, decode_error = decode_version_reply(stdout)
        if info is None:
            return ProbeResult(
                ok=False, cni_version=None, supported=(), error=decode_error, exit_status=status_text, **base
            )
        return ProbeResult(
            ok=True,
            cni_version=info.cni_version,
            supported=info.supported,
            error=None,
            exit_status=status_text,
            legacy=info.legacy,
            **base,
        )
    error = plugin_error(stdout, stderr, status_text)
    if error == UNKNOWN_VERSION_COMMAND:
        # Plugins from before the VERSION verb: libcni assumes 0.1.0 (exec.go:164-169).
        return ProbeResult(
            ok=True, cni_version=None, supported=("0.1.0",), error=None, exit_status=status_text, legacy=True, **base
        )
    return ProbeResult(ok=False, cni_version=None, supported=(), error=error, exit_status=status_text, **base)


def _bounded(result: ProbeResult) -> ProbeResult:
    return replace(result, error=_shorten(result.error)) if result.error and len(result.error) > KEPT_TEXT else result


def probe_one(
    path: str,
    *,
    cni_version: str = CURRENT_LIB_VERSION,
    timeout: float = DEFAULT_TIMEOUT,
    host_root: Optional[str] = None,
) -> ProbeResult:
    """Probe one file with CNI_COMMAND=VERSION (or predict why it cannot run).
    ``host_root``: the file is the node's, seen under that root (see the module docstring)."""
    from ..hostpath import is_host_root

    refused = _not_runnable(path, host_root)
    if refused is not None:
        return refused
    run = run_child([os.path.abspath(path)], probe_env(), timeout, stdin=version_stdin(cni_version))
    if run.exec_error is None:
        return _bounded(_interpret(path, run))
    exec_error = f"fork/exec {path}: {run.exec_error}"
    if is_host_root(host_root):
        # The node's file, judged runnable on the node, refused by the kernel here: this
        # container's view (its loader, its mounts) is what failed, not the node.
        return _not_probed(path, f"{CANNOT_PROBE_HERE}: the kernel refused to run it here ({exec_error})")
    from .resolve import EXEC_ERROR_PREFIX

    return ProbeResult(
        path,
        False,
        None,
        (),
        EXEC_ERROR_PREFIX + exec_error,
        executed=False,
        detail="the kernel refused to execute it",
    )


# ---------------------------------------------------------------------------------------------
# Many probes: parallel, once per binary, cached across runs


_CACHED_FIELDS = (
    "ok",
    "cni_version",
    "supported",
    "error",
    "stdout",
    "stderr",
    "exit_status",
    "legacy",
    "truncated",
    "detail",
)


def _from_cache(path: str, entry: Mapping[str, Any]) -> Optional[ProbeResult]:
    try:
        fields = {name: entry[name] for name in _CACHED_FIELDS}
        fields["supported"] = tuple(str(v) for v in fields["supported"])
        return ProbeResult(path=path, from_cache=True, **fields)
    except (KeyError, TypeError):
        return None


def _cacheable(result: ProbeResult) -> bool:
    """Only answers that depend on the binary alone (not timeouts, not pre-flight refusals)."""
    return result.executed and not result.timed_out


def probe_all(
    paths: Sequence[str],
    *,
    cni_version: str = CURRENT_LIB_VERSION,
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
    host_root: Optional[str] = None,
) -> Dict[str, ProbeResult]:
    """Probe every distinct path once, in parallel; keyed by the path as given."""
    probing = Probing(cni_version=cni_version, timeout=timeout, use_cache=use_cache, host_root=host_root)
    for path in paths:
        probing.add(path)
    return probing.collect()


class Probing:
    """VERSION probes under way: ``add`` starts a path's probe at once (on one of at most
    MAX_PARALLEL threads) so the caller can resolve the next binary, and do the rest of its
    work, while plugins answer; ``collect`` waits for them, stores what is cacheable and returns
    every result keyed by the path as given, in the order added. Each distinct path runs once,
    and the same file under two names (symlinks) too; a cached reply is not run at all."""

    def __init__(
        self,
        *,
        cni_version: str = CURRENT_LIB_VERSION,
        timeout: float = DEFAULT_TIMEOUT,
        use_cache: bool = True,
        host_root: Optional[str] = None,
    ) -> None:
        self.cni_version = cni_version
        self.timeout = timeout
        self.host_root = host_root
        self.use_cache = use_cache
        self.cache = probecache.load() if use_cache else {}
        self.keys: Dict[str, Optional[str]] = {}
        self.known: Dict[str, ProbeResult] = {}  # answered without running (cache, refusal)
        self.runs: Dict[str, int] = {}  # the file run (realpath, or the path) -> its job
        self.job_of: Dict[str, int] = {}  # path as given -> the job whose result it shares
        self.named: Dict[str, str] = {}  # add_resolution: the runtime's name -> the file run
        self.workers = _Workers(MAX_PARALLEL)

    def add(self, path: str) -> None:
        if path in self.keys:
            return
        key = self.keys[path] = probecache.identity_key(path, self.cni_version)
        # a cached reply would still be a prediction from a file we refuse to trust
        unsafe = _unsafe_as_root(path)
        cached = (
            _from_cache(path, self.cache[key]) if unsafe is None and key is not None and key in self.cache else None
        )
        if unsafe is not None or cached is not None:
            self.known[path] = unsafe or cached  # type: ignore[assignment]
            return
        run = os.path.realpath(path) if key else path
        if run not in self.runs:
            self.runs[run] = self.workers.submit(_probe_call(path, self.cni_version, self.timeout, self.host_root))
        self.job_of[path] = self.runs[run]

    def add_resolution(self, resolution: Resolution) -> None:
        """Start the probe of a runnable resolution's file: ``exec_path``, the node's file as
        this process reaches it, reported under ``Resolution.path``, the name the runtime joined."""
        if resolution.path is None or resolution.problem is not None:
            return
        local = resolution.exec_path or resolution.path
        self.named[resolution.path] = local
        self.add(local)

    def collect_resolved(self) -> Dict[str, ProbeResult]:
        """``collect``, keyed by the names of the resolutions added."""
        raw = self.collect()
        return {path: replace(raw[local], path=path) for path, local in self.named.items()}

    def collect(self) -> Dict[str, ProbeResult]:
        done = self.workers.results()
        results = dict(self.known)
        for path, job in self.job_of.items():
            first = done[job]
            results[path] = first if first.path == path else replace(first, path=path)
        if self.use_cache:
            _store(self.cache, results, self.keys)
        return {p: results[p] for p in self.keys}


def _probe_call(path: str, cni_version: str, timeout: float, host_root: Optional[str]) -> Callable[[], ProbeResult]:
    return lambda: probe_one(path, cni_version=cni_version, timeout=timeout, host_root=host_root)


class _Workers:
    """At most ``limit`` threads working through the calls submitted, started as calls arrive
    (a thread with nothing left to do ends; the next submit starts another). Plain threads:
    importing concurrent.futures pulls in logging, a few ms of every cold check. Started with
    ``_thread.start_new_thread``, which returns at once: ``threading.Thread.start`` waits until
    the new thread holds the GIL and has said so, while the threads already started hold it to
    spawn their plugins; on a 2-core node that wait was 1-3 ms a thread, 13 of them a cold run.
    ``results`` waits on ``idle``, set when the last busy thread runs out of work. Unlike
    ``threading``'s threads these are not joined at interpreter exit, so an exit before
    ``results`` (a tool error) waits for them in an ``atexit`` hook: each probe still ends by
    its deadline, killing its plugin's process group, rather than leaving a hung plugin behind."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls: List[Callable[[], ProbeResult]] = []
        self.done: Dict[int, ProbeResult] = {}
        self.errors: Dict[int, BaseException] = {}
        self.next = 0
        self.busy = 0
        self.lock = threading.Lock()
        self.idle = threading.Event()
        self.idle.set()

    def submit(self, call: Callable[[], ProbeResult]) -> int:
        with self.lock:
            index = len(self.calls)
            self.calls.append(call)
            start = self.busy < self.limit
            if start:
                self.busy += 1
                self.idle.clear()
        if start:
            atexit.register(self.idle.wait)  # again per thread started; unregister removes all
            _thread.start_new_thread(self._work, ())
        return index

    def _work(self) -> None:
        while True:
            with self.lock:
                if self.next == len(self.calls):
                    self.busy -= 1  # under the lock: a submit now starts a new thread
                    if self.busy == 0:
                        self.idle.set()
                    return
                index = self.next
                self.next += 1
            try:
                self.done[index] = self.calls[index]()
            except BaseException as error:  # re-raised in the calling thread by results()
                self.errors[index] = error

    def results(self) -> List[ProbeResult]:
        """Wait for every call; their results in submission order (or the first error)."""
        self.idle.wait()
        atexit.unregister(self.idle.wait)
        for index in sorted(self.errors):
            raise self.errors[index]
        return [self.done[index] for index in range(len(self.calls))]


def probe_resolved(
    resolutions: Iterable[Resolution],
    *,
    cni_version: str = CURRENT_LIB_VERSION,
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
    host_root: Optional[str] = None,
) -> Dict[str, ProbeResult]:
    """Probe every runnable resolution's file, keyed by ``Resolution.path`` (the name the runtime
    joined); the file run is ``exec_path``, the node's file as this process reaches it."""
    probing = Probing(cni_version=cni_version, timeout=timeout, use_cache=use_cache, host_root=host_root)
    for resolution in resolutions:
        probing.add_resolution(resolution)
    return probing.collect_resolved()


def _store(
    cache: Dict[str, Dict[str, Any]], results: Mapping[str, ProbeResult], keys: Mapping[str, Optional[str]]
) -> None:
    changed = False
    for path, result in results.items():
        key = keys.get(path)
        if key is None or result.from_cache or not _cacheable(result):
            continue
        entry = result.as_dict()
        cache[key] = {name: entry[name] for name in _CACHED_FIELDS}
        changed = True
    if changed:
        probecache.save(cache)
