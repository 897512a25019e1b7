"""Node paths under a host root: the directory that stands in for the node's ``/``.

cnidoctor may run inside a container with the host mounted at e.g. /host, or in tests on a
fixture tree. Absolute symlinks on the node (k3s's ``data/current`` -> ``/var/lib/rancher/...``)
must then resolve *inside* the host root, never on the machine running cnidoctor.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from typing import List, Optional

_MAX_LINKS = 40  # Linux's MAXSYMLINKS: a loop is reported as "does not exist"


def host_path(root: str, node_path: str) -> str:
    """The path under ``root`` that ``node_path`` names on the node, symlinks followed in the root."""
    parts = [p for p in node_path.split("/") if p]
    resolved = ""  # node path resolved so far ("" = "/")
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            resolved = posixpath.dirname(resolved) if resolved else ""
            resolved = "" if resolved == "/" else resolved
            continue
        candidate = f"{resolved}/{part}"
        on_host = os.path.join(root, candidate.lstrip("/"))
        if os.path.islink(on_host) and hops < _MAX_LINKS:
            hops += 1
            target = os.readlink(on_host)
            parts = [p for p in target.split("/") if p] + parts
            if target.startswith("/"):
                resolved = ""
            continue
        resolved = candidate
    return os.path.join(root, resolved.lstrip("/")) if resolved else root


def link_target(root: str, node_path: str) -> Optional[str]:
    """The node path a symlink at ``node_path`` points to (made absolute), or None if no symlink."""
    parent = posixpath.dirname(node_path.rstrip("/"))
    on_host = os.path.join(host_path(root, parent), posixpath.basename(node_path.rstrip("/")))
    if not os.path.islink(on_host):
        return None
    target = os.readlink(on_host)
    return posixpath.normpath(target if target.startswith("/") else posixpath.join(parent, target))


def is_file(root: str, node_path: str) -> bool:
    return os.path.isfile(host_path(root, node_path))


def is_dir(root: str, node_path: str) -> bool:
    return os.path.isdir(host_path(root, node_path))


def read_text(root: str, node_path: str) -> str:
    """The file's text; undecodable bytes replaced (a config is text; a stray byte is not fatal here)."""
    with open(host_path(root, node_path), "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def glob(root: str, pattern: str) -> List[str]:
    """Go's ``filepath.Glob`` on the node: per path element, matches in lexical order, dot files included."""
    results = [""]
    for element in [p for p in pattern.split("/") if p]:
        expanded: List[str] = []
        for base in results:
            expanded.extend(_expand(root, base, element))
        results = expanded
    return [r for r in results if os.path.lexists(host_path(root, r))]


def _expand(root: str, base: str, element: str) -> List[str]:
    if not any(char in element for char in "*?[\\"):
        return [f"{base}/{element}"]
    directory = host_path(root, base or "/")
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [f"{base}/{name}" for name in names if fnmatch.fnmatchcase(name, element)]
