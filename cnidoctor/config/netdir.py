"""libcni v1.3.0's per-network plugin folder: ``<dir>/<network name>/*.conf``.

From v1.3.0, NetworkConfFromFile (what go-cni's ConfListFromFile calls for every ``.conflist``)
reads the list, then - unless the list says ``"loadOnlyInlinedPlugins": true`` - loads every
``*.conf`` of ``filepath.Join(filepath.Dir(file), name)`` with NetworkPluginConfFromBytes and
appends them to the plugins; a list without ``plugins`` is no longer a parse error, and zero
plugins in all is ``no plugin configs found`` (containernetworking/cni:libcni/conf.go@v1.3.0
(NetworkConfFromFile, NetworkPluginConfsFromFiles, ConfFiles)). Older libcni never look there.

This module reads the folder; config/parse decodes each file (it passes ``load_one``).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Tuple

from ..model import NetworkDirLoad, NetworkList, PluginConf

__all__ = ["MAX_FILES", "NO_PLUGIN_CONFIGS", "inlined_only", "listings_kept", "network_dir_load"]

NO_PLUGIN_CONFIGS = "no plugin configs found"  # cni@v1.3.0 libcni/conf.go NetworkConfFromFile
MAX_FILES = 1000  # a folder with more *.conf files than this is not analysed
MAX_BYTES = 1 << 20  # nor a plugin file larger than this

# (plugin, None) or (None, libcni's error text) for one file's bytes
LoadOne = Callable[[bytes, int], Tuple[Optional[PluginConf], Optional[str]]]


def inlined_only(document: Mapping[str, Any]) -> bool:
    """readBool("loadOnlyInlinedPlugins") is true: a JSON true or the string "true" in any case
    (cni@v1.3.0 libcni/conf.go NetworkConfFromBytes readBool)."""
    value = document.get("loadOnlyInlinedPlugins")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def network_dir_load(
    path: str, document: Mapping[str, Any], inline: Optional[NetworkList], load_one: LoadOne
) -> Optional[NetworkDirLoad]:
    """What v1.3.0 makes of the list at ``path`` when that differs from v1.2.3, else None.

    ``inline``: the list as v1.2.3 loads it (None when it fails). Only a list whose name is a
    string and whose inlined part loads (or is just missing ``plugins``) gets here; any other
    failure happens in NetworkConfFromBytes before the folder is read, with v1.2.3's text."""
    name = document.get("name")
    if not isinstance(name, str):
        return None
    # filepath.Join concatenates and cleans: an absolute name does not replace the directory
    folder = os.path.normpath(os.path.dirname(path) + os.sep + name)  # relative when ``path`` is
    has_plugins = "plugins" in document
    if has_plugins and inline is None:
        return None
    if inlined_only(document):
        # the folder is not read; without `plugins` the list fails after its keys were read
        return None if has_plugins else NetworkDirLoad(folder, (), _bare_list(document))
    files, unknown = _conf_files(folder)
    if has_plugins and not files and not unknown:
        return None  # nothing to add: v1.3.0 loads what v1.2.3 loads
    base = inline if inline is not None else _bare_list(document)
    if unknown:
        return NetworkDirLoad(folder, (), None, None, unknown)
    plugins: List[PluginConf] = list(base.plugins)
    for file in files:
        plugin, error = _load_file(file, len(plugins), load_one)
        if error is not None:
            return NetworkDirLoad(folder, files, None, error)
        if plugin is None:
            return NetworkDirLoad(folder, files, None, None, f"{file} is larger than {MAX_BYTES} bytes: not analysed")
        plugins.append(plugin)
    network = NetworkList(
        name=base.name,
        cni_version=base.cni_version,
        plugins=tuple(plugins),
        cni_versions=base.cni_versions,
        disable_check=base.disable_check,
        disable_gc=base.disable_gc,
    )
    # Zero plugins overall is `no plugin configs found`, but only after the list keys were read
    # (a bad disableCheck fails first): crosscheck reports it from the empty network.
    return NetworkDirLoad(folder, files, network)


def _bare_list(document: Mapping[str, Any]) -> NetworkList:
    """The list NetworkConfFromBytes returns for a document without ``plugins``."""
    versions = document.get("cniVersions")
    well_formed = isinstance(versions, list) and all(isinstance(v, str) for v in versions)
    version = document.get("cniVersion")
    return NetworkList(
        name=document["name"],
        cni_version=version if isinstance(version, str) else None,
        plugins=(),
        cni_versions=tuple(versions) if well_formed else None,  # type: ignore[arg-type]
        disable_check=document.get("disableCheck"),
        disable_gc=document.get("disableGC"),
    )


# parent directory -> its entry names (None: it could not be listed), inside ``listings_kept``
_LISTINGS: Optional[Dict[str, Optional[FrozenSet[str]]]] = None


@contextlib.contextmanager
def listings_kept() -> Iterator[None]:
    """Within the block, a folder whose parent directory has no entry of that name is missing
    without a system call of its own: each parent is listed once. Every list of a conf dir names
    a folder there, and almost none exists: at 10,000 files that was 10,000 failed opens."""
    global _LISTINGS
    outer = _LISTINGS
    _LISTINGS = {} if outer is None else outer
    try:
        yield
    finally:
        _LISTINGS = outer


def _surely_missing(folder: str) -> bool:
    """True only when a listing kept by ``listings_kept`` shows that ``folder`` does not exist."""
    parent, name = os.path.split(folder)
    if _LISTINGS is None or not name or name in (".", "..") or "\0" in folder:
        return False
    if parent not in _LISTINGS:
        try:
            _LISTINGS[parent] = frozenset(os.listdir(parent or "."))
        except (OSError, ValueError):
            _LISTINGS[parent] = None  # scandir of the folder itself says why
    names = _LISTINGS[parent]
    return names is not None and name not in names


def _conf_files(folder: str) -> Tuple[Tuple[str, ...], str]:
    """ConfFiles(folder, [".conf"]): os.ReadDir (sorted by name), entries that are not
    directories (a symlink counts as a file), extension exactly ``.conf``; a missing folder is
    no files. Returns (paths, why unknown)."""
    if _surely_missing(folder):
        return (), ""
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if not e.is_dir(follow_symlinks=False) and _ext(e.name) == ".conf"]
    except FileNotFoundError:
        return (), ""
    except NotADirectoryError:
        return (), f"{folder} is not a directory: libcni v1.3.0 fails to read it (text not modelled)"
    except OSError as exc:
        return (), f"cnidoctor cannot read {folder} ({exc.strerror}); libcni v1.3.0 reads it as root"
    except ValueError:  # a NUL in the network name: Go's open fails with EINVAL (text not modelled)
        return (), "the network name holds a NUL byte: libcni v1.3.0 cannot open its plugin folder (text not modelled)"
    if len(names) > MAX_FILES:
        return (), f"{folder} holds {len(names)} *.conf files: not analysed"
    names.sort(key=os.fsencode)
    return tuple(os.path.join(folder, n) for n in names), ""


def locator(file: str) -> Optional[Callable[[str], Tuple[int, int]]]:
    """(line, column) of a JSON pointer in a folder ``.conf`` (for its findings), or None when
    the file cannot be read again or is larger than the files analysed."""
    from ..gojson import Locator

    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    return Locator(data) if len(data) <= MAX_BYTES else None


def _ext(name: str) -> str:
    """Go's filepath.Ext: from the last dot of the last element (".conf" itself counts)."""
    dot = name.rfind(".")
    return name[dot:] if dot >= 0 else ""


def _load_file(name: str, index: int, load_one: LoadOne) -> Tuple[Optional[PluginConf], Optional[str]]:
    file = os.path.abspath(name)  # the runtime's conf dir is absolute, and so are libcni's texts
    try:
        if os.path.getsize(file) > MAX_BYTES:
            return None, None
        with open(file, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:  # a symlink to a directory: os.ReadFile fails on read
        return None, f"error reading {file}: read {file}: is a directory"
    except OSError as exc:
        return None, f"error reading {file}: open {file}: {_go_errno(exc)}"
    return load_one(data, index)


def _go_errno(exc: OSError) -> str:
    """Go's syscall.Errno text is the C strerror in lower case ("no such file or directory")."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]
