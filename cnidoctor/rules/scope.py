"""Severity that follows the modelled runtime: one mechanism for every finding whose harm depends
on the runtime release (issue 10, point 1).

A runtime-dependent finding is an error only when the runtime it is computed for is affected:
with ``--runtime`` or a runtime detected under ``--host-root`` (an explicit scope), when any
release in scope is affected; with the default scope (PATHS only), when the runtime the
prediction models (runtime.matrix.default_runtime: the newest containerd, or CRI-O) is affected.
Otherwise it is a warning that names the affected releases (runtime.matrix.compact_ranges).

Static rules (syntax, semantics, directory) run per file without a scope, so their runtime
dependence is declared here per rule code as a predicate over a release row of the support
matrix (runtime/matrix.py); ``weigh_static`` applies it once the scope is known. The node
checks (rules/skew.py: CNI513) compute their affected releases themselves and call ``weigh``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..crosscheck.context import RuntimeScope
from ..model import Finding, ParsedFile, Severity
from ..runtime import matrix as runtimes

Affects = Callable[[runtimes.RuntimeRelease], bool]

# Static rules whose harm depends on the runtime release, and which releases they break.
AFFECTED_RELEASES: Dict[str, Affects] = {
    # The skipped file breaks only loaders that stop at the first file: go-cni and bare libcni
    # (containerd/go-cni:opts.go@v1.1.13 loadFromConfDir); CRI-O/dockershim skip it
    # (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 loadNetworks).
    "CNI006": lambda r: r.runtime in ("containerd", "libcni"),
    # ParseVersion("") fails on libcni v0.7.0-v1.0.1; fixed by containernetworking/cni#893 (v1.1.0).
    "CNI301": lambda r: r.libcni.empty_version_breaks_teardown,
    # ValidateNetworkName from libcni v0.8.0 (containernetworking/cni:pkg/utils/utils.go@v0.8.0).
    "CNI304": lambda r: r.libcni.at_least("0.8.0"),
    # ocicni names an unnamed network after its file (cri-o/cri-o#6273); the others fail ADD.
    "CNI305": lambda r: r.runtime != "crio",
    # Only libcni v1.3.0 reads <dir>/<name>/*.conf; an error CNI013 is a plugin file there that
    # fails the list (containernetworking/cni:libcni/conf.go@v1.3.0 (NetworkConfFromFile)).
    "CNI013": lambda r: r.libcni.reads_network_folder,
}


# Runtime-dependent at one place only: an error CNI306 (CNI201 in a 1.1.0 list) is a list flag readBool refuses, from the
# release that started reading it (containernetworking/cni:libcni/conf.go@v1.2.3 and @v1.3.0
# (NetworkConfFromBytes readBool)).
AFFECTED_AT: Dict[Tuple[str, str], Affects] = {
    ("CNI306", "/disableGC"): lambda r: r.libcni.at_least("1.2.1"),
    ("CNI306", "/loadOnlyInlinedPlugins"): lambda r: r.libcni.reads_network_folder,
    ("CNI201", "/disableGC"): lambda r: r.libcni.at_least("1.2.1"),
    ("CNI201", "/loadOnlyInlinedPlugins"): lambda r: r.libcni.reads_network_folder,
}

# Runtime-dependent for some values only: a disableCheck string "true"/"false" (any case) breaks
# libcni < v1.2.0 only, which accepts nothing but a boolean; every other non-boolean is refused
# by every release (containernetworking/cni:libcni/conf.go@v1.1.2 (ConfListFromBytes), @v1.2.0
# (ConfListFromBytes), @v1.3.0 (NetworkConfFromBytes readBool)), so it stays an error.
AFFECTED_BY_VALUE: Dict[str, Callable[[object], Optional[Affects]]] = {
    "CNI309": lambda value: _before_bool_strings if _is_bool_string(value) else None,
}


def _is_bool_string(value: object) -> bool:
    return isinstance(value, str) and value.lower() in ("true", "false")


def _before_bool_strings(release: runtimes.RuntimeRelease) -> bool:
    return not release.libcni.at_least("1.2.0")


# A list without `plugins` whose <dir>/<name>/*.conf folder holds loadable plugin files loads on
# libcni v1.3.0 (NetworkConfFromFile appends them; containernetworking/cni:libcni/conf.go@v1.3.0
# (NetworkConfFromFile)): for such a file its load failure, and "no file loads" when it names
# it, hit only older libcni. Which files: config/netdir via ParsedFile.network_dir.
FOLDER_LOADED_RULES = ("CNI014", "CNI110", "CNI118")


def _before_folder_plugins(release: runtimes.RuntimeRelease) -> bool:
    return not release.libcni.reads_network_folder


def loaded_by_folder(item: ParsedFile) -> bool:
    """libcni v1.3.0 loads ``item`` only thanks to its plugin folder (v1.2.3 refuses it)."""
    folder = item.network_dir
    return item.network is None and folder is not None and folder.network is not None and bool(folder.network.plugins)


def all_releases() -> Tuple[runtimes.Modelled, ...]:
    """Every release row of the support matrix, as the affected set is named from it."""
    return tuple(runtimes.Modelled(row, row.last) for rows in runtimes.RELEASES.values() for row in rows)


def weigh(severity: Severity, affected: Sequence[runtimes.Modelled], scope: RuntimeScope) -> Tuple[Severity, str]:
    """The severity of a runtime-dependent finding of rule severity ``severity`` in ``scope``,
    and the sentence to append to its message ("" when it keeps its severity)."""
    if severity <= Severity.WARNING or not affected:
        return severity, ""
    rows = {m.release for m in affected}
    if scope.explicit and any(m.release in rows for m in scope.releases):
        return severity, ""
    if not scope.explicit and scope.modelled.release in rows:
        return severity, ""
    named = runtimes.compact_ranges(list(rows))
    if scope.explicit:
        return Severity.WARNING, f"; {_scope_text(scope)} is not affected (affected: {named})"
    return Severity.WARNING, (
        f"; {scope.modelled.release.display} {scope.modelled.version} is not affected (affected: {named}); "
        "name your runtime with --runtime for a definite answer"
    )


def _scope_text(scope: RuntimeScope) -> str:
    return runtimes.compact_ranges([m.release for m in scope.releases])


def weigh_static(findings: Sequence[Finding], scope: RuntimeScope, parsed: Sequence[ParsedFile] = ()) -> List[Finding]:
    """Apply ``weigh`` to the static findings of the rules in AFFECTED_RELEASES (and of
    FOLDER_LOADED_RULES on files libcni v1.3.0 loads from their plugin folder)."""
    everything = all_releases()
    folder_loaded = {item.path for item in parsed if loaded_by_folder(item)}
    documents = {item.path: item.document for item in parsed}
    out: List[Finding] = []
    for finding in findings:
        affects = AFFECTED_RELEASES.get(finding.code) or AFFECTED_AT.get((finding.code, finding.pointer))
        if finding.code in AFFECTED_BY_VALUE and (finding.file or "") in documents:
            value = _top_level_value(documents[finding.file or ""], finding.pointer)
            affects = AFFECTED_BY_VALUE[finding.code](value)
        if finding.code in FOLDER_LOADED_RULES and finding.file in folder_loaded:
            affects = _before_folder_plugins
        if affects is None or finding.severity <= Severity.WARNING:
            out.append(finding)
            continue
        severity, suffix = weigh(finding.severity, [m for m in everything if affects(m.release)], scope)
        out.append(replace(finding, severity=severity, message=finding.message + suffix) if suffix else finding)
    return out


def _top_level_value(document: object, pointer: str) -> object:
    """The value at a one-token JSON pointer ("/key") of a parsed document, else None."""
    key = pointer[1:].replace("~1", "/").replace("~0", "~")
    if not pointer.startswith("/") or "/" in pointer[1:] or not isinstance(document, dict):
        return None
    return document.get(key)


__all__ = ["AFFECTED_BY_VALUE", "AFFECTED_RELEASES", "weigh", "weigh_static"]
