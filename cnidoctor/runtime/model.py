"""Frozen records of the runtime side: the seam between the runtime readers and the rest.

Every reader (containerd, k3s/RKE2, CRI-O, cri-dockerd) returns a ``RuntimeConfig``: the CNI
settings *after* the runtime's own defaulting and merging, each with where it came from, plus the
problems found in the runtime's configuration as ``Finding``s that name the runtime's file and key.
"""

from __future__ import annotations

from typing import Literal, Optional, Tuple

from ..frozen import dataclass
from ..model import Finding

RuntimeName = Literal["containerd", "crio", "k3s", "rke2", "cri-dockerd"]
# Where a value came from, as the JSON report's ``runtime.source`` names it.
VersionSource = Literal["buildinfo", "package", "version-file", "data-dir", "exec", "flag", "default"]
# Where the libcni version came from: read directly, or mapped from the release by the matrix.
LibcniSource = Literal["buildinfo", "package", "matrix", "flag"]
DirsSource = Literal["config", "default", "flag"]


@dataclass(frozen=True)
class Evidence:
    """One thing read on the node that a conclusion rests on (shown to the user as is)."""

    kind: str  # "process", "unit", "binary", "config", "package", "version-file", "data-dir"
    path: str  # path as seen on the node (without the host root prefix)
    detail: str = ""


@dataclass(frozen=True)
class RuntimeVersion:
    """A runtime release and the libcni compiled into it, with the source of each."""

    version: Optional[str]  # "1.7.13", "2.1.4", "1.28.2", "v1.30.4+k3s1"; None when unknown
    libcni: Optional[str]  # "1.1.2" (no leading v); None when unknown
    source: VersionSource
    evidence: Tuple[Evidence, ...] = ()
    libcni_source: Optional[LibcniSource] = None
    # k3s/RKE2: the release of the containerd they run ("2.0.2-k3s2"); None otherwise/unknown.
    containerd_version: Optional[str] = None
    # Sentences for the report: a release or libcni modelled as a neighbour, a source that
    # could not be used ("cannot run … from here", "--no-probe").
    notes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class RuntimeConfig:
    """The effective CNI settings of one runtime on the node, computed as the runtime does.

    Paths are as the runtime sees them on the node (absolute, without the ``--host-root``
    prefix). ``max_conf_num`` is None where the runtime has no such limit (CRI-O loads all).
    """

    name: RuntimeName
    config_file: Optional[str]  # the main config file read (None: built-in defaults only)
    conf_dir: str
    bin_dirs: Tuple[str, ...]
    dirs_source: DirsSource
    max_conf_num: Optional[int] = None
    default_network: Optional[str] = None  # CRI-O cni_default_network / dockershim-like name
    conf_template: Optional[str] = None
    # Per runtime handler conf dirs (containerd ``cni_conf_dir`` under a runtime), name -> dir.
    handler_conf_dirs: Tuple[Tuple[str, str], ...] = ()
    files_read: Tuple[str, ...] = ()  # every runtime configuration file read, in merge order
    # The release the reader modelled when the node did not say ("1.7.34"): detection models the
    # same one, so the configuration and the prediction agree on what runs.
    assumed_release: Optional[str] = None
    # False: containerd >= 2.1 refuses to load its CRI runtime plugin (bin_dir and bin_dirs both
    # set, CNI609), so no CNI setting is in effect and every CRI call fails
    cri_plugin_loads: bool = True
    findings: Tuple[Finding, ...] = ()  # problems in the runtime's configuration (CNI6xx)
    evidence: Tuple[Evidence, ...] = ()
