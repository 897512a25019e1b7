"""The runtime a run models, as the report shows it: what was read on the node, what a flag
said, and what was only assumed — each with its source, so that an assumption is never
presented as a detection.

Also where the config side and the plugin side look when the runtime's configuration decides
(``node_dirs``): the runtime's ``conf_dir`` and ``bin_dirs``, under ``--host-root``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional, Tuple

from ..model import DEFAULT_CONF_DIR, Options, RuntimeEvidence, RuntimeSource, RuntimeSummary
from ..runtime import matrix

if TYPE_CHECKING:
    from ..runtime.detect import NodeRuntime


def on_host(host_root: Optional[str], node_path: str) -> str:
    """``node_path`` as this process sees it: below ``host_root`` unless that is ``/``."""
    if not host_root or os.path.abspath(host_root) == "/":
        return node_path
    return os.path.join(host_root, node_path.lstrip("/"))


def node_dirs(options: Options, node: Optional[NodeRuntime]) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """(config paths, bin dirs) to check: the flags' when given, else the detected runtime's,
    else the defaults — always under the host root."""
    if options.dirs_from_flags:
        return options.paths, options.bin_dirs
    root = options.host_root
    config = node.detected.config if node is not None and node.detected is not None else None
    conf_dir = config.conf_dir if config is not None else DEFAULT_CONF_DIR
    bin_dirs = config.bin_dirs if config is not None else ()
    paths = (on_host(root, _clean(conf_dir)),)
    bins = tuple(on_host(root, _clean(d)) for d in bin_dirs)
    if not bins and root:
        bins = tuple(on_host(root, d) for d in options.search_dirs)
    return paths, options.bin_dirs or bins


def _clean(path: str) -> str:
    # CRI-O keeps "/etc/cni/net.d/" with its slash; the dir is the same
    return os.path.normpath(path) if path else path


def summarise(options: Options, node: Optional[NodeRuntime], modelled: Optional[matrix.Modelled]) -> RuntimeSummary:
    """The report's ``runtime`` section."""
    detected = node.detected if node is not None else None
    model = modelled or matrix.modelled_for_prediction(())
    source: RuntimeSource = "flag" if options.runtimes else "detected" if detected is not None else "default"
    version_source = detected.version.source if source == "detected" and detected is not None else source
    config = detected.config if detected is not None and not options.runtimes else None
    name = detected.name if source == "detected" and detected is not None else model.release.runtime
    version: Optional[str] = model.version
    if source == "detected" and detected is not None:
        # the node's own release; else the one modelled for it (its source then says "default")
        version = detected.version.version
        if version is None and detected.name in ("containerd", "crio") and detected.modelled is not None:
            version = detected.modelled.version
    libcni = model.release.libcni.version if detected is None or detected.version.libcni is None else None
    if detected is not None and detected.version.libcni is not None:
        libcni = detected.version.libcni
    return RuntimeSummary(
        name=name,
        version=version,
        libcni=libcni,
        config_file=config.config_file if config else None,
        conf_dir=_clean(config.conf_dir) if config else DEFAULT_CONF_DIR,
        bin_dirs=tuple(_clean(d) for d in config.bin_dirs) if config else options.search_dirs,
        max_conf_num=config.max_conf_num if config else None,
        default_network=config.default_network if config else None,
        source_runtime=source,
        source_version=version_source,
        source_dirs=_dirs_source(options, detected is not None, config.dirs_source if config else None),
        host_root=options.host_root,
        evidence=_evidence(node),
        notes=detected.notes if detected is not None else (),
        installed=node.installed if node is not None else (),
        kubelet_endpoint=node.kubelet_endpoint if node is not None else None,
    )


def _dirs_source(options: Options, detected: bool, config_source: Optional[str]) -> str:
    if options.dirs_from_flags:
        return "flag"
    if detected and config_source in ("config", "flag"):  # a runtime flag (cri-dockerd unit) is its config
        return "config"
    return "default"


def _evidence(node: Optional[NodeRuntime]) -> Tuple[RuntimeEvidence, ...]:
    if node is None or node.detected is None:
        return ()
    return tuple(RuntimeEvidence(e.kind, e.path, e.detail) for e in node.detected.config.evidence)
