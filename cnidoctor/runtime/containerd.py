"""containerd's effective CNI settings, computed from its config files as a given release does.

Loader semantics, per major release (sources at the tags named):
* Which file: ``--config``/``-c``, else /etc/containerd/config.toml, which is read only if it
  exists or was given explicitly (containerd/containerd:cmd/containerd/command/main.go@v1.6.39,
  same @v2.0.11).
* ``imports``: relative to the importing file, ``*`` globbed (lexical order), breadth-first, each
  path once; a missing non-glob import is fatal (services/server/config/config.go@v1.7.34
  ``LoadConfig``/``resolveImports``; cmd/containerd/server/config/config.go@v2.0.11).
* Version: the last non-zero ``version`` in load order wins (mergo WithOverride).
  1.x: 0 counts as 1; version 1 reads plugin tables by short ID (``cri``), 2 by URI; ``version
  = 3`` is fatal from 1.6.32/1.7.17 (``ValidateV2``) and read like 2 before.
  2.x: a version 0/1 file has its short plugin IDs renamed (``v1Migrate``) and takes the merged
  version so far (default 3); if the final version is 2, the CRI plugin's config is migrated from
  ``io.containerd.grpc.v1.cri`` to ``io.containerd.cri.v1.runtime``
  (plugins/cri/runtime/plugin.go@v2.0.11 / @v2.1.9 ``migrateConfig``); at 3 the old table is ignored.
* Merge: 1.x replaces each ``[plugins.X]`` table as a whole (``mergeConfig`` @v1.7.34); 2.x merges
  plugin tables per key, later file wins, arrays replaced (mergo map merge with WithOverride:
  dario.cat/mergo@v1.0.2 merge.go, vendored in containerd v2.2.7).
* CNI keys and defaults: pkg/cri/config/config_unix.go@v1.6.39; ``bin_dirs`` and the bin_dir
  resolution from v2.1.0 (internal/cri/config/config.go@v2.1.9 ``ValidateRuntimeConfig``).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..model import Finding, Rule
from ..rules import runtime_containerd as rules
from .hostfs import HostFS
from .model import Evidence, RuntimeConfig, RuntimeName
from .releases import Release, parse_release
from .tomlsrc import TomlDocument, json_pointer, load_toml, locate_key

DEFAULT_CONFIG = "/etc/containerd/config.toml"
DEFAULT_BIN_DIR = "/opt/cni/bin"
DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_MAX_CONF_NUM = 1
CRI_V1 = "cri"
CRI_V2 = "io.containerd.grpc.v1.cri"
CRI_V3 = "io.containerd.cri.v1.runtime"
CRI_TABLES = (CRI_V1, CRI_V2, CRI_V3)

KeyPath = Tuple[str, ...]
Table = Dict[str, Any]


# Models used when the release is unknown: the newest tags the loader was read at.
MODEL_1X = Release(1, 7, 34)
MODEL_2X = Release(2, 2, 7)


def rejects_version_3(release: Release) -> bool:
    """``ValidateV2`` refuses version 3 from v1.6.32 and v1.7.17 (absent in v1.6.31/v1.7.16)."""
    if release.major != 1:
        return False
    return release.at_least(1, 7, 17) or (release.minor == 6 and release.patch >= 32)


@dataclass(frozen=True)
class TomlFile:
    """One loaded config file. ``plugins`` uses the names containerd merges under (after the
    2.x short-ID rename); ``renamed`` maps such a name back to the one written in the file."""

    path: str
    text: str
    data: Mapping[str, Any]
    declared_version: int
    plugins: Mapping[str, Any]
    renamed: Tuple[Tuple[str, str], ...] = ()

    def written_path(self, path: KeyPath) -> KeyPath:
        """``path`` as written in this file (plugins/<merged id>/... -> plugins/<file's id>/...)."""
        if len(path) >= 2 and path[0] == "plugins":
            for merged, written in self.renamed:
                if path[1] == merged:
                    return ("plugins", written) + path[2:]
        return path


@dataclass(frozen=True)
class Loaded:
    """containerd's config files as it reads them (imports followed), and their problems."""

    files: Tuple[TomlFile, ...]
    findings: Tuple[Finding, ...]
    fatal: bool


def finding_at(rule: Rule, file: TomlFile, path: KeyPath, message: str) -> Finding:
    """A finding on ``file`` at the key ``path`` (merged names mapped back), line/column located."""
    written = file.written_path(path)
    line, column = locate_key(file.text, written) if written else (None, None)
    return rule.at(file.path, json_pointer(written), message, line=line, column=column)


# --- loading ---------------------------------------------------------------------------------


def _declared_version(data: Mapping[str, Any]) -> int:
    value = data.get("version", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def globs_relative_to_file(release: Release) -> bool:
    """Relative ``*`` imports are relative to the importing file only from v1.6.29 / v1.7.16 / 2.0.

    Before "Fix config import relative path glob" (containerd commits 0f2068a70 for release/1.6,
    62e9535f2 for release/1.7; compare resolveImports in services/server/config/config.go@v1.6.20
    and @v1.7.16) a pattern with ``*`` was globbed as written, i.e. relative to containerd's
    working directory; non-glob relative paths were always joined to the importing file's dir.
    """
    if release.major >= 2:
        return True
    return release.at_least(1, 7, 16) or (release.minor == 6 and release.patch >= 29)


# containerd's working directory when it globs a relative pattern on an old release: systemd
# starts services in "/" unless the unit sets WorkingDirectory= (containerd.service does not).
SERVICE_WORKING_DIRECTORY = "/"


def _resolve_imports(fs: HostFS, parent: str, imports: Any, release: Release) -> List[Tuple[str, int, bool]]:
    """(path, index in ``imports``, globbed from the working directory) in containerd's order."""
    out: List[Tuple[str, int, bool]] = []
    if not isinstance(imports, list):
        return out
    for index, entry in enumerate(imports):
        if not isinstance(entry, str) or not entry:
            continue
        path = posixpath.normpath(entry)
        from_cwd = "*" in path and not path.startswith("/") and not globs_relative_to_file(release)
        if from_cwd:
            path = posixpath.normpath(posixpath.join(SERVICE_WORKING_DIRECTORY, path))
        elif not path.startswith("/"):
            path = posixpath.normpath(posixpath.join(posixpath.dirname(parent), path))
        if "*" in path:
            out.extend((match, index, from_cwd) for match in fs.glob(path))
            if from_cwd:
                out.append(("", index, True))  # marker: report the pattern even when it matched
        else:
            out.append((path, index, False))
    return out


def _syntax_finding(path: str, document: TomlDocument, major: int) -> Finding:
    wording = "failed to unmarshal TOML" if major >= 2 else f"failed to load TOML: {path}"
    return rules.CONFIG_UNPARSEABLE.at(
        path,
        "",
        f"{path} is not valid TOML ({document.error}); containerd stops at start with `{wording}: …`",
        line=document.error_line,
        column=document.error_column,
    )


def _unreadable_finding(path: str, error: Optional[str]) -> Finding:
    """A file cnidoctor cannot read (too large, permissions): its settings are unknown here."""
    text = f"{path} cannot be read ({error}): containerd's CNI settings from it are unknown, defaults shown"
    return rules.CONFIG_UNPARSEABLE.at(path, "", text)


def _missing_finding(path: str, importer: Optional[TomlFile], index: int) -> Finding:
    if importer is None:
        return rules.CONFIG_FILE_MISSING.at(
            path, "", f"containerd is started with --config {path}, which does not exist: it does not start"
        )
    return finding_at(
        rules.CONFIG_FILE_MISSING,
        importer,
        ("imports", str(index)),
        f"imports entry {path} does not exist (and is no glob): containerd fails to open it and does not start",
    )


def _rename_v1_plugins(plugins: Mapping[str, Any]) -> Tuple[Dict[str, Any], Tuple[Tuple[str, str], ...]]:
    """containerd 2.x ``v1Migrate``: short plugin IDs become URIs (``cri`` -> grpc.v1.cri).

    Only the CRI plugin matters here; other short IDs are renamed the same way upstream
    (cmd/containerd/server/config/config.go@v2.0.11 ``v1MigratePluginName``).
    """
    renamed: Dict[str, Any] = {}
    pairs: List[Tuple[str, str]] = []
    for name, value in plugins.items():
        new = CRI_V2 if name == CRI_V1 else name
        renamed[new] = value
        if new != name:
            pairs.append((new, name))
    return renamed, tuple(pairs)


def _cwd_glob_finding(importer: TomlFile, index: int, release: Release) -> Finding:
    pattern = importer.data.get("imports", [])[index]
    text = (
        f"imports entry {pattern!r} is a relative glob: containerd {release} globs it from its working "
        f"directory ({SERVICE_WORKING_DIRECTORY} under systemd), not from {posixpath.dirname(importer.path)}; "
        "relative globs follow the importing file only from 1.6.29/1.7.16"
    )
    return finding_at(rules.IMPORT_GLOB_FROM_CWD, importer, ("imports", str(index)), text)


def load_files(root: str, main: str, explicit: bool, release: Release) -> Loaded:
    """Read ``main`` and its imports breadth-first, as containerd's ``LoadConfig`` does."""
    fs = HostFS(root)
    files: List[TomlFile] = []
    findings: List[Finding] = []
    major = release.major
    pending: List[Tuple[str, Optional[TomlFile], int]] = [(main, None, 0)]
    seen = set()
    while pending:
        path, importer, index = pending.pop(0)
        if not path and importer is not None:
            findings.append(_cwd_glob_finding(importer, index, release))
            continue
        if path in seen:
            continue
        if not fs.is_file(path):
            if importer is None and not explicit:
                return Loaded((), (), False)  # no config file: built-in defaults, silently
            return Loaded(tuple(files), tuple(findings) + (_missing_finding(path, importer, index),), True)
        read = fs.read_text(path)
        if read.text is None:
            return Loaded(tuple(files), tuple(findings) + (_unreadable_finding(path, read.error),), True)
        document = load_toml(read.text)
        if document.data is None:
            return Loaded(tuple(files), tuple(findings) + (_syntax_finding(path, document, major),), True)
        text, data = document.text, document.data
        plugins = data.get("plugins")
        file = TomlFile(path, text, data, _declared_version(data), plugins if isinstance(plugins, dict) else {})
        files.append(file)
        seen.add(path)
        pending.extend((p, file, i) for p, i, _ in _resolve_imports(fs, path, data.get("imports"), release))
    return Loaded(tuple(files), tuple(findings), False)


# --- merging ---------------------------------------------------------------------------------


def final_version(files: Sequence[TomlFile], default: int) -> int:
    """The last non-zero declared version wins over ``default`` (mergo WithOverride)."""
    version = default
    for file in files:
        if file.declared_version:
            version = file.declared_version
    return version


def merge_1x(files: Sequence[TomlFile]) -> Tuple[Dict[str, Any], Dict[str, TomlFile]]:
    """1.x: each plugin table replaced as a whole by the last file naming it; owner per plugin."""
    plugins: Dict[str, Any] = {}
    owners: Dict[str, TomlFile] = {}
    for file in files:
        for name, value in file.plugins.items():
            plugins[name] = value
            owners[name] = file
    return plugins, owners


def _deep_merge(
    dst: Table, src: Mapping[str, Any], prefix: KeyPath, file: TomlFile, owners: Dict[KeyPath, TomlFile]
) -> None:
    for key, value in src.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _deep_merge(dst[key], value, path, file, owners)
        elif isinstance(value, dict):
            dst[key] = {}
            _deep_merge(dst[key], value, path, file, owners)
        else:
            dst[key] = value
            owners[path] = file


def merge_2x(files: Sequence[TomlFile]) -> Tuple[Dict[str, Any], Dict[KeyPath, TomlFile]]:
    """2.x: plugin tables merged per key, later file wins, arrays replaced; owner per leaf key."""
    plugins: Dict[str, Any] = {}
    owners: Dict[KeyPath, TomlFile] = {}
    for file in files:
        _deep_merge(plugins, file.plugins, ("plugins",), file, owners)
    return plugins, owners


def _table(value: Any) -> Table:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class CniSource:
    """Where one effective CNI key came from: the file and the key path as merged."""

    file: TomlFile
    path: KeyPath


def migrate_cni_2x(
    plugins: Mapping[str, Any], owners: Mapping[KeyPath, TomlFile], release: Release
) -> Tuple[Table, Dict[str, CniSource]]:
    """The runtime plugin's ``cni`` table after the version 2 -> 3 migration (final version 2).

    2.0: the old ``cni`` table is copied only when the new table has none at all (whole-table
    default branch of ``migrateConfig`` @v2.0.11). 2.1+: per key, v3 keys win, except that
    ``bin_dir`` always becomes ``bin_dirs = [bin_dir]``: the guard asserts ``[]string`` but a
    TOML array decodes as ``[]interface{}``, so an existing ``bin_dirs`` is overwritten
    (plugins/cri/runtime/plugin.go@v2.1.9 :254-261; code reading, not run).
    """
    new = dict(_table(_table(plugins.get(CRI_V3)).get("cni")))
    sources = {k: CniSource(owners[("plugins", CRI_V3, "cni", k)], ("plugins", CRI_V3, "cni", k)) for k in new}
    old = _table(_table(plugins.get(CRI_V2)).get("cni"))
    old_sources = {k: CniSource(owners[("plugins", CRI_V2, "cni", k)], ("plugins", CRI_V2, "cni", k)) for k in old}
    if not release.at_least(2, 1):
        if not _table(plugins.get(CRI_V3)).get("cni") and old:
            return dict(old), old_sources
        return new, sources
    for key, value in old.items():
        if key == "bin_dir":
            new["bin_dirs"] = [value]
            sources["bin_dirs"] = old_sources[key]
        elif key not in new:
            new[key] = value
            sources[key] = old_sources[key]
    return new, sources


def migrate_runtimes_2x(plugins: Mapping[str, Any]) -> Table:
    """``containerd`` table after migration: top-level keys of the old table added when absent."""
    new = dict(_table(_table(plugins.get(CRI_V3)).get("containerd")))
    for key, value in _table(_table(plugins.get(CRI_V2)).get("containerd")).items():
        new.setdefault(key, value)
    return new


def renamed_for_2x(file: TomlFile) -> TomlFile:
    """containerd 2.x renames a version 0/1 file's short plugin IDs before merging it."""
    if file.declared_version not in (0, 1):
        return file
    plugins, renamed = _rename_v1_plugins(file.plugins)
    return TomlFile(file.path, file.text, file.data, file.declared_version, plugins, renamed)


# --- effective settings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Effective:
    """The CRI plugin's ``cni`` and ``containerd`` tables as the release decodes them."""

    cni: Mapping[str, Any]
    sources: Mapping[str, CniSource]
    containerd: Mapping[str, Any]
    findings: Tuple[Finding, ...]
    fatal: bool


def _last_declaring(files: Sequence[TomlFile], version: int) -> TomlFile:
    declaring = [f for f in files if f.declared_version == version]
    return declaring[-1] if declaring else files[0]


def _has_cni(file: TomlFile, plugin: str) -> bool:
    return bool(_table(_table(file.plugins.get(plugin)).get("cni")))


def _cri_path(file: TomlFile, plugin: str) -> KeyPath:
    """The CNI table's path when the file has one, else the plugin table's."""
    return ("plugins", plugin, "cni") if _has_cni(file, plugin) else ("plugins", plugin)


def mixed_versions(files: Sequence[TomlFile], version: int, ignored: Sequence[str]) -> Tuple[Finding, ...]:
    """CNI607 once, at the ``version`` line that decided, when files declare different versions."""
    declared = [(f.path, f.declared_version) for f in files if f.declared_version]
    if len({v for _, v in declared}) < 2:
        return ()
    listing = ", ".join(f"{path}: {v}" for path, v in declared)
    lost = f"; ignored because of it: {', '.join(ignored)}" if ignored else ""
    message = f"config files declare different versions ({listing}); the last one, {version}, applies to all{lost}"
    return (finding_at(rules.CONFIG_VERSIONS_MIXED, _last_declaring(files, version), ("version",), message),)


def _is_plugin_uri(name: str, release: Release) -> bool:
    """``ValidateV2``: four dot-separated parts; 1.7 also wants the io.containerd. prefix."""
    if len(name.split(".")) < 4:
        return False
    return name.startswith("io.containerd.") or release.minor < 7


def _replaced_tables(files: Sequence[TomlFile], plugin: str, final: Mapping[str, Any]) -> Tuple[Finding, ...]:
    """CNI608: earlier files' ``cni`` keys that the last file naming the plugin dropped."""
    naming = [f for f in files if plugin in f.plugins]
    if len(naming) < 2:
        return ()
    owner, final_cni = naming[-1], _table(final.get("cni"))
    lost = [
        f"{key} = {value!r} ({earlier.path})"
        for earlier in naming[:-1]
        for key, value in _table(_table(earlier.plugins.get(plugin)).get("cni")).items()
        if final_cni.get(key) != value
    ]
    if not lost:
        return ()
    message = (
        f'containerd 1.x replaces the whole [plugins."{plugin}"] table with this file\'s, so these '
        f"earlier CNI settings are dropped: {'; '.join(lost)}"
    )
    return (finding_at(rules.CRI_TABLE_REPLACED, owner, ("plugins", plugin), message),)


def effective_1x(files: Sequence[TomlFile], release: Release, known: bool) -> Effective:
    """containerd 1.6/1.7: version gate, plugin-key check, whole-table merge, one CRI table read."""
    version = final_version(files, 0) or 1
    plugins, owners = merge_1x(files)
    findings: List[Finding] = []
    if version > 2:
        decider = _last_declaring(files, version)
        if rejects_version_3(release):
            text = f"containerd {release} refuses `version = {version}` and does not start (unsupported config version `{version}`)"
            return Effective(
                {}, {}, {}, (finding_at(rules.CONFIG_VERSION_UNSUPPORTED, decider, ("version",), text),), True
            )
        text = f"containerd {release} reads a `version = {version}` file like version 2: its CRI settings under {CRI_V3} are ignored, defaults apply"
        findings.append(finding_at(rules.CONFIG_VERSION_3_IGNORED, decider, ("version",), text))
    fatal = False
    if version >= 2:
        for name in [n for n in plugins if not _is_plugin_uri(n, release)]:
            text = (
                f"plugin key {name!r} is not a URI in a version {version} config: containerd {release} does not start"
            )
            findings.append(finding_at(rules.PLUGIN_KEY_NOT_URI, owners[name], _cri_path(owners[name], name), text))
            fatal = True
    elif known:
        text = "config version 1 (no `version` line): containerd 1.x honours it with a deprecation warning; containerd 2.x would ignore its CRI settings"
        findings.append(finding_at(rules.CONFIG_VERSION_1_DEPRECATED, files[0], (), text))
    table_id = CRI_V1 if version == 1 else CRI_V2
    cri = _table(plugins.get(table_id))
    owner = owners.get(table_id)
    cni = _table(cri.get("cni"))
    sources = {k: CniSource(owner, ("plugins", table_id, "cni", k)) for k in cni} if owner else {}
    findings.extend(_replaced_tables(files, table_id, cri))
    ignored: List[str] = []
    for file in files:
        for plugin in CRI_TABLES:
            if plugin == table_id or not _has_cni(file, plugin):
                continue
            if (version >= 2 and plugin == CRI_V1) or (version > 2 and plugin == CRI_V3):
                continue  # reported above (CNI612, CNI605/606)
            if file.declared_version and file.declared_version != version:
                ignored.append(f'{file.path} [plugins."{plugin}".cni]')
                continue
            text = f'[plugins."{plugin}".cni] is ignored: a version {version} config is read from [plugins."{table_id}"] by containerd {release}'
            findings.append(finding_at(rules.CNI_TABLE_IGNORED, file, ("plugins", plugin, "cni"), text))
    findings.extend(mixed_versions(files, version, ignored))
    return Effective(cni, sources, _table(cri.get("containerd")), tuple(findings), fatal)


def effective_2x(raw_files: Sequence[TomlFile], release: Release) -> Effective:
    """containerd 2.x: rename v1 IDs, deep merge, migrate a final version 2 to the runtime plugin."""
    files = [renamed_for_2x(f) for f in raw_files]
    version = final_version(files, 3)
    if version > 3:
        text = f"containerd {release} accepts config versions up to 3, this declares {version}: it does not start"
        decider = _last_declaring(files, version)
        return Effective({}, {}, {}, (finding_at(rules.CONFIG_VERSION_UNSUPPORTED, decider, ("version",), text),), True)
    plugins, owners = merge_2x(files)
    if version < 3:
        cni, sources = migrate_cni_2x(plugins, owners, release)
        containerd_table = migrate_runtimes_2x(plugins)
    else:
        runtime = _table(plugins.get(CRI_V3))
        cni = dict(_table(runtime.get("cni")))
        sources = {k: CniSource(owners[("plugins", CRI_V3, "cni", k)], ("plugins", CRI_V3, "cni", k)) for k in cni}
        containerd_table = _table(runtime.get("containerd"))
    findings, ignored = _ignored_tables_2x(files, version, release)
    findings.extend(mixed_versions(files, version, ignored))
    return Effective(cni, sources, containerd_table, tuple(findings), False)


def _ignored_tables_2x(files: Sequence[TomlFile], version: int, release: Release) -> Tuple[List[Finding], List[str]]:
    findings: List[Finding] = []
    ignored: List[str] = []
    for file in files:
        for plugin in CRI_TABLES:
            read = plugin == CRI_V3 or (plugin == CRI_V2 and version < 3)
            cri = _table(file.plugins.get(plugin))
            if read or not cri:
                continue
            if file.declared_version in (0, 1) and plugin == CRI_V2:
                text = (
                    f"no `version` line: containerd {release} renames [plugins.cri] but reads the config as version "
                    f"{version}, so these CRI settings (CNI dirs included) are ignored and defaults apply"
                )
                findings.append(finding_at(rules.CONFIG_VERSION_MISSING, file, _cri_path(file, plugin), text))
            elif not _has_cni(file, plugin):
                continue
            elif file.declared_version != version:
                ignored.append(f'{file.path} [plugins."{plugin}".cni]')
            else:
                text = f'[plugins."{plugin}".cni] is ignored: containerd {release} reads a version {version} config\'s CNI settings from [plugins."{CRI_V3}".cni]'
                findings.append(finding_at(rules.CNI_TABLE_IGNORED, file, ("plugins", plugin, "cni"), text))
    return findings, ignored


# --- the CNI values --------------------------------------------------------------------------


def _source_finding(rule: Rule, effective: Effective, key: str, message: str) -> Optional[Finding]:
    source = effective.sources.get(key)
    return finding_at(rule, source.file, source.file.written_path(source.path), message) if source else None


def _strings(value: Any) -> Optional[List[str]]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def bin_dirs_21(effective: Effective, release: Release) -> Tuple[Tuple[str, ...], Tuple[Finding, ...], bool]:
    """containerd >= 2.1 ``ValidateRuntimeConfig``: bin_dir moves into a default/empty bin_dirs."""
    bin_dir = effective.cni.get("bin_dir", "")
    bin_dir = bin_dir if isinstance(bin_dir, str) else ""
    configured = _strings(effective.cni.get("bin_dirs"))
    bin_dirs = configured if configured is not None else [DEFAULT_BIN_DIR]
    findings: List[Optional[Finding]] = []
    if bin_dir:
        text = f"`bin_dir` is deprecated in containerd {release}; it is used as bin_dirs = [{bin_dir!r}] unless bin_dirs is set"
        findings.append(_source_finding(rules.BIN_DIR_DEPRECATED, effective, "bin_dir", text))
        if bin_dirs == [DEFAULT_BIN_DIR]:
            bin_dirs = []
        if not bin_dirs:
            bin_dirs, bin_dir = [bin_dir], ""
    if bin_dir and bin_dirs:
        text = (
            f"bin_dir = {bin_dir!r} and bin_dirs = {bin_dirs!r} are both set: containerd {release} does not load its "
            "CRI runtime plugin (`cni.bin_dir` and `cni.bin_dirs` cannot be set at the same time)"
        )
        findings.append(_source_finding(rules.BIN_DIR_AND_BIN_DIRS, effective, "bin_dirs", text))
        return tuple(bin_dirs), tuple(f for f in findings if f), True
    return tuple(bin_dirs), tuple(f for f in findings if f), False


def bin_dirs_before_21(effective: Effective, release: Release) -> Tuple[Tuple[str, ...], Tuple[Finding, ...]]:
    """containerd <= 2.0: one ``bin_dir`` (default /opt/cni/bin); ``bin_dirs`` is unknown there."""
    bin_dir = effective.cni.get("bin_dir", DEFAULT_BIN_DIR)
    bin_dir = bin_dir if isinstance(bin_dir, str) else DEFAULT_BIN_DIR
    findings: Tuple[Finding, ...] = ()
    if "bin_dirs" in effective.cni:
        text = (
            f"containerd {release} has no `bin_dirs` (added in 2.1): ignored, plugins are looked up only in {bin_dir}"
        )
        found = _source_finding(rules.BIN_DIRS_UNSUPPORTED, effective, "bin_dirs", text)
        findings = (found,) if found else ()
    return (bin_dir,), findings


def handler_conf_dirs(containerd_table: Mapping[str, Any]) -> Tuple[Tuple[str, str], ...]:
    """Per runtime handler ``cni_conf_dir`` (its own go-cni instance; bin dirs stay global)."""
    out: List[Tuple[str, str]] = []
    for name, runtime in _table(containerd_table.get("runtimes")).items():
        conf_dir = _table(runtime).get("cni_conf_dir")
        if isinstance(conf_dir, str) and conf_dir:
            out.append((name, conf_dir))
    return tuple(out)


def _int_value(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str_value(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


CNI_DIR_KEYS = ("bin_dir", "bin_dirs", "conf_dir", "max_conf_num")


# --- entry point -----------------------------------------------------------------------------


def model_release(release: Optional[str], files: Sequence[TomlFile]) -> Tuple[Release, bool, Optional[Evidence]]:
    """The release to model, whether it was known, and evidence saying so when assumed."""
    parsed = parse_release(release)
    if parsed is not None:
        return parsed, True, None
    declared = final_version(files, 0)
    model = MODEL_2X if declared >= 3 else MODEL_1X
    reason = f"config declares version {declared}" if declared else "config declares no version"
    where = files[0].path if files else DEFAULT_CONFIG
    return model, False, Evidence("config", where, f"containerd release unknown: modelled as {model} ({reason})")


def _unknown_release_no_version(files: Sequence[TomlFile]) -> Tuple[Finding, ...]:
    """Release unknown, file read as 1.x: say what 2.x would do with it (CNI602)."""
    if final_version(files, 0) > 1:
        return ()
    findings = []
    for file in files:
        if file.declared_version in (0, 1) and _table(file.plugins.get(CRI_V1)):
            text = "no `version` line: if this node runs containerd 2.x, these CRI settings (CNI dirs included) are ignored and defaults apply"
            findings.append(finding_at(rules.CONFIG_VERSION_MISSING, file, _cri_path(file, CRI_V1), text))
    return tuple(findings)


def defaults_config(name: RuntimeName, findings: Tuple[Finding, ...], evidence: Tuple[Evidence, ...]) -> RuntimeConfig:
    """containerd's built-in CNI settings, as reported when no config file is in effect."""
    return RuntimeConfig(
        name=name,
        config_file=None,
        conf_dir=DEFAULT_CONF_DIR,
        bin_dirs=(DEFAULT_BIN_DIR,),
        dirs_source="default",
        max_conf_num=DEFAULT_MAX_CONF_NUM,
        findings=findings,
        evidence=evidence,
    )


def read_containerd(
    host_root: str,
    release: Optional[str] = None,
    config_path: Optional[str] = None,
    *,
    name: RuntimeName = "containerd",
) -> RuntimeConfig:
    """The effective CNI settings of containerd ``release`` (None = unknown) on the node at ``host_root``.

    ``config_path`` is the ``--config``/``-c`` argument of the running process (node path); when
    None the default /etc/containerd/config.toml is read if it exists. ``name`` lets k3s/RKE2
    report their embedded containerd under their own name.
    """
    main = config_path or DEFAULT_CONFIG
    explicit = config_path is not None
    # The import rules depend on the release; when it is unknown the model is chosen from the
    # versions the files declare, so load once with the 1.x model and again if that changes it.
    loaded = load_files(host_root, main, explicit, parse_release(release) or MODEL_1X)
    model, known, assumed = model_release(release, loaded.files)
    if not known and model != MODEL_1X:
        loaded = load_files(host_root, main, explicit, model)
    evidence = tuple(
        Evidence("config", f.path, f"version {f.declared_version}" if f.declared_version else "no version line")
        for f in loaded.files
    ) + ((assumed,) if assumed else ())
    files_read = tuple(f.path for f in loaded.files)
    config_file = main if explicit or HostFS(host_root).is_file(main) else None
    assumed_release = None if known else f"{model.major}.{model.minor}.{model.patch}"
    if loaded.fatal or not loaded.files:
        base = defaults_config(name, loaded.findings, evidence)
        return replace(base, config_file=config_file, files_read=files_read, assumed_release=assumed_release)
    if model.major >= 2:
        effective = effective_2x(loaded.files, model)
    else:
        effective = effective_1x(loaded.files, model, known)
    extra: Tuple[Finding, ...] = () if known or model.major >= 2 else _unknown_release_no_version(loaded.files)
    conflict = False
    if model.at_least(2, 1):
        bin_dirs, bin_findings, conflict = bin_dirs_21(effective, model)
    else:
        bin_dirs, bin_findings = bin_dirs_before_21(effective, model)
    template = _str_value(effective.cni.get("conf_template"), "")
    return RuntimeConfig(
        name=name,
        config_file=config_file,
        conf_dir=_str_value(effective.cni.get("conf_dir"), DEFAULT_CONF_DIR),
        bin_dirs=bin_dirs,
        dirs_source="config" if any(k in effective.cni for k in CNI_DIR_KEYS) else "default",
        max_conf_num=_int_value(effective.cni.get("max_conf_num"), DEFAULT_MAX_CONF_NUM),
        conf_template=template or None,
        handler_conf_dirs=handler_conf_dirs(effective.containerd),
        files_read=files_read,
        assumed_release=assumed_release,
        findings=loaded.findings + effective.findings + extra + bin_findings,
        evidence=evidence,
        cri_plugin_loads=not conflict,
    )
