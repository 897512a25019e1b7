"""The node stage's first half: resolve every executed binary once and start its VERSION probe.

Split from the cross-check (crosscheck/facts.py) so the engine can start the probes as soon as
the configs are parsed and do everything that does not need a reply (static rules, the node
state, imports) while the plugins answer; ``facts.gather`` collects them. Kept light: the
prediction and rule modules are imported after the probes have started, not before.

Each type is resolved in first-use order and its probe starts at once (plugins/probe.Probing),
so the first plugin runs while later ones are still being resolved and inspected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Sequence, Tuple

from ..model import Options, ParsedFile
from .compare import Executed, executed_binaries
from .context import LOOPBACK, RuntimeScope

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.probe import ProbeResult, Probing
    from ..plugins.resolve import Resolution

__all__ = ["Started", "start"]

Occurrence = Tuple[ParsedFile, Executed]


class Started:
    """Probes under way for ``scope``: ``occurrences`` (every executed binary of every parsed
    file), ``resolutions`` (each type once, in first-use order) and the running ``probing``."""

    __slots__ = ("occurrences", "probing", "resolutions", "scope", "use_cache")

    def __init__(
        self,
        scope: RuntimeScope,
        occurrences: Tuple[Occurrence, ...],
        resolutions: Dict[str, Resolution],
        probing: Probing,
        use_cache: bool,
    ) -> None:
        self.scope = scope
        self.occurrences = occurrences
        self.resolutions = resolutions
        self.probing = probing
        self.use_cache = use_cache

    def collect(self) -> Dict[str, ProbeResult]:
        """Wait for the replies; keyed by ``Resolution.path``. Also stores the ELF verdicts
        learnt while resolving (next to the probe cache) once nothing inspects any more."""
        from ..plugins import elfinfo

        probes = self.probing.collect_resolved()
        if self.use_cache:
            elfinfo.save_disk_cache()
        return probes


def start(parsed: Sequence[ParsedFile], options: Options, scope: RuntimeScope) -> Started:
    """Resolve every executed type once and start probing each found path (CNI_COMMAND=VERSION)
    as soon as it is resolved."""
    # lazy: a static run (--no-probe) never loads the subprocess and ELF machinery
    from ..plugins import elfinfo, probe, resolve

    dirs = options.search_dirs
    occurrences = tuple(
        (item, binary) for item in parsed if item.network is not None for binary in executed_binaries(item.network)
    )
    appended = [b.type for item in parsed for b in _appended_by_libcni13(item, scope)]
    types = list(dict.fromkeys([b.type for _, b in occurrences] + appended + [LOOPBACK]))
    if options.use_cache:
        elfinfo.enable_disk_cache()
    probing = probe.Probing(
        cni_version=scope.modelled.release.libcni.current,
        timeout=options.probe_timeout,
        use_cache=options.use_cache,
        host_root=options.host_root,
    )
    resolutions: Dict[str, Resolution] = {}
    for plugin_type in types:
        found = resolutions[plugin_type] = resolve.find_in_path(plugin_type, dirs, host_root=options.host_root)
        probing.add_resolution(found)
    return Started(scope, occurrences, resolutions, probing, options.use_cache)


def _appended_by_libcni13(item: ParsedFile, scope: RuntimeScope) -> Tuple[Executed, ...]:
    """With libcni v1.3.0 in scope, the binaries of the plugins it appends from
    ``<dir>/<name>/*.conf`` (config/netdir): resolved and probed for the prediction; findings
    and reported (crosscheck/folderplugins, in the folder's files) like the inlined ones."""
    folder = item.network_dir
    if folder is None or folder.network is None:
        return ()
    if not any(m.release.libcni.reads_network_folder for m in scope.releases):
        return ()
    return executed_binaries(folder.network)
