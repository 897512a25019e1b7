"""The support matrix as data: which libcni each runtime release vendors, and what that libcni
(and the runtime glue around it: containerd's go-cni, CRI-O's ocicni, kubelet dockershim) does.

Sources: containernetworking/cni:pkg/version/version.go at each release tag (libcni releases), go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag (runtime -> libcni), containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9; kubernetes/kubernetes:pkg/kubelet/dockershim/network/cni/cni.go (kubelet <= 1.23) (load and
CHECK/STATUS behaviour of go-cni/ocicni/dockershim), containernetworking/cni:pkg/version/plugin.go@v0.8.1 (ParseVersion); containernetworking/cni#882; fixed in v1.1.0 by containernetworking/cni#893 (empty cniVersion), measured with libcni in network namespaces (docs/differential.md) (measured).
A runtime release row covers a range of patch releases that vendor the same libraries; ranges
are written the way the release notes are read ("1.6.5" .. "1.6.39"; a two-part bound such as
"1.25" .. "1.30" covers whole minor series).

Everything here is pure data plus small derived properties; nothing reads the file system except
``default_runtime`` (which only tests for the runtimes' config files).
"""

from __future__ import annotations

import functools
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..versions import SPEC_VERSIONS

VersionKey = Tuple[int, int, int]

__all__ = [
    "RELEASES",
    "RUNTIME_NAMES",
    "Libcni",
    "RuntimeRelease",
    "RuntimeSpecError",
    "compact_ranges",
    "default_runtime",
    "modelled_for_prediction",
    "parse_spec",
    "select",
]


@functools.lru_cache(maxsize=512)
def _key(text: str, *, upper: bool = False) -> VersionKey:
    """ "1.6.3" -> (1, 6, 3); "1.6" -> (1, 6, 0), or (1, 6, 9999) as an upper bound (whole series).
    Cached: every file is checked against every modelled release."""
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]]
    while len(parts) < 2:
        parts.append(0)
    if len(parts) == 2:
        parts.append(9999 if upper else 0)
    return (parts[0], parts[1], parts[2])


@dataclass(frozen=True)
class Libcni:
    """One libcni release and the behaviours cnidoctor models (containernetworking/cni:pkg/version/version.go at each release tag; containernetworking/cni:pkg/invoke/exec.go@v1.1.2 (fixupResultVersion); containernetworking/cni#895; containernetworking/cni:pkg/version/plugin.go@v0.8.1 (ParseVersion); containernetworking/cni#882; fixed in v1.1.0 by containernetworking/cni#893).

    ``version`` is the tag without "v" ("0.7.2-pre" = the 2020-03 snapshot CRI-O 1.17.5/1.18
    vendor: it already maps "" to 0.1.0 in validatePlugin but still rejects "" in ParseVersion).
    """

    version: str

    # Properties are derived from ``version`` alone and asked for every file x release:
    # cached_property stores them in the instance __dict__ (allowed on a frozen dataclass).
    @functools.cached_property
    def key(self) -> VersionKey:
        return _key(self.version)

    def at_least(self, version: str) -> bool:
        return self.key >= _key(version)

    @functools.cached_property
    def current(self) -> str:
        """version.Current(): sent on VERSION stdin and the newest result type it knows."""
        if self.at_least("1.2.0"):
            return "1.1.0"
        if self.at_least("1.0.0"):
            return "1.0.0"
        if self.at_least("0.7.0"):
            return "0.4.0"
        return "0.3.1"

    @functools.cached_property
    def result_versions(self) -> Tuple[str, ...]:
        """Result versions this library can type; anything else is `unsupported CNI result
        version` (cni@v0.8.1 pkg/version/version.go:61; v1.3.0 pkg/types/internal/create.go:50).
        Before 1.0 the 0.x "current" type covers up to Current()."""
        return tuple(v for v in SPEC_VERSIONS if _key(v) <= _key(self.current))

    @functools.cached_property
    def empty_version_breaks_teardown(self) -> bool:
        """ParseVersion("") fails with `invalid version "": the version is empty` on v0.7.0-v1.0.1
        (cni@v0.8.1 pkg/version/plugin.go:89-113); DelNetworkList/CheckNetworkList call it first."""
        return self.at_least("0.7.0") and not self.at_least("1.1.0")

    @functools.cached_property
    def validate_maps_empty(self) -> bool:
        """validatePlugin maps "" to "0.1.0" from v0.8.0 (and the 0.7.2-pre snapshot);
        v0.7.0/0.7.1 reject every plugin for version "" (cni@v0.8.0 libcni/api.go:635-637)."""
        return self.at_least("0.7.2")

    @functools.cached_property
    def has_check(self) -> bool:
        return self.at_least("0.7.0")

    @functools.cached_property
    def wraps_plugin_errors(self) -> bool:
        """v1.0.0+: `plugin type="X" failed (add): ...` / `(delete)` around per-plugin ADD/DEL
        errors; CHECK and STATUS errors are returned bare (cni@v1.0.1 libcni/api.go:418-520)."""
        return self.at_least("1.0.0")

    @functools.cached_property
    def result_typed_by_config(self) -> bool:
        """<= v0.8.x type a plugin's stdout by the *config's* cniVersion (re-typing any chained
        result, containernetworking/cni:pkg/invoke/exec.go@v0.8.1 (ExecPluginWithResult)); v1.0+
        keep the result's own version (containernetworking/cni:pkg/invoke/exec.go@v1.0.0
        (ExecPluginWithResult, create.CreateFromBytes))."""
        return not self.at_least("1.0.0")

    @functools.cached_property
    def reads_network_folder(self) -> bool:
        """v1.3.0+ append the ``*.conf`` files of ``<confdir>/<network name>/`` to a list's
        plugins unless it sets ``loadOnlyInlinedPlugins`` (a boolean read from the same release):
        containernetworking/cni:libcni/conf.go@v1.3.0 (NetworkConfFromFile,
        NetworkPluginConfsFromFiles). Measured with libcni 1.3.0 (tests/differential)."""
        return self.at_least("1.3.0")

    @functools.cached_property
    def labels_unversioned_result(self) -> bool:
        """v1.1.1+ label a result printed without cniVersion with the config's version
        (fixupResultVersion, containernetworking/cni@55fe94e, first tag v1.1.1:
        containernetworking/cni:pkg/invoke/exec.go@v1.1.1; containernetworking/cni#895); v1.0.0-v1.1.0
        type it as "0.1.0" (containernetworking/cni:pkg/types/create/create.go@v1.1.0 (DecodeVersion);
        pkg/types/020/types.go@v1.1.0 (NewResult)). Measured with libcni 1.1.0 and 1.1.2."""
        return self.at_least("1.1.1")

    @functools.cached_property
    def reads_cni_versions(self) -> bool:
        """`cniVersions` is parsed from v1.2.0 (cni@v1.2.3 libcni/conf.go:91-135)."""
        return self.at_least("1.2.0")

    @functools.cached_property
    def disable_check_strings(self) -> str:
        """How a string `disableCheck` loads: "reject" (<= v1.1.x, `invalid disableCheck type
        string`), "true-false" (v1.2.0), "readbool" (v1.2.1+: same values, other error texts)."""
        if self.at_least("1.2.1"):
            return "readbool"
        if self.at_least("1.2.0"):
            return "true-false"
        return "reject"

    @functools.cached_property
    def has_status_gc(self) -> bool:
        return self.at_least("1.2.0")

    @functools.cached_property
    def wraps_exec_errors(self) -> bool:
        """v0.8.0+ prefix exec failures with `netplugin failed with no error message: `."""
        return self.at_least("0.8.0")

    @functools.cached_property
    def rejects_path_in_type(self) -> bool:
        """CVE-2021-20206 fix, v0.8.1 (cni@v0.8.1 pkg/invoke/find.go:30-32)."""
        return self.at_least("0.8.1")

    @functools.cached_property
    def load_error_capital(self) -> bool:
        """v0.7.x wrote `Failed to parse plugin config` (containernetworking/cni:libcni@v0.7.1)."""
        return self.at_least("0.7.0") and not self.at_least("0.8.0")


@dataclass(frozen=True)
class RuntimeRelease:
    """A range of releases of one runtime that vendor the same CNI libraries.

    ``runtime``: "containerd", "crio", "dockershim" or "libcni" (a bare libcni caller such as
    cnitool: every verb modelled as libcni runs it). ``loopback_version`` is the cniVersion of
    the runtime's built-in `cni-loopback` network (None when not modelled).
    """

    runtime: str
    first: str
    last: str
    libcni: Libcni
    glue: str
    validates_on_load: bool = False  # ValidateNetworkList per file (ocicni, dockershim >= 1.16)
    calls_check: bool = False  # CHECK after ADD (CRI-O pod status, lists >= 0.4.0)
    runs_status: bool = False  # CNI STATUS feeds NetworkReady (containerd >= 2.0.1, CRI-O >= 1.32)
    runs_gc: bool = False  # CNI GC at start-up (CRI-O >= 1.32)
    # ocicni's errMissingDefaultNetwork starts "no CNI configuration file" from v0.4.2 (CRI-O
    # >= 1.30), "No ..." before (cri-o/ocicni@a0ddd97, first tag v0.4.2)
    lowercase_no_config: bool = False
    loopback_version: Optional[str] = None
    verified: bool = True
    note: str = ""

    @property
    def display(self) -> str:
        return DISPLAY_NAMES[self.runtime]

    def contains(self, version: str) -> bool:
        return _key(self.first) <= _key(version) <= _key(self.last, upper=True)

    @property
    def label(self) -> str:
        """e.g. "containerd 1.6.5-1.6.39", "containerd 1.6.3"."""
        return f"{self.display} {_span(self.first, self.last)}"


DISPLAY_NAMES: Dict[str, str] = {
    "containerd": "containerd",
    "crio": "CRI-O",
    "dockershim": "kubelet dockershim",
    "libcni": "libcni",
}

RUNTIME_NAMES: Dict[str, str] = {
    "containerd": "containerd",
    "crio": "crio",
    "cri-o": "crio",
    "dockershim": "dockershim",
    "kubelet": "dockershim",
    "docker": "dockershim",
    "libcni": "libcni",
    "cni": "libcni",
}

L = Libcni


def _containerd() -> Tuple[RuntimeRelease, ...]:
    """go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag containerd table; go-cni never runs VERSION or CHECK (containernetworking/cni:pkg/invoke/exec.go@v1.3.0 (GetVersionInfo); containernetworking/cni:libcni/api.go@v1.3.0 (ValidateNetworkList); containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9);
    the built-in loopback is 0.3.1 except go-cni v1.1.4 = containerd 1.6.3 (1.0.0)."""
    rows = (
        ("1.3.0", "1.3", "0.7.1", "go-cni 49fbd9b", False),
        ("1.4.0", "1.4.0", "0.7.1", "go-cni v1.0.0", False),
        ("1.4.1", "1.4.13", "0.8.0", "go-cni v1.0.1", False),
        ("1.5.0", "1.5.18", "0.8.1", "go-cni v1.0.2", False),
        ("1.6.0", "1.6.2", "1.0.1", "go-cni v1.1.3", False),
        ("1.6.3", "1.6.3", "1.0.1", "go-cni v1.1.4", False),
        ("1.6.4", "1.6.4", "1.1.0", "go-cni v1.1.5", False),
        ("1.6.5", "1.6.39", "1.1.1", "go-cni v1.1.6", False),
        ("1.7.0", "1.7.34", "1.1.2", "go-cni v1.1.9", False),
        ("2.0.0", "2.0.0", "1.2.3", "go-cni v1.1.10", False),
        ("2.0.1", "2.0.2", "1.2.3", "go-cni v1.1.11", True),
        ("2.0.3", "2.0.11", "1.2.3", "go-cni v1.1.12", True),
        ("2.1.0", "2.1.9", "1.3.0", "go-cni v1.1.12", True),
        ("2.2.0", "2.2.7", "1.3.0", "go-cni v1.1.13", True),
    )
    return tuple(
        RuntimeRelease(
            "containerd",
            first,
            last,
            L(lib),
            glue,
            runs_status=status,
            loopback_version="1.0.0" if first == "1.6.3" else "0.3.1",
        )
        for first, last, lib, glue, status in rows
    )


def _crio() -> Tuple[RuntimeRelease, ...]:
    """go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag CRI-O table; ocicni validates each file (VERSION probe of top-level
    plugins) except the 1.17.0 snapshot, and checks pod status after every ADD (CHECK for lists
    >= 0.4.0, ocicni@v0.5.1 :909-983); STATUS + GC from 1.32 (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))."""
    rows = (
        ("1.17.0", "1.17.4", "0.7.1", "ocicni 7762645", False, False),
        ("1.17.5", "1.18", "0.7.2-pre", "ocicni 2020-04", True, False),
        ("1.19.0", "1.20", "0.8.0", "ocicni 2020-04..2021-06", True, False),
        ("1.21.0", "1.22", "0.8.1", "ocicni 2021-03..06", True, False),
        ("1.23.0", "1.23.3", "1.0.1", "ocicni 2021-10", True, False),
        ("1.23.4", "1.23.5", "1.1.1", "ocicni v0.4.0", True, False),
        ("1.24.0", "1.24.1", "1.1.0", "ocicni v0.3.1", True, False),
        ("1.24.2", "1.24.6", "1.1.1", "ocicni v0.4.0", True, False),
        ("1.25.0", "1.27", "1.1.2", "ocicni v0.4.0", True, False),
        ("1.28.0", "1.28", "1.1.2", "ocicni ad62f4e", True, False),
        ("1.29.0", "1.29", "1.1.2", "ocicni v0.4.1", True, False),
        ("1.30.0", "1.30", "1.1.2", "ocicni v0.4.2", True, False),
        ("1.31.0", "1.31", "1.2.3", "ocicni v0.4.2", True, False),
        ("1.32.0", "1.32", "1.2.3", "ocicni v0.4.3", True, True),
        ("1.33.0", "1.34", "1.3.0", "ocicni v0.4.3", True, True),
        ("1.35.0", "1.35", "1.3.0", "ocicni v0.5.0", True, True),
    )
    return tuple(
        RuntimeRelease(
            "crio",
            first,
            last,
            L(lib),
            glue,
            validates_on_load=validates,
            calls_check=True,
            runs_status=status_gc,
            runs_gc=status_gc,
            lowercase_no_config=_key(first) >= _key("1.30.0"),
            note="1.17.1-1.17.4 assumed to vendor the same libcni as 1.17.0" if first == "1.17.0" else "",
        )
        for first, last, lib, glue, validates, status_gc in rows
    )


def _dockershim() -> Tuple[RuntimeRelease, ...]:
    """go.mod (or vendor/) of containerd/containerd and cri-o/cri-o at each release tag (from PR history, not release go.mod files: marked unverified) and kubernetes/kubernetes:pkg/kubelet/dockershim/network/cni/cni.go (kubelet <= 1.23):
    validation from 1.16, built-in loopback 0.2.0; dockershim never calls CHECK."""
    rows = (
        ("1.9.0", "1.15", "0.6.0", False),
        ("1.16.0", "1.18", "0.7.1", True),
        ("1.19.0", "1.21", "0.8.0", True),
        ("1.22.0", "1.23", "0.8.1", True),
    )
    return tuple(
        RuntimeRelease(
            "dockershim",
            first,
            last,
            L(lib),
            "kubelet cni network plugin",
            validates_on_load=validates,
            loopback_version="0.2.0",
            verified=False,
        )
        for first, last, lib, validates in rows
    )


LIBCNI_TAGS: Tuple[str, ...] = (
    "0.6.0",
    "0.7.0",
    "0.7.1",
    "0.8.0",
    "0.8.1",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.1.1",
    "1.1.2",
    "1.2.0",
    "1.2.1",
    "1.2.2",
    "1.2.3",
    "1.3.0",
)


def _libcni() -> Tuple[RuntimeRelease, ...]:
    """A bare libcni caller (cnitool-like): every verb runs exactly as libcni implements it."""
    return tuple(RuntimeRelease("libcni", tag, tag, L(tag), "libcni API", calls_check=True) for tag in LIBCNI_TAGS)


RELEASES: Dict[str, Tuple[RuntimeRelease, ...]] = {
    "containerd": _containerd(),
    "crio": _crio(),
    "dockershim": _dockershim(),
    "libcni": _libcni(),
}

# Checked when no --runtime is given: the runtimes Kubernetes nodes run today (dockershim was
# removed in Kubernetes 1.24 and its table is unverified; ask for it with --runtime dockershim).
DEFAULT_RUNTIMES: Tuple[str, ...] = ("containerd", "crio")


class RuntimeSpecError(ValueError):
    """A --runtime value cnidoctor does not know; str() is a one-line explanation."""


@dataclass(frozen=True)
class Modelled:
    """One runtime the user asked about: a release row plus the version text as written."""

    release: RuntimeRelease
    version: str


def parse_spec(text: str) -> Tuple[Modelled, ...]:
    """ "containerd@1.6.3" -> that release; "crio" -> every CRI-O release (newest last).

    "crio@1.28" means 1.28.0 and is reported as "1.28"; any patch of a row matches the row.
    """
    name, _, version = text.strip().partition("@")
    runtime = RUNTIME_NAMES.get(name.strip().lower())
    if runtime is None:
        known = ", ".join(sorted(set(RUNTIME_NAMES.values())))
        raise RuntimeSpecError(f"unknown runtime {name!r} in --runtime {text!r}; known: {known}")
    rows = RELEASES[runtime]
    version = version.strip().lstrip("v")
    if not version:
        return tuple(Modelled(row, row.last) for row in rows)
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", version) and not (runtime == "libcni" and version in LIBCNI_TAGS):
        raise RuntimeSpecError(f"--runtime {text!r}: version must look like 1.6.3 or 1.28")
    if runtime == "libcni":
        for row in rows:
            if _key(row.first) == _key(version):
                return (Modelled(row, version),)
    else:
        for row in rows:
            if row.contains(version):
                return (Modelled(row, version),)
    span = f"{rows[0].first}-{rows[-1].last}"
    raise RuntimeSpecError(f"--runtime {text!r}: cnidoctor knows {DISPLAY_NAMES[runtime]} {span} only")


# Without --runtime, findings cover the release lines still in wide use on nodes today
# (containerd 1.7 and 2.x; CRI-O from 1.31): a 1.0.0 config is not flagged for containerd 1.5,
# which has been out of support since 2023. `--runtime containerd` checks every release.
DEFAULT_SCOPE_FROM: Dict[str, str] = {"containerd": "1.7.0", "crio": "1.31.0"}


def select(specs: Sequence[str]) -> Tuple[Modelled, ...]:
    """The releases to check: the given specs, or the in-use lines of DEFAULT_RUNTIMES."""
    if not specs:
        return tuple(
            Modelled(row, row.last)
            for name in DEFAULT_RUNTIMES
            for row in RELEASES[name]
            if _key(row.last, upper=True) >= _key(DEFAULT_SCOPE_FROM[name])
        )
    out: List[Modelled] = []
    for spec in specs:
        for item in parse_spec(spec):
            if item not in out:
                out.append(item)
    return tuple(out)


def default_runtime(root: str = "/") -> Modelled:
    """The runtime to predict for when none is given: CRI-O's newest release when the node has
    CRI-O's configuration (/etc/crio) and no /etc/containerd/config.toml, else containerd's newest.
    Only existence is tested; nothing is read."""
    has_crio = os.path.isdir(os.path.join(root, "etc/crio"))
    has_containerd = os.path.exists(os.path.join(root, "etc/containerd/config.toml"))
    name = "crio" if has_crio and not has_containerd else "containerd"
    row = RELEASES[name][-1]
    return Modelled(row, row.last)


def modelled_for_prediction(specs: Sequence[str], root: str = "/") -> Modelled:
    """The first --runtime given (its newest row when only a name is given), else the default."""
    if specs:
        return parse_spec(specs[0])[-1]
    return default_runtime(root)


def _span(first: str, last: str) -> str:
    if first == last:
        return first
    start = first[:-2] if first.endswith(".0") and first.count(".") == 2 else first
    return start if start == last else f"{start}-{last}"


def compact_ranges(releases: Sequence[RuntimeRelease]) -> str:
    """Name affected releases compactly: adjacent rows of one runtime merge into one range.

    e.g. "containerd 1.3-1.6.3, CRI-O 1.17-1.23.3". Rows are merged only when no row of that
    runtime lies between them in the matrix.
    """
    parts: List[str] = []
    for runtime, rows in RELEASES.items():
        chosen = [row in releases for row in rows]
        index = 0
        spans: List[str] = []
        while index < len(rows):
            if not chosen[index]:
                index += 1
                continue
            start = index
            while index + 1 < len(rows) and chosen[index + 1]:
                index += 1
            spans.append(_span(rows[start].first, rows[index].last))
            index += 1
        if spans:
            parts.append(f"{DISPLAY_NAMES[runtime]} " + ", ".join(spans))
    return ", ".join(parts)
