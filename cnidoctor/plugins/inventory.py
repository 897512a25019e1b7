"""`cnidoctor plugins`: every file in the bin dirs, how libcni would find and run it, its VERSION.

Reads the bin dirs (listing + file headers), probes each runnable binary once with
CNI_COMMAND=VERSION (probe.probe_all: parallel, cached), and reports per file: path,
architecture, VERSION reply, status; plus node-level findings (CNI408 missing dirs, CNI40x
per binary, CNI409 mixed generations per dir, CNI50x per probe). Never writes to the dirs.
"""

from __future__ import annotations

import os
import stat
from dataclasses import field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..model import Finding
from .elfinfo import ELF_MAGIC
from .probe import CURRENT_LIB_VERSION, DEFAULT_TIMEOUT, ProbeResult, probe_all
from .resolve import Resolution, find_in_path, go_join

__all__ = ["Inventory", "PluginRow", "inventory"]


@dataclass(frozen=True)
class PluginRow:
    """One directory entry. ``status`` is a short word; ``detail`` says why."""

    path: str
    name: str
    directory: str
    status: str  # ok | shadowed | legacy | not-a-plugin | probe-failed | timeout | <resolution problem> | not-regular | not-probed
    detail: str = ""
    arch: Optional[str] = None
    cni_version: Optional[str] = None
    supported: Tuple[str, ...] = ()
    error: Optional[str] = None
    shadowed_by: Optional[str] = None
    from_cache: bool = False

    def as_dict(self) -> Dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "dir": self.directory,
            "status": self.status,
            "detail": self.detail,
            "arch": self.arch,
            "cniVersion": self.cni_version,
            "supportedVersions": list(self.supported),
            "error": self.error,
            "shadowedBy": self.shadowed_by,
            "fromCache": self.from_cache,
        }


@dataclass(frozen=True)
class Inventory:
    """Every plugin binary in the bin dirs, as `cnidoctor plugins` lists them."""

    bin_dirs: Tuple[str, ...]
    rows: Tuple[PluginRow, ...]
    findings: Tuple[Finding, ...] = ()
    probed: int = 0  # binaries actually executed in this run (cache misses)
    extra: Dict[str, Any] = field(default_factory=dict)


def _entries(directory: str) -> List[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def _looks_like_plugin(path: str) -> bool:
    """Executable or ELF: release tarballs also ship LICENSE and README.md into the bin dir."""
    try:
        info = os.stat(path)
        if info.st_mode & 0o111:
            return True
        with open(path, "rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def _static_row(path: str, name: str, directory: str, first: Resolution) -> Tuple[PluginRow, Optional[Resolution]]:
    """Row without probing, and the resolution of this very file (None when not a regular file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return PluginRow(path, name, directory, "not-regular", f"dangling symlink ({exc.strerror})"), None
    if not stat.S_ISREG(mode):
        kind = "directory" if stat.S_ISDIR(mode) else "special file"
        return PluginRow(path, name, directory, "not-regular", kind), None
    if not _looks_like_plugin(path):
        return PluginRow(path, name, directory, "not-a-plugin", "no execute bit, not ELF"), None
    own = find_in_path(name, [directory])  # this file's own exec outcome
    arch = own.exec_info.arch if own.exec_info is not None else None
    shadowed_by = first.path if first.path is not None and first.path != path else None
    if own.problem is not None:
        return PluginRow(
            path, name, directory, own.problem, own.detail, arch=arch, error=own.error, shadowed_by=shadowed_by
        ), own
    return PluginRow(path, name, directory, "not-probed", own.detail, arch=arch, shadowed_by=shadowed_by), own


def _with_probe(row: PluginRow, result: Optional[ProbeResult]) -> PluginRow:
    if result is None:
        return row
    status = "ok" if result.ok else ("timeout" if result.timed_out else "probe-failed")
    if result.ok and result.legacy:
        status = "legacy"
    if not result.executed and result.error is None:
        status = "not-probed"
    if row.shadowed_by is not None and status in ("ok", "legacy"):
        status = "shadowed"
    detail = result.detail or row.detail
    return PluginRow(
        row.path,
        row.name,
        row.directory,
        status,
        detail,
        arch=row.arch,
        cni_version=result.cni_version,
        supported=result.supported,
        error=result.error,
        shadowed_by=row.shadowed_by,
        from_cache=result.from_cache,
    )


def inventory(
    bin_dirs: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    use_cache: bool = True,
    cni_version: str = CURRENT_LIB_VERSION,
) -> Inventory:
    """Every entry of every bin dir, resolved, exec-checked and VERSION-probed."""
    from ..rules import binaries
    from ..rules import replies as probe_rules

    dirs = tuple(bin_dirs)
    findings: List[Finding] = list(binaries.bin_dir_findings(dirs))
    rows: List[PluginRow] = []
    runnable: List[str] = []
    for directory in dict.fromkeys(dirs):
        for name in _entries(directory):
            path = go_join(directory, name)
            row, own = _static_row(path, name, directory, find_in_path(name, dirs))
            rows.append(row)
            if own is not None and own.problem is None:
                runnable.append(path)
            elif own is not None:
                findings.extend(binaries.resolution_findings(own, None, ""))
    results = probe_all(runnable, cni_version=cni_version, timeout=timeout, use_cache=use_cache)
    rows = [_with_probe(row, results.get(row.path)) for row in rows]
    for row in rows:
        if row.path in results:
            findings.extend(probe_rules.probe_findings(results[row.path], row.name, None, ""))
    for directory in dict.fromkeys(dirs):
        findings.extend(binaries.generation_findings(directory, results))
    probed = sum(1 for r in results.values() if r.executed and not r.from_cache)
    return Inventory(dirs, tuple(rows), tuple(findings), probed)
