"""The runtime's release and the libcni compiled into it, read from the node without running it.

Sources, in order of preference (the first that answers gives the release; libcni is taken
from the most direct source that names it):

1. Go build info of the runtime binary (``cnidoctor.gobuild``): the ``dep
   github.com/containernetworking/cni`` line (honouring ``=>``), the ``-X …version.Version=``
   linker flag (recorded unless built with ``-trimpath``), or the main module's version
   (stamped from VCS by Go >= 1.24). For k3s/RKE2 the embedded containerd in the data dir is
   read too.
2. The package database under the host root: dpkg's ``/var/lib/dpkg/status`` ``Version:`` and
   ``Built-Using:`` (Debian's containerd names its libcni as ``golang-github-appc-cni (=
   1.1.2-1)``), for the package that owns the binary (``/var/lib/dpkg/info/<pkg>.list``); or
   the sqlite rpm database (rpm >= 4.16), read with ``sqlite3`` without running rpm: name,
   version and file list (rpm records no libcni). Berkeley DB / ndb rpm databases are
   reported, not read.
3. CRI-O's version file (``cri-o/cri-o:internal/version/version.go@v1.36.3``
   ``writeVersionFile``: the version as a JSON string, default ``/var/run/crio/version``).
4. RKE2's data-dir name ``<data-dir>/data/<tag>-<12 hex>`` (``rancher/rke2:pkg/bootstrap/
   bootstrap.go@6ce1a801`` ``releaseRefDigest``; image tags spell ``+`` as ``-``).
5. Only when none of these gives the release and ``allow_exec`` is true: ``<binary> --version``
   run without a shell, with a minimal environment, a timeout, capped output and its own
   process group that is killed afterwards.

Without a libcni from 1 or 2, the release is mapped through the support matrix; a release or
libcni the matrix does not know is modelled as the nearest one, and the note says so.

All paths are node paths resolved under ``host_root`` the way the node would resolve them
(absolute symlinks stay inside the root).
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from .. import gobuild
from ..child import SAFE_PATH, run_child
from ..frozen import dataclass
from ..hostpath import resolve_under
from .model import Evidence, LibcniSource, RuntimeName, RuntimeVersion, VersionSource

if TYPE_CHECKING:  # pragma: no cover
    import sqlite3
    from types import ModuleType

__all__ = [
    "CNI_MODULE",
    "BuildInfoVersion",
    "DpkgPackage",
    "RpmPackage",
    "libcni_for_release",
    "modelled_libcni",
    "parse_version_output",
    "read_dpkg_package",
    "read_rpm_package",
    "read_runtime_version",
    "resolve_in_root",
    "rpm_header_fields",
    "version_from_build_info",
]

CNI_MODULE = "github.com/containernetworking/cni"
GO_CNI_MODULE = "github.com/containerd/go-cni"
DEFAULT_TIMEOUT = 5.0
MAX_STATUS_BYTES = 64 * 1024 * 1024  # a dpkg status file larger than this is not read

# ``-X`` symbols that carry a runtime's release, tried in order.
# containerd: cmd/containerd/command/main.go prints version.Version (Makefile ``-X
# $(PKG)/version.Version``); k3s: scripts/build ``-X github.com/k3s-io/k3s/pkg/version.Version``
# and the embedded containerd's ``-X github.com/containerd/containerd/v2/version.Version``;
# cri-dockerd: ``-X github.com/Mirantis/cri-dockerd/version.Version``. The RKE2 symbols are
# inferred (RKE2 reuses k3s's version package), not read from an RKE2 binary.
CONTAINERD_SYMBOLS = (
    "github.com/containerd/containerd/v2/version.Version",
    "github.com/containerd/containerd/version.Version",
)
RELEASE_SYMBOLS: Dict[str, Tuple[str, ...]] = {
    "containerd": CONTAINERD_SYMBOLS,
    "k3s": ("github.com/k3s-io/k3s/pkg/version.Version",),
    "rke2": ("github.com/rancher/rke2/pkg/version.Version", "github.com/k3s-io/k3s/pkg/version.Version"),
    "crio": ("github.com/cri-o/cri-o/internal/version.Version",),
    "cri-dockerd": ("github.com/Mirantis/cri-dockerd/version.Version",),
}
MAIN_MODULES: Dict[str, Tuple[str, ...]] = {
    "containerd": ("github.com/containerd/containerd/v2", "github.com/containerd/containerd"),
    "k3s": ("github.com/k3s-io/k3s",),
    "rke2": ("github.com/rancher/rke2",),
    "crio": ("github.com/cri-o/cri-o",),
    "cri-dockerd": ("github.com/Mirantis/cri-dockerd",),
}
# Debian/Ubuntu package names; Built-Using names of libcni's and go-cni's source packages.
DPKG_PACKAGES: Dict[str, Tuple[str, ...]] = {
    "containerd": ("containerd", "containerd.io"),
    "crio": ("cri-o", "crio"),
    "cri-dockerd": ("cri-dockerd",),
    "k3s": (),
    "rke2": (),
}
LIBCNI_SOURCES = ("golang-github-containernetworking-cni", "golang-github-appc-cni")
GO_CNI_SOURCES = ("golang-github-containerd-go-cni",)
CRIO_VERSION_FILES = ("/var/run/crio/version", "/run/crio/version", "/var/lib/crio/version")
DATA_DIRS = {"k3s": "/var/lib/rancher/k3s", "rke2": "/var/lib/rancher/rke2"}
RPM_PACKAGES: Dict[str, Tuple[str, ...]] = {
    "containerd": ("containerd.io", "containerd"),
    "crio": ("cri-o",),
    "cri-dockerd": ("cri-dockerd",),
    "k3s": (),
    "rke2": (),
}
RPM_SQLITE = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
RPM_OTHER_FORMATS = ("/var/lib/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db", "/usr/lib/sysimage/rpm/Packages")
_RKE2_DATA = re.compile(r"^(v\d+\.\d+\.\d+)-(rke2r\d+)-[0-9a-f]{12}$")
_NUMERIC = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


# ---------------------------------------------------------------------------------------------
# Paths under the host root


def resolve_in_root(root: str, node_path: str) -> str:
    """The host path of ``node_path`` with every symlink resolved as on the node (chroot-like:
    an absolute target starts again at ``root``; ``..`` never leaves it): hostpath.resolve_under,
    and on a symlink loop the unresolved path, whose open then fails with ELOOP."""
    resolved = resolve_under(root, node_path)
    return resolved if resolved is not None else os.path.join(os.path.abspath(root), node_path.lstrip("/"))


def _read_small(root: str, node_path: str, limit: int = 4096) -> Optional[str]:
    try:
        with open(resolve_in_root(root, node_path), "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# What was found so far


@dataclass
class _Found:
    """What the version search has found so far."""

    version: Optional[str] = None
    source: Optional[VersionSource] = None
    libcni: Optional[str] = None
    libcni_source: Optional[LibcniSource] = None
    containerd: Optional[str] = None
    evidence: List[Evidence] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def set_version(self, version: Optional[str], source: VersionSource) -> None:
        if self.version is None and version:
            self.version, self.source = version, source

    def set_libcni(self, libcni: Optional[str], source: LibcniSource) -> None:
        if self.libcni is None and libcni:
            self.libcni, self.libcni_source = libcni.lstrip("v"), source


def _release(runtime: str, text: str) -> str:
    """The release as the report shows it: k3s/RKE2 keep their ``v``; others drop it, and a
    Debian ``~ds1``-style suffix is cut (``1.6.20~ds1`` -> ``1.6.20``)."""
    text = text.strip().split("~", 1)[0]
    if runtime in ("k3s", "rke2"):
        return text if text.startswith("v") else "v" + text
    return text[1:] if text.startswith("v") and text[1:2].isdigit() else text


# ---------------------------------------------------------------------------------------------
# 1. Go build info


@dataclass(frozen=True)
class BuildInfoVersion:
    """What one binary's build info says: release (and which line said it), libcni, go-cni."""

    release: Optional[str]
    release_from: str  # "-X <symbol>", "mod <path>" or ""
    libcni: Optional[str]
    go_cni: Optional[str]
    containerd: Optional[str]  # the release of a containerd linked in (k3s), else None


def version_from_build_info(runtime: RuntimeName, info: gobuild.BuildInfo) -> BuildInfoVersion:
    """Read the release and libcni of ``runtime`` from parsed build info."""
    release, release_from = None, ""
    for symbol in RELEASE_SYMBOLS.get(runtime, ()):
        value = gobuild.ldflags_version(info, symbol)
        if value:
            release, release_from = _release(runtime, value), f"-X {symbol}"
            break
    if release is None and info.main is not None and info.main.path in MAIN_MODULES.get(runtime, ()):
        value = gobuild.module_version(info, info.main.path)
        if value:
            release, release_from = _release(runtime, value), f"mod {info.main.path}"
    containerd = None
    if runtime in ("k3s", "rke2"):
        containerd = _embedded_containerd(info)
    return BuildInfoVersion(
        release,
        release_from,
        gobuild.module_version(info, CNI_MODULE),
        gobuild.module_version(info, GO_CNI_MODULE),
        containerd,
    )


def _embedded_containerd(info: gobuild.BuildInfo) -> Optional[str]:
    """k3s links containerd in: its ``-X …/version.Version`` or the (replaced) module version."""
    for symbol in CONTAINERD_SYMBOLS:
        value = gobuild.ldflags_version(info, symbol)
        if value:
            return _release("containerd", value)
    for path in MAIN_MODULES["containerd"]:
        value = gobuild.module_version(info, path)
        if value:
            return _release("containerd", value)
    return None


def _describe(info: gobuild.BuildInfo, found: BuildInfoVersion) -> str:
    parts = [info.go_version]
    if found.release:
        parts.append(f"release {found.release} ({found.release_from})")
    if found.libcni:
        parts.append(f"dep {CNI_MODULE} {found.libcni}")
    if found.go_cni:
        parts.append(f"dep {GO_CNI_MODULE} {found.go_cni}")
    if info.main is None:
        parts.append("no module information (GOPATH-mode build)")
    elif not found.release and gobuild.setting(info, "-trimpath") == "true":
        parts.append("built with -trimpath: linker flags not recorded")
    return "; ".join(parts)


def _from_binary(found: _Found, runtime: RuntimeName, root: str, binary: str, embedded: bool) -> None:
    """Read one binary: the runtime's own, or (``embedded``) the containerd k3s/RKE2 run."""
    info, reason = gobuild.inspect_build_info(resolve_in_root(root, binary))
    if info is None:
        found.evidence.append(Evidence("binary", binary, f"no Go build info: {reason}"))
        return
    read = version_from_build_info("containerd" if embedded else runtime, info)
    found.evidence.append(Evidence("binary", binary, "build info: " + _describe(info, read)))
    if not embedded:
        found.set_version(read.release, "buildinfo")
        if found.containerd is None:
            found.containerd = read.containerd
    elif found.containerd is None:
        found.containerd = read.release
    found.set_libcni(read.libcni, "buildinfo")


def _companion_binaries(runtime: RuntimeName, root: str, data_dir: Optional[str]) -> Tuple[str, ...]:
    """The containerd that k3s/RKE2 really run, in their data dir (k3s: the multicall ``k3s``
    behind ``data/current/bin/containerd``; RKE2: ``bin/containerd`` from the runtime image)."""
    base = data_dir or DATA_DIRS.get(runtime)
    if base is None:
        return ()
    candidate = {"k3s": "data/current/bin/containerd", "rke2": "bin/containerd"}[runtime]
    path = os.path.join(base, candidate)
    return (path,) if os.path.isfile(resolve_in_root(root, path)) else ()


# ---------------------------------------------------------------------------------------------
# 2. The package database


@dataclass(frozen=True)
class DpkgPackage:
    """One installed package's stanza fields that matter here."""

    name: str
    version: str  # the Debian version, e.g. "1.6.20~ds1-1+deb12u3"
    built_using: Tuple[Tuple[str, str], ...]  # (source package, version) from Built-Using
    owns_binary: Optional[bool]  # None when dpkg's file list is absent


def _upstream(debian_version: str) -> str:
    """``[epoch:]upstream[-revision]`` -> upstream without a ``~ds1``/``+ds1``/``+dfsg`` tail."""
    text = debian_version.split(":", 1)[-1]
    if "-" in text:
        text = text.rsplit("-", 1)[0]
    return re.split(r"[~+](?:ds|dfsg)", text, maxsplit=1)[0].split("~", 1)[0]


def _stanzas(text: str) -> List[Dict[str, str]]:
    """deb822 paragraphs: ``Field: value`` with continuation lines (leading space) joined."""
    out: List[Dict[str, str]] = []
    current: Dict[str, str] = {}
    last = None
    for line in text.split("\n"):
        if not line.strip():
            if current:
                out.append(current)
            current, last = {}, None
        elif line[0] in " \t" and last is not None:
            current[last] += "\n" + line.strip()
        elif ":" in line:
            last, _, value = line.partition(":")
            current[last] = value.strip()
    if current:
        out.append(current)
    return out


def _built_using(value: str) -> Tuple[Tuple[str, str], ...]:
    pairs = re.findall(r"([a-z0-9][a-z0-9.+-]*)\s*\(\s*=\s*([^)\s]+)\s*\)", value)
    return tuple((name, version) for name, version in pairs)


def _owns(root: str, package: str, arch: str, binary: Optional[str]) -> Optional[bool]:
    if binary is None:
        return None
    for name in (f"{package}.list", f"{package}:{arch}.list"):
        listing = resolve_in_root(root, f"/var/lib/dpkg/info/{name}")
        try:
            with open(listing, encoding="utf-8", errors="replace") as handle:
                files = {line.rstrip("\n") for line in handle}
        except OSError:
            continue
        aliases = {binary, "/usr" + binary, binary[4:] if binary.startswith("/usr/") else binary}
        return bool(files & aliases)
    return None


def read_dpkg_package(root: str, names: Sequence[str], binary: Optional[str] = None) -> Optional[DpkgPackage]:
    """The first of ``names`` installed according to ``<root>/var/lib/dpkg/status``, or None."""
    path = resolve_in_root(root, "/var/lib/dpkg/status")
    try:
        if os.path.getsize(path) > MAX_STATUS_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    wanted = {name: None for name in names}
    for stanza in _stanzas(text):
        name = stanza.get("Package", "")
        if name in wanted and stanza.get("Status", "").endswith(" installed") and stanza.get("Version"):
            owns = _owns(root, name, stanza.get("Architecture", ""), binary)
            return DpkgPackage(name, stanza["Version"], _built_using(stanza.get("Built-Using", "")), owns)
    return None


def _from_package(found: _Found, runtime: RuntimeName, root: str, binary: Optional[str]) -> None:
    package = read_dpkg_package(root, DPKG_PACKAGES.get(runtime, ()), binary)
    if package is not None:
        _use_dpkg(found, runtime, package, binary)
    if found.version is None:
        _from_rpm(found, runtime, root, binary)


def _use_dpkg(found: _Found, runtime: RuntimeName, package: DpkgPackage, binary: Optional[str]) -> None:
    status = "/var/lib/dpkg/status"
    if package.owns_binary is False:
        found.evidence.append(
            Evidence(
                "package", status, f"{package.name} {package.version} is installed but does not own {binary}; not used"
            )
        )
        return
    using = dict(package.built_using)
    libcni = next(((name, using[name]) for name in LIBCNI_SOURCES if name in using), None)
    go_cni = next(((name, using[name]) for name in GO_CNI_SOURCES if name in using), None)
    detail = f"{package.name} {package.version}"
    for pair in (libcni, go_cni):
        if pair is not None:
            detail += f"; Built-Using {pair[0]} (= {pair[1]})"
    found.evidence.append(Evidence("package", status, detail))
    found.set_version(_release(runtime, _upstream(package.version)), "package")
    if libcni is not None:
        found.set_libcni(_upstream(libcni[1]), "package")


# rpm: the sqlite database (rpm >= 4.16) read with the standard library, never by running rpm.
# Header blob layout (rpm-software-management/rpm:lib/header.c@rpm-4.18.0 ``headerImport``):
# int32 index count, int32 data length (big endian), 16-byte entries (tag, type, offset,
# count), then the data. Tags from rpm's include/rpm/rpmtag.h.
RPMTAG_NAME, RPMTAG_VERSION, RPMTAG_RELEASE, RPMTAG_EPOCH = 1000, 1001, 1002, 1003
RPMTAG_DIRINDEXES, RPMTAG_BASENAMES, RPMTAG_DIRNAMES = 1116, 1117, 1118
RPM_INT32, RPM_STRING, RPM_STRING_ARRAY, RPM_I18NSTRING = 4, 6, 8, 9
RPM_MAX_INDEX, RPM_MAX_DATA = 0xFFFF, 0x0FFFFFFF  # rpm's hdrchkTags / hdrchkData bounds


@dataclass(frozen=True)
class RpmPackage:
    """One installed rpm: name, [epoch:]version-release, and whether it owns the binary."""

    name: str
    version: str
    release: str
    epoch: Optional[int]
    owns_binary: Optional[bool]  # None when no binary was asked about


def _rpm_strings(data: bytes, offset: int, count: int) -> List[str]:
    out: List[str] = []
    for _ in range(count):
        end = data.find(b"\0", offset)
        if end < 0:
            raise ValueError("unterminated string")
        out.append(data[offset:end].decode("utf-8", "replace"))
        offset = end + 1
    return out


def rpm_header_fields(blob: bytes) -> Dict[int, List[object]]:
    """The string and int32 tags of one rpm header blob; ValueError when it is malformed."""
    if len(blob) < 8:
        raise ValueError("short header")
    index_count, data_length = struct.unpack(">ii", blob[:8])
    if not (0 < index_count <= RPM_MAX_INDEX and 0 <= data_length <= RPM_MAX_DATA):
        raise ValueError("header counts out of range")
    data = blob[8 + 16 * index_count : 8 + 16 * index_count + data_length]
    if len(data) != data_length:
        raise ValueError("truncated header")
    fields: Dict[int, List[object]] = {}
    for entry in range(index_count):
        tag, kind, offset, count = struct.unpack(">iiii", blob[8 + 16 * entry : 24 + 16 * entry])
        if not 0 <= offset < data_length or count < 0:
            continue
        if kind in (RPM_STRING, RPM_STRING_ARRAY, RPM_I18NSTRING):
            fields[tag] = list(_rpm_strings(data, offset, 1 if kind == RPM_STRING else count))
        elif kind == RPM_INT32 and offset + 4 * count <= data_length:
            fields[tag] = list(struct.unpack(f">{count}i", data[offset : offset + 4 * count]))
    return fields


def _rpm_owns(fields: Dict[int, List[object]], binary: Optional[str]) -> Optional[bool]:
    if binary is None:
        return None
    dirs, bases, index = (fields.get(t, []) for t in (RPMTAG_DIRNAMES, RPMTAG_BASENAMES, RPMTAG_DIRINDEXES))
    paths = set()
    for base, number in zip(bases, index):
        if isinstance(number, int) and 0 <= number < len(dirs):
            paths.add(f"{dirs[number]}{base}")
    aliases = {binary, "/usr" + binary, binary[4:] if binary.startswith("/usr/") else binary}
    return bool(paths & aliases)


def _rpm_connect(path: str) -> sqlite3.Connection:
    """Open read-only; a database on a read-only mount without its -shm file needs immutable."""
    import sqlite3

    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        connection.execute("SELECT 1 FROM Packages LIMIT 1").fetchall()
        return connection
    except sqlite3.Error:
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def _rpm_blobs(path: str, names: Sequence[str]) -> List[bytes]:
    """Header blobs of the packages named ``names`` (through the Name index when present)."""
    import sqlite3

    connection = _rpm_connect(path)
    try:
        try:
            rows = connection.execute(
                f"SELECT p.blob FROM Packages p JOIN Name n ON n.hnum = p.hnum WHERE n.key IN "
                f"({','.join('?' * len(names))})",
                list(names),
            ).fetchall()
        except sqlite3.Error:
            rows = connection.execute("SELECT blob FROM Packages").fetchall()
        return [bytes(row[0]) for row in rows]
    finally:
        connection.close()


def read_rpm_package(
    root: str, names: Sequence[str], binary: Optional[str] = None
) -> Tuple[Optional[RpmPackage], Optional[str], str]:
    """(first of ``names`` installed per the host's sqlite rpmdb or None, that database's node
    path or None when there is none, why it could not be read or "")."""
    for db in RPM_SQLITE:
        path = resolve_in_root(root, db)
        if not os.path.isfile(path):
            continue
        if not names:
            return None, db, ""
        try:
            blobs = _rpm_blobs(path, names)
        except Exception as exc:
            return None, db, f"cannot be read ({exc})"
        return _first_named(blobs, names, binary), db, ""
    return None, None, ""


def _first_named(blobs: Sequence[bytes], names: Sequence[str], binary: Optional[str]) -> Optional[RpmPackage]:
    for blob in blobs:
        try:
            fields = rpm_header_fields(blob)
        except (ValueError, struct.error):
            continue
        name = str((fields.get(RPMTAG_NAME) or [""])[0])
        if name in names:
            epoch = (fields.get(RPMTAG_EPOCH) or [None])[0]
            return RpmPackage(
                name,
                str((fields.get(RPMTAG_VERSION) or [""])[0]),
                str((fields.get(RPMTAG_RELEASE) or [""])[0]),
                epoch if isinstance(epoch, int) else None,
                _rpm_owns(fields, binary),
            )
    return None


def _from_rpm(found: _Found, runtime: RuntimeName, root: str, binary: Optional[str]) -> None:
    package, db, error = read_rpm_package(root, RPM_PACKAGES.get(runtime, ()), binary)
    if db is None:
        other = next((o for o in RPM_OTHER_FORMATS if os.path.exists(resolve_in_root(root, o))), None)
        if other is not None:
            found.evidence.append(
                Evidence(
                    "package",
                    other,
                    "rpm database in the Berkeley DB/ndb format; not read (cnidoctor does not run rpm)",
                )
            )
        return
    if error:
        found.notes.append(f"{db}: {error}")
    if package is None:
        return
    full = f"{package.name} {package.version}-{package.release}"
    if package.owns_binary is False:
        found.evidence.append(Evidence("package", db, f"{full} is installed but does not own {binary}; not used"))
        return
    found.evidence.append(Evidence("package", db, f"{full} (rpm)"))
    found.set_version(_release(runtime, package.version), "package")


# ---------------------------------------------------------------------------------------------
# 3. CRI-O's version file, 4. RKE2's data dir


def _from_crio_version_file(found: _Found, root: str) -> None:
    for path in CRIO_VERSION_FILES:
        text = _read_small(root, path)
        if text is None:
            continue
        try:
            value = json.loads(text)
        except ValueError:
            value = text.strip()
        if isinstance(value, str) and _NUMERIC.match(value):
            found.evidence.append(Evidence("version-file", path, value))
            found.set_version(_release("crio", value.split("+", 1)[0]), "version-file")
            return
        found.evidence.append(Evidence("version-file", path, f"not a version: {text[:80]!r}"))


def _rke2_tags(root: str, data_dir: str) -> Tuple[Optional[str], List[str]]:
    """(the tag ``<data-dir>/bin`` points at, every tagged dir under ``data/``)."""
    current = None
    link = resolve_in_root(root, os.path.join(data_dir, "bin"))
    match = _RKE2_DATA.match(os.path.basename(os.path.dirname(link)))
    if match and os.path.isdir(link):
        current = os.path.basename(os.path.dirname(link))
    try:
        names = sorted(os.listdir(resolve_in_root(root, os.path.join(data_dir, "data"))))
    except OSError:
        names = []
    return current, [name for name in names if _RKE2_DATA.match(name)]


def _from_rke2_data_dir(found: _Found, root: str, data_dir: str) -> None:
    current, tagged = _rke2_tags(root, data_dir)
    chosen = current
    if chosen is None and tagged:
        chosen = max(tagged, key=lambda name: _key(name) or (0, 0, 0))
        if len(tagged) > 1:
            found.notes.append(
                f"several RKE2 data dirs ({', '.join(tagged)}) and no {data_dir}/bin link; "
                f"the newest, {chosen}, is assumed"
            )
    if chosen is None:
        return
    match = _RKE2_DATA.match(chosen)
    assert match is not None
    version = f"{match.group(1)}+{match.group(2)}"
    found.evidence.append(Evidence("data-dir", os.path.join(data_dir, "data", chosen), f"RKE2 {version}"))
    found.set_version(version, "data-dir")


# ---------------------------------------------------------------------------------------------
# 5. ``<binary> --version``, in the sandbox the plugin probe uses too (cnidoctor/child.py)


_CANNOT_RUN = "cannot run: "


def _run_capped(argv: Sequence[str], timeout: float) -> Tuple[Optional[str], str]:
    """(stdout + stderr text, "") or (None, why), run in cnidoctor's sandbox (``child.py``)
    with a PATH-only environment and the C locale."""
    run = run_child(argv, {"PATH": SAFE_PATH, "LC_ALL": "C"}, timeout)
    if run.exec_error is not None:
        return None, f"{_CANNOT_RUN}{run.exec_error}"
    if not run.eof:
        return None, f"no answer within {timeout:g}s"
    return b"\n".join((bytes(run.out.data), bytes(run.err.data))).decode("utf-8", "replace"), ""


_VERSION_PATTERNS: Dict[str, re.Pattern[str]] = {
    "containerd": re.compile(r"^containerd\s+(?:\S+)\s+(v?\d\S*)", re.M),
    "crio": re.compile(r"^crio version (\S+)", re.M),
    "k3s": re.compile(r"^k3s version (v\S+)", re.M),
    "rke2": re.compile(r"^rke2 version (v\S+)", re.M),
    "cri-dockerd": re.compile(r"^cri-dockerd (v?\d\S*)", re.M),
}


def parse_version_output(runtime: RuntimeName, text: str) -> Optional[str]:
    """The release in a runtime's ``--version`` output (containerd ``cmd/containerd/command/
    main.go`` ``containerd <Package> <Version> <Revision>``; CRI-O, k3s, RKE2 urfave/cli
    ``<name> version <Version>``; cri-dockerd ``cmd/server.go`` ``cri-dockerd <Version> (<commit>)``)."""
    pattern = _VERSION_PATTERNS.get(runtime)
    match = pattern.search(text) if pattern is not None else None
    return _release(runtime, match.group(1)) if match else None


def _exec_refusal(path: str) -> Optional[str]:
    """Why ``path`` cannot be run from here (predicted from its bytes), or None."""
    # The runtime side reads no ELF itself (that is the plugin side's business): a binary that
    # cannot run from here (a missing loader inside a container) fails in the sandbox's exec and
    # that failure is reported as "cannot run from here", never as a broken runtime.
    if not os.access(path, os.X_OK) or not os.path.isfile(path):
        return "not an executable file"
    return None


def _from_exec(found: _Found, runtime: RuntimeName, root: str, binary: str, timeout: float) -> None:
    path = resolve_in_root(root, binary)
    refusal = _exec_refusal(path)
    if refusal is not None:
        found.notes.append(f"cannot run {binary} --version from here ({refusal})")
        return
    text, why = _run_capped([path, "--version"], timeout)
    if text is None and why.startswith(_CANNOT_RUN):
        found.notes.append(f"cannot run {binary} --version from here ({why[len(_CANNOT_RUN) :]})")
        return
    if text is None:
        found.notes.append(f"{binary} --version: {why}")
        return
    version = parse_version_output(runtime, text)
    first = text.strip().split("\n", 1)[0][:200]
    found.evidence.append(Evidence("exec", binary, f"--version: {first}"))
    found.set_version(version, "exec")


# ---------------------------------------------------------------------------------------------
# The support matrix


def _matrix() -> ModuleType:
    """The support matrix module, imported on first use (only version questions need it)."""
    from . import matrix

    return matrix


def _key(version: str) -> Optional[Tuple[int, int, int]]:
    match = _NUMERIC.match(version.strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def _is_prerelease(version: str) -> bool:
    """``1.2.0-rc1`` and Go pseudo-versions ``v1.1.3-0.2023…-abcdef`` sort below their number."""
    match = _NUMERIC.match(version.strip())
    return match is not None and version.strip()[match.end() : match.end() + 1] == "-"


def modelled_libcni(libcni: str) -> Tuple[str, str]:
    """(the libcni release cnidoctor models for ``libcni``, a note; "" when it is modelled as
    itself). A version cnidoctor does not model is modelled as the nearest older release (what
    it builds on), or the oldest known one when it is older than all."""
    tags: Sequence[str] = _matrix().LIBCNI_TAGS
    text = libcni.strip().lstrip("v")
    if text in tags:
        return text, ""
    key = _key(text)
    if key is None:
        newest = tags[-1]
        return newest, f"libcni {libcni!r} is not a version number; modelled as libcni {newest}"
    below = [t for t in tags if (_key(t) or key) < key or (_key(t) == key and not _is_prerelease(text))]
    chosen = below[-1] if below else tags[0]
    return chosen, f"libcni {text} is not a release cnidoctor models; modelled as the nearest, libcni {chosen}"


def libcni_for_release(runtime: str, version: str) -> Tuple[Optional[str], str]:
    """(libcni vendored by ``runtime`` ``version`` per the support matrix, note). A release
    outside the matrix is modelled as the nearest row (the newest row starting at or before it,
    else the oldest), and the note says so. (None, note) for runtimes the matrix lacks."""
    matrix = _matrix()
    rows = matrix.RELEASES.get(runtime)
    key = _key(version)
    if not rows or key is None:
        return None, f"no support-matrix entry for {runtime} {version}"
    for row in rows:
        if row.contains(version):
            return row.libcni.version, f"{row.label} vendors libcni {row.libcni.version} (support matrix)"
    older = [row for row in rows if (_key(row.first) or key) <= key]
    row = older[-1] if older else rows[0]
    return row.libcni.version, (
        f"{matrix.DISPLAY_NAMES[runtime]} {version} is not in the support matrix; "
        f"modelled as the nearest release, {row.label} (libcni {row.libcni.version})"
    )


def _matrix_runtime(runtime: RuntimeName, found: _Found) -> Tuple[Optional[str], Optional[str]]:
    """(matrix runtime name, its release) for mapping: k3s/RKE2 map through their containerd."""
    if runtime == "containerd":
        return "containerd", found.version
    if runtime == "crio":
        return "crio", found.version
    if runtime in ("k3s", "rke2") and found.containerd:
        return "containerd", re.sub(r"-k3s.*$", "", found.containerd)
    return None, None


def _map_libcni(found: _Found, runtime: RuntimeName) -> None:
    if found.libcni is not None:
        _modelled, note = modelled_libcni(found.libcni)
        if note:
            found.notes.append(note)
        return
    name, release = _matrix_runtime(runtime, found)
    if name is None or release is None:
        if found.version is not None:
            found.notes.append(
                f"libcni of {runtime} {found.version} unknown: no build info names it "
                "and the support matrix has no such runtime release"
            )
        return
    libcni, note = libcni_for_release(name, release)
    found.set_libcni(libcni, "matrix")
    if note:
        found.notes.append(note)


# ---------------------------------------------------------------------------------------------
# The entry point


def read_runtime_version(
    runtime: RuntimeName,
    binary: Optional[str],
    host_root: str = "/",
    *,
    data_dir: Optional[str] = None,
    allow_exec: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> RuntimeVersion:
    """The release and libcni of ``runtime`` whose binary is ``binary`` (a node path such as
    ``/usr/bin/containerd``; None when only its configuration was found).

    ``data_dir`` is the k3s/RKE2 data dir on the node (default ``/var/lib/rancher/<name>``).
    ``allow_exec=False`` (``--no-probe``) forbids running ``<binary> --version``.
    """
    found = _Found()
    if binary is not None:
        _from_binary(found, runtime, host_root, binary, embedded=False)
    for companion in _companion_binaries(runtime, host_root, data_dir):
        _from_binary(found, runtime, host_root, companion, embedded=True)
    if found.version is None or found.libcni is None:
        _from_package(found, runtime, host_root, binary)
    if found.version is None and runtime == "crio":
        _from_crio_version_file(found, host_root)
    if found.version is None and runtime == "rke2":
        _from_rke2_data_dir(found, host_root, data_dir or DATA_DIRS["rke2"])
    if found.version is None and binary is not None:
        if allow_exec:
            _from_exec(found, runtime, host_root, binary, timeout)
        else:
            found.notes.append(f"{binary} --version not run (--no-probe)")
    _map_libcni(found, runtime)
    return RuntimeVersion(
        version=found.version,
        libcni=found.libcni,
        source=found.source or "default",
        evidence=tuple(found.evidence),
        libcni_source=found.libcni_source,
        containerd_version=found.containerd,
        notes=tuple(found.notes),
    )
