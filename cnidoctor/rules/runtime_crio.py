"""CNI630-CNI659: the runtime's own configuration - CRI-O, cri-dockerd, and which runtime the
kubelet uses when a node has several.

Emitted by ``cnidoctor.runtime.crio`` (CNI630-CNI639), ``cnidoctor.runtime.locate``
(CNI640-CNI644) and ``cnidoctor.runtime.cridockerd`` (CNI645-CNI649). Each finding names the
runtime's file as seen on the node and the key (a JSON pointer of the TOML key, e.g.
``/crio/network/plugin_dirs``; ``/Service/ExecStart`` for a unit file; ``/<VAR>`` for an
environment file).
"""

from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

CRIO_CONFIG_GO = (
    "cri-o/cri-o:pkg/config/config.go@v1.28.2 (UpdateFromDropInFile, UpdateFromPath, NetworkConfig.Validate)"
)
CRIO_CLI_GO = "cri-o/cri-o:internal/criocli/criocli.go@v1.28.2 (mergeConfig, --config/--config-dir, --cni-* flags)"
CRIO_DEFAULTS_GO = (
    "cri-o/cri-o:pkg/config/config_unix.go@v1.28.2 (cniConfigDir, cniBinDir, CrioConfigPath, CrioConfigDropInPath)"
)
TOML_DECODE_GO = "BurntSushi/toml:decode.go@v1.3.2 (unifySlice replaces a slice; badtype on a type mismatch), vendored by cri-o v1.28.2"
OCICNI_GO = "cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 (loadNetworks, syncNetworkConfig, networksAvailable, errMissingDefaultNetwork)"
CRIDOCKERD_OPTIONS = "Mirantis/cri-dockerd:config/options.go@v0.4.3 (--network-plugin, --cni-conf-dir, --cni-bin-dir)"
CRIDOCKERD_DEFAULTS = (
    'Mirantis/cri-dockerd:cmd/cri/options/options.go@v0.4.3 (NetworkPluginName "cni"; v0.2.4 "kubenet"; v0.2.3 unset)'
)
CRIDOCKERD_INIT = 'Mirantis/cri-dockerd:network/plugins.go@v0.4.3 (InitNetworkPlugin: "" or no-op -> no network plugin)'

CRIO_CONFIG_INVALID = Rule(
    code="CNI630",
    name="crio-config-invalid",
    severity=Severity.ERROR,
    summary="A CRI-O configuration file is not valid TOML, cannot be read, or gives a CNI key the wrong type",
    meaning=(
        "CRI-O decodes /etc/crio/crio.conf and then every file under /etc/crio/crio.conf.d onto "
        "one configuration. A file that is not valid TOML, that cannot be read (a dangling "
        "symlink, a directory link, no permission) or that gives a key a value of the wrong type "
        '(`plugin_dirs = "/opt/cni/bin"` instead of a list) stops the whole daemon at start-up: '
        "no CRI socket, the kubelet reports the runtime as down and the node stays NotReady. "
        "Every file in the drop-in directory counts, whatever its extension: an editor's backup "
        "or a `.rpmsave` is decoded too."
    ),
    example='[crio.network]\nplugin_dirs = "/opt/cni/bin/"   # a string where CRI-O expects a list',
    correct_example='[crio.network]\nplugin_dirs = ["/opt/cni/bin/"]',
    when_to_ignore="Never: CRI-O does not start with this file in its drop-in directory.",
    fix=(
        "Correct the TOML at the reported line, or move the file out of /etc/crio/crio.conf.d; "
        "`crio config` (or `crio --config-dir ... config`) prints the merged result once it decodes."
    ),
    runtime_errors=("unable to decode configuration %v: %w",),
    references=(CRIO_CONFIG_GO, CRIO_CLI_GO, TOML_DECODE_GO),
)

CRIO_CONFIG_MISSING = Rule(
    code="CNI631",
    name="crio-config-missing",
    severity=Severity.ERROR,
    summary="CRI-O is started with --config naming a file that does not exist",
    meaning=(
        "A missing default /etc/crio/crio.conf is skipped silently (the packages of 1.28 and "
        "later ship none and use only crio.conf.d), but a file named with `--config`/`-c` or "
        "CONTAINER_CONFIG must exist: CRI-O refuses to start otherwise."
    ),
    example="ExecStart=/usr/bin/crio --config /etc/crio/crio-custom.conf   # file absent",
    correct_example="ExecStart=/usr/bin/crio   # default /etc/crio/crio.conf (optional) and /etc/crio/crio.conf.d",
    when_to_ignore="Never: CRI-O refuses to start without the named file.",
    fix="Create the file, or drop the `--config` option so that the default file and the drop-in directory are used.",
    runtime_errors=("open /etc/crio/crio-custom.conf: no such file or directory",),
    references=(CRIO_CLI_GO,),
)

CRIO_PLUGIN_DIRS_REPLACED = Rule(
    code="CNI632",
    name="crio-plugin-dirs-replaced",
    severity=Severity.WARNING,
    summary="A later CRI-O drop-in replaces plugin_dirs entirely and drops directories set before it",
    meaning=(
        "CRI-O decodes each drop-in onto the configuration built so far, and a TOML array replaces "
        "the earlier array instead of adding to it. A drop-in that sets "
        '`plugin_dirs = ["/usr/libexec/cni"]` removes `/opt/cni/bin/` (or whatever crio.conf and '
        "earlier drop-ins listed). Plugins installed only in a dropped directory are then not "
        "found: ocicni skips the network add-on's config with a log warning and pods land on "
        "another network (often the runtime's bridge, 10.85.0.0/16)."
    ),
    example=(
        'crio.conf:                 plugin_dirs = ["/opt/cni/bin/", "/usr/libexec/cni/"]\n'
        'crio.conf.d/20-gpu.conf:   plugin_dirs = ["/usr/libexec/cni/"]'
    ),
    correct_example='crio.conf.d/20-gpu.conf:   plugin_dirs = ["/opt/cni/bin/", "/usr/libexec/cni/"]',
    when_to_ignore="When the dropped directories hold no plugin any config in the conf dir uses.",
    fix="List every directory in the last file that sets `plugin_dirs` (the drop-in must repeat the ones it should keep).",
    runtime_errors=(
        'Error validating CNI config file /etc/cni/net.d/10-calico.conflist: [failed to find plugin "calico" in path [/usr/libexec/cni]]',
    ),
    references=(CRIO_CONFIG_GO, TOML_DECODE_GO, OCICNI_GO),
)

CRIO_PLUGIN_DIR_DEPRECATED = Rule(
    code="CNI633",
    name="crio-plugin-dir-deprecated",
    severity=Severity.INFO,
    summary="CRI-O's old plugin_dir key is set; it is appended after plugin_dirs",
    meaning=(
        "Since CRI-O 1.14.3 the plugin directories are the list `plugin_dirs`. The old string "
        "`plugin_dir` is still accepted: CRI-O logs a deprecation warning and appends it after "
        "the `plugin_dirs` entries, so a plugin present in both is taken from `plugin_dirs`. "
        "In 1.14.0-1.14.2 `plugin_dir` itself was a list, and before 1.14 it was the only key "
        "(a `plugin_dirs` key is ignored there)."
    ),
    example='[crio.network]\nplugin_dir = "/usr/libexec/cni"',
    correct_example='[crio.network]\nplugin_dirs = ["/opt/cni/bin/", "/usr/libexec/cni"]',
    when_to_ignore="On CRI-O before 1.14.3, where `plugin_dir` is the only key.",
    fix="Move the directory into `plugin_dirs` and delete `plugin_dir`.",
    runtime_errors=("The config field plugin_dir is being deprecated. Please use plugin_dirs instead",),
    references=(CRIO_CONFIG_GO, "cri-o/cri-o:lib/config.go@v1.14.3 (PluginDir string omitempty, PluginDirs)"),
)

CRIO_SETTING_IGNORED = Rule(
    code="CNI634",
    name="crio-setting-ignored-by-release",
    severity=Severity.WARNING,
    summary="A CRI-O setting or drop-in that this CRI-O release does not know is silently ignored",
    meaning=(
        "CRI-O's TOML decoder ignores keys its configuration struct does not have, without a "
        "message. `plugin_dirs` exists from 1.14.3 (earlier releases use `plugin_dir`), "
        "`cni_default_network` from 1.18.0, and the drop-in directory /etc/crio/crio.conf.d is "
        "read from 1.17.0. On an older release these settings have no effect and the defaults "
        "(/etc/cni/net.d/, /opt/cni/bin/, first valid network) stay in force."
    ),
    example="CRI-O 1.16 with /etc/crio/crio.conf.d/10-cni.conf setting plugin_dirs",
    correct_example='/etc/crio/crio.conf on CRI-O 1.16:\n[crio.network]\nplugin_dir = "/usr/libexec/cni"',
    when_to_ignore="When the ignored setting equals the release's default anyway.",
    fix="Put the setting where this release reads it (crio.conf, `plugin_dir` before 1.14.3), or upgrade CRI-O.",
    runtime_errors=(),
    references=(
        CRIO_CONFIG_GO,
        "cri-o/cri-o:pkg/config/config.go@v1.18.0 (CNIDefaultNetwork added)",
        "cri-o/cri-o:internal/pkg/criocli/criocli.go@v1.17.0 (UpdateFromPath(config-dir))",
    ),
)

CRIO_DROPIN_WRONG_DIR = Rule(
    code="CNI635",
    name="crio-dropin-wrong-dir",
    severity=Severity.WARNING,
    summary="CRI-O configuration files lie in a directory CRI-O never reads (/etc/crio/conf.d)",
    meaning=(
        "CRI-O reads only its main file and the drop-in directory (`--config-dir`, default "
        "/etc/crio/crio.conf.d). Files written to /etc/crio/conf.d - as some installers did - are "
        "never applied, without any message; their settings are absent from `crio config`."
    ),
    example="/etc/crio/conf.d/99-nvidia.conf",
    correct_example="/etc/crio/crio.conf.d/99-nvidia.conf",
    when_to_ignore="When the files in /etc/crio/conf.d are kept there on purpose as inactive copies.",
    fix="Move the files into /etc/crio/crio.conf.d (or the directory given with --config-dir) and restart CRI-O.",
    runtime_errors=(),
    references=(CRIO_CLI_GO, "https://github.com/NVIDIA/nvidia-container-toolkit/pull/1829"),
)

CRIO_DEFAULT_NETWORK_MISSING = Rule(
    code="CNI636",
    name="crio-default-network-missing",
    severity=Severity.ERROR,
    summary="cni_default_network names a network that no loadable config file in network_dir defines",
    meaning=(
        "With `cni_default_network` set, ocicni never changes the default network: it does not "
        "fall back to the first valid file. When no config in `network_dir` that loads and "
        "validates (plugins found in `plugin_dirs`, version supported) has that `name`, CRI-O "
        "reports the network as not ready and every pod waits for its network."
    ),
    example='[crio.network]\ncni_default_network = "podnet"   # /etc/cni/net.d has only "k8s-pod-network"',
    correct_example='[crio.network]\ncni_default_network = "k8s-pod-network"   # the name in 10-calico.conflist',
    when_to_ignore="While the add-on has not written its config yet (first boot); the check then passes once it has.",
    fix="Set `cni_default_network` to the `name` in the provider's config (or remove it to use the first valid file).",
    runtime_errors=(
        "no CNI configuration file in %s. Has your network provider started?",
        "Network plugin returns error: No CNI configuration file in /etc/cni/net.d/. Has your network provider started?",
    ),
    references=(OCICNI_GO, CRIO_CONFIG_GO),
)

CRIO_PLUGIN_DIRS_LACK_PROVIDER = Rule(
    code="CNI637",
    name="crio-plugin-dirs-lack-provider",
    severity=Severity.ERROR,
    summary="CRI-O's plugin_dirs does not include the directory the network add-on installed its plugins into",
    meaning=(
        "ocicni validates every config file against `plugin_dirs` and skips, with only a log "
        "warning, a file whose plugins are not found there. The add-on's config is then ignored "
        "and the default moves to the next valid file - typically the runtime's own bridge "
        "(`100-crio-bridge.conf`, 10.85.0.0/16): pods start, but with node-local addresses, the "
        "same on every node. Distribution packages that list only /usr/libexec/cni hit this with "
        "add-ons that install into /opt/cni/bin."
    ),
    example='[crio.network]\nplugin_dirs = ["/usr/libexec/cni"]   # calico installed /opt/cni/bin/calico',
    correct_example='[crio.network]\nplugin_dirs = ["/opt/cni/bin/", "/usr/libexec/cni"]',
    when_to_ignore="When the add-on's plugins are also present (same builds) in a directory CRI-O does search.",
    fix="Add the add-on's directory (usually /opt/cni/bin/) to `plugin_dirs` in the last file that sets it, then restart CRI-O.",
    runtime_errors=(
        'Error validating CNI config file /etc/cni/net.d/10-calico.conflist: [failed to find plugin "calico" in path [/usr/libexec/cni]]',
    ),
    references=(
        OCICNI_GO,
        CRIO_CONFIG_GO,
        "https://github.com/cri-o/cri-o/issues/3823",
        "https://github.com/kubernetes/kubernetes/issues/91695",
    ),
)

SEVERAL_RUNTIMES = Rule(
    code="CNI640",
    name="several-runtimes-installed",
    severity=Severity.WARNING,
    summary="More than one container runtime is installed; only the one the kubelet talks to matters",
    meaning=(
        "Each runtime reads its own CNI settings (containerd's `bin_dir`, CRI-O's `plugin_dirs`, "
        "cri-dockerd's `--cni-bin-dir`), so fixing the configuration of the runtime the kubelet "
        "does not use changes nothing. The kubelet's `--container-runtime-endpoint` (flag, "
        "kubeadm-flags.env, or `containerRuntimeEndpoint` in its config file) decides; "
        "cnidoctor reports it when it can read it (info), otherwise warns."
    ),
    example="containerd (docker's) and CRI-O both installed; kubelet --container-runtime-endpoint=unix:///var/run/crio/crio.sock",
    correct_example="one runtime installed; kubelet --container-runtime-endpoint=unix:///run/containerd/containerd.sock",
    when_to_ignore="On a node that runs Docker (with its own containerd) next to the Kubernetes runtime on purpose.",
    fix="Check the runtime the kubelet uses (`crictl info` through that endpoint); remove or disable runtimes that are not needed.",
    runtime_errors=(),
    references=(
        "kubernetes/kubernetes:cmd/kubelet/app/options/options.go (--container-runtime-endpoint)",
        "kubernetes/kubeadm: 10-kubeadm.conf (KUBELET_KUBEADM_ARGS from /var/lib/kubelet/kubeadm-flags.env)",
    ),
)

KUBELET_ENDPOINT_NO_RUNTIME = Rule(
    code="CNI641",
    name="kubelet-endpoint-no-runtime",
    severity=Severity.WARNING,
    summary="The kubelet's container runtime endpoint is not served by any runtime found on the node",
    meaning=(
        "The kubelet sends every pod to the socket in `--container-runtime-endpoint`. When none "
        "of the runtimes found on the node listens there by default or by its own flag, either "
        "the runtime lives somewhere cnidoctor did not look, or the kubelet points at a socket "
        "nothing serves and pods cannot start."
    ),
    example="kubelet --container-runtime-endpoint=unix:///var/run/dockershim.sock on a node with only containerd",
    correct_example="kubelet --container-runtime-endpoint=unix:///run/containerd/containerd.sock on a node with containerd",
    when_to_ignore="When the runtime is installed where cnidoctor does not look (a custom prefix) and serves the socket.",
    fix="Point the kubelet at the runtime's socket (kubeadm: /var/lib/kubelet/kubeadm-flags.env), or start that runtime.",
    runtime_errors=(),
    references=("kubernetes/kubernetes:cmd/kubelet/app/options/options.go (--container-runtime-endpoint)",),
)

CRIDOCKERD_NETWORK_PLUGIN = Rule(
    code="CNI645",
    name="cri-dockerd-network-plugin-not-cni",
    severity=Severity.ERROR,
    summary="cri-dockerd does not use CNI: --network-plugin is empty, kubenet or unknown",
    meaning=(
        "cri-dockerd calls CNI only with `--network-plugin=cni` (its default from v0.2.5). An empty "
        "value (and the missing default up to v0.2.3) selects no plugin at all: pods get Docker "
        "bridge addresses (172.17.0.x) and the CNI configuration is never read. `kubenet` (the "
        "default of v0.2.4) needs bridge, host-local and loopback and ignores /etc/cni/net.d. Any "
        "other name (a CNI plugin type such as `calico`) is not a cri-dockerd network plugin and "
        "network set-up fails."
    ),
    example="ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --network-plugin=",
    correct_example="ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --network-plugin=cni",
    when_to_ignore="On a single-node Docker setup that deliberately uses Docker's bridge network instead of CNI.",
    fix="Start cri-dockerd with `--network-plugin=cni` (and `--cni-bin-dir`/`--cni-conf-dir` if the add-on uses other dirs).",
    runtime_errors=(
        "didn't find compatible CNI plugin with given settings",
        "could not locate kubenet required CNI plugins [bridge host-local loopback]",
    ),
    references=(
        CRIDOCKERD_OPTIONS,
        CRIDOCKERD_DEFAULTS,
        CRIDOCKERD_INIT,
        "https://github.com/Mirantis/cri-dockerd/issues/42",
    ),
)

RULES: Tuple[Rule, ...] = (
    CRIO_CONFIG_INVALID,
    CRIO_CONFIG_MISSING,
    CRIO_PLUGIN_DIRS_REPLACED,
    CRIO_PLUGIN_DIR_DEPRECATED,
    CRIO_SETTING_IGNORED,
    CRIO_DROPIN_WRONG_DIR,
    CRIO_DEFAULT_NETWORK_MISSING,
    CRIO_PLUGIN_DIRS_LACK_PROVIDER,
    SEVERAL_RUNTIMES,
    KUBELET_ENDPOINT_NO_RUNTIME,
    CRIDOCKERD_NETWORK_PLUGIN,
)
