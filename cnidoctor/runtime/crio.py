"""CRI-O's effective CNI settings, computed from its files the way CRI-O merges them.

Order (cri-o/cri-o:internal/criocli/criocli.go@v1.28.2 ``mergeConfig``): built-in defaults, then
the main file (``--config``/``-c``/CONTAINER_CONFIG, default /etc/crio/crio.conf; a missing
*default* file is skipped, a missing *explicit* one is fatal), then every non-directory entry that
``filepath.Walk`` finds under the drop-in dir (``--config-dir``/``-d``/CONTAINER_CONFIG_DIR,
default /etc/crio/crio.conf.d; recursive, lexical per directory, no extension filter), then the
``--cni-*`` flags and their environment variables. Each file is decoded onto the configuration
built so far (pkg/config/config.go@v1.28.2 ``UpdateFromDropInFile``): keys present override,
absent keys stay, arrays are replaced (BurntSushi/toml ``unifySlice``). A decode error in any
file stops CRI-O. After merging, a non-empty old ``plugin_dir`` is appended to ``plugin_dirs``
(``NetworkConfig.Validate``).

Then ocicni picks the default network (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1): the fixed
``cni_default_network`` if set, else the first file (sorted) that loads and validates;
``select_default_network`` computes that from what the config side knows about each file.
"""

from __future__ import annotations

import posixpath
from dataclasses import field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..frozen import dataclass
from ..model import Finding
from ..rules import runtime_crio as rules
from .argv import parse_go_flags
from .hostfs import HostFS
from .model import DirsSource, Evidence, RuntimeConfig
from .releases import before
from .tomlsrc import KeyPath, TomlDocument, json_pointer, load_toml

DEFAULT_CONFIG = "/etc/crio/crio.conf"  # config_unix.go@v1.28.2 CrioConfigPath
DEFAULT_CONFIG_DIR = "/etc/crio/crio.conf.d"  # CrioConfigDropInPath
DEFAULT_NETWORK_DIR = "/etc/cni/net.d/"  # cniConfigDir (trailing slash as CRI-O holds it)
DEFAULT_PLUGIN_DIR = "/opt/cni/bin/"  # cniBinDir
WRONG_DROPIN_DIR = "/etc/crio/conf.d"  # NVIDIA/nvidia-container-toolkit PR #1829

NETWORK: KeyPath = ("crio", "network")
PLUGIN_DIRS: KeyPath = NETWORK + ("plugin_dirs",)
PLUGIN_DIR: KeyPath = NETWORK + ("plugin_dir",)
NETWORK_DIR: KeyPath = NETWORK + ("network_dir",)
DEFAULT_NET: KeyPath = NETWORK + ("cni_default_network",)

# Release boundaries, found by reading the tags (cri-o/cri-o lib/config.go@v1.14.0, @v1.14.3,
# pkg/config/config.go@v1.18.0, internal/pkg/criocli/criocli.go@v1.17.0).
PLUGIN_DIRS_SINCE = (1, 14, 3)  # plugin_dirs []string; plugin_dir string omitempty
PLUGIN_DIR_LIST = ((1, 14, 0), (1, 14, 2))  # plugin_dir was []string
DEFAULT_NETWORK_SINCE = (1, 18, 0)  # cni_default_network
DROP_IN_DIR_SINCE = (1, 17, 0)  # --config-dir / crio.conf.d


@dataclass(frozen=True)
class KeyOrigin:
    """Which file (and where in it) set a ``[crio.network]`` key last; file None = flag/env."""

    key: str  # "network_dir", "plugin_dirs", "plugin_dir", "cni_default_network"
    file: Optional[str]
    pointer: str
    line: Optional[int] = None
    column: Optional[int] = None


@dataclass(frozen=True)
class CrioReading:
    """Everything the CRI-O reader learned; ``config`` is the seam record for integration."""

    config: RuntimeConfig
    origins: Tuple[KeyOrigin, ...] = ()
    # True when cni_default_network is set: ocicni never moves the default (``changeable``).
    default_network_fixed: bool = False
    fatal: bool = False  # CRI-O would not start with these files (see the CNI630/631 findings)

    def origin(self, key: str) -> Optional[KeyOrigin]:
        for item in self.origins:
            if item.key == key:
                return item
        return None


@dataclass(frozen=True)
class NetworkFile:
    """What the config side knows about one file of ``network_dir`` (for the default choice).

    ``name`` is the list's ``name`` (None/"" when empty: ocicni uses the file's base name);
    ``usable`` is True when libcni loads it and ``ValidateNetworkList`` passes with CRI-O's
    ``plugin_dirs`` (plugins found, version supported)."""

    path: str
    name: Optional[str]
    usable: bool
    has_plugins: bool = True


@dataclass(frozen=True)
class DefaultNetwork:
    """ocicni's choice: the network pods without an explicit network request are attached to."""

    name: Optional[str]
    file: Optional[str]
    fixed: bool  # from cni_default_network
    findings: Tuple[Finding, ...] = ()


@dataclass
class _State:
    """CRI-O's CNI settings while its config files are read in order."""

    network_dir: str = DEFAULT_NETWORK_DIR
    plugin_dirs: Tuple[str, ...] = (DEFAULT_PLUGIN_DIR,)
    plugin_dir: Any = None  # str (or list on 1.14.0-1.14.2)
    default_network: str = ""
    origins: Dict[str, KeyOrigin] = field(default_factory=dict)
    findings: List[Finding] = field(default_factory=list)
    files_read: List[str] = field(default_factory=list)
    fatal: bool = False


def read_crio(
    root: str,
    release: Optional[str] = None,
    argv: Sequence[str] = (),
    env: Optional[Mapping[str, str]] = None,
) -> RuntimeConfig:
    """The effective CNI settings of CRI-O under host root ``root`` (see ``read_crio_detail``)."""
    return read_crio_detail(root, release, argv, env).config


def read_crio_detail(
    root: str,
    release: Optional[str] = None,
    argv: Sequence[str] = (),
    env: Optional[Mapping[str, str]] = None,
) -> CrioReading:
    """Compute CRI-O's CNI settings under host root ``root``.

    ``release`` ("1.28.2"; None = current behaviour) selects the keys and defaults of that
    release. ``argv`` is crio's command line (from /proc or its unit, as ``locate`` returns it)
    and ``env`` its environment (CONTAINER_CONFIG, CONTAINER_CNI_* ...); flags win over env."""
    fs = HostFS(root)
    flags = parse_crio_flags(argv, env or {})
    state = _State()
    main = flags.get("config", DEFAULT_CONFIG)
    explicit = "config" in flags
    if main:
        _apply_main(fs, state, main, explicit, release)
    drop_dir = flags.get("config-dir", DEFAULT_CONFIG_DIR)
    if drop_dir:
        _apply_drop_in_dir(fs, state, drop_dir, release)
    _check_wrong_drop_in_dir(fs, state, drop_dir)
    _apply_flags(state, flags)
    return _result(state, main if main and main in state.files_read else None, release)


# crio's flags that decide its files and CNI settings (cri-o/cri-o:internal/criocli/criocli.go@v1.28.2
# getCrioFlags), spelling -> canonical name; --cni-plugin-dir is a StringSliceFlag.
_CRIO_FLAGS = {
    "config": "config",
    "c": "config",
    "config-dir": "config-dir",
    "d": "config-dir",
    "cni-config-dir": "cni-config-dir",
    "cni-plugin-dir": "cni-plugin-dir",
    "cni-default-network": "cni-default-network",
}


def parse_crio_flags(argv: Sequence[str], env: Mapping[str, str]) -> Dict[str, str]:
    """The flags that decide CRI-O's files and CNI settings, urfave/cli style (``runtime/argv``).

    The last occurrence wins, repeated ``--cni-plugin-dir`` accumulate (comma-joined).
    Environment variables fill in what the command line does not set (urfave/cli ``EnvVars``)."""
    found = parse_go_flags(argv, _CRIO_FLAGS, repeated={"cni-plugin-dir"})
    env_names = {
        "CONTAINER_CONFIG": "config",
        "CONTAINER_CONFIG_DIR": "config-dir",
        "CONTAINER_CNI_CONFIG_DIR": "cni-config-dir",
        "CONTAINER_CNI_PLUGIN_DIR": "cni-plugin-dir",
        "CONTAINER_CNI_DEFAULT_NETWORK": "cni-default-network",
    }
    for variable, canonical in env_names.items():
        if canonical not in found and variable in env:
            found[canonical] = env[variable]
    return found


def _apply_main(fs: HostFS, state: _State, path: str, explicit: bool, release: Optional[str]) -> None:
    result = fs.read_text(path)
    if result.missing and not explicit:
        return  # "Skipping not-existing config file" (criocli.go mergeConfig)
    if result.missing:
        state.fatal = True
        state.findings.append(
            rules.CRIO_CONFIG_MISSING.at(
                path, "", f"CRI-O is started with --config {path}, which does not exist; CRI-O will not start"
            )
        )
        return
    _apply_file(fs, state, path, result.text, result.error, release)


def _apply_drop_in_dir(fs: HostFS, state: _State, directory: str, release: Optional[str]) -> None:
    if not fs.lexists(directory):
        return  # UpdateFromPath: a missing directory is not an error
    files = list(_walk(fs, directory))
    if files and before(release, DROP_IN_DIR_SINCE):
        state.findings.append(
            rules.CRIO_SETTING_IGNORED.at(
                files[0],
                "",
                f"CRI-O {release} does not read the drop-in directory {directory} (supported from "
                f"1.17.0); {len(files)} file(s) there have no effect",
            )
        )
        return
    for path in files:
        result = fs.read_text(path)
        _apply_file(fs, state, path, result.text, result.error, release)


def _walk(fs: HostFS, directory: str) -> List[str]:
    """filepath.Walk order: lexical per directory, descending into subdirectories in place.

    Walk uses Lstat, so a symlink is never descended into: it is handed to ReadFile as a file
    (a link to a directory then fails to read, as it does in CRI-O)."""
    if not fs.is_symlink(directory) and fs.is_file(directory):
        return [directory]
    found: List[str] = []
    for name in fs.listdir(directory):
        path = f"{directory.rstrip('/')}/{name}"
        if not fs.is_symlink(path) and fs.is_dir(path):
            found.extend(_walk(fs, path))
        else:
            found.append(path)
    return found


def _apply_file(
    fs: HostFS, state: _State, path: str, text: Optional[str], error: Optional[str], release: Optional[str]
) -> None:
    if text is None:
        state.fatal = True
        state.findings.append(
            rules.CRIO_CONFIG_INVALID.at(path, "", f"CRI-O cannot read {path} ({error}) and will not start")
        )
        return
    state.files_read.append(path)
    document = load_toml(text)
    if document.data is None:
        state.fatal = True
        state.findings.append(
            rules.CRIO_CONFIG_INVALID.at(
                path,
                "",
                f"{path} is not valid TOML: {document.error}; CRI-O will not start",
                line=document.error_line,
                column=document.error_column,
            )
        )
        return
    network = _network_table(state, path, document)
    if network is None:
        return
    _merge_network(state, path, document, network, release)


def _network_table(state: _State, path: str, document: TomlDocument) -> Optional[Mapping[str, Any]]:
    """``[crio.network]`` of one file; a non-table value there is a decode error in CRI-O."""
    data: Any = document.data
    for depth, part in enumerate(NETWORK):
        if not isinstance(data, dict) or part not in data:
            return {}
        data = data[part]
        if not isinstance(data, dict):
            _wrong_type(state, path, document, NETWORK[: depth + 1], "a table")
            return None
    return data


def _wrong_type(state: _State, path: str, document: TomlDocument, key: KeyPath, wanted: str) -> None:
    line, column = document.locate(key)
    state.fatal = True
    state.findings.append(
        rules.CRIO_CONFIG_INVALID.at(
            path,
            json_pointer(key),
            f"{'.'.join(key)} in {path} must be {wanted}; CRI-O fails to decode the file and will not start",
            line=line,
            column=column,
        )
    )


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _merge_network(
    state: _State, path: str, document: TomlDocument, network: Mapping[str, Any], release: Optional[str]
) -> None:
    plugin_dir_is_list = _plugin_dir_is_list(release)
    old_layout = before(release, PLUGIN_DIRS_SINCE)
    expectations: List[Tuple[str, str, bool]] = [
        ("network_dir", "a string", True),
        ("plugin_dir", "a list of strings" if plugin_dir_is_list else "a string", True),
        ("plugin_dirs", "a list of strings", not old_layout),
        ("cni_default_network", "a string", not before(release, DEFAULT_NETWORK_SINCE)),
    ]
    for key, wanted, known in expectations:
        if key not in network:
            continue
        value = network[key]
        if not known:
            _ignored_key(state, path, document, key, release)
            continue
        valid = _is_str_list(value) if wanted.startswith("a list") else isinstance(value, str)
        if not valid:
            _wrong_type(state, path, document, NETWORK + (key,), wanted)
            continue
        _set_key(state, path, document, key, value, release)


def _plugin_dir_is_list(release: Optional[str]) -> bool:
    low, high = PLUGIN_DIR_LIST
    return not before(release, low) and before(release, (high[0], high[1], high[2] + 1))


def _ignored_key(state: _State, path: str, document: TomlDocument, key: str, release: Optional[str]) -> None:
    since = "1.14.3" if key == "plugin_dirs" else "1.18.0"
    line, column = document.locate(NETWORK + (key,))
    state.findings.append(
        rules.CRIO_SETTING_IGNORED.at(
            path,
            json_pointer(NETWORK + (key,)),
            f"CRI-O {release} does not know [crio.network] {key} (added in {since}); the setting is ignored",
            line=line,
            column=column,
        )
    )


def _set_key(state: _State, path: str, document: TomlDocument, key: str, value: Any, release: Optional[str]) -> None:
    pointer = json_pointer(NETWORK + (key,))
    line, column = document.locate(NETWORK + (key,))
    if key == "plugin_dirs":
        _note_replacement(state, path, pointer, line, column, tuple(value))
        state.plugin_dirs = tuple(value)
    elif key == "plugin_dir":
        state.plugin_dir = list(value) if isinstance(value, list) else value
        if not before(release, PLUGIN_DIRS_SINCE):  # only then is it the deprecated spelling
            state.findings.append(
                rules.CRIO_PLUGIN_DIR_DEPRECATED.at(
                    path,
                    pointer,
                    f"[crio.network] plugin_dir = {value!r} is the deprecated key; CRI-O appends it after plugin_dirs",
                    line=line,
                    column=column,
                )
            )
    elif key == "network_dir":
        state.network_dir = value
    else:
        state.default_network = value
    state.origins[key] = KeyOrigin(key, path, pointer, line, column)


def _note_replacement(
    state: _State, path: str, pointer: str, line: Optional[int], column: Optional[int], new: Tuple[str, ...]
) -> None:
    """A later file's plugin_dirs replaces the whole earlier list (BurntSushi/toml unifySlice)."""
    earlier = state.origins.get("plugin_dirs")
    if earlier is None or earlier.file is None:
        return
    kept = {_norm(d) for d in new}
    dropped = [d for d in state.plugin_dirs if _norm(d) not in kept]
    if not dropped:
        return
    state.findings.append(
        rules.CRIO_PLUGIN_DIRS_REPLACED.at(
            path,
            pointer,
            f"plugin_dirs in {path} replaces the list set in {earlier.file} "
            f"({_go_list(state.plugin_dirs)} -> {_go_list(new)}); dropped: {', '.join(dropped)}",
            line=line,
            column=column,
        )
    )


def _check_wrong_drop_in_dir(fs: HostFS, state: _State, drop_dir: str) -> None:
    if _norm(drop_dir) == WRONG_DROPIN_DIR or not fs.is_dir(WRONG_DROPIN_DIR):
        return
    files = [f"{WRONG_DROPIN_DIR}/{name}" for name in fs.listdir(WRONG_DROPIN_DIR)]
    if not files:
        return
    state.findings.append(
        rules.CRIO_DROPIN_WRONG_DIR.at(
            files[0],
            "",
            f"{WRONG_DROPIN_DIR} holds {len(files)} file(s) that CRI-O never reads; its drop-in "
            f"directory is {drop_dir}",
        )
    )


def _apply_flags(state: _State, flags: Mapping[str, str]) -> None:
    """``--cni-*`` flags and env override every file (criocli.go mergeConfig)."""
    if "cni-config-dir" in flags:
        state.network_dir = flags["cni-config-dir"]
        state.origins["network_dir"] = KeyOrigin("network_dir", None, "--cni-config-dir")
    if "cni-plugin-dir" in flags:
        # StringSliceTrySplit: "a,b" becomes two dirs (whitespace trimmed).
        state.plugin_dirs = tuple(p.strip() for p in flags["cni-plugin-dir"].split(",") if p.strip())
        state.origins["plugin_dirs"] = KeyOrigin("plugin_dirs", None, "--cni-plugin-dir")
    if "cni-default-network" in flags:
        state.default_network = flags["cni-default-network"]
        state.origins["cni_default_network"] = KeyOrigin("cni_default_network", None, "--cni-default-network")


def _effective_bin_dirs(state: _State, release: Optional[str]) -> Tuple[str, ...]:
    """plugin_dirs, then a non-empty plugin_dir appended (NetworkConfig.Validate, >= 1.14.3).

    Before 1.14.3 ``plugin_dir`` is the only key (a string up to 1.13, a list in 1.14.0-1.14.2)
    and replaces the default (lib/config.go@v1.13.0, @v1.14.0)."""
    if isinstance(state.plugin_dir, list):
        return tuple(state.plugin_dir)
    if before(release, PLUGIN_DIRS_SINCE):
        return (state.plugin_dir,) if state.plugin_dir else state.plugin_dirs
    if state.plugin_dir:
        return state.plugin_dirs + (state.plugin_dir,)
    return state.plugin_dirs


def _dirs_source(state: _State) -> DirsSource:
    origins = [state.origins.get(k) for k in ("network_dir", "plugin_dirs", "plugin_dir")]
    if any(o is not None and o.file is None for o in origins):
        return "flag"
    if any(o is not None for o in origins):
        return "config"
    return "default"


def _result(state: _State, main: Optional[str], release: Optional[str]) -> CrioReading:
    evidence = tuple(Evidence("config", path, "crio configuration") for path in state.files_read)
    config = RuntimeConfig(
        name="crio",
        config_file=main,
        conf_dir=state.network_dir,
        bin_dirs=_effective_bin_dirs(state, release),
        dirs_source=_dirs_source(state),
        max_conf_num=None,
        default_network=state.default_network or None,
        files_read=tuple(state.files_read),
        findings=tuple(state.findings),
        evidence=evidence,
    )
    return CrioReading(
        config=config,
        origins=tuple(state.origins[k] for k in sorted(state.origins)),
        default_network_fixed=bool(state.default_network),
        fatal=state.fatal,
    )


def select_default_network(reading: CrioReading, files: Sequence[NetworkFile]) -> DefaultNetwork:
    """ocicni's default network for the files of ``network_dir`` (ocicni.go@v0.5.1 loadNetworks).

    Files are taken in sorted path order; unusable ones and lists without plugins are skipped;
    an empty name becomes the file's base name; the first usable file is the default unless
    ``cni_default_network`` fixes it. A fixed name no usable file defines is CNI636."""
    usable = [f for f in sorted(files, key=lambda f: f.path) if f.usable and f.has_plugins]
    named = [(f.name or posixpath.basename(f.path), f) for f in usable]
    wanted = reading.config.default_network
    if not wanted:
        if not named:
            return DefaultNetwork(None, None, False)
        return DefaultNetwork(named[0][0], named[0][1].path, False)
    for name, item in named:
        if name == wanted:
            return DefaultNetwork(name, item.path, True)
    return DefaultNetwork(wanted, None, True, (_missing_default(reading, wanted, [n for n, _ in named]),))


def _missing_default(reading: CrioReading, wanted: str, available: Sequence[str]) -> Finding:
    origin = reading.origin("cni_default_network")
    file = origin.file if origin else None
    have = ", ".join(sorted(set(available))) or "none"
    return rules.CRIO_DEFAULT_NETWORK_MISSING.at(
        file,
        origin.pointer if origin and origin.file else "",
        f"cni_default_network is {wanted!r}, but no usable config in {reading.config.conf_dir} "
        f"defines that network (usable networks: {have}); pods wait with "
        f'"no CNI configuration file in {reading.config.conf_dir}. Has your network provider started?"',
        line=origin.line if origin else None,
        column=origin.column if origin else None,
    )


def plugin_dirs_finding(
    reading: CrioReading, provider_dir: str, provider: str = "the network add-on"
) -> Optional[Finding]:
    """CNI637 when ``provider_dir`` (where the add-on put its plugins) is not among CRI-O's
    effective plugin dirs; None when it is. Paths are compared after normalisation."""
    dirs = reading.config.bin_dirs
    if _norm(provider_dir) in {_norm(d) for d in dirs}:
        return None
    origin = reading.origin("plugin_dirs") or reading.origin("plugin_dir")
    return rules.CRIO_PLUGIN_DIRS_LACK_PROVIDER.at(
        origin.file if origin else None,
        origin.pointer if origin and origin.file else "",
        f"CRI-O looks for plugins in {_go_list(dirs)}, but {provider} installed into {provider_dir}; "
        f"its config is skipped and pods fall back to the next valid network",
        line=origin.line if origin else None,
        column=origin.column if origin else None,
    )


def _norm(path: str) -> str:
    return posixpath.normpath(path) if path else path


def _go_list(items: Sequence[str]) -> str:
    return "[" + " ".join(items) + "]"


__all__ = [
    "CrioReading",
    "DefaultNetwork",
    "KeyOrigin",
    "NetworkFile",
    "parse_crio_flags",
    "plugin_dirs_finding",
    "read_crio",
    "read_crio_detail",
    "select_default_network",
]
