"""Node paths under a host root: symlinks followed chroot-style, never leaving the root.

``--host-root DIR`` stands in for the node's ``/`` (the host mounted into a pod, a
``kubectl debug node/...`` shell, a test tree). An absolute symlink on the node
(k3s: ``data/cni/flannel -> /var/lib/rancher/k3s/data/<hash>/bin/cni``; distributions:
``/opt/cni/bin/x -> /usr/libexec/cni/x``) means a node path, so it must resolve inside the host
root, where the runtime's libcni on the node would find it, not on the machine cnidoctor runs
on. ``..`` is applied after the symlinks before it are resolved, as the kernel does
(path_resolution(7)), and never climbs above the root. Shared by runtime/ (reading the runtime's
configuration) and plugins/ (finding and probing plugin binaries).
"""

from __future__ import annotations

import os
from typing import List, Optional

__all__ = ["MAX_SYMLINKS", "is_host_root", "node_path", "on_node", "resolve_under"]

MAX_SYMLINKS = 40  # Linux's own limit for one path lookup (path_resolution(7))


def is_host_root(root: Optional[str]) -> bool:
    """True when ``root`` is a directory standing in for the node's ``/`` (not ``/`` itself)."""
    return bool(root) and os.path.abspath(root or "/") != "/"


def _split(path: str) -> List[str]:
    return [p for p in path.split("/") if p and p != "."]


def resolve_under(root: str, node: str) -> Optional[str]:
    """The local path for the node path ``node``, every symlink resolved inside ``root``.

    None when a symlink loop or too many links make the path unresolvable. A missing component
    is kept as is (callers then see ENOENT)."""
    root = os.path.abspath(root or "/")
    parts = _split(node)
    resolved: List[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            target = os.readlink(candidate)
        except (OSError, ValueError):
            resolved.append(part)  # not a link (or missing): keep the name
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            return None
        if target.startswith("/"):
            resolved = []  # an absolute target means the node's /, i.e. the host root
        parts = _split(target) + parts
    return os.path.join(root, *resolved)


def node_path(root: str, local: str) -> Optional[str]:
    """The node path of ``local`` (a path as this process sees it under ``root``); None when
    ``local`` is not under ``root``."""
    root = os.path.abspath(root or "/")
    local = os.path.abspath(local)
    if local == root:
        return "/"
    prefix = root.rstrip("/") + "/"
    if not local.startswith(prefix):
        return None
    return "/" + local[len(prefix) :]


def on_node(local: str, root: Optional[str]) -> str:
    """``local`` (a path under ``root`` as this process sees it) with its symlinks resolved as
    the node resolves them; unchanged without a host root, outside it, or on a symlink loop."""
    if not is_host_root(root):
        return local
    node = node_path(root or "/", local)
    resolved = resolve_under(root or "/", node) if node is not None else None
    return resolved or local
