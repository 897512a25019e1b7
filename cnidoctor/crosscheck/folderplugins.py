"""Node findings for the plugins libcni v1.3.0 appends from ``<dir>/<network name>/*.conf``.

NetworkConfFromFile appends every ``*.conf`` of the list's plugin folder to its plugins, unless
the list says ``"loadOnlyInlinedPlugins": true`` (containernetworking/cni:libcni/conf.go@v1.3.0
(NetworkConfFromFile, NetworkPluginConfsFromFiles)); ADD then runs them after the inlined ones
(containernetworking/cni:libcni/api.go@v1.3.0 (AddNetworkList)). Their binaries are resolved and
probed with the inlined ones (facts.gather); this module turns what was learned into the same
findings the inlined plugins get (binaries CNI401-407, replies CNI501-506, config version
CNI511, STATUS/GC CNI515), located in the folder's ``.conf`` file with a pointer into it. Only libcni >= v1.3.0
runs these plugins, so each finding is weighed like every runtime-dependent finding
(rules/scope.weigh): an error where such a runtime is in scope, else a warning naming them.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, List, Sequence, Tuple

from ..frozen import dataclass
from ..model import Finding, ParsedFile
from ..rules import binaries, skew
from ..rules import replies as probe_rules
from ..rules import scope as scope_rules
from ..runtime import matrix as runtimes
from .compare import Executed, executed_binaries, list_version
from .context import NodeContext

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.resolve import Resolution

__all__ = ["FolderBinary", "folder_binaries", "folder_findings"]


@dataclass(frozen=True)
class FolderBinary:
    """One binary a folder plugin makes libcni v1.3.0 execute. ``file``: the folder's ``.conf``;
    ``binary``: its pointer is into that file; ``in_list``: the same binary as it stands in the
    combined list (pointer ``/plugins/N/...``), which the version checks work on."""

    item: ParsedFile
    file: str
    binary: Executed
    in_list: Executed


def folder_binaries(item: ParsedFile) -> Tuple[FolderBinary, ...]:
    """The binaries of the plugins v1.3.0 appends to ``item`` from its folder, in ADD order."""
    folder = item.network_dir
    if folder is None or folder.network is None or not folder.files:
        return ()
    inlined = len(folder.network.plugins) - len(folder.files)  # one plugin per folder file
    out: List[FolderBinary] = []
    for binary in executed_binaries(folder.network):
        nth = binary.index - inlined
        if nth < 0:
            continue  # an inlined plugin: every release runs it, the ordinary checks cover it
        prefix = f"/plugins/{binary.index}"
        pointer = binary.pointer[len(prefix) :] if binary.pointer.startswith(prefix) else binary.pointer
        out.append(FolderBinary(item, folder.files[nth], replace(binary, pointer=pointer), binary))
    return tuple(out)


def _runs_folder_plugins(modelled: runtimes.Modelled) -> bool:
    return modelled.release.libcni.reads_network_folder


def folder_findings(ctx: NodeContext) -> List[Finding]:
    """CNI401-407, CNI501-506, CNI511 and CNI515 for every folder plugin of a list v1.3.0 loads, when
    a libcni >= v1.3.0 runtime is in scope (without one the folder is never read)."""
    in_scope = [m for m in ctx.releases if _runs_folder_plugins(m)]
    if not in_scope:
        return []
    affected = [m for m in scope_rules.all_releases() if _runs_folder_plugins(m)]
    out: List[Finding] = []
    for item in ctx.parsed:
        found = folder_binaries(item)
        if not found or not _loads(item, in_scope):
            continue
        raw = _binary_findings(ctx, found) + _version_findings(ctx, item, found, in_scope)
        out.extend(_weighed(finding, item, affected, ctx) for finding in raw)
    return out


def _loads(item: ParsedFile, in_scope: Sequence[runtimes.Modelled]) -> bool:
    """The list (inlined plugins plus folder) loads on a v1.3.0 runtime in scope: its list keys
    are accepted, so libcni gets to run the folder's plugins."""
    folder = item.network_dir
    assert folder is not None and folder.network is not None
    return any(list_version(folder.network, item.document, m.release.libcni).error is None for m in in_scope)


def _binary_findings(ctx: NodeContext, found: Sequence[FolderBinary]) -> List[Finding]:
    out: List[Finding] = []
    for entry in found:
        res = ctx.resolutions.get(entry.binary.type)
        if res is None:
            continue
        if entry.binary.implied:
            res = replace(res, type=entry.binary.type)
        out.extend(binaries.resolution_findings(res, entry.file, entry.binary.pointer))
        out.extend(_probe_findings(ctx, res, entry))
    return out


def _probe_findings(ctx: NodeContext, res: Resolution, entry: FolderBinary) -> Tuple[Finding, ...]:
    result = ctx.probes.get(res.path or "") if res.problem is None else None
    if result is None:
        return ()
    return probe_rules.probe_findings(result, entry.binary.type, entry.file, entry.binary.pointer)


def _version_findings(
    ctx: NodeContext, item: ParsedFile, found: Sequence[FolderBinary], in_scope: Sequence[runtimes.Modelled]
) -> List[Finding]:
    """CNI511 and CNI515 for the folder plugins: the version and STATUS/GC checks of rules/skew
    over the combined list v1.3.0 builds, moved from the list's ``/plugins/N/...`` into the
    folder's file."""
    folder = item.network_dir
    assert folder is not None and folder.network is not None
    combined = replace(item, network=folder.network)
    where = {entry.in_list.pointer: entry for entry in found}
    out: List[Finding] = []
    checked = [
        *skew.config_version_rejections(combined, in_scope, ctx.facts),
        *skew.status_old_plugins(combined, in_scope, ctx.facts),
    ]
    for finding in checked:
        entry = where.get(finding.pointer)
        if entry is not None:
            out.append(replace(finding, file=entry.file, pointer=entry.binary.pointer))
    return out


def _weighed(finding: Finding, item: ParsedFile, affected: Sequence[runtimes.Modelled], ctx: NodeContext) -> Finding:
    """Only libcni >= v1.3.0 runs a folder plugin: say which list runs it, and weigh the
    severity by the runtimes in scope (rules/scope.weigh)."""
    where = (
        f"; libcni 1.3.0 (containerd >= 2.1, CRI-O >= 1.33) appends {os.path.basename(finding.file or '')} "
        f"to {item.path} and runs it on every pod"
    )
    severity, suffix = scope_rules.weigh(finding.severity, affected, ctx.scope)
    return replace(finding, severity=severity, message=finding.message + where + suffix)
