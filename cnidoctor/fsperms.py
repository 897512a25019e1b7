"""Who besides root can change a file the container runtime trusts.

The runtime runs as root: it executes every plugin in its bin dirs and reads every config in
its config dir (containernetworking/cni:pkg/invoke/find.go@v1.3.0 (FindInPath);
containernetworking/cni:libcni/conf.go@v1.3.0 (ConfFiles)). A non-root user who can replace one
of those files, or add one to those directories, gets code run as root or decides the pods'
network. Shared by config/ (config dirs and files) and the plugin rules (bin dirs, binaries):
a pure ``os.stat``, following symlinks as the runtime's open/exec does. Under ``--host-root``
the owner uids are the node's, as stored in its file system.

The sticky bit does not make a world-writable directory safe here: it only stops users from
deleting or renaming entries they do not own (unlink(2), rename(2) EPERM), but anyone can still
*add* an entry - a config that sorts first becomes containerd's default network, a plugin named
like one that is missing (or found only in a later bin dir) is run as root.
"""

from __future__ import annotations

import os
import stat
from typing import List, Optional

__all__ = ["non_root_writers", "non_root_writers_of"]


def non_root_writers(path: str) -> Optional[str]:
    """Why a non-root user can change ``path`` (e.g. "owned by uid 1000, group-writable; mode
    0775"), or None when only root can (or ``path`` cannot be stat'ed: other rules say why)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return non_root_writers_of(info)


def non_root_writers_of(info: os.stat_result) -> Optional[str]:
    """``non_root_writers`` from a stat already taken (following symlinks, e.g. an fstat of the
    open file): one system call less for a file just read."""
    mode = info.st_mode
    reasons: List[str] = []
    if info.st_uid != 0:
        reasons.append(f"owned by uid {info.st_uid}")
    if mode & stat.S_IWGRP:
        reasons.append(f"writable by group {info.st_gid}")
    if mode & stat.S_IWOTH:
        sticky = stat.S_ISDIR(mode) and mode & stat.S_ISVTX
        reasons.append("writable by every user" + (" (sticky bit: anyone can still add entries)" if sticky else ""))
    if not reasons:
        return None
    return f"{', '.join(reasons)}; mode {stat.S_IMODE(mode):04o}"
