"""Which container runtimes a node has, how each is started, and which one the kubelet uses.

Looked for, under the host root, in the order real installs make reliable: running processes
(``/proc/<pid>/exe`` and ``cmdline``, when the pid namespace is visible), systemd units (with
drop-ins and environment files, see ``systemd``), then the usual install paths (``/usr/bin``,
``/usr/local/bin`` - upstream tarballs, RKE2, the CRI-O bundle -, ``/usr/sbin``). Nothing is
executed. The kubelet's ``--container-runtime-endpoint`` comes from its process, its unit
(kubeadm's ``10-kubeadm.conf`` pulls ``KUBELET_KUBEADM_ARGS`` from
/var/lib/kubelet/kubeadm-flags.env) or ``containerRuntimeEndpoint`` in its ``--config`` file;
a flag overrides the file, as the kubelet applies flags over its config file.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..model import Finding, Severity
from ..rules import runtime_crio as rules
from .argv import parse_go_flags
from .hostfs import HostFS
from .model import Evidence, RuntimeName
from .systemd import ServiceCommand, read_service

INSTALL_DIRS = ("/usr/bin", "/usr/local/bin", "/usr/sbin")
RUNTIMES: Tuple[RuntimeName, ...] = ("containerd", "crio", "k3s", "rke2", "cri-dockerd")
BINARIES: Dict[RuntimeName, str] = {
    "containerd": "containerd",
    "crio": "crio",
    "k3s": "k3s",
    "rke2": "rke2",
    "cri-dockerd": "cri-dockerd",
}
UNITS: Dict[RuntimeName, Tuple[str, ...]] = {
    "containerd": ("containerd.service",),
    "crio": ("crio.service", "cri-o.service"),  # cri-o.service is the unit's Alias=
    "k3s": ("k3s.service", "k3s-agent.service"),
    "rke2": ("rke2-server.service", "rke2-agent.service"),
    "cri-dockerd": ("cri-docker.service", "cri-dockerd.service"),
}
# The CRI socket each runtime serves unless told otherwise (containerd defaults, CRI-O
# config_unix.go@v1.28.2 CrioSocketPath, cri-dockerd cmd/cri/options/options.go@v0.4.3 and its
# cri-docker.socket "%t/cri-dockerd.sock", k3s/RKE2 embedded containerd).
DEFAULT_SOCKETS: Dict[RuntimeName, Tuple[str, ...]] = {
    "containerd": ("/run/containerd/containerd.sock",),
    "crio": ("/run/crio/crio.sock",),
    "k3s": ("/run/k3s/containerd/containerd.sock",),
    "rke2": ("/run/k3s/containerd/containerd.sock",),
    "cri-dockerd": ("/run/cri-dockerd.sock",),
}
# Flags parsed from each runtime's argv: canonical name -> spellings. For k3s/RKE2 the
# embedded containerd's ``-c`` is recorded as "containerd-config".
FLAG_SPELLINGS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "containerd": {"config": ("--config", "-c"), "address": ("--address", "-a")},
    "crio": {
        "config": ("--config", "-c"),
        "config-dir": ("--config-dir", "-d"),
        "listen": ("--listen",),
        "cni-config-dir": ("--cni-config-dir",),
        "cni-plugin-dir": ("--cni-plugin-dir",),
        "cni-default-network": ("--cni-default-network",),
    },
    "k3s": {
        "data-dir": ("--data-dir", "-d"),
        "config": ("--config", "-c"),
        "container-runtime-endpoint": ("--container-runtime-endpoint",),
    },
    "rke2": {
        "data-dir": ("--data-dir", "-d"),
        "config": ("--config", "-c"),
        "container-runtime-endpoint": ("--container-runtime-endpoint",),
    },
    "cri-dockerd": {
        "container-runtime-endpoint": ("--container-runtime-endpoint",),
        "network-plugin": ("--network-plugin",),
        "cni-conf-dir": ("--cni-conf-dir",),
        "cni-bin-dir": ("--cni-bin-dir",),
    },
    "kubelet": {"container-runtime-endpoint": ("--container-runtime-endpoint",), "config": ("--config",)},
}
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
_ENDPOINT_KEY = re.compile(r"^containerRuntimeEndpoint\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Process:
    """One process seen in ``<root>/proc``: its pid, ``exe`` link target and argv."""

    pid: int
    exe: Optional[str]
    argv: Tuple[str, ...]


@dataclass(frozen=True)
class InstalledRuntime:
    """A runtime found on the node and how it is (or would be) started.

    ``argv`` is the running process's command line, else the unit's expanded ``ExecStart``;
    ``flags`` are the parsed options that decide its files (``config``, ``config-dir``,
    ``data-dir``, ``containerd-config`` ...), last occurrence winning."""

    name: RuntimeName
    binary: Optional[str]
    argv: Tuple[str, ...]
    flags: Tuple[Tuple[str, str], ...]
    running: bool
    unit: Optional[str]
    environment: Tuple[Tuple[str, str], ...]  # from the unit (Environment/EnvironmentFile)
    sockets: Tuple[str, ...]  # CRI socket paths it serves (flag or default)
    evidence: Tuple[Evidence, ...]

    def flag(self, name: str) -> Optional[str]:
        for key, value in self.flags:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class KubeletEndpoint:
    """The kubelet's CRI endpoint and where it was read (``source`` process|unit|config)."""

    endpoint: str
    source: str
    file: Optional[str]
    evidence: Tuple[Evidence, ...]


@dataclass(frozen=True)
class NodeRuntimes:
    """What ``locate_runtimes`` found. ``kubelet_runtime`` names the runtime whose socket the
    kubelet's endpoint is (None when unknown or unmatched)."""

    runtimes: Tuple[InstalledRuntime, ...]
    kubelet: Optional[KubeletEndpoint]
    kubelet_runtime: Optional[RuntimeName]
    findings: Tuple[Finding, ...]

    def get(self, name: str) -> Optional[InstalledRuntime]:
        for runtime in self.runtimes:
            if runtime.name == name:
                return runtime
        return None


def locate_runtimes(root: str) -> NodeRuntimes:
    """Find the runtimes and the kubelet's endpoint under host root ``root``."""
    fs = HostFS(root)
    processes = list_processes(fs)
    found = tuple(r for r in (_find_runtime(fs, name, processes) for name in RUNTIMES) if r is not None)
    kubelet = kubelet_endpoint(fs, processes)
    chosen = _runtime_for_endpoint(found, kubelet)
    return NodeRuntimes(found, kubelet, chosen, _findings(found, kubelet, chosen))


def list_processes(fs: HostFS) -> Tuple[Process, ...]:
    """Every ``/proc/<pid>`` with a readable, non-empty ``cmdline`` (kernel threads have none)."""
    found: List[Process] = []
    for entry in fs.listdir("/proc"):
        if not entry.isdigit():
            continue
        raw = fs.read_bytes(f"/proc/{entry}/cmdline", limit=1 << 16)
        if not raw:
            continue
        argv = tuple(part.decode("utf-8", "replace") for part in raw.rstrip(b"\0").split(b"\0"))
        exe = fs.readlink(f"/proc/{entry}/exe")
        if exe is not None and exe.endswith(" (deleted)"):
            exe = exe[: -len(" (deleted)")]
        found.append(Process(int(entry), exe, argv))
    return tuple(sorted(found, key=lambda p: p.pid))


def classify(process: Process) -> Optional[str]:
    """Which program a process is: the argv[0] name first (k3s's ``containerd`` is a symlink to
    the k3s multicall binary, so ``exe`` says k3s while argv[0] says containerd), then ``exe``."""
    names = [posixpath.basename(process.argv[0]) if process.argv else ""]
    names.append(posixpath.basename(process.exe) if process.exe else "")
    for name in names:
        first = name.split()[0] if name.split() else ""
        if first in ("containerd", "crio", "k3s", "rke2", "cri-dockerd", "kubelet"):
            return first
    return None


def _embedded_in(process: Process) -> Optional[RuntimeName]:
    """k3s/RKE2 run their own containerd; tell it apart by binary or config path."""
    text = " ".join((process.exe or "",) + process.argv)
    if "/rancher/rke2/" in text or (process.exe or "").endswith("/rke2"):
        return "rke2"
    if "/rancher/k3s/" in text or (process.exe or "").endswith("/k3s"):
        return "k3s"
    return None


def _find_runtime(fs: HostFS, name: RuntimeName, processes: Sequence[Process]) -> Optional[InstalledRuntime]:
    evidence: List[Evidence] = []
    own = [p for p in processes if classify(p) == BINARIES[name] and _embedded_in(p) in (None, name)]
    if name == "containerd":
        own = [p for p in own if _embedded_in(p) is None]
    embedded = [p for p in processes if classify(p) == "containerd" and _embedded_in(p) == name]
    service = read_service(fs, UNITS[name])
    binary_paths = [f"{d}/{BINARIES[name]}" for d in INSTALL_DIRS if fs.is_file(f"{d}/{BINARIES[name]}")]
    for process in own + embedded:
        evidence.append(Evidence("process", f"/proc/{process.pid}", " ".join(process.argv)))
    if service is not None:
        evidence.extend(service.evidence)
    evidence.extend(Evidence("binary", path) for path in binary_paths)
    if not (own or embedded or service or binary_paths):
        return None
    argv = own[0].argv if own else (service.args if service else ())
    flags = parse_flags(name, argv)
    if embedded:
        config = dict(parse_flags("containerd", embedded[0].argv)).get("config")
        if config:
            flags = flags + (("containerd-config", config),)
    binary = _binary(own, service, binary_paths)
    return InstalledRuntime(
        name=name,
        binary=binary,
        argv=argv,
        flags=flags,
        running=bool(own or embedded),
        unit=service.fragment if service else None,
        environment=service.environment if service else (),
        sockets=_sockets(name, dict(flags)),
        evidence=tuple(evidence),
    )


def _binary(own: Sequence[Process], service: Optional[ServiceCommand], paths: Sequence[str]) -> Optional[str]:
    if own and own[0].exe:
        return own[0].exe
    if service is not None and service.argv and service.argv[0].text.startswith("/"):
        return service.argv[0].text
    return paths[0] if paths else None


def parse_flags(program: str, argv: Sequence[str]) -> Tuple[Tuple[str, str], ...]:
    """``--flag value`` / ``--flag=value`` / ``-f value`` for the flags of ``program``; last wins."""
    spellings = FLAG_SPELLINGS.get(program, {})
    names = {spelling.lstrip("-"): name for name, spells in spellings.items() for spelling in spells}
    return tuple(parse_go_flags(argv, names).items())


def _sockets(name: RuntimeName, flags: Dict[str, str]) -> Tuple[str, ...]:
    given = flags.get("address") or flags.get("listen")
    if name == "cri-dockerd":
        endpoint = flags.get("container-runtime-endpoint", "")
        given = None if endpoint.startswith("fd://") else endpoint
    if given:
        return (socket_path(given),)
    return DEFAULT_SOCKETS[name]


def socket_path(endpoint: str) -> str:
    """``unix:///var/run/x.sock`` -> ``/run/x.sock``: /var/run is a link to /run on systemd hosts."""
    path = endpoint[len("unix://") :] if endpoint.startswith("unix://") else endpoint
    path = posixpath.normpath(path) if path else path
    return "/run" + path[len("/var/run") :] if path.startswith("/var/run/") else path


def kubelet_endpoint(fs: HostFS, processes: Sequence[Process]) -> Optional[KubeletEndpoint]:
    """The kubelet's ``--container-runtime-endpoint``: process argv, else unit, else config file."""
    for process in processes:
        if classify(process) == "kubelet":
            found = _endpoint_from_argv(fs, process.argv, "process", f"/proc/{process.pid}")
            if found is not None:
                return found
    service = read_service(fs, ("kubelet.service",))
    if service is not None and service.argv:
        origin = _flag_origin(service)
        found = _endpoint_from_argv(fs, service.args, "unit", origin or service.fragment, service.evidence)
        if found is not None:
            return found
    return _endpoint_from_config(fs, KUBELET_CONFIG, ())


def _flag_origin(service: ServiceCommand) -> Optional[str]:
    for word in service.argv:
        if word.text.startswith("--container-runtime-endpoint") and word.origin is not None:
            return word.origin.file
    return None


def _endpoint_from_argv(
    fs: HostFS, argv: Sequence[str], source: str, where: str, evidence: Tuple[Evidence, ...] = ()
) -> Optional[KubeletEndpoint]:
    flags = dict(parse_flags("kubelet", argv))
    seen = evidence + (Evidence(source, where, "kubelet"),)
    if flags.get("container-runtime-endpoint"):
        return KubeletEndpoint(flags["container-runtime-endpoint"], source, where, seen)
    if flags.get("config"):
        return _endpoint_from_config(fs, flags["config"], seen)
    return None


def _endpoint_from_config(fs: HostFS, path: str, evidence: Tuple[Evidence, ...]) -> Optional[KubeletEndpoint]:
    """``containerRuntimeEndpoint`` at the top level of a KubeletConfiguration (YAML, read by
    line: the key is a top-level scalar, no YAML library is needed for it)."""
    result = fs.read_text(path)
    if result.text is None:
        return None
    for line in result.text.splitlines():
        match = _ENDPOINT_KEY.match(line)
        if match and match.group(1):
            value = match.group(1).split(" #")[0].strip().strip("\"'")
            return KubeletEndpoint(value, "config", path, evidence + (Evidence("config", path, "kubelet"),))
    return None


def _runtime_for_endpoint(
    runtimes: Sequence[InstalledRuntime], kubelet: Optional[KubeletEndpoint]
) -> Optional[RuntimeName]:
    if kubelet is None:
        return None
    wanted = socket_path(kubelet.endpoint)
    for runtime in runtimes:
        if wanted in runtime.sockets:
            return runtime.name
    return None


def _findings(
    runtimes: Sequence[InstalledRuntime], kubelet: Optional[KubeletEndpoint], chosen: Optional[RuntimeName]
) -> Tuple[Finding, ...]:
    findings: List[Finding] = []
    names = [r.name for r in runtimes]
    if len(names) > 1:
        if chosen is not None:
            message = f"{len(names)} container runtimes are installed ({', '.join(names)}); the kubelet uses {chosen} ({kubelet.endpoint if kubelet else ''})"
            findings.append(_with_severity(rules.SEVERAL_RUNTIMES.at(None, "", message), Severity.INFO))
        else:
            message = f"{len(names)} container runtimes are installed ({', '.join(names)}); which one the kubelet uses could not be determined"
            findings.append(rules.SEVERAL_RUNTIMES.at(None, "", message))
    if kubelet is not None and chosen is None and runtimes:
        pointer = "/containerRuntimeEndpoint" if kubelet.source == "config" else ""
        findings.append(
            rules.KUBELET_ENDPOINT_NO_RUNTIME.at(
                kubelet.file if kubelet.source != "process" else None,
                pointer,
                f"the kubelet uses {kubelet.endpoint}, which none of the runtimes found ({', '.join(names)}) serves",
            )
        )
    return tuple(findings)


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    return replace(finding, severity=severity)
