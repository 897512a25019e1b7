"""CNI601-CNI629: the containerd (and k3s/RKE2 embedded containerd) configuration.

Emitted by ``cnidoctor.runtime.containerd`` and ``cnidoctor.runtime.k3s``. Each finding names
the runtime's TOML file as seen on the node and the key as a JSON-pointer-style path
(``/plugins/io.containerd.grpc.v1.cri/cni/bin_dir``), with line and column of the key.
The loader these rules model: containerd/containerd:services/server/config/config.go@v1.7.34
(1.x) and cmd/containerd/server/config/config.go@v2.0.11 (2.x).
"""

from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

LOADER_1X = "containerd/containerd:services/server/config/config.go@v1.7.34 (LoadConfig, mergeConfig, ValidateV2)"
LOADER_1X_OLD = "containerd/containerd:services/server/config/config.go@v1.6.31 (ValidateV2 without the version check)"
LOADER_2X = (
    "containerd/containerd:cmd/containerd/server/config/config.go@v2.0.11 (LoadConfig, MigrateConfigTo, v1Migrate)"
)
MIGRATION_2X = "containerd/containerd:plugins/cri/runtime/plugin.go@v2.1.9 (configMigration, migrateConfig)"
CRI_CONFIG_21 = "containerd/containerd:internal/cri/config/config.go@v2.1.9 (ValidateRuntimeConfig)"
CRI_DEFAULTS_16 = "containerd/containerd:pkg/cri/config/config_unix.go@v1.6.39 (DefaultConfig)"
MAIN_16 = (
    "containerd/containerd:cmd/containerd/command/main.go@v1.6.39 (config loaded if it exists or --config was given)"
)

CONFIG_UNPARSEABLE = Rule(
    code="CNI601",
    name="runtime-config-unparseable",
    severity=Severity.ERROR,
    summary="The containerd configuration file is not valid TOML",
    meaning=(
        "containerd parses its config file (and every file it imports) before anything else; a "
        "TOML syntax error stops the daemon at start, so no CRI service, no pod networking and a "
        "NotReady node. cnidoctor reports the runtime's CNI settings as the built-in defaults, "
        "which is not what will be used once the file is fixed."
    ),
    example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = /opt/cni/bin   # unquoted string',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"',
    when_to_ignore="Never: containerd does not start with this file as written.",
    fix="Fix the TOML syntax at the reported line (strings need quotes; one table header per table).",
    runtime_errors=("failed to load TOML: ", "failed to unmarshal TOML at row"),
    references=(LOADER_1X, LOADER_2X),
)

CONFIG_VERSION_MISSING = Rule(
    code="CNI602",
    name="containerd-config-version-missing",
    severity=Severity.WARNING,
    summary="containerd 2.x ignores the CRI settings of a config without a `version` line",
    meaning=(
        "A file without `version` is a version-1 config. containerd 2.x renames its short plugin "
        "IDs (`cri` becomes `io.containerd.grpc.v1.cri`) but then treats the config as version 3, "
        "so the version 2 to 3 CRI migration never runs and the CNI table (and the sandbox image, "
        "registries, runtimes) is ignored with a warning per key: the CNI dirs fall back to the "
        "defaults /opt/cni/bin and /etc/cni/net.d. containerd 1.x still honours such a file."
    ),
    example='[plugins.cri.cni]\n  bin_dir = "/usr/lib/cni"   # no version line',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"',
    when_to_ignore="On a node that stays on containerd 1.x, where the version-1 file is still honoured (CNI603 says the same as info).",
    fix=(
        'Write the file as `version = 2` with `[plugins."io.containerd.grpc.v1.cri".cni]` (1.x '
        'and 2.x), or as `version = 3` with `[plugins."io.containerd.cri.v1.runtime".cni]` '
        "(2.x only); `containerd config migrate` prints the latter."
    ),
    runtime_errors=("Ignoring unknown key in TOML for plugin",),
    references=(LOADER_2X, MIGRATION_2X),
)

CONFIG_VERSION_1_DEPRECATED = Rule(
    code="CNI603",
    name="containerd-config-version-1",
    severity=Severity.INFO,
    summary="The config is version 1 (no `version` line): honoured by containerd 1.x, ignored after an upgrade to 2.x",
    meaning=(
        "containerd 1.6/1.7 read a config without `version` (or `version = 1`) by short plugin ID "
        "(`[plugins.cri]`) and log a deprecation warning. The same file on containerd 2.x loses "
        "its CRI settings (see CNI602), so an upgrade silently moves the CNI dirs to the defaults."
    ),
    example='[plugins.cri.cni]\n  bin_dir = "/usr/lib/cni"',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"',
    when_to_ignore="On a node that will never be upgraded to containerd 2.x; the file works on 1.6/1.7.",
    fix='Add `version = 2` and move the tables to `[plugins."io.containerd.grpc.v1.cri"...]` before upgrading.',
    runtime_errors=(
        "containerd config version `1` has been deprecated and will be converted on each startup in containerd v2.0",
        "containerd config version `1` has been deprecated and will be removed in containerd v2.0",
    ),
    references=(LOADER_1X,),
)

CNI_TABLE_IGNORED = Rule(
    code="CNI604",
    name="containerd-cni-table-ignored",
    severity=Severity.WARNING,
    summary="A CNI table sits under a plugin ID this containerd never reads for this config version",
    meaning=(
        "containerd decodes the CRI plugin's settings from exactly one table: `plugins.cri` for "
        'a version-1 file on 1.x, `plugins."io.containerd.grpc.v1.cri"` for version 2 (migrated on '
        '2.x), `plugins."io.containerd.cri.v1.runtime"` for version 3 on 2.x. A `cni` table '
        "elsewhere (URI keys in a file without `version`, a version-3 table in a version-2 file, "
        "a version-2 table in a version-3 file) is ignored - at most with a log warning - and the "
        "defaults apply."
    ),
    example='# no version line\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"',
    when_to_ignore="When the CNI dirs in the ignored table are the defaults anyway (/opt/cni/bin, /etc/cni/net.d).",
    fix="Put the settings under the table the file's `version` names (and declare the version).",
    runtime_errors=("Ignoring unknown key in TOML for plugin",),
    references=(LOADER_1X, LOADER_2X, MIGRATION_2X),
)

CONFIG_VERSION_UNSUPPORTED = Rule(
    code="CNI605",
    name="containerd-config-version-unsupported",
    severity=Severity.ERROR,
    summary="This containerd refuses the config's `version` and does not start",
    meaning=(
        "containerd 1.6.32+ and 1.7.17+ reject `version = 3` (the containerd 2.x format) at "
        "start; containerd 2.x rejects versions above 3. The daemon exits, so the node has no "
        "container runtime at all. Typical after following 2.x documentation on a 1.x node."
    ),
    example='version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dirs = ["/opt/cni/bin"]',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"',
    when_to_ignore="Never: containerd exits at start with this file.",
    fix=(
        "On containerd 1.x write a `version = 2` file (`containerd config default` prints one); "
        "or upgrade containerd to 2.x."
    ),
    runtime_errors=(
        "containerd config version `3` is not supported, the max version is `2`, use `containerd config default` "
        "to generate a new config or manually revert to version `2`",
        "unsupported config version `3`",
        "expected containerd config version equal to or less than `3`",
    ),
    references=(LOADER_1X, LOADER_2X),
)

CONFIG_VERSION_3_IGNORED = Rule(
    code="CNI606",
    name="containerd-config-version-3-ignored",
    severity=Severity.WARNING,
    summary="containerd 1.x before 1.6.32/1.7.17 accepts a `version = 3` file but ignores its CRI settings",
    meaning=(
        "Older 1.x releases do not check the version number: a version 3 file is read as "
        'version 2, so the CRI plugin looks for `plugins."io.containerd.grpc.v1.cri"`, finds '
        "nothing, and uses the defaults (/opt/cni/bin, /etc/cni/net.d) without a word. A patch "
        "update to 1.6.32+/1.7.17+ then refuses the file (CNI605)."
    ),
    example='version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  conf_dir = "/etc/cni/custom"',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "/etc/cni/custom"',
    when_to_ignore="When the version-3 tables hold only defaults and the file is about to be replaced by a 2.x upgrade.",
    fix='Write the file as `version = 2` with `[plugins."io.containerd.grpc.v1.cri".cni]`.',
    runtime_errors=(),
    references=(LOADER_1X_OLD, LOADER_1X),
)

CONFIG_VERSIONS_MIXED = Rule(
    code="CNI607",
    name="containerd-config-versions-mixed",
    severity=Severity.WARNING,
    summary="The main config and its imports declare different versions; the last one decides for all",
    meaning=(
        "containerd merges every imported file into one config whose version is the last "
        "declared `version` in load order. With a version-3 drop-in on a version-2 main file, "
        "containerd 2.x treats the whole config as version 3 and drops the version-2 CRI section "
        "(CNI dirs back to defaults); the other way round the migration runs and keys of both "
        "apply. On 1.x a version-3 drop-in makes the whole config version 3 (see CNI605/CNI606)."
    ),
    example=(
        '# config.toml\nversion = 2\nimports = ["conf.d/*.toml"]\n[plugins."io.containerd.grpc.v1.cri".cni]\n'
        '  bin_dir = "/usr/lib/cni"\n# conf.d/gpu.toml\nversion = 3'
    ),
    correct_example='# config.toml\nversion = 2\nimports = ["conf.d/*.toml"]\n# conf.d/gpu.toml\nversion = 2',
    when_to_ignore="When every file's CRI settings survive the last version's reading (e.g. the drop-ins hold no CRI tables).",
    fix="Write all files in one version (`containerd config migrate` converts a file to version 3).",
    runtime_errors=("Ignoring unknown key in TOML for plugin",),
    references=(
        LOADER_2X,
        LOADER_1X,
        "containerd/containerd:cmd/containerd/server/server.go@v2.0.11 (plugin config migration)",
    ),
)

CRI_TABLE_REPLACED = Rule(
    code="CNI608",
    name="containerd-cri-table-replaced",
    severity=Severity.WARNING,
    summary="A containerd 1.x drop-in replaces the whole CRI plugin table, dropping earlier CNI settings",
    meaning=(
        "containerd 1.6/1.7 merge imported files per plugin, not per key: a file that mentions "
        '`[plugins."io.containerd.grpc.v1.cri"]` (even only for a registry mirror or a runtime) '
        "replaces everything an earlier file set for that plugin. The `cni` settings of the main "
        "file silently fall back to the defaults (and so do sandbox_image and SystemdCgroup). "
        "containerd 2.x merges per key instead."
    ),
    example=(
        '# config.toml\nversion = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'
        '[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n'
        '# conf.d/nvidia.toml\nversion = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "nvidia"'
    ),
    correct_example='# conf.d/nvidia.toml repeats the cni table\nversion = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "nvidia"',
    when_to_ignore="When the dropped `cni` settings equal the defaults (/opt/cni/bin, /etc/cni/net.d), or the node runs containerd 2.x.",
    fix="Repeat the `cni` settings in the drop-in (the last file wins), or put everything into one file.",
    runtime_errors=(),
    references=(LOADER_1X,),
)

BIN_DIR_AND_BIN_DIRS = Rule(
    code="CNI609",
    name="containerd-bin-dir-and-bin-dirs",
    severity=Severity.ERROR,
    summary="containerd 2.1+ refuses `bin_dir` together with a non-default `bin_dirs`; the CRI plugin does not load",
    meaning=(
        "From containerd 2.1 `bin_dirs` (a list) replaces `bin_dir`. A set `bin_dir` only moves "
        'into `bin_dirs` when `bin_dirs` is empty or exactly the default ["/opt/cni/bin"]; '
        "otherwise validation fails, the CRI runtime plugin is not loaded, and every CRI call of "
        "the kubelet fails (`unknown service runtime.v1.RuntimeService`): the node goes NotReady."
    ),
    example='version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dir = "/usr/lib/cni"\n  bin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]',
    correct_example='version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dirs = ["/opt/cni/bin", "/usr/lib/cni"]',
    when_to_ignore="Never on containerd 2.1+: the CRI plugin does not load.",
    fix="Keep only `bin_dirs` (list every directory there, in lookup order) and delete `bin_dir`.",
    runtime_errors=(
        "`cni.bin_dir` and `cni.bin_dirs` cannot be set at the same time",
        "unknown service runtime.v1.RuntimeService",
    ),
    references=(CRI_CONFIG_21,),
)

BIN_DIR_DEPRECATED = Rule(
    code="CNI610",
    name="containerd-bin-dir-deprecated",
    severity=Severity.INFO,
    summary="`bin_dir` is deprecated from containerd 2.1; it is used as `bin_dirs = [bin_dir]`",
    meaning=(
        "containerd 2.1+ still honours `bin_dir` (moving it into `bin_dirs` when that is empty or "
        "the default) and logs a deprecation warning; the key is scheduled for removal."
    ),
    example='[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dir = "/usr/lib/cni"',
    correct_example='[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dirs = ["/usr/lib/cni"]',
    when_to_ignore="While the same file must also serve containerd 2.0 or older, which know only `bin_dir`.",
    fix='Replace it with `bin_dirs = ["/usr/lib/cni"]`.',
    runtime_errors=("`bin_dir` is deprecated, please use `bin_dirs` instead",),
    references=(CRI_CONFIG_21, "containerd/containerd:pkg/deprecation/deprecation.go@v2.1.9"),
)

BIN_DIRS_UNSUPPORTED = Rule(
    code="CNI611",
    name="containerd-bin-dirs-unsupported",
    severity=Severity.WARNING,
    summary="`bin_dirs` needs containerd 2.1+; this release ignores it and uses `bin_dir`",
    meaning=(
        "containerd up to 2.0 has only `bin_dir`; a `bin_dirs` key is an unknown key (ignored, "
        "with a warning on 2.0) and the plugins are looked up only in `bin_dir` (default "
        "/opt/cni/bin)."
    ),
    example='[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dirs = ["/usr/lib/cni"]',
    correct_example='[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"',
    when_to_ignore="When the file is prepared for an upgrade to containerd 2.1+ and `bin_dir` already names the same first directory.",
    fix="Use `bin_dir` (one directory) on this release, or upgrade to containerd 2.1+.",
    runtime_errors=("Ignoring unknown key in TOML for plugin",),
    references=(CRI_DEFAULTS_16, "containerd/containerd:internal/cri/config/config.go@v2.1.0 (bin_dirs added)"),
)

PLUGIN_KEY_NOT_URI = Rule(
    code="CNI612",
    name="containerd-plugin-key-not-uri",
    severity=Severity.ERROR,
    summary="A version 2 config on containerd 1.x uses a short plugin ID; containerd does not start",
    meaning=(
        "containerd 1.x validates every `[plugins.X]` key of a version 2 (or higher) config as a "
        "URI `io.containerd.<type>.<version>.<id>`; a version-1 table such as `[plugins.cri]` "
        "(often from a drop-in without `version`, merged into a version-2 main file) is fatal."
    ),
    example='version = 2\n[plugins.cri.cni]\n  bin_dir = "/usr/lib/cni"',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"',
    when_to_ignore="Never on containerd 1.x: the daemon does not start.",
    fix="Rename the table to its URI (`cri` is `io.containerd.grpc.v1.cri`).",
    runtime_errors=('invalid plugin key URI "cri" expect io.containerd.x.vx',),
    references=(LOADER_1X,),
)

CONFIG_FILE_MISSING = Rule(
    code="CNI613",
    name="containerd-config-file-missing",
    severity=Severity.ERROR,
    summary="containerd was told to read a config file (or import) that does not exist; it does not start",
    meaning=(
        "The default /etc/containerd/config.toml is optional, but a path given with "
        "`--config`/`-c`, or an `imports` entry without a `*`, must exist: containerd fails to "
        "open it and exits."
    ),
    example='imports = ["/etc/containerd/runtime-nvidia.toml"]   # file never written',
    correct_example='imports = ["/etc/containerd/conf.d/*.toml"]   # a glob may match nothing',
    when_to_ignore="Never: containerd exits when a named config or import is missing.",
    fix="Create the file, fix the path, or use a glob (`conf.d/*.toml`), which may match nothing.",
    runtime_errors=("failed to load TOML", "open /etc/containerd/runtime-nvidia.toml: no such file or directory"),
    references=(MAIN_16, LOADER_1X, LOADER_2X),
)

IMPORT_GLOB_FROM_CWD = Rule(
    code="CNI614",
    name="containerd-import-glob-from-cwd",
    severity=Severity.WARNING,
    summary="containerd before 1.6.29/1.7.16 globs a relative `imports` pattern from its working directory",
    meaning=(
        "A relative `imports` entry without `*` is resolved next to the importing file, but "
        'before the fix "Fix config import relative path glob" (1.6.29, 1.7.16, 2.0) a pattern '
        "with `*` was globbed as written, i.e. relative to containerd's working directory (/ "
        'under systemd). `imports = ["conf.d/*.toml"]` then matches nothing and the drop-ins '
        "are silently not read."
    ),
    example='imports = ["conf.d/*.toml"]   # containerd 1.6.20: looks in /conf.d/',
    correct_example='imports = ["/etc/containerd/conf.d/*.toml"]',
    when_to_ignore="On containerd 1.6.29+/1.7.16+/2.x, which glob relative patterns next to the importing file.",
    fix='Use an absolute pattern: `imports = ["/etc/containerd/conf.d/*.toml"]`.',
    runtime_errors=(),
    references=(
        "containerd/containerd:services/server/config/config.go@v1.6.20 (resolveImports globs before joining)",
        "containerd/containerd:services/server/config/config.go@v1.6.29 (resolveImports joins, then globs)",
        "https://github.com/containerd/containerd/pull/9835",
    ),
)

PROVIDER_DIR_NOT_SEARCHED = Rule(
    code="CNI615",
    name="containerd-bin-dir-lacks-provider",
    severity=Severity.ERROR,
    summary="The network add-on's plugins are installed in a directory containerd does not search",
    meaning=(
        "containerd passes only its `bin_dir` (2.1+: `bin_dirs`) to libcni as the plugin path. "
        "A plugin `type` that none of those directories holds fails every pod sandbox with "
        '`failed to find plugin "X" in path [...]`, even though the plugin sits in another '
        "well-known directory on the node. Typical: Debian's and Ubuntu's packaged containerd "
        "look in /usr/lib/cni (where `containernetworking-plugins` installs), while Calico, "
        "Cilium, Flannel and Multus install into /opt/cni/bin; k3s looks only in its data dir."
    ),
    example='bin_dir = "/usr/lib/cni"   # calico installed /opt/cni/bin/calico',
    correct_example='version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"',
    when_to_ignore="When the plugin is also installed (same build) in a directory containerd searches, e.g. a symlink added by the add-on after this check.",
    fix=(
        "Point containerd at the add-on's directory (`bin_dir`, or on 2.1+ list both in "
        "`bin_dirs`) and restart containerd, or configure the add-on to install into the "
        "directory containerd searches."
    ),
    runtime_errors=('failed to find plugin "calico" in path [/usr/lib/cni]',),
    references=(
        CRI_DEFAULTS_16,
        "containerd/go-cni:cni.go@v1.1.7 (WithPluginDir: the only plugin path handed to libcni)",
        "containernetworking/cni:pkg/invoke/find.go@v1.1.2 (FindInPath)",
        CRI_CONFIG_21,
    ),
)

K3S_BIN_DIR_MISSING = Rule(
    code="CNI620",
    name="k3s-bin-dir-missing",
    severity=Severity.ERROR,
    summary="The CNI bin dir points into the k3s/RKE2 data dir, at a directory that does not exist",
    meaning=(
        "k3s renders its containerd `bin_dir` from where it found `host-local` at start: "
        "`<data-dir>/data/<hash>/bin` on older releases, the stable `<data-dir>/data/cni` on newer "
        "ones. A hand-kept `config.toml.tmpl`, a copied rendered config, or a changed `data-dir` "
        "can keep a path whose directory was cleaned up, so every plugin lookup fails."
    ),
    example='bin_dir = "/var/lib/rancher/k3s/data/8e6131aa.../bin"   # directory removed after an upgrade',
    correct_example='bin_dir = "/var/lib/rancher/k3s/data/cni"   # the stable dir k3s keeps across upgrades',
    when_to_ignore="Never while the runtime uses this config: every plugin lookup fails.",
    fix=(
        "Point a custom template at the stable `<data-dir>/data/cni` (or `data/current/bin`), or "
        "delete the stale rendered config and restart k3s so it is rendered again."
    ),
    runtime_errors=('failed to find plugin "flannel" in path',),
    references=(
        "k3s-io/k3s:cmd/k3s/main.go@0208f16b (extract, data/current, data/previous)",
        'k3s-io/k3s:pkg/agent/config/config.go@001a6d94 (CNIBinDir from exec.LookPath("host-local"))',
        "https://github.com/k3s-io/k3s/issues/6118",
    ),
)

K3S_BIN_DIR_STALE = Rule(
    code="CNI621",
    name="k3s-bin-dir-stale",
    severity=Severity.WARNING,
    summary="The CNI bin dir is an older k3s data dir than `data/current`",
    meaning=(
        "After an upgrade k3s extracts the new bundle into a new `data/<hash>` dir and moves the "
        "old `current` link to `previous`. A bin dir that still names the old hash runs the old "
        "plugins against the new release's network config, e.g. a flannel conflist at cniVersion "
        "1.0.0 against plugins that support only up to 0.4.0; provider plugins (Cilium, Multus) "
        "installed into the old hashed dir vanish when it is cleaned up."
    ),
    example='bin_dir = "/var/lib/rancher/k3s/data/<old-hash>/bin"   # data/current -> <new-hash>',
    correct_example='bin_dir = "/var/lib/rancher/k3s/data/cni"   # data/current -> <new-hash> does not matter',
    when_to_ignore="Right after an upgrade, before k3s restarted and rendered the config again.",
    fix=(
        "Use the stable `<data-dir>/data/cni` (or `data/current/bin`) in a custom template; otherwise "
        "stop k3s, delete the rendered config.toml and start k3s so it is rendered again."
    ),
    runtime_errors=(
        'incompatible CNI versions; config is "1.0.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"]',
        'incompatible CNI versions; config is "0.3.1", plugin supports ["0.4.0" "1.0.0"]',
        "CNI firewall plugin version unknown",
    ),
    references=(
        "k3s-io/k3s:cmd/k3s/main.go@0208f16b (getAssetAndDir, extract)",
        "https://github.com/k3s-io/k3s/issues/6118",
        "https://github.com/k3s-io/k3s/issues/9557",
        "https://github.com/k3s-io/k3s/pull/10868",
    ),
)

K3S_TEMPLATE_IN_USE = Rule(
    code="CNI622",
    name="k3s-containerd-template",
    severity=Severity.INFO,
    summary="A user containerd template replaces k3s's own; k3s will not keep its CNI paths up to date",
    meaning=(
        "When `config-v3.toml.tmpl` or `config.toml.tmpl` exists next to the rendered config, k3s "
        "renders it instead of its built-in template at every start. Paths hard-coded in it (a "
        "hashed `data/<hash>/bin`, a conf dir) are kept across upgrades; the maintainers' advice "
        'is to keep such templates minimal (`{{ template "base" . }}`) and to use the template '
        "variables for the CNI paths."
    ),
    example='[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/var/lib/rancher/k3s/data/8e6131aa.../bin"   # in config.toml.tmpl',
    correct_example='{{ template "base" . }}\n# only the additions below, no copied CNI paths',
    when_to_ignore="When the template uses only k3s's template variables for the CNI paths (no hard-coded dirs).",
    fix='Extend the base template (`{{ template "base" . }}`) instead of copying a rendered config.',
    runtime_errors=(),
    references=(
        "k3s-io/k3s:pkg/agent/containerd/config.go@06ea261c (templateGenerations)",
        "https://github.com/k3s-io/k3s/issues/7999",
    ),
)

K3S_RENDERED_CONFIG_MISSING = Rule(
    code="CNI623",
    name="k3s-rendered-config-missing",
    severity=Severity.WARNING,
    summary="The k3s/RKE2 data dir has no rendered containerd config; the CNI settings are unknown",
    meaning=(
        "k3s and RKE2 write `<data-dir>/agent/etc/containerd/config.toml` at every agent start "
        "and start their containerd with `-c` pointing at it. Without it the agent has not run "
        "with this data dir (or `data-dir` was changed), so cnidoctor can only assume "
        "containerd's defaults."
    ),
    example="/var/lib/rancher/k3s/agent/etc/containerd/config.toml: absent",
    correct_example="/var/lib/rancher/k3s/agent/etc/containerd/config.toml: rendered by the k3s agent at start",
    when_to_ignore="On a server-only node started with --disable-agent, which runs no containerd.",
    fix="Check `data-dir` in /etc/rancher/<k3s|rke2>/config.yaml and that the k3s/RKE2 service started.",
    runtime_errors=(),
    references=("k3s-io/k3s:pkg/agent/config/config.go@001a6d94 (nodeConfig.Containerd.Config)",),
)

RULES: Tuple[Rule, ...] = (
    CONFIG_UNPARSEABLE,
    CONFIG_VERSION_MISSING,
    CONFIG_VERSION_1_DEPRECATED,
    CNI_TABLE_IGNORED,
    CONFIG_VERSION_UNSUPPORTED,
    CONFIG_VERSION_3_IGNORED,
    CONFIG_VERSIONS_MIXED,
    CRI_TABLE_REPLACED,
    BIN_DIR_AND_BIN_DIRS,
    BIN_DIR_DEPRECATED,
    BIN_DIRS_UNSUPPORTED,
    PLUGIN_KEY_NOT_URI,
    CONFIG_FILE_MISSING,
    IMPORT_GLOB_FROM_CWD,
    PROVIDER_DIR_NOT_SEARCHED,
    K3S_BIN_DIR_MISSING,
    K3S_BIN_DIR_STALE,
    K3S_TEMPLATE_IN_USE,
    K3S_RENDERED_CONFIG_MISSING,
)
