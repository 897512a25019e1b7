"""Probe results cached across runs, so a periodic run on an unchanged node executes nothing.

A result is keyed by the binary's identity: (realpath, st_dev, st_ino, st_size, st_mtime_ns)
plus the cniVersion sent on stdin and this cache's format version. Replacing a plugin (new
inode, size or mtime) therefore invalidates its entry. Only replies that depend on the binary
alone are stored; timeouts (possibly a loaded node) and predicted exec failures are not.

Location: ``$CNIDOCTOR_CACHE_DIR`` (tests), else ``$XDG_CACHE_HOME/cnidoctor``, else
``~/.cache/cnidoctor``; file ``probes.json``. Written atomically (temp file in the same
directory + os.replace); a missing, unreadable or corrupt cache is ignored, and a cache that
cannot be written is skipped silently: the cache is an optimisation, never a failure.
"""

from __future__ import annotations

import os

# The result cache (fastpath) reads cache_dir() at start-up: typing and json are imported only
# where used, so that look-up stays a few stat calls.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, Dict, Mapping, Optional, Tuple

__all__ = ["FORMAT", "DiskTable", "cache_path", "identity_key", "load", "save", "write_bytes_atomically"]

FORMAT = 1
MAX_ENTRIES = 4096  # bounded: a node has tens of plugins; old entries are dropped first
FILE_NAME = "probes.json"


def cache_dir() -> str:
    override = os.environ.get("CNIDOCTOR_CACHE_DIR")
    if override:
        return override
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cnidoctor")


def cache_path() -> str:
    return os.path.join(cache_dir(), FILE_NAME)


def identity_key(path: str, cni_version: str) -> Optional[str]:
    """The cache key for the file at ``path`` now, or None when it cannot be stat'ed."""
    import json

    try:
        real = os.path.realpath(path)
        info = os.stat(real)
    except (OSError, ValueError):
        return None
    return json.dumps([FORMAT, real, info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, cni_version])


def load() -> Dict[str, Dict[str, Any]]:
    """All cached entries; {} when the cache is missing or not what we wrote."""
    import json

    try:
        with open(cache_path(), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
        return {}
    return {k: v for k, v in data["entries"].items() if isinstance(v, dict)}


def save(entries: Mapping[str, Mapping[str, Any]]) -> bool:
    """Write ``entries`` atomically; False (and nothing changed) when it cannot be written."""
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    return write_json_atomically(FILE_NAME, {"format": FORMAT, "entries": kept})


def write_json_atomically(name: str, document: Mapping[str, Any]) -> bool:
    """``document`` as ``name`` in the cache dir via temp file + os.replace; False on any error."""
    import json

    return write_bytes_atomically(name, json.dumps(document, sort_keys=True).encode("utf-8"))


def write_bytes_atomically(name: str, payload: bytes) -> bool:
    """``payload`` as ``name`` in the cache dir via temp file + os.replace; False on any error.
    Concurrent writers each replace the whole file, so a reader sees one complete version."""
    directory = cache_dir()
    try:
        _make_dir(directory)
        handle, temp = _temp_file(directory, name)
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as out:
            # No fsync: after a crash a cache file may be empty or old, which every reader
            # detects (JSON error, CRC) and ignores; a periodic run should not wait on the disk.
            out.write(payload)
        os.replace(temp, os.path.join(directory, name))
        return True
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass
        return False


class DiskTable:
    """A table of JSON entries kept in the cache dir under one file name, keyed by a file's
    identity: what the ELF verdicts (plugins/elfinfo.py) and the Go build info (gobuild.py)
    remember across runs, so a periodic run on an unchanged node neither imports nor runs their
    parsers. Off (``get`` finds nothing, ``put`` keeps nothing) until ``load``; a missing, damaged
    or foreign file loads as empty."""

    def __init__(self, name: str, version: int) -> None:
        self.name = name
        self.version = version
        self.entries: Optional[Dict[str, Any]] = None
        self.dirty = False

    def load(self) -> None:
        import json

        try:
            with open(os.path.join(cache_dir(), self.name), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            data = None
        ok = isinstance(data, dict) and data.get("format") == self.version and isinstance(data.get("entries"), dict)
        self.entries = dict(data["entries"]) if ok else {}

    def get(self, key: str) -> Any:
        return self.entries.get(key) if self.entries is not None else None

    def put(self, key: str, value: Any) -> None:
        if self.entries is not None:
            self.entries[key] = value
            self.dirty = True

    def save(self) -> None:
        """Write atomically when something new was learnt (errors are ignored)."""
        if self.entries is None or not self.dirty:
            return
        write_json_atomically(self.name, {"format": self.version, "entries": self.entries})
        self.dirty = False


def _temp_file(directory: str, name: str) -> Tuple[int, str]:
    """A new file only this process opened, as tempfile.mkstemp makes it (O_EXCL, mode 0600,
    O_NOFOLLOW so a planted symlink is never followed), without importing tempfile: it pulls in
    random and shutil (bz2, lzma), a few ms of every cold check."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temp = os.path.join(directory, f".{name}-{os.urandom(6).hex()}.tmp")
        try:
            return os.open(temp, flags, 0o600), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


def _make_dir(directory: str) -> None:
    """mkdir first: os.makedirs stats the parent, and a run being recorded for the result cache
    (cnidoctor.fastpath) would then key on ~/.cache, which other programs change all the time."""
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(directory, mode=0o700, exist_ok=True)
