"""Binary resolution as libcni's ``invoke.FindInPath`` does it, plus the exec outcome it leads to.

FindInPath (cni@v1.1.2 pkg/invoke/find.go:25-49, containernetworking/cni:pkg/invoke/find.go@v1.3.0 (FindInPath)):

1. ``""`` -> ``no plugin name provided``; a type containing ``/`` -> ``invalid plugin name: X``
   (CVE-2021-20206, libcni >= v0.8.1; such a type is never joined onto a directory here);
   no dirs -> ``no paths provided``.
2. for each dir in order: ``filepath.Join(dir, type)``, ``os.Stat`` (follows symlinks), accept
   the first **regular file**. Directories, dangling symlinks and FIFOs are skipped, so the
   search falls through to later dirs. The execute bit is NOT checked: a non-executable file is
   "found" and then fails at exec, with no fallback to later dirs (containernetworking/cni:pkg/invoke/find.go@v1.3.0; containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2)).
3. nothing found -> ``failed to find plugin "X" in path [d1 d2]``.

Exec failures are predicted from the found file (mode, mount options, ELF/#! content, see
elfinfo.py). Nothing here executes a plugin or writes anything.

Under a host root (``--host-root``: the node mounted into a pod), ``os.Stat`` on the node
follows an absolute symlink to the node's ``/``: k3s' ``data/cni/flannel ->
/var/lib/rancher/k3s/data/<hash>/bin/cni`` (k3s-io/k3s:pkg/data), a distribution's
``/opt/cni/bin/x -> /usr/libexec/cni/x``. So each candidate is resolved chroot-style under the
host root (cnidoctor/hostpath.py) and ``Resolution.local`` is the file as this process reaches
it: what the probe runs. Paths in messages stay as the candidates were given.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import replace
from typing import List, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..hostpath import is_host_root, node_path, resolve_under
from .elfinfo import ExecInfo, inspect
from .probedecode import go_quote

__all__ = [
    "EXEC_ERROR_PREFIX",
    "Resolution",
    "find_in_path",
    "go_clean",
    "go_join",
    "noexec_mount",
]

# libcni >= v0.8.0 RawExec.pluginErr wraps an exec failure (no stdout, no stderr) as
# "netplugin failed with no error message: <err>" (cni@v0.8.0 pkg/invoke/raw_exec.go:76);
# v0.7.x returns the bare "fork/exec ..." error (containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; containernetworking/cni:libcni@v0.7.1).
EXEC_ERROR_PREFIX = "netplugin failed with no error message: "

PROBLEMS = (
    "invalid-name",
    "not-found",
    "not-executable",
    "noexec-mount",
    "wrong-arch",
    "missing-loader",
    "missing-interpreter",
    "unknown-format",
)


@dataclass(frozen=True)
class Resolution:
    """Where libcni finds ``type`` in ``searched`` and whether the exec would work.

    ``error`` is the text current libcni (v0.8.0-v1.3.0) produces at the find/exec layer; on
    ADD libcni >= v1.0 additionally prefixes ``plugin type="X" failed (add): ``.
    ``exec_error`` is the bare Go error (``fork/exec P: permission denied``): what libcni 0.7.x
    prints and what every later text ends with. ``exec_info`` describes the found file.
    """

    type: str
    path: Optional[str]
    searched: Tuple[str, ...]
    problem: Optional[str]
    detail: str
    error: Optional[str]
    shadowed: Tuple[str, ...]
    skipped: Tuple[Tuple[str, str], ...] = ()
    exec_error: Optional[str] = None
    exec_info: Optional[ExecInfo] = None
    mode: Optional[int] = None
    # The found file as this process reaches it when that differs from ``path`` (an absolute
    # symlink re-rooted under the host root); None: ``path`` itself.
    local: Optional[str] = None

    @property
    def exec_path(self) -> Optional[str]:
        """What a probe from here runs: the file the node's runtime would exec."""
        return self.local or self.path

    @property
    def runnable(self) -> bool:
        """True when libcni would find and successfully exec the file."""
        return self.path is not None and self.problem is None


# ---------------------------------------------------------------------------------------------
# Go path helpers: the runtime prints paths as filepath.Join made them


def go_clean(path: str) -> str:
    """Go ``filepath.Clean`` (Unix): collapse //, remove . and resolvable .., "" -> "."."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: List[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def go_join(*elements: str) -> str:
    """Go ``filepath.Join``: empty elements ignored, result cleaned; all empty -> ""."""
    kept = [e for e in elements if e != ""]
    return go_clean("/".join(kept)) if kept else ""


def go_slice(items: Sequence[str]) -> str:
    """``fmt.Sprintf("%s", []string{...})``: ``[a b]``."""
    return "[" + " ".join(items) + "]"


# ---------------------------------------------------------------------------------------------
# noexec mounts (/proc/self/mountinfo, proc(5))


def _unescape_mountinfo(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo octal."""
    out: List[str] = []
    index = 0
    while index < len(field):
        code = field[index + 1 : index + 4]
        if field[index] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            index += 4
        else:
            out.append(field[index])
            index += 1
    return "".join(out)


@functools.lru_cache(maxsize=2)
def _mounts(mountinfo: str) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    """(mount point, per-mount options) in mountinfo order (later entries stack on top).
    Parsed once per table: every binary is checked twice (resolution, then before its probe),
    and a Kubernetes node's table holds hundreds of mounts; /proc is still read every time."""
    mounts: List[Tuple[str, Tuple[str, ...]]] = []
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if len(fields) < 6:
            continue
        mounts.append((_unescape_mountinfo(fields[4]), tuple(fields[5].split(","))))
    return tuple(mounts)


def noexec_mount(path: str, mountinfo: Optional[str] = None) -> Optional[str]:
    """The mount point when ``path`` (resolved) lives on a ``noexec`` mount, else None.

    The kernel refuses execve on such a mount with EACCES even for root (containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0).
    """
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
                mountinfo = handle.read()
        except OSError:
            return None
    real = os.path.realpath(path)
    best: Optional[Tuple[str, Tuple[str, ...]]] = None
    for point, options in _mounts(mountinfo):
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, options)
    if best is not None and "noexec" in best[1]:
        return best[0]
    return None


# ---------------------------------------------------------------------------------------------
# FindInPath


def _on_node(candidate: str, host_root: Optional[str]) -> Optional[str]:
    """``candidate`` with its symlinks resolved as the node resolves them (None: a loop).
    Without a host root, or outside it, the kernel's own resolution is the node's."""
    if not is_host_root(host_root):
        return candidate
    root = host_root or "/"
    node = node_path(root, candidate)
    if node is None or "\0" in candidate:
        return candidate
    return resolve_under(root, node)


def _stat_entry(candidate: str, local: Optional[str] = None) -> Tuple[Optional[os.stat_result], Optional[str]]:
    """(stat, None) when a regular file; (None, reason it is skipped) otherwise. ``local``: the
    candidate resolved under the host root (None: a symlink loop there)."""
    if local is None:
        return None, "cannot stat: too many levels of symbolic links"
    try:
        info = os.stat(local)
    except ValueError:
        return None, "invalid name"  # NUL byte: Go's os.Stat fails with EINVAL and skips
    except OSError as exc:
        if os.path.islink(candidate):
            return None, f"dangling symlink ({exc.strerror})"
        if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            return None, ""
        return None, f"cannot stat: {exc.strerror}"
    if stat.S_ISREG(info.st_mode):
        return info, None
    if stat.S_ISDIR(info.st_mode):
        return None, "directory"
    return None, "not a regular file"


def _name_error(plugin_type: str, bin_dirs: Sequence[str]) -> Optional[str]:
    if plugin_type == "":
        return "no plugin name provided"
    if "/" in plugin_type:
        return f"invalid plugin name: {plugin_type}"
    if not bin_dirs:
        return "no paths provided"
    return None


def find_in_path(
    plugin_type: str,
    bin_dirs: Sequence[str],
    *,
    machine: Optional[str] = None,
    host_root: Optional[str] = None,
) -> Resolution:
    """Resolve ``plugin_type`` as libcni would and predict the exec outcome (nothing executed).
    ``host_root``: the node's ``/`` as this process sees it (bin dirs are then under it)."""
    searched = tuple(bin_dirs)
    name_error = _name_error(plugin_type, searched)
    if name_error is not None:
        problem = "not-found" if name_error == "no paths provided" else "invalid-name"
        return Resolution(plugin_type, None, searched, problem, name_error, name_error, ())
    found: Optional[str] = None
    found_local: Optional[str] = None
    found_stat: Optional[os.stat_result] = None
    shadowed: List[str] = []
    skipped: List[Tuple[str, str]] = []
    for directory in searched:
        candidate = go_join(directory, plugin_type)
        local = _on_node(candidate, host_root)
        info, reason = _stat_entry(candidate, local)
        if info is None:
            if reason:
                skipped.append((candidate, reason))
            continue
        if found is None:
            found, found_local, found_stat = candidate, local, info
        elif candidate != found:
            shadowed.append(candidate)
    if found is None or found_stat is None:
        error = f"failed to find plugin {go_quote(plugin_type)} in path {go_slice(searched)}"
        detail = "not in any bin dir"
        if skipped:
            detail += "; passed over: " + ", ".join(f"{p} ({r})" for p, r in skipped)
        return Resolution(plugin_type, None, searched, "not-found", detail, error, (), tuple(skipped))
    outcome = _exec_outcome(
        plugin_type,
        found,
        found_local or found,
        found_stat,
        searched,
        tuple(shadowed),
        tuple(skipped),
        machine,
        host_root,
    )
    return outcome if found_local in (None, found) else replace(outcome, local=found_local)


def _exec_outcome(
    plugin_type: str,
    path: str,
    local: str,
    info: os.stat_result,
    searched: Tuple[str, ...],
    shadowed: Tuple[str, ...],
    skipped: Tuple[Tuple[str, str], ...],
    machine: Optional[str],
    host_root: Optional[str] = None,
) -> Resolution:
    """Predict execve of the found file as the runtime (root) does it. ``path`` is the name the
    runtime joined (its errors print it), ``local`` the file it reaches."""
    mode = stat.S_IMODE(info.st_mode)

    def failed(problem: str, errno_text: str, detail: str, exec_info: Optional[ExecInfo] = None) -> Resolution:
        bare = f"fork/exec {path}: {errno_text}"
        return Resolution(
            plugin_type,
            path,
            searched,
            problem,
            detail,
            EXEC_ERROR_PREFIX + bare,
            shadowed,
            skipped,
            exec_error=bare,
            exec_info=exec_info,
            mode=mode,
        )

    if not mode & 0o111:
        # execve needs at least one x bit even for root; libcni does not look further.
        return failed("not-executable", "permission denied", f"mode {mode:04o}: no execute bit")
    mount = noexec_mount(local)
    if mount is not None:
        return failed("noexec-mount", "permission denied", f"on a noexec mount ({mount})")
    exec_info = inspect(local, machine, host_root)
    if exec_info.problem is not None and exec_info.errno_text is not None:
        return failed(exec_info.problem, exec_info.errno_text, exec_info.detail, exec_info)
    return Resolution(
        plugin_type, path, searched, None, exec_info.detail, None, shadowed, skipped, exec_info=exec_info, mode=mode
    )
