"""Which runtime this node runs, its release and libcni, and the CNI settings it really uses.

locate (processes, units, install paths, the kubelet's endpoint) -> the runtime the kubelet
uses (else the one running, else the only one installed) -> its release and libcni
(runtime/version.py: build info, package database, version file, data-dir name, then
``--version``) -> its effective CNI settings (runtime/containerd.py, k3s.py, crio.py,
cridockerd.py) -> the support-matrix row the prediction models (``modelled``).

Nothing here executes anything but ``<runtime> --version`` (and only when no file answered and
``allow_exec`` is set).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Tuple

from ..frozen import dataclass
from ..model import Finding
from . import matrix
from .containerd import read_containerd
from .cridockerd import read_cridockerd
from .crio import read_crio
from .hostfs import HostFS
from .k3s import read_k3s
from .locate import InstalledRuntime, NodeRuntimes, locate_runtimes
from .model import Evidence, RuntimeConfig, RuntimeName, RuntimeVersion
from .releases import release_number
from .version import modelled_libcni, read_runtime_version

# When the kubelet's endpoint does not say and several are present: the embedding distributions
# first (their containerd is the one that runs), then the stand-alone runtimes.
PREFERENCE: Tuple[RuntimeName, ...] = ("k3s", "rke2", "containerd", "crio", "cri-dockerd")


@dataclass(frozen=True)
class DetectedRuntime:
    """One runtime found on the node, read as it reads itself."""

    name: RuntimeName
    binary: Optional[str]
    running: bool
    version: RuntimeVersion
    config: RuntimeConfig
    # The support-matrix row the prediction models, with the libcni actually compiled in when
    # the node says which (None: the matrix knows no such release, e.g. cri-dockerd).
    modelled: Optional[matrix.Modelled]
    notes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeRuntime:
    """What detection found under ``host_root``: the runtime whose configuration drives the
    check (None when none was found) and the findings about the runtimes' configuration."""

    host_root: str
    detected: Optional[DetectedRuntime]
    installed: Tuple[RuntimeName, ...]
    kubelet_endpoint: Optional[str]
    findings: Tuple[Finding, ...]


# A node root that holds a runtime's configuration but none of its binaries, units or processes
# (an image being built, a container that mounts only /etc): the configuration still decides.
CONFIG_ONLY: Tuple[Tuple[RuntimeName, str], ...] = (
    ("k3s", "/etc/rancher/k3s"),
    ("k3s", "/var/lib/rancher/k3s/agent/etc/containerd/config.toml"),
    ("rke2", "/etc/rancher/rke2"),
    ("rke2", "/var/lib/rancher/rke2/agent/etc/containerd/config.toml"),
    ("containerd", "/etc/containerd/config.toml"),
    ("crio", "/etc/crio"),
)


def configured_only(host_root: str) -> Optional[InstalledRuntime]:
    """The first runtime whose configuration is present, for a root where locate found none."""
    fs = HostFS(host_root)
    for name, path in CONFIG_ONLY:
        if fs.exists(path):
            evidence = (Evidence("config", path, "configuration present; no binary, unit or process found"),)
            return InstalledRuntime(name, None, (), (), False, None, (), (), evidence)
    return None


def detect_runtime(host_root: str, *, allow_exec: bool = True, timeout: float = 5.0) -> NodeRuntime:
    """Find and read the node's runtime under ``host_root`` (a directory standing in for ``/``)."""
    node = locate_runtimes(host_root)
    chosen = choose(node) or configured_only(host_root)
    if chosen is None:
        names = tuple(r.name for r in node.runtimes)
        return NodeRuntime(host_root, None, names, _endpoint(node), node.findings)
    detected = read_detected(host_root, chosen, allow_exec=allow_exec, timeout=timeout)
    return NodeRuntime(
        host_root,
        detected,
        tuple(r.name for r in node.runtimes),
        _endpoint(node),
        node.findings + detected.config.findings,
    )


def _endpoint(node: NodeRuntimes) -> Optional[str]:
    return node.kubelet.endpoint if node.kubelet is not None else None


def choose(node: NodeRuntimes) -> Optional[InstalledRuntime]:
    """The runtime the kubelet talks to; else a running one; else by PREFERENCE."""
    if node.kubelet_runtime is not None:
        found = node.get(node.kubelet_runtime)
        if found is not None:
            return found
    ranked = sorted(node.runtimes, key=lambda r: (not r.running, PREFERENCE.index(r.name)))
    return ranked[0] if ranked else None


def read_detected(host_root: str, installed: InstalledRuntime, *, allow_exec: bool, timeout: float) -> DetectedRuntime:
    data_dir = installed.flag("data-dir")
    version = read_runtime_version(
        installed.name, installed.binary, host_root, data_dir=data_dir, allow_exec=allow_exec, timeout=timeout
    )
    config = read_config(host_root, installed, version)
    config = replace(config, evidence=installed.evidence + version.evidence + config.evidence)
    modelled, notes = modelled_release(installed.name, version, config.assumed_release)
    return DetectedRuntime(
        installed.name, installed.binary, installed.running, version, config, modelled, version.notes + notes
    )


def read_config(host_root: str, installed: InstalledRuntime, version: RuntimeVersion) -> RuntimeConfig:
    """The runtime's effective CNI settings, by the reader of its kind."""
    name = installed.name
    if name in ("k3s", "rke2"):
        if name == "rke2":
            return read_k3s(host_root, "rke2", version.containerd_version, installed.flag("data-dir"))
        return read_k3s(host_root, "k3s", version.containerd_version, installed.flag("data-dir"))
    if name == "crio":
        return read_crio(host_root, version.version, installed.argv, dict(installed.environment))
    if name == "cri-dockerd":
        argv = installed.argv if installed.running else None
        found = read_cridockerd(host_root, version.version, argv)
        if found is not None:
            return found
    return read_containerd(host_root, version.version, installed.flag("config"))


def modelled_release(
    name: RuntimeName, version: RuntimeVersion, assumed: Optional[str] = None
) -> Tuple[Optional[matrix.Modelled], Tuple[str, ...]]:
    """The matrix row to model: the runtime's own release (k3s/RKE2: the containerd they embed),
    with its libcni replaced by the one the node records when that differs from the matrix.
    ``assumed``: the release the configuration reader modelled when the node did not say."""
    family = {"k3s": "containerd", "rke2": "containerd", "containerd": "containerd", "crio": "crio"}.get(name)
    release = release_number(version.containerd_version if name in ("k3s", "rke2") else version.version)
    notes: Tuple[str, ...] = ()
    if release is None and assumed is not None and version.libcni is None:
        release = assumed
        what = "containerd" if name == "containerd" else f"containerd in {name}"
        notes += (f"the {what} release was not read from the node; modelled as {assumed}, from its configuration",)
    row: Optional[matrix.Modelled] = None
    if family is not None and release is not None:
        try:
            row = matrix.parse_spec(f"{family}@{release}")[-1]
        except matrix.RuntimeSpecError as exc:
            notes += (f"{exc}; the libcni it carries is modelled instead",)
    elif family is not None and version.libcni is None:
        row = matrix.parse_spec(family)[-1]
        notes += (f"the {name} release was not read from the node; modelled as the newest, {row.version}",)
    if version.libcni is None:
        return row, notes
    lib_tag, lib_note = modelled_libcni(version.libcni)
    notes += (lib_note,) if lib_note else ()
    lib_row = matrix.parse_spec(f"libcni@{lib_tag}")[-1]
    if row is None:
        return lib_row, notes
    if row.release.libcni.version != lib_tag:
        notes += (
            f"the node records libcni {version.libcni}; the support matrix says "
            f"{row.release.libcni.version} for {row.release.display} {row.version}: the node wins",
        )
        row = matrix.Modelled(replace(row.release, libcni=lib_row.release.libcni), row.version)
    return row, notes
