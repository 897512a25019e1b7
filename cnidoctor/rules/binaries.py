"""CNI4xx: plugin binaries - where libcni finds them and whether the kernel will exec them.

Emitted by the node stage through ``resolution_findings`` (one resolution of one ``type``),
``bin_dir_findings`` (the configured dirs) and ``generation_findings`` (one dir's probes).
Nothing here executes anything; see resolve.py / elfinfo.py for the model and its sources.
A ``type`` containing ``/`` or empty is CNI311 (rules/semantics.py), not repeated here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Tuple

from ..crosscheck.context import LOOPBACK, NodeContext, newest_lib, ranges
from ..crosscheck.predict import loopback_prefix
from ..hostpath import on_node
from ..model import Finding, Rule, Severity

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.probe import ProbeResult
    from ..plugins.resolve import Resolution

FIND_GO = "cni@v1.1.2 pkg/invoke/find.go:25-49 (FindInPath)"
RAW_EXEC_GO = "cni@v0.8.0 pkg/invoke/raw_exec.go:72-84 (pluginErr wraps exec errors)"
LOOKUP_ORDER = "containernetworking/cni:pkg/invoke/find.go@v1.3.0 (dirs in order, first regular file wins; the exec bit is not checked)"

PLUGIN_NOT_FOUND = Rule(
    code="CNI401",
    name="plugin-not-found",
    severity=Severity.ERROR,
    summary="No bin dir holds a regular file named like the plugin type",
    meaning=(
        "libcni looks for the plugin `type` (and each delegate such as `ipam.type`) as a regular "
        "file named exactly like the type in each plugin directory, in order, and fails when none "
        "has it. The runtime fails every pod sandbox on this network with the error below; for a "
        "delegate (IPAM) the same text comes from inside the main plugin, with CNI_PATH as the list. "
        "Common causes: the network add-on's installer has not run yet, containerd's `bin_dir` "
        "points elsewhere than where the plugins were unpacked, a plugin removed upstream "
        "(`flannel` left the reference plugins in v1.0.0), or a typo in `type`."
    ),
    example='{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "flannnel"}]}',
    correct_example='{"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "flannel"}]}   (/opt/cni/bin/flannel installed)',
    when_to_ignore="When cnidoctor runs where the bin dirs differ from the node's (inside a container without the host's /opt/cni/bin mounted): pass --bin-dir.",
    fix=(
        "Install the plugin into one of the bin dirs (the containernetworking/plugins release tarball "
        "for reference plugins; the provider's installer, e.g. its DaemonSet, for third-party "
        "plugins such as flannel, calico, cilium or multus), or point the runtime at the directory that has it (containerd "
        "`bin_dir`/`bin_dirs`, CRI-O `plugin_dirs`), or correct the `type`."
    ),
    runtime_errors=('failed to find plugin "X" in path [d1 d2]',),
    references=(FIND_GO, LOOKUP_ORDER),
)

PLUGIN_SHADOWED = Rule(
    code="CNI402",
    name="plugin-shadowed",
    severity=Severity.WARNING,
    summary="The same plugin exists in several bin dirs; only the first is ever run",
    meaning=(
        "FindInPath stops at the first directory that has the file, so copies in later "
        "directories are never executed. This is harmless while the copies are identical, but an "
        "upgrade that lands in the later directory silently has no effect (and VERSION replies "
        "differ between the copies). Reported as info when the copies are byte-identical."
    ),
    example="--bin-dir /opt/cni/bin --bin-dir /usr/lib/cni   # bridge in both",
    correct_example="--bin-dir /opt/cni/bin   # one copy of each plugin",
    when_to_ignore="When both copies are the same build (same VERSION reply) and the duplicate is a package manager's.",
    fix="Keep one copy: remove the stale one, or order the bin dirs so that the intended copy comes first.",
    runtime_errors=(),
    references=(FIND_GO, "containernetworking/cni:pkg/invoke/find.go@v1.3.0 (FindInPath)"),
)

PLUGIN_NOT_REGULAR = Rule(
    code="CNI403",
    name="plugin-not-regular",
    severity=Severity.ERROR,
    summary="A bin dir entry named like the plugin is a directory, dangling symlink or special file",
    meaning=(
        "FindInPath accepts only a regular file (after following symlinks). A directory, a "
        "dangling symlink (e.g. into an uninstalled package) or a FIFO with the plugin's name is "
        "skipped silently. When no later directory has the plugin the runtime fails with "
        "`failed to find plugin` although `ls` shows the name; when a later directory has it, that "
        "copy runs instead (reported as a warning)."
    ),
    example="/opt/cni/bin/bridge -> /usr/libexec/cni/bridge   (target removed)",
    correct_example="/opt/cni/bin/bridge -> /usr/libexec/cni/bridge   (target present)",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Replace the entry with the plugin binary, or fix the symlink target.",
    runtime_errors=('failed to find plugin "X" in path [d1 d2]',),
    references=(FIND_GO, LOOKUP_ORDER),
)

PLUGIN_NOT_EXECUTABLE = Rule(
    code="CNI404",
    name="plugin-not-executable",
    severity=Severity.ERROR,
    summary="The plugin file has no execute bit, or lives on a noexec mount",
    meaning=(
        "FindInPath does not check the execute bit: the first regular file wins even when it "
        "cannot be executed, and libcni does not fall back to later dirs (measured, "
        "containernetworking/cni:pkg/invoke/find.go@v1.3.0; containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2)). execve then fails with EACCES even for root. The same happens for a bin dir on a "
        "filesystem mounted `noexec` (some hardened images mount /opt or /var that way). libcni "
        ">= v0.8.0 prints the error with the prefix `netplugin failed with no error message: `; "
        'v0.7.x prints the bare `fork/exec` text; libcni >= v1.0 adds `plugin type="X" failed '
        "(add): ` in front on ADD."
    ),
    example="-rw-r--r-- root root /opt/cni/bin/portmap   (copied without -p, or unpacked by a tool that dropped modes)",
    correct_example="-rwxr-xr-x root root /opt/cni/bin/portmap",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="`chmod 0755` the plugin (and check the bin dir's mount options: `findmnt -T /opt/cni/bin`).",
    runtime_errors=(
        "netplugin failed with no error message: fork/exec /opt/cni/bin/X: permission denied",
        "fork/exec /opt/cni/bin/X: permission denied",
    ),
    references=(RAW_EXEC_GO, LOOKUP_ORDER, "containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0"),
)

WRONG_ARCHITECTURE = Rule(
    code="CNI405",
    name="wrong-architecture",
    severity=Severity.ERROR,
    summary="The plugin is an ELF binary built for another CPU architecture",
    meaning=(
        "The kernel refuses an ELF whose machine type the CPU cannot run (ENOEXEC), so every pod "
        "on this network fails at the first exec. Typical after copying /opt/cni/bin from an "
        "amd64 machine to an arm64 node, or unpacking the wrong release tarball. A registered "
        "binfmt_misc (qemu-user) handler would run it under emulation; cnidoctor then does not "
        "report it."
    ),
    example="/opt/cni/bin/bridge: ELF aarch64 on an x86_64 node",
    correct_example="/opt/cni/bin/bridge: ELF x86-64 on an x86_64 node",
    when_to_ignore="When binfmt_misc emulation (qemu-user) is registered on purpose for that architecture.",
    fix="Install the plugins release built for this node's architecture (cni-plugins-linux-<arch>-vX.tgz).",
    runtime_errors=(
        "netplugin failed with no error message: fork/exec /opt/cni/bin/X: exec format error",
        "fork/exec /opt/cni/bin/X: exec format error",
    ),
    references=(
        "containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2) ENOEXEC; containernetworking/cni:pkg/invoke/find.go@v1.3.0; execve(2)",
        "execve(2) ENOEXEC",
    ),
)

MISSING_INTERPRETER_OR_LOADER = Rule(
    code="CNI406",
    name="missing-interpreter-or-loader",
    severity=Severity.ERROR,
    summary="The plugin's #! interpreter or ELF dynamic loader does not exist on this node",
    meaning=(
        "execve reports ENOENT - `no such file or directory` - for a file that plainly exists when "
        "the interpreter named on its `#!` line is missing (a `#!/bin/bash` wrapper on a node "
        "without bash; `#!/bin/sh\\r` from a file saved with Windows line endings) or when a "
        "dynamically linked ELF names a loader (PT_INTERP) that is absent (a glibc build on a "
        "musl or distroless host). The error text misleads operators into looking for the plugin "
        "itself."
    ),
    example="/opt/cni/bin/my-wrapper starts with '#!/bin/bash' on a node that has only /bin/sh",
    correct_example="/opt/cni/bin/my-wrapper starts with '#!/bin/sh' (an interpreter present on the node)",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix=(
        "Install the interpreter or loader, use a statically linked build, or fix the `#!` line "
        "(convert CRLF to LF with `sed -i 's/\\r$//'`)."
    ),
    runtime_errors=(
        "netplugin failed with no error message: fork/exec /opt/cni/bin/X: no such file or directory",
        "fork/exec /opt/cni/bin/X: no such file or directory",
    ),
    references=(
        "containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2) ENOENT; containernetworking/cni:pkg/invoke/find.go@v1.3.0; execve(2)",
        "execve(2) ENOENT, binfmt_script",
    ),
)

UNKNOWN_EXECUTABLE_FORMAT = Rule(
    code="CNI407",
    name="unknown-executable-format",
    severity=Severity.ERROR,
    summary="The plugin is neither a runnable ELF nor a #! script (empty, truncated, text, archive)",
    meaning=(
        "Go's os/exec calls execve directly and, unlike a shell, does not retry a file without "
        "`#!` through /bin/sh, so a shell script without a `#!` line, an empty file from an "
        "interrupted copy, a truncated download, an HTML error page saved by `curl` or a tarball "
        "named like the plugin all fail with ENOEXEC."
    ),
    example="/opt/cni/bin/bridge is 0 bytes (disk filled up during the installer's copy)",
    correct_example="/opt/cni/bin/bridge: ELF 64-bit executable (reinstalled from the release tarball)",
    when_to_ignore="Never: every runtime fails on this file as written.",
    fix="Reinstall the plugin from its release; add `#!/bin/sh` to shell plugins.",
    runtime_errors=(
        "netplugin failed with no error message: fork/exec /opt/cni/bin/X: exec format error",
        "fork/exec /opt/cni/bin/X: exec format error",
    ),
    references=(
        "containernetworking/cni:pkg/invoke/raw_exec.go@v0.8.0; execve(2) ENOEXEC; containernetworking/cni:pkg/invoke/find.go@v1.3.0; execve(2)",
        "execve(2) ENOEXEC",
    ),
)

BIN_DIR_MISSING = Rule(
    code="CNI408",
    name="bin-dir-missing",
    severity=Severity.WARNING,
    summary="A configured plugin directory does not exist or is not a directory",
    meaning=(
        "libcni skips a missing directory silently while searching, so the only symptom is "
        "`failed to find plugin` for plugins that were expected there. A bin dir that is missing "
        "usually means the runtime and the network add-on disagree on the location "
        "(/opt/cni/bin vs /usr/libexec/cni vs /usr/lib/cni)."
    ),
    example='containerd bin_dir = "/opt/cni/bin" but the distro package installed to /usr/lib/cni',
    correct_example='containerd bin_dir = "/usr/lib/cni" (where the package installed the plugins)',
    when_to_ignore="When no config uses a plugin from that directory (another listed bin dir holds them all).",
    fix="Create/populate the directory or configure the runtime with the directory that holds the plugins.",
    runtime_errors=(),
    references=(FIND_GO, LOOKUP_ORDER),
)

MIXED_PLUGIN_GENERATIONS = Rule(
    code="CNI409",
    name="mixed-plugin-generations",
    severity=Severity.WARNING,
    summary="Plugins in one bin dir come from different releases (different VERSION cniVersion)",
    meaning=(
        "Each reference-plugins release answers VERSION with its library's version (0.3.1 for "
        "v0.6-v0.7, 0.4.0 for v0.8-v0.9, 1.0.0 for v1.0-v1.5, 1.1.0 from v1.6). One directory "
        "holding several generations means a partial upgrade (or an add-on that overwrote a "
        "few binaries): a config that works with one plugin of the chain fails with the next "
        "(`incompatible CNI versions`), and chained results mismatch on libcni >= 1.0."
    ),
    example="/opt/cni/bin/bridge replies 1.0.0, /opt/cni/bin/portmap replies 0.4.0",
    correct_example="/opt/cni/bin/bridge and /opt/cni/bin/portmap both from plugins v1.1.1 (both reply 1.0.0)",
    when_to_ignore="When the older plugin is a vendor plugin on its own release cycle and supports the configured versions.",
    fix="Reinstall one complete plugins release into the directory (all binaries from the same tarball).",
    runtime_errors=('incompatible CNI versions; config is "X", plugin supports [...]',),
    references=(
        "containernetworking/plugins:go.mod at each release tag; containernetworking/plugins:plugins/meta/{bandwidth,firewall,vrf}@v1.9.1 (supported versions) (reference plugin releases)",
        "containernetworking/cni:pkg/skel/skel.go@v1.3.0 (VERSION); containernetworking/cni:pkg/version/version.go@v1.3.0 (ParsePrevResult)",
    ),
)

RUNTIME_LOOPBACK_MISSING = Rule(
    code="CNI410",
    name="runtime-loopback-missing",
    severity=Severity.ERROR,
    summary="No loopback plugin in the bin dirs: the runtime's built-in lo network fails every pod",
    meaning=(
        "containerd (go-cni `WithLoNetwork`) and kubelet dockershim (Kubernetes <= 1.23) set up each pod's `lo` "
        "interface by running the CNI `loopback` plugin from the same bin dirs, before the "
        "default network. No config in net.d names it, so a node whose bin dir lacks it looks "
        "fine until the first sandbox: every pod then fails with the runtime's not-found error. "
        "containerd 2.x can skip it with `use_internal_loopback = true` (containerd/go-cni:opts.go@v1.1.13 (loadFromConfDir); containerd/containerd:internal/cri/config/config_unix.go@v2.1.9)."
    ),
    example="ls /opt/cni/bin   # bridge host-local portmap ... but no loopback",
    correct_example="ls /opt/cni/bin   # bridge host-local loopback portmap ...",
    when_to_ignore="On containerd 2.x with use_internal_loopback = true, which does not run the loopback binary.",
    fix=(
        "Install the reference plugins (they include `loopback`) into the runtime's bin dir, or "
        "on containerd >= 2.0 set `use_internal_loopback = true` in the CRI plugin's cni section."
    ),
    runtime_errors=('plugin type="loopback" failed (add): failed to find plugin "loopback" in path [d1 d2]',),
    references=(FIND_GO, "go-cni opts.go WithLoNetwork", "containerd internal/cri/server/service_linux.go"),
)

RULES: Tuple[Rule, ...] = (
    PLUGIN_NOT_FOUND,
    PLUGIN_SHADOWED,
    PLUGIN_NOT_REGULAR,
    PLUGIN_NOT_EXECUTABLE,
    WRONG_ARCHITECTURE,
    MISSING_INTERPRETER_OR_LOADER,
    UNKNOWN_EXECUTABLE_FORMAT,
    BIN_DIR_MISSING,
    MIXED_PLUGIN_GENERATIONS,
    RUNTIME_LOOPBACK_MISSING,
)

_EXEC_RULES: Dict[str, Rule] = {
    "not-executable": PLUGIN_NOT_EXECUTABLE,
    "noexec-mount": PLUGIN_NOT_EXECUTABLE,
    "wrong-arch": WRONG_ARCHITECTURE,
    "missing-loader": MISSING_INTERPRETER_OR_LOADER,
    "missing-interpreter": MISSING_INTERPRETER_OR_LOADER,
    "unknown-format": UNKNOWN_EXECUTABLE_FORMAT,
}

_VERSIONS_NOTE = (
    "libcni >= v0.8.0 text; v0.7.x prints only the part after the prefix, and libcni >= v1.0 "
    "adds 'plugin type=\"{type}\" failed (add): ' in front on ADD"
)


def _digest(path: str) -> Optional[str]:
    import hashlib  # lazy: start-up matters on nodes, only this path hashes

    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def _shadow_finding(res: Resolution, file: Optional[str], pointer: str) -> Finding:
    assert res.path is not None
    first = _digest(res.path)
    different = [p for p in res.shadowed if _digest(p) != first or first is None]
    copies = ", ".join(res.shadowed)
    if different:
        message = f"plugin {res.type!r}: {res.path} is run; the different copy in {', '.join(different)} is never used"
        return PLUGIN_SHADOWED.at(file, pointer, message, plugin=res.type)
    message = f"plugin {res.type!r}: {res.path} is run; identical copies in {copies} are never used"
    return PLUGIN_SHADOWED.at(file, pointer, message, plugin=res.type, severity=Severity.INFO)


def _skipped_findings(res: Resolution, file: Optional[str], pointer: str) -> List[Finding]:
    out: List[Finding] = []
    for path, reason in res.skipped:
        if res.path is None:
            message = f"plugin {res.type!r}: {path} is skipped by libcni ({reason}) and no other bin dir has the plugin"
            out.append(PLUGIN_NOT_REGULAR.at(file, pointer, message, plugin=res.type, predicts=res.error))
        else:
            message = f"plugin {res.type!r}: {path} is skipped ({reason}); libcni runs {res.path} instead"
            out.append(PLUGIN_NOT_REGULAR.at(file, pointer, message, plugin=res.type, severity=Severity.WARNING))
    return out


# Well-known third-party plugin types and what installs their binary: the reference-plugins
# tarball (containernetworking/plugins releases) does not contain them. Sources: each project's
# install manifest - flannel-io/flannel:Documentation/kube-flannel.yml (install-cni-plugin init
# container), projectcalico/calico:manifests/calico.yaml (install-cni), cilium/cilium:
# install/kubernetes (cilium-agent's install-plugin init container), k8snetworkplumbingwg/
# multus-cni:deployments/multus-daemonset.yml (install-multus-binary), weaveworks/weave:
# prog/weave-kube/launch.sh, aws/amazon-vpc-cni-k8s (aws-node init container), antrea-io/antrea:
# build/charts/antrea (install-cni), k8snetworkplumbingwg/whereabouts:doc/crds/daemonset-install.yaml.
THIRD_PARTY_INSTALLERS: Dict[str, str] = {
    "flannel": "the kube-flannel DaemonSet (its install-cni-plugin init container copies flannel into the bin dir)",
    "calico": "Calico's install-cni container (calico-node DaemonSet or the Tigera operator)",
    "calico-ipam": "Calico's install-cni container (calico-node DaemonSet or the Tigera operator)",
    "cilium-cni": "the Cilium agent DaemonSet (its install-plugin init container)",
    "multus": "the Multus DaemonSet (its install-multus-binary init container)",
    "multus-shim": "the Multus thick-plugin DaemonSet (its install-multus-shim init container)",
    "weave-net": "the weave-net DaemonSet (weave-kube copies weave-net into the bin dir)",
    "aws-cni": "the aws-node DaemonSet of amazon-vpc-cni-k8s (its init container)",
    "antrea": "the Antrea agent DaemonSet (its install-cni init container)",
    "whereabouts": "the whereabouts DaemonSet (it copies the binary into the bin dir)",
    "kube-ovn": "the kube-ovn-cni DaemonSet (its install-cni init container)",
    "ovn-k8s-cni-overlay": "the ovnkube-node DaemonSet of ovn-kubernetes",
}


def install_fix(plugin_type: str, searched: Sequence[str]) -> str:
    """CNI401's fix for this type: the provider's installer for a well-known third-party plugin,
    the reference-plugins tarball only for the types it ships."""
    where = searched[0] if searched else "the runtime's bin dir"
    if plugin_type in THIRD_PARTY_INSTALLERS:
        return (
            f"{plugin_type!r} is not a reference plugin: it is installed by {THIRD_PARTY_INSTALLERS[plugin_type]}; "
            f"check that it runs on this node and writes to {where}, or correct the `type`."
        )
    if plugin_type in REFERENCE_PLUGINS:
        return (
            f"Install the containernetworking/plugins release tarball into {where} (it ships {plugin_type!r}), "
            "or point the runtime at the directory that has it (containerd `bin_dir`/`bin_dirs`, CRI-O `plugin_dirs`)."
        )
    return (
        f"Install the binary of {plugin_type!r} from its provider into {where}, or point the runtime at the "
        "directory that has it (containerd `bin_dir`/`bin_dirs`, CRI-O `plugin_dirs`), or correct the `type`."
    )


def resolution_findings(res: Resolution, file: Optional[str], pointer: str) -> Tuple[Finding, ...]:
    """CNI401-407 for one resolved ``type``; ``pointer`` locates the ``type`` key."""
    if res.problem == "invalid-name":
        return ()  # CNI311 (rules/semantics.py) reports empty types and types with '/'
    if res.problem == "not-found":
        if res.skipped:
            return tuple(_skipped_findings(res, file, pointer))
        where = " ".join(res.searched) if res.searched else "(no bin dirs)"
        message = f"plugin {res.type!r} is not in any bin dir: {where}"
        fix = install_fix(res.type, res.searched)
        return (PLUGIN_NOT_FOUND.at(file, pointer, message, plugin=res.type, predicts=res.error, fix=fix),)
    out = _skipped_findings(res, file, pointer)
    if res.shadowed:
        out.append(_shadow_finding(res, file, pointer))
    rule = _EXEC_RULES.get(res.problem or "")
    if rule is not None:
        message = (
            f"plugin {res.type!r} at {res.path} cannot be executed: {res.detail} "
            f"({_VERSIONS_NOTE.format(type=res.type)})"
        )
        out.append(rule.at(file, pointer, message, plugin=res.type, predicts=res.error))
    return tuple(out)


def bin_dir_findings(bin_dirs: Sequence[str], host_root: Optional[str] = None) -> Tuple[Finding, ...]:
    """CNI408 for each configured bin dir that is not a directory (node level: file None);
    symlinks resolved as the node does under ``host_root`` (cnidoctor/hostpath.py)."""
    out: List[Finding] = []
    for directory in dict.fromkeys(bin_dirs):
        if os.path.isdir(on_node(directory, host_root)):
            continue
        what = "does not exist" if not os.path.lexists(directory) else "is not a directory"
        out.append(BIN_DIR_MISSING.at(None, "", f"plugin directory {directory} {what}"))
    return tuple(out)


# The binaries containernetworking/plugins ships (v0.8-v1.9; flannel until v0.9): a partial
# upgrade of these is what CNI409 is about. Third-party plugins (calico, cilium-cni, ...) have
# their own release trains, so their VERSION replies say nothing about a half-done upgrade.
REFERENCE_PLUGINS = frozenset(
    {
        "bandwidth",
        "bridge",
        "dhcp",
        "dummy",
        "firewall",
        "flannel",
        "host-device",
        "host-local",
        "ipvlan",
        "loopback",
        "macvlan",
        "portmap",
        "ptp",
        "sbr",
        "static",
        "tap",
        "tuning",
        "vlan",
        "vrf",
        "win-bridge",
        "win-overlay",
    }
)


def generation_findings(
    bin_dir: str, probes: Mapping[str, ProbeResult], file: Optional[str] = None
) -> Tuple[Finding, ...]:
    """CNI409 when the reference plugins of one dir reply with different ``cniVersion`` values.

    Only replies libcni accepted count; legacy/unknown-VERSION replies count as their own
    generation ("0.2.0" / "pre-VERSION"). Third-party binaries are not compared.
    """
    generations: Dict[str, List[str]] = {}
    for path, result in sorted(probes.items()):
        if os.path.dirname(os.path.abspath(path)) != os.path.abspath(bin_dir) or not result.ok:
            continue
        if os.path.basename(path) not in REFERENCE_PLUGINS:
            continue
        label = result.cni_version or "pre-VERSION (0.1.0)"
        generations.setdefault(label, []).append(os.path.basename(path))
    if len(generations) < 2:
        return ()
    parts = "; ".join(f"{version}: {', '.join(names)}" for version, names in sorted(generations.items()))
    message = f"{bin_dir} mixes plugin releases (VERSION cniVersion {parts})"
    return (MIXED_PLUGIN_GENERATIONS.at(file, "", message),)


# ---------------------------------------------------------------------------------------------
# The checks over the node stage's NodeContext (crosscheck/context.py), run by the crosscheck
# stage (crosscheck/facts.NODE_CHECKS).


def check_loopback_present(ctx: NodeContext) -> Tuple[Finding, ...]:
    """CNI410: runtimes with a built-in loopback network (containerd, dockershim) run the
    `loopback` binary for every sandbox; nothing in net.d names it, so check it here."""
    info = ctx.facts.get(LOOPBACK)
    users = [m for m in ctx.releases if m.release.loopback_version]
    if info is None or info.path is not None or not users:
        return ()
    text = loopback_prefix("add", newest_lib(users)) + (info.error or "")
    message = (
        f"no `loopback` plugin in the bin dirs: {ranges(users)} run it for every pod's lo "
        f"interface before the default network, so every sandbox fails"
    )
    return (RUNTIME_LOOPBACK_MISSING.at(None, "", message, plugin=LOOPBACK, predicts=text),)


# ---------------------------------------------------------------------------------------------
# CNI411: who besides root can change what the runtime executes as root (cnidoctor/fsperms.py)

_CIS_CNI_FILES = (
    "CIS Kubernetes Benchmark v1.8.0 1.1.9 (Container Network Interface file permissions 600 or more "
    "restrictive) and 1.1.10 (Container Network Interface file ownership root:root)"
)

WRITABLE_PLUGIN_PATH = Rule(
    code="CNI411",
    name="plugin-writable-by-non-root",
    severity=Severity.WARNING,
    summary="A plugin binary or bin dir can be changed by a non-root user: a root escalation path",
    meaning=(
        "The container runtime runs as root and executes every CNI plugin it finds in its bin dirs "
        "for every pod sandbox (containernetworking/cni:pkg/invoke/find.go@v1.3.0 (FindInPath); "
        "containernetworking/cni:pkg/invoke/raw_exec.go@v1.3.0 (ExecPlugin)). A binary that is "
        "group- or world-writable or owned by a non-root uid can be replaced by that user, and a bin "
        "dir with those permissions lets them drop in a plugin (or a copy that shadows one in a later "
        "dir): the next pod runs their code as root. Symlinks are followed, as the exec does. A "
        "world-writable dir with the sticky bit is still reported: the sticky bit only stops others "
        "from removing files they do not own, not from adding new ones. Nothing fails today, hence a "
        "warning; when cnidoctor itself runs as root it does not execute such a binary for its "
        "VERSION probe (CNI505) and predicts nothing from it."
    ),
    example="drwxrwxr-x ci ci /opt/cni/bin   (unpacked by a CI user; anyone in group ci can add a plugin)",
    correct_example="drwxr-xr-x root root /opt/cni/bin, -rwxr-xr-x root root /opt/cni/bin/bridge",
    when_to_ignore="On a throwaway test machine where every user is root anyway.",
    fix="`chown root:root` the path and `chmod go-w` it (0755 for bin dirs and plugins).",
    runtime_errors=(),
    references=(
        _CIS_CNI_FILES,
        "containerd/containerd:docs/cri/config.md@v2.1.0 (bin_dir: the directory the runtime executes CNI plugins from)",
        "cri-o/cri-o:docs/crio.conf.5.md@v1.31.0 (plugin_dirs)",
        "containernetworking/cni:pkg/invoke/find.go@v1.3.0 (FindInPath)",
    ),
)

# Registered here rather than in the tuple above: the rule is defined after it.
RULES = RULES + (WRITABLE_PLUGIN_PATH,)


def writable_fix(path: str, is_dir: bool) -> str:
    """The chown/chmod for this path (0755: what the plugins release tarball ships)."""
    what = "directory" if is_dir else "plugin"
    return (
        f"Give the {what} back to root: `chown root:root {path} && chmod go-w {path}`; then check "
        f"who changed it (the installer that wrote it should run as root)."
    )


def writable_findings(
    bin_dirs: Sequence[str], resolutions: Mapping[str, Resolution], host_root: Optional[str] = None
) -> Tuple[Finding, ...]:
    """CNI411 (node level) for every configured bin dir and every resolved plugin binary that a
    non-root user can change; each path once."""
    from ..fsperms import non_root_writers

    out: List[Finding] = []
    for directory in dict.fromkeys(bin_dirs):
        why = non_root_writers(on_node(directory, host_root))
        if why is not None:
            message = f"plugin directory {directory} is {why}: a non-root user can add plugins the runtime runs as root"
            out.append(WRITABLE_PLUGIN_PATH.at(None, "", message, fix=writable_fix(directory, True)))
    seen = set()
    for res in resolutions.values():
        if res.path is None or res.path in seen:
            continue
        seen.add(res.path)
        why = non_root_writers(res.exec_path or res.path)
        if why is not None:
            message = (
                f"plugin {res.type!r} at {res.path} is {why}: a non-root user can replace what the runtime runs as root"
            )
            out.append(WRITABLE_PLUGIN_PATH.at(None, "", message, plugin=res.type, fix=writable_fix(res.path, False)))
    return tuple(out)
