"""Reading the node's files under a host root without ever leaving it.

``--host-root`` is a directory standing in for the node's ``/`` (the host mounted into a pod, a
``kubectl debug node/...`` shell, a test fixture). Paths in runtime configs and unit files are
node paths (``/etc/crio/crio.conf``); an absolute symlink on the node (``/etc/alternatives/...``)
must resolve inside the host root, not on the machine cnidoctor runs on. So symlinks are followed
by hand, chroot-style (cnidoctor/hostpath.py, shared with the plugin side), and every read is
bounded and never blocks (FIFOs are refused).
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from typing import List, Optional, Tuple

from ..frozen import dataclass
from ..hostpath import resolve_under

# Runtime configs, unit files and env files are small; a larger file is not one of them.
MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class ReadResult:
    """The text of a node file, or why it could not be read (``error`` is an OS-style text)."""

    path: str  # node path as asked for
    text: Optional[str]
    error: Optional[str] = None
    missing: bool = False  # the path (or a symlink target on the way) does not exist


class HostFS:
    """A read-only view of a node's file system rooted at ``root``."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root or "/")

    def real(self, node_path: str) -> Optional[str]:
        """The local path for ``node_path`` with every symlink resolved inside the root.

        None when a symlink loop or too many links make the path unresolvable. A missing final
        component is returned as is (callers then see ENOENT)."""
        return resolve_under(self.root, node_path)

    def exists(self, node_path: str) -> bool:
        local = self.real(node_path)
        return local is not None and os.path.exists(local)

    def is_dir(self, node_path: str) -> bool:
        local = self.real(node_path)
        return local is not None and os.path.isdir(local)

    def is_file(self, node_path: str) -> bool:
        local = self.real(node_path)
        return local is not None and os.path.isfile(local)

    def lexists(self, node_path: str) -> bool:
        """True also for a dangling symlink (the entry itself exists)."""
        parent = self.real(posixpath.dirname(node_path) or "/")
        if parent is None:
            return False
        return os.path.lexists(os.path.join(parent, posixpath.basename(node_path)))

    def is_symlink(self, node_path: str) -> bool:
        parent = self.real(posixpath.dirname(node_path) or "/")
        if parent is None:
            return False
        return os.path.islink(os.path.join(parent, posixpath.basename(node_path)))

    def readlink(self, node_path: str) -> Optional[str]:
        """The raw target of a symlink entry (node-relative meaning), None if not a symlink."""
        parent = self.real(posixpath.dirname(node_path) or "/")
        if parent is None:
            return None
        try:
            return os.readlink(os.path.join(parent, posixpath.basename(node_path)))
        except OSError:
            return None

    def link_target(self, node_path: str) -> Optional[str]:
        """The node path a symlink at ``node_path`` points to (made absolute), None if no symlink."""
        entry = node_path.rstrip("/")
        target = self.readlink(entry)
        if target is None:
            return None
        parent = posixpath.dirname(entry) or "/"
        return posixpath.normpath(target if target.startswith("/") else posixpath.join(parent, target))

    def glob(self, pattern: str) -> List[str]:
        """Go's ``filepath.Glob`` on the node: per path element, matches in byte order, dot files
        included, entries that exist themselves (a dangling symlink too, as ``os.Lstat`` sees it)."""
        results = [""]
        for element in [p for p in pattern.split("/") if p]:
            expanded: List[str] = []
            for base in results:
                expanded.extend(self._expand(base, element))
            results = expanded
        return [r for r in results if self.lexists(r)]

    def _expand(self, base: str, element: str) -> List[str]:
        if not any(char in element for char in "*?[\\"):
            return [f"{base}/{element}"]
        return [f"{base}/{name}" for name in self.listdir(base or "/") if fnmatch.fnmatchcase(name, element)]

    def listdir(self, node_path: str) -> Tuple[str, ...]:
        """Entry names sorted by their bytes, as Go's ``os.ReadDir``/``filepath.Walk`` order them."""
        local = self.real(node_path)
        if local is None:
            return ()
        try:
            names = os.listdir(local)
        except OSError:
            return ()
        return tuple(sorted(names, key=lambda n: n.encode("utf-8", "surrogateescape")))

    def read_text(self, node_path: str, limit: int = MAX_BYTES) -> ReadResult:
        """Read a regular file as UTF-8 (undecodable bytes replaced); never blocks on a FIFO."""
        local = self.real(node_path)
        if local is None:
            return ReadResult(node_path, None, "too many levels of symbolic links")
        try:
            info = os.stat(local)
        except FileNotFoundError:
            return ReadResult(node_path, None, "no such file or directory", missing=True)
        except OSError as exc:
            return ReadResult(node_path, None, exc.strerror or str(exc))
        if stat.S_ISDIR(info.st_mode):
            return ReadResult(node_path, None, "is a directory")
        if not stat.S_ISREG(info.st_mode):
            return ReadResult(node_path, None, "not a regular file")
        if info.st_size > limit:
            return ReadResult(node_path, None, f"larger than {limit} bytes")
        try:
            with open(local, "rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            return ReadResult(node_path, None, exc.strerror or str(exc))
        return ReadResult(node_path, data.decode("utf-8", "replace"))

    def read_bytes(self, node_path: str, limit: int = MAX_BYTES) -> Optional[bytes]:
        """Raw bytes of a regular file (``/proc/<pid>/cmdline``); None when unreadable."""
        local = self.real(node_path)
        if local is None:
            return None
        try:
            if not stat.S_ISREG(os.stat(local).st_mode):
                return None
            with open(local, "rb") as handle:
                return handle.read(limit)
        except OSError:
            return None
