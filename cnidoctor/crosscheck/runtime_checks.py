"""Where the config side meets the runtime side: the plugin types the configs in the runtime's
conf dir name, against the directories the detected runtime really searches.

A type found in none of the runtime's bin dirs but present in another well-known plugin
directory of the node means the add-on installed into a directory the runtime does not search:
CNI615 for containerd (and k3s/RKE2's embedded containerd), CNI637 for CRI-O. libcni looks a
type up as a regular file in each directory of the path handed to it, in order
(containernetworking/cni:pkg/invoke/find.go@v1.1.2 FindInPath); containerd hands it only
``bin_dir``/``bin_dirs`` (containerd/go-cni:cni.go@v1.1.7 WithPluginDir), CRI-O only
``plugin_dirs`` (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1).
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from ..model import Finding, Options, ParsedFile
from ..rules import runtime_containerd, runtime_crio
from .runtime_view import on_host

if TYPE_CHECKING:
    from ..runtime.detect import NodeRuntime
    from ..runtime.matrix import RuntimeRelease
    from ..runtime.model import RuntimeConfig

# Where add-ons and packages put plugins: the upstream default (containerd
# pkg/cri/config/config_unix.go@v1.6.39, cri-o pkg/config/config_unix.go@v1.28.2), Debian's
# containernetworking-plugins (/usr/lib/cni) and Fedora/RHEL's (/usr/libexec/cni).
WELL_KNOWN_DIRS: Tuple[str, ...] = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")

CONTAINERD_FAMILY = ("containerd", "k3s", "rke2")
# The TOML keys that set the plugin path, most specific first.
CONTAINERD_KEYS: Tuple[Tuple[str, ...], ...] = tuple(
    ("plugins", plugin, "cni", key)
    for plugin in ("io.containerd.cri.v1.runtime", "io.containerd.grpc.v1.cri", "cri")
    for key in ("bin_dirs", "bin_dir")
)
CRIO_KEYS: Tuple[Tuple[str, ...], ...] = (("crio", "network", "plugin_dirs"), ("crio", "network", "plugin_dir"))


def check(options: Options, node: Optional[NodeRuntime], parsed: Sequence[ParsedFile]) -> List[Finding]:
    """CNI615/CNI637 for plugin types that only a directory the runtime ignores holds."""
    if node is None or node.detected is None:
        return []
    config = node.detected.config
    if config.name not in CONTAINERD_FAMILY and config.name != "crio":
        return []
    if options.dirs_from_flags:
        parsed = in_runtime_conf_dir(node.host_root, config, options.paths, parsed)
        if not parsed:
            return []
    misplaced = misplaced_types(node.host_root, config.bin_dirs, plugin_types(parsed))
    found = [_finding(node.host_root, config, where, types) for where, types in sorted(misplaced.items())]
    if config.name == "crio" and config.default_network:
        found.extend(default_network_missing(node.host_root, config, parsed, _modelled_release(options, node)))
    return found


def in_runtime_conf_dir(
    root: str, config: RuntimeConfig, paths: Sequence[str], parsed: Sequence[ParsedFile]
) -> Sequence[ParsedFile]:
    """With directories given on the command line, the runtime's checks still apply to the
    runtime's own conf dir when it is one of them (``cnidoctor check --host-root / /etc/cni/net.d``
    on a node): the files read from that directory; none when it was not given."""
    conf_dir = os.path.realpath(on_host(root, posixpath.normpath(config.conf_dir)))
    if not any(os.path.realpath(path) == conf_dir for path in paths):
        return ()
    return [item for item in parsed if os.path.realpath(os.path.dirname(item.path)) == conf_dir]


def default_network_missing(
    root: str, config: RuntimeConfig, parsed: Sequence[ParsedFile], release: Optional[RuntimeRelease]
) -> List[Finding]:
    """CNI636 when no usable config defines CRI-O's ``cni_default_network``: ocicni never falls
    back to the first file once the name is fixed (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1
    initCNI, syncNetworkConfig). Usable here: libcni loads it and every plugin type is present
    in ``plugin_dirs`` (the VERSION part of ValidateNetworkList needs a probe). The error quoted
    is the modelled release's wording (predict.crio_no_network_text: `No` up to ocicni v0.4.1)."""
    names = [
        item.network.name or posixpath.basename(item.path)
        for item in sorted(parsed, key=lambda p: p.path)
        if item.network is not None and item.network.plugins and not misplaced_or_missing(root, config, item)
    ]
    wanted = config.default_network
    if wanted in names:
        return []
    file, pointer, line, column = key_origin(root, config, (("crio", "network", "cni_default_network"),))
    have = ", ".join(sorted(set(names))) or "none"
    message = (
        f"cni_default_network is {wanted!r}, but no usable config in {config.conf_dir} defines that "
        f'network (usable networks: {have}); pods wait with "{_no_network_text(release, config.conf_dir)}"'
    )
    shown = on_host(root, file) if file else None
    return [runtime_crio.CRIO_DEFAULT_NETWORK_MISSING.at(shown, pointer, message, line=line, column=column)]


def _modelled_release(options: Options, node: NodeRuntime) -> Optional[RuntimeRelease]:
    """The release the prediction models (context.runtime_scope: the first --runtime, else the
    node's own); None when neither names one."""
    detected = node.detected.modelled if node.detected is not None else None
    if detected is None and not options.runtimes:
        return None
    from .context import runtime_scope  # lazy: the support matrix, only for a CRI-O default network

    return runtime_scope(options, detected).modelled.release


def _no_network_text(release: Optional[RuntimeRelease], conf_dir: str) -> str:
    if release is None:
        return f"no CNI configuration file in {conf_dir}. Has your network provider started?"
    from .predict import crio_no_network_text  # lazy: the prediction module is large

    return crio_no_network_text(release, conf_dir)


def misplaced_or_missing(root: str, config: RuntimeConfig, item: ParsedFile) -> bool:
    """True when some plugin type of ``item`` is in none of the runtime's bin dirs."""
    dirs = {posixpath.normpath(d) for d in config.bin_dirs if d}
    return any(not any(_is_plugin(root, d, name) for d in dirs) for name in plugin_types((item,)))


def plugin_types(parsed: Sequence[ParsedFile]) -> Tuple[str, ...]:
    """Every plugin and IPAM type the loadable configs name, in first-seen order."""
    seen: Dict[str, None] = {}
    for item in parsed:
        for plugin in item.network.plugins if item.network is not None else ():
            for name in (plugin.type, plugin.ipam_type):
                if name and "/" not in name:
                    seen.setdefault(name, None)
    return tuple(seen)


def misplaced_types(root: str, bin_dirs: Sequence[str], types: Sequence[str]) -> Dict[str, Tuple[str, ...]]:
    """{well-known dir: types found there} for the types none of ``bin_dirs`` holds."""
    searched = {posixpath.normpath(d) for d in bin_dirs if d}
    out: Dict[str, List[str]] = {}
    for name in types:
        if any(_is_plugin(root, d, name) for d in searched):
            continue
        for candidate in WELL_KNOWN_DIRS:
            if candidate not in searched and _is_plugin(root, candidate, name):
                out.setdefault(candidate, []).append(name)
                break
    return {d: tuple(names) for d, names in out.items()}


def _is_plugin(root: str, directory: str, name: str) -> bool:
    from ..runtime.version import resolve_in_root  # absolute links resolve inside the root

    return os.path.isfile(resolve_in_root(root, posixpath.join(directory, name)))


def _finding(root: str, config: RuntimeConfig, where: str, types: Sequence[str]) -> Finding:
    keys = CRIO_KEYS if config.name == "crio" else CONTAINERD_KEYS
    file, pointer, line, column = key_origin(root, config, keys)
    dirs = "[" + " ".join(config.bin_dirs) + "]"
    rule = (
        runtime_crio.CRIO_PLUGIN_DIRS_LACK_PROVIDER
        if config.name == "crio"
        else runtime_containerd.PROVIDER_DIR_NOT_SEARCHED
    )
    lookup = f'failed to find plugin "{types[0]}" in path {dirs}'
    # ocicni skips a config that fails validation and moves the default on; containerd fails the pod.
    outcome = (
        f"CRI-O skips the configs that use them ({lookup}) and pods fall back to the next valid network"
        if config.name == "crio"
        else f"every pod on that network fails with: {lookup}"
    )
    message = (
        f"{config.name} looks for plugins in {dirs}, but {', '.join(types)} "
        f"{'is' if len(types) == 1 else 'are'} installed only in {where}; {outcome}"
    )
    shown = on_host(root, file) if file else None
    return rule.at(shown, pointer, message, plugin=types[0], line=line, column=column)


def key_origin(
    root: str, config: RuntimeConfig, keys: Sequence[Tuple[str, ...]]
) -> Tuple[Optional[str], str, Optional[int], Optional[int]]:
    """(node file, pointer, line, column) of the last file that sets the plugin path; the main
    config file (or nothing) when the defaults apply."""
    from ..runtime.tomlsrc import json_pointer, locate_key, written_keys
    from ..runtime.version import resolve_in_root

    for node_file in reversed(config.files_read or ((config.config_file,) if config.config_file else ())):
        try:
            with open(resolve_in_root(root, node_file), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        written = written_keys(text)
        for key in keys:
            if key in written:
                line, column = locate_key(text, key)
                return node_file, json_pointer(key), line, column
    return config.config_file, "", None, None


__all__ = ["WELL_KNOWN_DIRS", "check", "key_origin", "misplaced_types", "plugin_types"]
