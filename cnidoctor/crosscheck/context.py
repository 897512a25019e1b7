"""What the node checks see: one frozen record of everything the node stage learned (the model is
kube-linter's ``LintContext``, pkg/lintcontext/context.go: gathered once, read by every check).

This module imports nothing from ``cnidoctor.rules``, so the rule modules can type their checks
with it (``def check_x(ctx: NodeContext) -> Tuple[Finding, ...]``) without an import cycle.
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Mapping, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..model import Options, ParsedFile, Selection
from ..runtime import matrix as runtimes
from .compare import BinaryFacts, Executed

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.probe import ProbeResult
    from ..plugins.resolve import Resolution
    from .predict import NodeRefusal

LOOPBACK = "loopback"


@dataclass(frozen=True)
class RuntimeScope:
    """The runtime releases findings are computed for, and the one the prediction models.

    ``explicit``: the user named the runtime(s) with --runtime.
    """

    releases: Tuple[runtimes.Modelled, ...]
    modelled: runtimes.Modelled
    explicit: bool = False


def runtime_scope(options: Options, detected: Optional[runtimes.Modelled] = None) -> RuntimeScope:
    """Parse --runtime; else the runtime read from the node (its release is what runs here, so
    findings are computed for it alone, as for --runtime); else the default scope. An unknown
    --runtime value raises runtimes.RuntimeSpecError: it is a usage error (cli.py rejects it
    with exit 2 before the run), never a silent fallback to the defaults."""
    if not options.runtimes and detected is not None:
        return RuntimeScope((detected,), detected, explicit=True)
    releases = runtimes.select(options.runtimes)
    modelled = runtimes.modelled_for_prediction(options.runtimes)
    return RuntimeScope(releases, modelled, explicit=bool(options.runtimes))


@dataclass(frozen=True)
class NodeContext:
    """Everything the node checks read. Without probing (``probed`` False) the resolutions,
    probes and facts are empty, and the checks that need them find nothing.

    ``occurrences``: every executed binary of every loadable file, in file order.
    ``facts``: per plugin type, what resolution and the VERSION probe established.
    """

    parsed: Tuple[ParsedFile, ...]
    selection: Optional[Selection]
    scope: RuntimeScope
    options: Options
    probed: bool = False
    resolutions: Mapping[str, Resolution] = field(default_factory=dict)
    probes: Mapping[str, ProbeResult] = field(default_factory=dict)
    occurrences: Tuple[Tuple[ParsedFile, Executed], ...] = ()
    facts: Mapping[str, BinaryFacts] = field(default_factory=dict)
    # ADD refusals the node state establishes for the selected file (crosscheck/nodestate.py)
    node_refusals: Tuple[NodeRefusal, ...] = ()

    @property
    def loadable(self) -> Tuple[ParsedFile, ...]:
        """The files libcni loads (a network list was built)."""
        return tuple(p for p in self.parsed if p.network is not None)

    @property
    def releases(self) -> Tuple[runtimes.Modelled, ...]:
        return self.scope.releases


def ranges(items: Sequence[runtimes.Modelled]) -> str:
    """The affected releases as compact ranges, for a finding's message."""
    return runtimes.compact_ranges([m.release for m in items])


def newest_lib(items: Sequence[runtimes.Modelled]) -> runtimes.Libcni:
    """The newest libcni among ``items``: whose error text a finding quotes."""
    return max((m.release.libcni for m in items), key=lambda lib: lib.key)


__all__ = ["LOOPBACK", "NodeContext", "RuntimeScope", "newest_lib", "ranges", "runtime_scope"]
