"""CNI0xx: which config files the runtimes read, in which order, and which one wins.

Per-entry findings (CNI002-CNI005, CNI012) come from ``discover.py``; this module owns the rule
definitions and the directory-level analysis ``check_directories`` (CNI001, CNI006-CNI011,
CNI013, CNI014). Sources: containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles); containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (libcni ConfFiles, go-cni loadFromConfDir, ocicni
loadNetworks, dockershim), containernetworking/cni:libcni/conf.go@v0.8.1 (ConfFromFile, ConfListFromFile); containerd/go-cni:cni.go@v1.1.13 (Status); containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1; kubernetes/kubernetes:pkg/kubelet/dockershim/network/cni/cni.go (kubelet <= 1.23).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from typing import Collection, Dict, List, Mapping, Optional, Sequence, Tuple

from ..crosscheck.compare import list_keys
from ..frozen import dataclass
from ..model import Finding, ParsedFile, Rule, Selection, Severity
from ..runtime.matrix import Libcni
from . import semantics

_GO_CNI = "go-cni opts.go loadFromConfDir (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9)"
_OCICNI = "ocicni pkg/ocicni/ocicni.go loadNetworks (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))"
_CONFFILES = "cni@v1.3.0 libcni/conf.go:298-324 ConfFiles (containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf))"

NO_CONFIG_FILES = Rule(
    code="CNI001",
    name="no-config-files",
    severity=Severity.ERROR,
    summary="The config directory holds no .conf, .conflist or .json file.",
    meaning=(
        "containerd and CRI-O read only entries whose extension is .conf, .conflist "
        "or .json (libcni ConfFiles, " + _CONFFILES + "). With none, no pod network exists: "
        "containerd reports NetworkReady=false with 'no network config found in <dir>: cni plugin "
        "not initialized' (go-cni), CRI-O 'no CNI configuration file in <dir>. Has your network "
        "provider started?' (ocicni). "
        "Usually the network add-on has not started yet or wrote its config elsewhere "
        "(containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1; kubernetes/kubernetes:pkg/kubelet/dockershim/network/cni/cni.go (kubelet <= 1.23))."
    ),
    example="/etc/cni/net.d/ containing only 10-calico.conflist.bak",
    correct_example="/etc/cni/net.d/10-calico.conflist (the add-on's installer wrote it; the .bak copy may stay or go)",
    when_to_ignore="When the node is not meant to run pods yet (the network add-on's DaemonSet has not started); the runtime reports NotReady until it writes its config.",
    fix="Install or start the network add-on, or point the runtime's conf_dir/network_dir at "
    "the directory that holds the config.",
    runtime_errors=(
        "no network config found in %s: cni plugin not initialized",
        "no CNI configuration file in %s. Has your network provider started?",
        "cni config uninitialized",
        "no networks found in %s",
    ),
    references=(_CONFFILES, _GO_CNI, _OCICNI, "https://github.com/containerd/containerd/pull/11548"),
)

CONFIG_DIR_MISSING = Rule(
    code="CNI002",
    name="config-dir-missing",
    severity=Severity.ERROR,
    summary="The config directory does not exist.",
    meaning=(
        "libcni ConfFiles treats a missing directory as empty (no error), so the runtime reports "
        "the same 'no network config' condition as an empty directory and the node stays "
        "NotReady ("
        + _CONFFILES
        + "; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1)."
    ),
    example='containerd conf_dir = "/etc/cni/net.d" on a node where the directory was never created',
    correct_example="mkdir -p /etc/cni/net.d   # or point conf_dir at the directory the add-on writes to",
    when_to_ignore="On a node whose runtime does not use CNI (for example a runtime configured with a different network backend).",
    fix="Create the directory and install the network add-on, or fix the runtime's conf_dir / "
    "network_dir / --cni-conf-dir setting.",
    runtime_errors=(
        "no network config found in %s: cni plugin not initialized",
        "no CNI configuration file in %s. Has your network provider started?",
    ),
    references=(_CONFFILES, _GO_CNI),
)

UNREADABLE_ENTRY = Rule(
    code="CNI003",
    name="unreadable-entry",
    severity=Severity.ERROR,
    summary="A config entry cannot be read: dangling symlink, loop, permission denied or a symlink to a directory.",
    meaning=(
        "ConfFiles keeps every entry with a config extension that is not itself a directory, so a "
        "dangling symlink, a symlink loop, an unreadable file or a symlink pointing at a directory "
        "is handed to the loader, which fails with 'error reading <f>: ...' (libcni ConfFromFile/"
        "ConfListFromFile, containernetworking/cni:libcni/conf.go@v0.8.1 (ConfFromFile, ConfListFromFile)). containerd stops at the first file that fails "
        "to load, so if this entry sorts first the whole CNI load fails ('cni plugin not "
        "initialized'); CRI-O skips it (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))."
    ),
    example="10-flannel.conflist -> /run/flannel/cni.conflist (target removed)",
    correct_example="10-flannel.conflist -> /run/flannel/cni.conflist (target present), or the link removed",
    when_to_ignore="Never for a config extension: containerd fails the whole load on it. A link outside the config extensions is not reported.",
    fix="Remove the broken entry or restore its target; make the file readable by the runtime.",
    runtime_errors=(
        "error reading %s: open %s: no such file or directory",
        "error reading %s: read %s: is a directory",
        "error reading %s: open %s: permission denied",
        "error reading %s: open %s: too many levels of symbolic links",
        "failed to load CNI config list file %s: %s: invalid cni config",
        "failed to load CNI config file %s: %s: invalid cni config",
        "failed to read config file: %s: failed to read config file",
    ),
    references=(_CONFFILES, _GO_CNI, _OCICNI),
)

NOT_REGULAR_FILE = Rule(
    code="CNI004",
    name="not-regular-file",
    severity=Severity.ERROR,
    summary="A config entry is a FIFO, socket or device, not a regular file.",
    meaning=(
        "libcni reads config entries with os.ReadFile. On a FIFO that call blocks until a writer "
        "appears, hanging containerd's CNI (re)load; a socket fails with 'no such device or "
        "address'; a device node is read as if it were the config. cnidoctor never opens such "
        "entries (containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf))."
    ),
    example="mkfifo /etc/cni/net.d/10-debug.conf",
    correct_example="/etc/cni/net.d/10-debug.conf as a regular file, or the FIFO moved out of the directory",
    when_to_ignore="Never: the runtime tries to read the entry as a config file.",
    fix="Remove the special file from the config directory.",
    runtime_errors=("error reading %s: open %s: no such device or address",),
    references=(_CONFFILES,),
)

FILE_TOO_LARGE = Rule(
    code="CNI005",
    name="file-too-large",
    severity=Severity.WARNING,
    summary="A config entry is larger than cnidoctor's 1 MiB limit and was not analysed.",
    meaning=(
        "Real CNI configs are a few KiB at most. cnidoctor refuses to buffer files above 1 MiB "
        "(discover.MAX_CONFIG_BYTES); the runtime reads them whole and parses them as a config, so "
        "a large file with a config extension is usually a log or binary dropped into the "
        "directory by mistake and will fail to load (fatal for containerd if it sorts first)."
    ),
    example="/etc/cni/net.d/00-debug.json (a 40 MB log file)",
    correct_example="/etc/cni/net.d/ holding only the network configs; logs kept in /var/log",
    when_to_ignore="If the large file really is a config (a generated one with many plugins) and its size is expected.",
    fix="Move the file out of the config directory.",
    references=(_CONFFILES,),
)

BROKEN_FILE_SHADOWS = Rule(
    code="CNI006",
    name="broken-file-shadows",
    severity=Severity.ERROR,
    summary="A file that fails to load sorts before the config that should be used: containerd loads no network.",
    meaning=(
        "containerd (go-cni loadFromConfDir) walks the config files in lexical order and returns "
        "on the first one that fails to load, so a broken file sorting before the real config "
        "disables pod networking ('failed to load CNI config list file <f>: ...: invalid cni "
        "config', then NetworkReady=false 'cni plugin not initialized'), even though a good config "
        "follows. CRI-O (ocicni) skips the broken file and use the first one that "
        "loads (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9; cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))."
    ),
    example="00-multus.conf with a trailing comma next to a valid 10-calico.conflist",
    correct_example="00-multus.conf repaired (trailing comma removed), or deleted, next to 10-calico.conflist",
    when_to_ignore="If the node runs only CRI-O or dockershim, which skip the broken file; containerd fails the whole load.",
    fix="Fix or remove the broken file (or rename it so it no longer has a config extension).",
    runtime_errors=(
        "failed to load CNI config list file %s: %s: invalid cni config",
        "failed to load CNI config file %s: %s: invalid cni config",
        "cni config load failed: %s: failed to load cni config",
        "cni plugin not initialized",
    ),
    references=(_GO_CNI, _OCICNI, "https://github.com/containerd/go-cni/blob/main/opts.go"),
)

SHADOWED_CONFIG = Rule(
    code="CNI007",
    name="shadowed-config",
    severity=Severity.WARNING,
    summary="Several configs load; only the first one (lexical order) is the default network.",
    meaning=(
        "containerd attaches pods to the first max_conf_num files (default 1) and CRI-O "
        "uses the first file that loads as the default network; CRI-O uses the others only "
        "when a pod explicitly asks for them. Leftover configs from a previous network add-on or "
        "the runtime's own sample bridge therefore silently win or lose depending on their names "
        "(containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks); containerd/containerd:pkg/cri/config/config.go@v1.6.39 (max_conf_num); calico#1388, minikube#8480, bootkube#698). A shadowed "
        "loopback-only config (CRI-O's 99-loopback layout) is reported as info."
    ),
    example="87-podman-bridge.conflist next to 10-calico.conflist: calico is the default network",
    correct_example="only 10-calico.conflist in /etc/cni/net.d (the podman sample config removed or moved to podman's own directory)",
    when_to_ignore="When the first file is the network you intend to be the default, and the later ones are kept on purpose (for example networks selected by name through Multus). A file the selected Multus config names in `clusterNetwork` or `defaultNetworks` is in use and not reported.",
    fix="Remove configs of networks you no longer use; name the intended config so it sorts first.",
    references=(_GO_CNI, _OCICNI),
    superseded_by="CNI015",  # the runtime skipped the first file: this one is its default
)

CONF_AND_CONFLIST = Rule(
    code="CNI008",
    name="conf-and-conflist-same-network",
    severity=Severity.WARNING,
    summary="A .conf and a .conflist describe the same network (an upgrade leftover).",
    meaning=(
        "Add-ons that moved from a single-plugin .conf to a .conflist (Calico's 10-calico.conf -> "
        "10-calico.conflist) left the old file behind; '.conf' sorts before '.conflist' for the "
        "same stem, so the old single-plugin config wins and the new chain (portmap, bandwidth) "
        "is never used (projectcalico/calico#1388; containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks))."
    ),
    example="10-calico.conf and 10-calico.conflist in /etc/cni/net.d",
    correct_example="only 10-calico.conflist in /etc/cni/net.d",
    when_to_ignore="If both files are the same network on purpose during a migration, and you have checked which one each runtime picks.",
    fix="Delete the file of the old format.",
    references=("https://github.com/projectcalico/calico/issues/1388", _GO_CNI),
)

BACKUP_FILE = Rule(
    code="CNI009",
    name="backup-file",
    severity=Severity.WARNING,
    summary="A backup-looking file still has a config extension, so the runtimes read it.",
    meaning=(
        "The runtimes select files by extension only (filepath.Ext), so '10-calico.conf.bak.conf', "
        "'old-10-x.conflist', '10-x.conflist~.conflist' or a hidden '.10-x.conflist' are read like "
        "any other config; hidden files and 'old-'/'00-' names even sort before the real config "
        "and may become the default network (containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf))."
    ),
    example="10-flannel.conflist.orig.conflist",
    correct_example="10-flannel.conflist only; the backup kept outside /etc/cni/net.d",
    when_to_ignore="If the file only looks like a backup and is really meant to be loaded.",
    fix="Move backups out of the config directory or give them an extension the runtimes ignore "
    "(e.g. '.bak' as the last suffix).",
    references=(_CONFFILES,),
)

UNPADDED_PREFIX = Rule(
    code="CNI010",
    name="unpadded-numeric-prefix",
    severity=Severity.WARNING,
    summary="Numeric name prefixes of different widths sort as text, not as numbers.",
    meaning=(
        "Runtimes order files with Go's sort.Strings (byte order), so '100-x.conflist' sorts "
        "before '20-y.conflist' although 100 > 20. The file meant to be low priority becomes the "
        "default network (containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf))."
    ),
    example="100-crio-bridge.conflist and 20-flannel.conflist: crio-bridge wins",
    correct_example="020-flannel.conflist and 100-crio-bridge.conflist (same width), or 20-/90- prefixes",
    when_to_ignore="If the lexical order already puts the intended default network first.",
    fix="Use zero-padded prefixes of equal width (e.g. '020-', '100-') or rename the file.",
    references=(_CONFFILES, _GO_CNI),
)

DUPLICATE_NETWORK_NAME = Rule(
    code="CNI011",
    name="duplicate-network-name",
    severity=Severity.WARNING,
    summary="Two config files declare the same network name.",
    meaning=(
        "CRI-O (ocicni) keys networks by name: the first file that loads and validates wins and a "
        "later valid one is logged as 'Ignored CNI network <name> (type=...) at <file> because "
        "already exists'; a file that fails validation takes no part, so the next file of that "
        "name becomes the network. containerd "
        "with max_conf_num > 1 attaches both; the result cache /var/lib/cni/results/<name>-<id>-"
        "<ifname> is keyed by network name as well (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1)."
    ),
    example='10-bridge.conflist and 20-bridge.conflist both with "name": "bridge"',
    correct_example='10-bridge.conflist with "name": "bridge" and 20-bridge2.conflist with "name": "bridge2"',
    when_to_ignore="When the duplicate sorts after the file containerd uses and no runtime is told to select networks by name.",
    fix="Give every network a unique name or remove the duplicate file.",
    runtime_errors=("Ignored CNI network %s (type=%v) at %s because already exists",),
    references=(_OCICNI,),
)

IGNORED_EXTENSION = Rule(
    code="CNI012",
    name="ignored-extension",
    severity=Severity.INFO,
    summary="A config-looking file whose extension the runtimes never read.",
    meaning=(
        "Only .conf, .conflist and .json entries are read (case-sensitive filepath.Ext). Files "
        "such as '05-cilium.conflist.cilium_bak', '10-calico.conflist.bak', '10-x.conf.disabled' "
        "or a '.yaml' manifest are ignored; this note tells the operator they have no effect "
        "(containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf))."
    ),
    example="05-cilium.conflist.cilium_bak",
    correct_example="05-cilium.conflist.cilium_bak moved out of /etc/cni/net.d",
    when_to_ignore="When the file was renamed on purpose to disable it (Cilium does this with .cilium_bak) and you keep it for rollback.",
    fix="Nothing to do if the file is meant to be inactive; delete it to avoid confusion.",
    references=(_CONFFILES,),
)

NETWORK_SUBDIRECTORY = Rule(
    code="CNI013",
    name="network-subdirectory",
    severity=Severity.WARNING,
    summary="A sub-directory named after a network: libcni 1.3.0 appends its *.conf plugins (an error if one fails).",
    meaning=(
        "libcni v1.3.0 (containerd >= 2.1, CRI-O >= 1.33) loads every '<confdir>/<network name>/"
        "*.conf' and appends it to that .conflist's plugins unless the list sets "
        '"loadOnlyInlinedPlugins": true; one unparsable file there fails the whole list. Older '
        "runtimes ignore the directory, so the chain differs between runtime releases. A "
        "non-directory entry with the network's name makes the list fail to load on 1.3.0. "
        "The finding is a warning when the folder only changes the chain, and an error when a "
        "file there does not load (its error has no 'failed to parse plugin config N:' prefix): "
        "for runtimes on libcni 1.3.0, a warning naming them for older ones "
        "(cni@v1.3.0 libcni/conf.go:66-90, 247-272; containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles, ConfListFromConf); containernetworking/cni:libcni/conf.go@v1.3.0)."
    ),
    example="/etc/cni/net.d/10-mynet.conflist (name mynet) and /etc/cni/net.d/mynet/50-tuning.conf",
    correct_example="/etc/cni/net.d/10-mynet.conflist carrying tuning in its own plugins list, no mynet/ directory",
    when_to_ignore="When the runtime vendors libcni v1.3.0 or later and the subdirectory's plugins are meant to "
    "be appended to the chain. Never the error: a folder file that does not load fails the list on libcni 1.3.0.",
    fix='Set "loadOnlyInlinedPlugins": true or move the directory away if the extra plugins '
    "are not intended; otherwise make sure every runtime in the fleet is >= the 1.3.0 line.",
    runtime_errors=(
        "failed to read plugin config files in %s: %s",
        "no plugin configs found",
        "error parsing configuration: json: cannot unmarshal %s into Go struct field PluginConf.%s of type %s",
    ),
    references=("cni@v1.3.0 libcni/conf.go:66-90", "cni@v1.3.0 SPEC.md (plugin aggregation)"),
)

NO_LOADABLE_CONFIG = Rule(
    code="CNI014",
    name="no-loadable-config",
    severity=Severity.ERROR,
    summary="Config files exist but none of them loads: no default network on any runtime.",
    meaning=(
        "Every file with a config extension fails to load (see its own finding). containerd stops "
        "at the first ('failed to load CNI config ... invalid cni config' -> 'cni plugin not "
        "initialized'), CRI-O skips them all and reports 'no CNI configuration file in <dir>. Has "
        "your network provider started?' "
        "(containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1; kubernetes/kubernetes:pkg/kubelet/dockershim/network/cni/cni.go (kubelet <= 1.23))."
    ),
    example="/etc/cni/net.d/10-flannel.conflist with a syntax error and nothing else",
    correct_example="/etc/cni/net.d/10-flannel.conflist that parses (the syntax error fixed)",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Fix the file(s) reported in the other findings.",
    runtime_errors=(
        "failed to load CNI config list file %s: %s: invalid cni config",
        "no CNI configuration file in %s. Has your network provider started?",
        "cni config uninitialized",
    ),
    references=(_GO_CNI, _OCICNI),
)

FALLBACK_DEFAULT_NETWORK = Rule(
    code="CNI015",
    name="fallback-default-network",
    severity=Severity.WARNING,
    summary="CRI-O skips a config that does not validate and makes a later file the default network.",
    meaning=(
        "ocicni's loadNetworks runs ValidateNetworkList on every file that loads and skips the ones "
        "that fail (a plugin binary missing from plugin_dirs, a cniVersion a plugin does not support), "
        "logging only 'Error validating CNI config file <f>: ...'; the first file that survives becomes "
        "the default network. The node stays Ready and pods start on this fallback network, often "
        "a runtime's sample bridge or a previous add-on's leftover, with addresses from the wrong "
        "range (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks); containernetworking/cni:"
        "libcni/api.go@v1.1.2 (ValidateNetworkList)). containerd does not validate: it reads the "
        "first file and uses it or nothing."
    ),
    example="10-flannel.conflist (flannel binary not installed) next to 20-kindnet.conflist: CRI-O attaches pods to kindnet",
    correct_example="10-flannel.conflist with the flannel binary in CRI-O's plugin_dirs, or the leftover 20-kindnet.conflist removed",
    when_to_ignore="When the later network is the intended default and the earlier file is kept on purpose.",
    fix="Fix the skipped file (see its own finding: usually a missing plugin binary) or remove the "
    "network that should not carry pods.",
    references=(_OCICNI,),
)

RULES: Tuple[Rule, ...] = (
    NO_CONFIG_FILES,
    CONFIG_DIR_MISSING,
    UNREADABLE_ENTRY,
    NOT_REGULAR_FILE,
    FILE_TOO_LARGE,
    BROKEN_FILE_SHADOWS,
    SHADOWED_CONFIG,
    CONF_AND_CONFLIST,
    BACKUP_FILE,
    UNPADDED_PREFIX,
    DUPLICATE_NETWORK_NAME,
    IGNORED_EXTENSION,
    NETWORK_SUBDIRECTORY,
    NO_LOADABLE_CONFIG,
    FALLBACK_DEFAULT_NETWORK,
)


def fallback_default(default: ParsedFile, skipped: ParsedFile, runtime: str) -> Finding:
    """CNI015 at the file a validating runtime (CRI-O, dockershim) uses because ``skipped``,
    the first file that loads, fails its validation."""
    return FALLBACK_DEFAULT_NETWORK.at(
        default.path,
        "",
        f"{runtime} skips {os.path.basename(skipped.path)} (it does not validate) and makes network "
        f"{_runtime_name(default)!r} from this file the default: pods start on it; containerd would read "
        f"{os.path.basename(skipped.path)} instead",
    )


def no_config_text(directory: str) -> str:
    """go-cni's text for a directory without config files (go-cni opts.go, containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir))."""
    return f"no network config found in {directory}: cni plugin not initialized"


def load_failure_text(path: str, load_error: str) -> str:
    """go-cni's wrapper around a libcni load error (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir)); '.conflist' vs other files."""
    what = "config list file" if path.endswith(".conflist") else "config file"
    return f"failed to load CNI {what} {path}: {load_error}: invalid cni config"


@dataclass(frozen=True)
class DirectoryResult:
    """The directory rules' findings and the config the runtime would pick."""

    findings: Tuple[Finding, ...]
    selection: Optional[Selection]


# ---------------------------------------------------------------------------------------------
# helpers over ParsedFile


def _loads(item: ParsedFile) -> bool:
    return item.candidate.problem is None and item.network is not None


def _unknown_to_us(item: ParsedFile) -> bool:
    """A file cnidoctor's (non-root) user may not read; the runtime reads it as root
    (discover.NOT_READABLE_AS_USER), so whether it loads is unknown."""
    return item.candidate.problem == "not-readable-as-user"


def _loads_as_template(item: ParsedFile) -> bool:
    """An unrendered template that is valid JSON: libcni loads it (placeholders and all), so
    it does not stop containerd's load; CNI108 alone reports it (no cascade)."""
    return item.candidate.problem is None and item.network is None and item.load_error is None


def _load_error(item: ParsedFile) -> str:
    """The libcni error text for a file that fails to load."""
    if item.load_error:
        return item.load_error
    if item.candidate.problem and item.candidate.detail:
        return f"error reading {item.path}: {item.candidate.detail}"
    return "the file does not load"


def _network_name(item: ParsedFile) -> Optional[str]:
    return item.network.name if item.network is not None else None


def _runtime_name(item: ParsedFile) -> str:
    """ocicni names a nameless network after its file (path.Base) (ocicni loadNetworks)."""
    name = _network_name(item)
    return name if name else os.path.basename(item.path)


def _first_type(item: ParsedFile) -> str:
    if item.network is None or not item.network.plugins:
        return ""
    return item.network.plugins[0].type or ""


def _is_loopback_only(item: ParsedFile) -> bool:
    return item.network is not None and all(p.type == "loopback" for p in item.network.plugins)


def _stem(path: str) -> str:
    base = os.path.basename(path)
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base


# ---------------------------------------------------------------------------------------------


def check_directories(
    parsed: Sequence[ParsedFile],
    directories: Sequence[str],
    subdirectories: Optional[Mapping[str, Sequence[str]]] = None,
) -> DirectoryResult:
    """Directory-level findings and the runtime's default network.

    Files found in a directory are analysed per directory in runtime order (selection,
    shadowing, ordering, duplicates). Files named explicitly (``candidate.directory is None``,
    pre-commit mode) get the name-based rules and cross-file duplicate names, but no selection
    is claimed for them. ``subdirectories`` (from ``discover.Discovered``) lists each
    directory's sub-directories; when not given they are looked up with one ``stat`` per
    network name.
    """
    findings: List[Finding] = []
    selection: Optional[Selection] = None
    for directory in directories:
        entries = [p for p in parsed if p.candidate.directory == directory]
        subs = None if subdirectories is None else tuple(subdirectories.get(directory, ()))
        found, chosen = _check_one_directory(directory, entries, subs)
        findings.extend(found)
        if selection is None and chosen is not None:
            version = chosen.network.cni_version if chosen.network else None
            digest = hashlib.sha256(chosen.candidate.data).hexdigest() if chosen.candidate.data is not None else None
            selection = Selection(chosen.path, _network_name(chosen), version, digest)
    loose = [p for p in parsed if p.candidate.directory is None]
    findings.extend(_check_loose_files(loose))
    return DirectoryResult(tuple(findings), selection)


def _check_one_directory(
    directory: str, entries: Sequence[ParsedFile], subdirs: Optional[Tuple[str, ...]]
) -> Tuple[List[Finding], Optional[ParsedFile]]:
    if not entries:
        return [_empty_directory(directory)], None
    findings: List[Finding] = []
    default = next((p for p in entries if _loads(p)), None)
    findings.extend(_broken_before_default(directory, entries, default))
    loadable = [p for p in entries if _loads(p)]
    findings.extend(_shadowed(loadable))
    pairs = _conf_conflist_pairs(loadable, entries)
    findings.extend(f for f, _ in pairs)
    paired = {frozenset(pair) for _, pair in pairs}
    findings.extend(_duplicate_names(loadable, skip=paired))
    findings.extend(_backup_names(entries, default))
    findings.extend(_unpadded_prefixes(entries, default))
    findings.extend(_network_subdirectories(directory, loadable, subdirs))
    if default is not None:
        findings.extend(semantics.no_ip_result(default))  # only the default network's result is converted
    if any(_unknown_to_us(p) for p in entries[: entries.index(default) if default else len(entries)]):
        return findings, None  # a file only root can read sorts first: the default is unknown
    return findings, default


def _check_loose_files(loose: Sequence[ParsedFile]) -> List[Finding]:
    findings: List[Finding] = []
    findings.extend(_backup_names(loose, None))
    findings.extend(_duplicate_names([p for p in loose if _loads(p)], skip=set()))
    for item in loose:  # a file checked on its own may become the default network once installed
        findings.extend(semantics.no_ip_result(item))
    return findings


def _empty_directory(directory: str) -> Finding:
    return NO_CONFIG_FILES.at(
        directory,
        "",
        f"{directory} has no .conf, .conflist or .json file: containerd reports "
        f"'{no_config_text(directory)}', CRI-O 'no CNI configuration file in {directory}. Has your "
        "network provider started?'",
        predicts=no_config_text(directory),
    )


def _broken_before_default(
    directory: str, entries: Sequence[ParsedFile], default: Optional[ParsedFile]
) -> List[Finding]:
    """CNI006 / CNI014 at the first file containerd fails on (it stops there)."""
    first = entries[0]
    if _loads(first) or first.candidate.problem == "too-large" or _loads_as_template(first) or _unknown_to_us(first):
        return []
    predicts = load_failure_text(first.path, _load_error(first))
    if default is None:
        return [
            NO_LOADABLE_CONFIG.at(
                first.path,
                "",
                f"no file in {directory} loads (first failure: {_load_error(first)}): containerd "
                "fails its CNI load, CRI-O finds no network, the node stays NotReady",
                predicts=predicts,
            )
        ]
    broken = [p.path for p in entries[: entries.index(default)] if not _loads(p)]
    others = f" (also failing before it: {', '.join(broken[1:])})" if len(broken) > 1 else ""
    return [
        BROKEN_FILE_SHADOWS.at(
            first.path,
            "",
            f"{first.path} fails to load ({_load_error(first)}) and sorts before {default.path}: "
            f"containerd stops here and loads no network ('cni plugin not initialized'); CRI-O "
            f"skips it and uses network {_runtime_name(default)!r} from {default.path}{others}",
            predicts=predicts,
        )
    ]


# Meta-plugins that run another config of the directory as the pod's network: Multus reads
# `clusterNetwork` (the pod's default network) and `defaultNetworks` (added to every pod), each a
# net-attach-def name, the `name` of a CNI config in its confDir, or a path to a config file
# (k8snetworkplumbingwg/multus-cni:docs/configuration.md@v4.0.2;
# k8snetworkplumbingwg/multus-cni:pkg/k8sclient/k8sclient.go@v4.0.2 getNetDelegate). flannel's
# delegate is inline (flannel-io/cni-plugin:flannel.go), so it names no other file.
MULTUS_TYPES = frozenset({"multus", "multus-shim"})


def _delegated_refs(winner: ParsedFile) -> Tuple[str, ...]:
    """The network names and paths the selected file's meta-plugins delegate to."""
    if winner.network is None:
        return ()
    refs: List[str] = []
    for plugin in winner.network.plugins:
        if plugin.type not in MULTUS_TYPES:
            continue
        cluster = plugin.raw.get("clusterNetwork")
        if isinstance(cluster, str) and cluster:
            refs.append(cluster)
        defaults = plugin.raw.get("defaultNetworks")
        if isinstance(defaults, list):
            refs.extend(ref for ref in defaults if isinstance(ref, str) and ref)
    return tuple(refs)


def _delegated_to(item: ParsedFile, refs: Sequence[str]) -> bool:
    """``item`` is what a reference names: by network name, or by its path."""
    for ref in refs:
        if os.path.isabs(ref) and os.path.basename(ref) == os.path.basename(item.path):
            return True
        if _network_name(item) == ref:
            return True
    return False


def _shadowed(loadable: Sequence[ParsedFile]) -> List[Finding]:
    if len(loadable) < 2:
        return []
    winner = loadable[0]
    refs = _delegated_refs(winner)
    out: List[Finding] = []
    for item in loadable[1:]:
        if _delegated_to(item, refs):
            continue  # in use: the selected file's meta-plugin runs it for every pod
        finding = SHADOWED_CONFIG.at(
            item.path,
            "",
            f"network {_runtime_name(item)!r} in {item.path} is not the default network: "
            f"{winner.path} (network {_runtime_name(winner)!r}) sorts first, so containerd "
            "(max_conf_num=1) never uses this file and CRI-O only if a pod asks for it by name",
        )
        if _is_loopback_only(item):
            finding = replace(finding, severity=Severity.INFO)
        out.append(finding)
    return out


def _conf_conflist_pairs(
    loadable: Sequence[ParsedFile], entries: Sequence[ParsedFile]
) -> List[Tuple[Finding, Tuple[str, str]]]:
    """CNI008: a single-plugin file and a list of the same network name or the same stem."""
    out: List[Tuple[Finding, Tuple[str, str]]] = []
    lists = [p for p in loadable if p.candidate.kind == "conflist"]
    singles = [p for p in loadable if p.candidate.kind == "conf"]
    if not lists or not singles:
        return out
    # Indexed by name and by stem (the list's position kept): a pass over every pair of a
    # directory's .conf and .conflist files was quadratic in the number of files.
    by_key: Dict[Tuple[str, str], List[int]] = {}
    for number, lst in enumerate(lists):
        name = _network_name(lst)
        if name:
            by_key.setdefault(("name", name), []).append(number)
        by_key.setdefault(("stem", _stem(lst.path)), []).append(number)
    position = {id(p): number for number, p in enumerate(entries)}
    for single in singles:
        name = _network_name(single)
        matches = set(by_key.get(("name", name), ()) if name else ()) | set(
            by_key.get(("stem", _stem(single.path)), ())
        )
        for lst in (lists[number] for number in sorted(matches)):
            first = position[id(single)] < position[id(lst)]
            order = "sorts first and shadows the list" if first else "sorts after the list"
            out.append(
                (
                    CONF_AND_CONFLIST.at(
                        single.path,
                        "",
                        f"{single.path} (single-plugin, network {_runtime_name(single)!r}) and "
                        f"{lst.path} (list, network {_runtime_name(lst)!r}) look like the old and new "
                        f"format of one network; the .conf {order}",
                    ),
                    (single.path, lst.path),
                )
            )
    return out


def _duplicate_names(loadable: Sequence[ParsedFile], skip: set) -> List[Finding]:
    seen: Dict[str, ParsedFile] = {}
    out: List[Finding] = []
    for item in loadable:
        name = _runtime_name(item)
        first = seen.get(name)
        if first is None:
            seen[name] = item
            continue
        if frozenset((first.path, item.path)) in skip:
            continue
        out.append(
            DUPLICATE_NETWORK_NAME.at(
                item.path,
                "/name" if _network_name(item) else "",
                f"network name {name!r} is also declared by {first.path}: CRI-O keeps the first and "
                "ignores this file; containerd with max_conf_num > 1 attaches both",
                predicts=f"Ignored CNI network {name} (type={_first_type(item)}) at {item.path} because already exists",
            )
        )
    return out


def duplicate_names_for_crio(
    findings: Sequence[Finding], parsed: Sequence[ParsedFile], rejected: Collection[str]
) -> List[Finding]:
    """CNI011 as the modelled CRI-O sees it. ocicni compares names only among the files that
    load *and* validate: a file it skips (``rejected``: "Error loading ..." / "Error validating
    ...") is neither ignored nor able to shadow a later file of the same name, and the
    "Ignored CNI network ... because already exists" line names the file after the first
    *valid* one (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3 (loadNetworks))."""
    by_path = {item.path: item for item in parsed}
    return [
        _duplicate_for_crio(f, by_path[f.file], parsed, rejected) if f.code == "CNI011" and f.file in by_path else f
        for f in findings
    ]


def _duplicate_for_crio(
    finding: Finding, item: ParsedFile, parsed: Sequence[ParsedFile], rejected: Collection[str]
) -> Finding:
    if item.candidate.directory is None:
        return finding  # a file named on its own: no runtime walks it with the others
    name = _runtime_name(item)
    earlier = [
        p
        for p in parsed[: parsed.index(item)]
        if p.candidate.directory == item.candidate.directory and _loads(p) and _runtime_name(p) == name
    ]
    if not earlier:
        return finding
    first = earlier[0]
    kept = next((p for p in earlier if p.path not in rejected), None)
    if item.path in rejected:
        message = (
            f"network name {name!r} is also declared by {first.path}; CRI-O skips this file before "
            "it compares names (it does not load or validate), so it logs no 'Ignored CNI network' "
            "line for it; containerd with max_conf_num > 1 attaches both"
        )
        return replace(finding, message=message, predicts=None)
    if kept is None:
        message = (
            f"network name {name!r} is also declared by {first.path}, which CRI-O skips (it does not "
            f"load or validate): CRI-O takes network {name!r} from this file, without an 'Ignored CNI "
            f"network' line, and switches to {first.path} once that file validates (e.g. its plugin "
            "is installed); containerd reads only the lexically first file (max_conf_num 1)"
        )
        return replace(finding, message=message, predicts=None)
    if kept is first:
        return finding
    message = (
        f"network name {name!r} is also declared by {kept.path}: CRI-O skips {first.path} (it does "
        "not load or validate), keeps that file and ignores this one; containerd with max_conf_num > 1 "
        "attaches both"
    )
    return replace(finding, message=message)


_BACKUP_WORDS = re.compile(
    r"(\.bak|\.orig|\.old|\.save|\.backup|backup|\.dpkg-|\.rpm(save|new|orig)|\.swp|~|copy\b|"
    r"\.disabled|\.tmp)",
    re.IGNORECASE,
)
_CONFIG_EXT_INSIDE = re.compile(r"\.(conf|conflist|json)\.", re.IGNORECASE)
_BACKUP_PREFIX = re.compile(r"^(old|bak|backup|orig)[-_.]", re.IGNORECASE)


def backup_reason(name: str) -> Optional[str]:
    """Why ``name`` (which has a config extension) looks like a backup, or None."""
    if name.startswith("."):
        return "a hidden dot-file"
    stem = name[: name.rfind(".")] if "." in name else name
    if _CONFIG_EXT_INSIDE.search(stem + "."):
        return "a config name with a second extension appended"
    if _BACKUP_PREFIX.match(name):
        return "an 'old-'/'backup-' prefix"
    match = _BACKUP_WORDS.search(stem)
    if match:
        return f"{match.group(0)!r} in the name"
    return None


def _backup_names(entries: Sequence[ParsedFile], default: Optional[ParsedFile]) -> List[Finding]:
    out: List[Finding] = []
    for item in entries:
        reason = backup_reason(os.path.basename(item.path))
        if reason is None:
            continue
        effect = "the runtimes still read it because of its config extension"
        if default is not None and item is default:
            effect = "it is the DEFAULT network the runtimes use"
        out.append(
            BACKUP_FILE.at(
                item.path,
                "",
                f"{os.path.basename(item.path)} looks like a backup ({reason}); {effect}",
            )
        )
    return out


_NUMERIC_PREFIX = re.compile(r"^([0-9]+)[-_.]")


def _smallest_later_prefix(prefixed: Sequence[Tuple[ParsedFile, str]]) -> List[Dict[int, int]]:
    """For each position, the smallest numeric prefix per digit width among the later files."""
    out: List[Dict[int, int]] = [{} for _ in prefixed]
    running: Dict[int, int] = {}
    for index in range(len(prefixed) - 1, -1, -1):
        out[index] = dict(running)
        digits = prefixed[index][1]
        running[len(digits)] = min(running.get(len(digits), int(digits)), int(digits))
    return out


def _unpadded_prefixes(entries: Sequence[ParsedFile], default: Optional[ParsedFile]) -> List[Finding]:
    """CNI010 at each file that sorts before a file with a smaller numeric prefix."""
    numbered = [(p, _NUMERIC_PREFIX.match(os.path.basename(p.path))) for p in entries]
    prefixed = [(p, m.group(1)) for p, m in numbered if m]
    smallest_after = _smallest_later_prefix(prefixed)
    out: List[Finding] = []
    for index, (item, digits) in enumerate(prefixed):
        # Cheap test first (linear overall): is any later prefix of another width smaller?
        if not any(width != len(digits) and low < int(digits) for width, low in smallest_after[index].items()):
            continue
        other, other_digits = next(
            (q, d) for q, d in prefixed[index + 1 :] if len(d) != len(digits) and int(d) < int(digits)
        )
        note = " and is the default network" if item is default else ""
        out.append(
            UNPADDED_PREFIX.at(
                item.path,
                "",
                f"{os.path.basename(item.path)} (prefix {digits}) sorts before {os.path.basename(other.path)} "
                f"(prefix {other_digits}) because names compare as text{note}",
            )
        )
    return out


def _network_subdirectories(
    directory: str, loadable: Sequence[ParsedFile], subdirs: Optional[Tuple[str, ...]]
) -> List[Finding]:
    out: List[Finding] = []
    for item in loadable:
        if item.candidate.kind != "conflist" or item.network is None:
            continue
        if _inlined_only(item):
            continue
        name = item.network.name or ""
        target = os.path.join(directory, name) if name else directory
        state = _entry_state(target, name, subdirs)
        if state is None or (state == "dir" and not _conf_names(target)):
            continue  # an empty sub-directory adds nothing
        failed = _folder_failure(item)
        if failed is not None:
            out.append(failed)
            continue
        out.append(
            NETWORK_SUBDIRECTORY.at(item.path, "/name" if name else "", _subdir_message(item, target, name, state))
        )
    return out


def _folder_failure(item: ParsedFile) -> Optional[Finding]:
    """A plugin file in the folder that libcni v1.3.0 cannot load fails the whole list there
    (containernetworking/cni:libcni/conf.go@v1.3.0 (NetworkPluginConfsFromFiles)): an error for
    v1.3.0 runtimes (rules/scope.py weighs it), harmless for older ones."""
    folder = item.network_dir
    if folder is None or folder.load_error is None:
        return None
    error = folder.load_error.replace("Go struct field NetConf.", "Go struct field PluginConf.")
    first = _list_key_error_13(item)
    message = (
        f"libcni 1.3.0 (containerd >= 2.1, CRI-O >= 1.33) appends the *.conf files of {folder.folder}/ to this "
        f"list and fails to load it: {error}; older runtimes ignore the folder"
    )
    if first is not None:  # NetworkConfFromBytes refuses the list before the folder is read
        message += f" (today libcni 1.3.0 fails earlier, on the list itself: {first})"
    return NETWORK_SUBDIRECTORY.at(
        item.path,
        "/name",
        message,
        predicts=None if first else f"failed to load CNI config list file {item.path}: {error}: invalid cni config",
        severity=Severity.ERROR,
    )


def _list_key_error_13(item: ParsedFile) -> Optional[str]:
    """libcni v1.3.0's refusal of a list key it reads before the folder (crosscheck/compare.list_keys)."""
    doc = item.document if isinstance(item.document, dict) else {}
    declared = doc.get("cniVersion", "")
    return list_keys(doc, declared if isinstance(declared, str) else "", Libcni("1.3.0")).error


def _inlined_only(item: ParsedFile) -> bool:
    doc = item.document
    value = doc.get("loadOnlyInlinedPlugins") if isinstance(doc, dict) else None
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _entry_state(target: str, name: str, subdirs: Optional[Tuple[str, ...]]) -> Optional[str]:
    """'dir', 'other' (exists, not a directory) or None; libcni joins <dir>/<name>."""
    if name and subdirs is not None and name in subdirs:
        return "dir"
    if name in ("", ".", ".."):
        return "dir"
    if subdirs is not None and "/" not in name:
        return "other" if os.path.lexists(target) else None
    if os.path.isdir(target):
        return "dir"
    return "other" if os.path.lexists(target) else None


def _subdir_message(item: ParsedFile, target: str, name: str, state: str) -> str:
    if state == "other":
        return (
            f"{target} exists but is not a directory: libcni 1.3.0 (containerd >= 2.1, CRI-O >= 1.33) "
            f"fails to load {item.path} ('failed to read plugin config files in {target}: ...')"
        )
    if not name or name in (".", ".."):
        return (
            f"network name {name!r} makes libcni 1.3.0 (containerd >= 2.1, CRI-O >= 1.33) read "
            f"*.conf files of {target} and append them to this list's plugins"
        )
    listed = ", ".join(_conf_names(target))
    return (
        f"{target}/ is named after network {name!r}: libcni 1.3.0 (containerd >= 2.1, CRI-O >= 1.33) "
        f"appends its *.conf files ({listed}) to this list's plugins; older runtimes ignore them"
    )


def _conf_names(target: str) -> List[str]:
    try:
        with os.scandir(target) as it:
            names = [e.name for e in it if not e.is_dir(follow_symlinks=False) and e.name.endswith(".conf")]
    except OSError:
        return []
    return sorted(names, key=os.fsencode)


# ---------------------------------------------------------------------------------------------
# CNI016: who besides root can change what the runtime reads as root (cnidoctor/fsperms.py)

WRITABLE_CONFIG_PATH = Rule(
    code="CNI016",
    name="config-writable-by-non-root",
    severity=Severity.WARNING,
    summary="The config directory or a config file in it can be changed by a non-root user.",
    meaning=(
        "The container runtime, running as root, reads every .conf/.conflist/.json in its config "
        "directory and makes the first one the pods' network "
        "(containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles); containerd/go-cni:opts.go@v1.1.13 "
        "(loadFromConfDir); cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks)). A user who can "
        "write the directory (group- or world-writable, or owned by a non-root uid) can add a file that "
        "sorts first; one who can write a config file can rewrite it: either way they choose the plugins "
        "run as root for every pod and their options (a host-device plugin that moves the node's uplink "
        "into a pod, a bridge on the host's interface). Symlinks are followed, as the runtime's read does. "
        "A world-writable directory with the sticky bit is still reported: the sticky bit stops others "
        "only from removing or renaming files they do not own, not from adding a new one that sorts first. "
        "Files named one by one on the command line (a repository checked by pre-commit) are not checked."
    ),
    example="drwxrwxrwx root root /etc/cni/net.d   (chmod 777 'to make it work')",
    correct_example="drwxr-xr-x root root /etc/cni/net.d, -rw------- root root /etc/cni/net.d/10-flannel.conflist",
    when_to_ignore="On a throwaway test machine where every user is root anyway.",
    fix="`chown root:root` the path and `chmod go-w` it (the CIS Kubernetes Benchmark asks for 600 on the files).",
    references=(
        "CIS Kubernetes Benchmark v1.8.0 1.1.9 (Container Network Interface file permissions 600 or more "
        "restrictive) and 1.1.10 (Container Network Interface file ownership root:root)",
        "containerd/containerd:docs/cri/config.md@v2.1.0 (conf_dir)",
        "cri-o/cri-o:docs/crio.conf.5.md@v1.31.0 (network_dir)",
        _CONFFILES,
    ),
)

# Registered here rather than in the tuple above: the rule is defined after it.
RULES = RULES + (WRITABLE_CONFIG_PATH,)


def writable_config(path: str, is_dir: bool, why: str) -> Finding:
    """CNI016 at ``path`` (a listed config dir or a config file in one); ``why`` from fsperms."""
    if is_dir:
        message = f"config directory {path} is {why}: a non-root user can add a config the runtime loads as root"
        mode = "go-w"
    else:
        message = f"{os.path.basename(path)} is {why}: a non-root user can rewrite the pods' network"
        mode = "600"
    fix = f"`chown root:root {path} && chmod {mode} {path}` (CIS Kubernetes Benchmark 1.1.9/1.1.10)."
    return WRITABLE_CONFIG_PATH.at(path, "", message, fix=fix)
