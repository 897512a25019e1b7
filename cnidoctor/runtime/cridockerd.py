"""cri-dockerd's CNI settings: its command-line flags, from the process or its systemd unit.

cri-dockerd has no configuration file; everything comes from pflag flags
(Mirantis/cri-dockerd:config/options.go@v0.4.3): ``--network-plugin``, ``--cni-conf-dir``,
``--cni-bin-dir`` (comma-separated, empty entries dropped: network/cni/cni.go ``SplitDirs``,
``ProbeNetworkPlugins``). Defaults (cmd/cri/options/options.go): conf dir /etc/cni/net.d, bin dir
/opt/cni/bin, network plugin ``cni`` from v0.2.5, ``kubenet`` in v0.2.4, none up to v0.2.3.
An empty ``--network-plugin`` selects no plugin (network/plugins.go ``InitNetworkPlugin``).
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..model import Finding
from ..rules import runtime_crio as rules
from .hostfs import HostFS
from .model import Evidence, RuntimeConfig
from .releases import before
from .systemd import ServiceCommand, Word, read_service

UNIT_NAMES = ("cri-docker.service", "cri-dockerd.service")
DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_BIN_DIR = "/opt/cni/bin"
CNI_DEFAULT_SINCE = (0, 2, 5)  # commit 2b2df50e "Use cni by default on Linux, too"
KUBENET_RELEASE = (0, 2, 4)  # commit 910dcea0 "Set a default network plugin ..."
FLAGS = ("network-plugin", "cni-conf-dir", "cni-bin-dir", "container-runtime-endpoint")


@dataclass(frozen=True)
class FlagValue:
    """A flag's value and the word it came from (for the finding's file/line/column)."""

    value: str
    word: Optional[Word] = None


def parse_flags(argv: Sequence[Word]) -> Dict[str, FlagValue]:
    """pflag parsing of the flags that matter: ``--f v``, ``--f=v``; the last occurrence wins."""
    found: Dict[str, FlagValue] = {}
    words = list(argv[1:])
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word.text == "--":
            break
        if not word.text.startswith("--"):
            continue
        name, has_value, value = word.text[2:].partition("=")
        if name not in FLAGS:
            continue
        if not has_value:
            if i >= len(words):
                break
            value = words[i].text
            i += 1
        found[name] = FlagValue(value, word)
    return found


def default_network_plugin(release: Optional[str]) -> str:
    """The built-in ``--network-plugin`` of a release ("" = none); unknown release = current."""
    if before(release, KUBENET_RELEASE):
        return ""
    if before(release, CNI_DEFAULT_SINCE):
        return "kubenet"
    return "cni"


def read_cridockerd(
    root: str,
    release: Optional[str] = None,
    argv: Optional[Sequence[str]] = None,
) -> Optional[RuntimeConfig]:
    """cri-dockerd's effective CNI settings under host root ``root``.

    ``argv`` is the running process's command line when known (it wins: it is what runs);
    otherwise the systemd unit ``cri-docker.service`` with its drop-ins and environment files is
    read. None when neither is available (cri-dockerd not set up as a service)."""
    if argv is not None:
        return settings_from_command(tuple(Word(a) for a in argv), release, None, ("process", "/proc"))
    service = read_service(HostFS(root), UNIT_NAMES)
    if service is None or not service.argv:
        return None
    return settings_from_command(service.argv, release, service, ("unit", service.fragment))


def settings_from_command(
    argv: Sequence[Word],
    release: Optional[str],
    service: Optional[ServiceCommand],
    source: Tuple[str, str],
) -> RuntimeConfig:
    flags = parse_flags(argv)
    conf_dir = flags["cni-conf-dir"].value if "cni-conf-dir" in flags else DEFAULT_CONF_DIR
    bin_text = flags["cni-bin-dir"].value if "cni-bin-dir" in flags else DEFAULT_BIN_DIR
    bin_dirs = tuple(d for d in bin_text.split(",") if d)
    from_flags = any(name in flags for name in ("cni-conf-dir", "cni-bin-dir"))
    findings = _network_plugin_findings(flags.get("network-plugin"), release, service)
    evidence = service.evidence if service else (Evidence(source[0], source[1], " ".join(w.text for w in argv)),)
    return RuntimeConfig(
        name="cri-dockerd",
        config_file=service.fragment if service else None,
        conf_dir=conf_dir,
        bin_dirs=bin_dirs,
        dirs_source="flag" if from_flags else "default",
        files_read=(service.files + service.env_files) if service else (),
        findings=findings,
        evidence=tuple(evidence),
    )


def _network_plugin_findings(
    flag: Optional[FlagValue], release: Optional[str], service: Optional[ServiceCommand]
) -> Tuple[Finding, ...]:
    plugin = flag.value if flag is not None else default_network_plugin(release)
    if plugin == "cni":
        return ()
    origin = flag.word.origin if flag is not None and flag.word is not None else None
    file = origin.file if origin else (service.fragment if service else None)
    pointer = _pointer_for(file, service)
    how = (
        f"--network-plugin={plugin}"
        if flag is not None
        else f"no --network-plugin (release {release} defaults to {plugin or 'none'!s})"
    )
    effect = {
        "": "no network plugin: pods get Docker bridge addresses and the CNI configuration is not read",
        "kubenet": "kubenet: only bridge/host-local/loopback are used, /etc/cni/net.d is ignored",
    }.get(plugin, f"{plugin!r} is not a cri-dockerd network plugin (only cni and kubenet are); network set-up fails")
    return (
        rules.CRIDOCKERD_NETWORK_PLUGIN.at(
            file,
            pointer,
            f"cri-dockerd runs with {how}: {effect}",
            line=origin.line if origin else None,
            column=origin.column if origin else None,
        ),
    )


def _pointer_for(file: Optional[str], service: Optional[ServiceCommand]) -> str:
    """``/Service/ExecStart`` in a unit file; ``/<VAR>`` when the flag came from an env file."""
    if file is None or service is None:
        return ""
    if file in service.files:
        return "/Service/ExecStart"
    for name, value in service.environment:
        if "--network-plugin" in value:
            return "/" + name
    return ""
