"""CNI7xx: the node state a provider's plugin reads on ADD (crosscheck/nodestate.py gathers it).

Each rule fires only when the selected network, or a delegate it hands the work to, uses that
provider, and only when cnidoctor reads a node (``--host-root``, or a plain ``check`` of this
node with probing on). Everything is read, nothing is changed: a leaked lease is reported, never
removed, and a kubeconfig token is decoded locally for its ``exp`` claim only, never printed.
"""

from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

FLANNEL_REFS = (
    'flannel-io/cni-plugin:flannel.go@v1.7.1-flannel1 (cmdAdd: "loadFlannelSubnetEnv failed: %w"; '
    'loadFlannelSubnetEnv: "%v is missing %v")',
    "flannel-io/cni-plugin:flannel.go@v1.9.1-flannel1 (\"failed to load flannel 'subnet.env' file: %w. "
    'Check the flannel pod log for this node.")',
    "flannel-io/flannel:pkg/subnet/subnet.go@v0.28.9 (WriteSubnetFile)",
)
BRIDGE_REFS = (
    'containernetworking/plugins:plugins/main/bridge/bridge.go@v1.1.1 (cmdAdd: "failed to set bridge addr: %v"; '
    'ensureAddr: "%q already has an IP address different from %v")',
    "containernetworking/plugins:plugins/ipam/host-local/backend/allocator/range.go@v1.1.1 (Canonicalize: "
    "the gateway defaults to the subnet's first address)",
)
HOST_LOCAL_REFS = (
    'containernetworking/plugins:plugins/ipam/host-local/main.go@v1.1.1 ("failed to allocate for range %d: %v")',
    "containernetworking/plugins:plugins/ipam/host-local/backend/allocator/allocator.go@v1.1.1 "
    '("no IP addresses available in range set: %s")',
    "containernetworking/plugins:plugins/ipam/host-local/backend/disk/backend.go@v1.1.1 "
    "(one file per address under dataDir/<network>, default /var/lib/cni/networks)",
    "containernetworking/cni:libcni/api.go@v1.1.2 (cacheAdd: results/<network>-<container>-<ifname>)",
)

FLANNEL_SUBNET_ENV = Rule(
    code="CNI701",
    name="flannel-subnet-env-missing",
    severity=Severity.ERROR,
    summary="flannel's subnet file is missing or does not parse, so every ADD on this network fails.",
    meaning=(
        "The flannel CNI plugin reads the file flanneld writes (`subnetFile`, default "
        "`/run/flannel/subnet.env`) on every ADD and builds its delegate's host-local range from "
        "`FLANNEL_SUBNET`. Without the file, or with a line it cannot parse or a key missing, the "
        "plugin returns before delegating and the pod never gets an address. flanneld writes the "
        "file once it has a lease for the node: it is missing when flanneld is not running on the "
        "node (crash-looping on `pod cidr not assigned`, uninstalled while its conflist stayed, "
        "`/run` emptied by a reboot before flanneld started again)."
    ),
    example="$ ls /run/flannel/subnet.env\nls: cannot access '/run/flannel/subnet.env': No such file or directory",
    correct_example=(
        "# /run/flannel/subnet.env, written by flanneld\n"
        "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true"
    ),
    when_to_ignore="On a node that is being drained for good, or when flanneld is known to be starting right now.",
    fix=(
        "Make flanneld run on this node (kubectl -n kube-flannel logs <pod on this node>); after uninstalling "
        "flannel, delete its conflist and plugin from the node. Do not hand-write subnet.env: flanneld owns it."
    ),
    runtime_errors=(
        "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory",
        "failed to load flannel 'subnet.env' file: open /run/flannel/subnet.env: no such file or directory",
    ),
    references=FLANNEL_REFS,
)

FLANNEL_BRIDGE_MISMATCH = Rule(
    code="CNI702",
    name="flannel-bridge-address-mismatch",
    severity=Severity.ERROR,
    summary="The bridge flannel delegates to (cni0) carries an address outside the node's FLANNEL_SUBNET.",
    meaning=(
        "flannel hands ADD to the bridge plugin with `isGateway: true` and a host-local range of "
        "`FLANNEL_SUBNET`, so bridge wants the bridge to carry the subnet's first address. The bridge "
        "keeps the address of an earlier life: the node was re-joined and got another pod CIDR, or "
        "the pod network was changed. bridge then refuses every ADD (after host-local already "
        "reserved an address). Checked only on the live node: a mounted host root's interfaces "
        "are not visible from a container unless it shares the host's network namespace."
    ),
    example="$ cat /run/flannel/subnet.env | grep SUBNET\nFLANNEL_SUBNET=10.244.1.1/24\n$ ip -4 addr show cni0\n    inet 10.244.2.1/24 ...",
    correct_example="$ ip -4 addr show cni0\n    inet 10.244.1.1/24 ...",
    when_to_ignore="Never while pods are scheduled to the node.",
    fix=(
        "Delete the stale bridge so that bridge recreates it with the right address "
        "(`ip link delete cni0` with no pods on the node), or set `forceAddress: true` in the delegate."
    ),
    runtime_errors=(
        'failed to delegate add: failed to set bridge addr: "cni0" already has an IP address different from '
        "10.244.1.1/24",
    ),
    references=FLANNEL_REFS + BRIDGE_REFS,
)

BRIDGE_ADDRESS_CONFLICT = Rule(
    code="CNI703",
    name="bridge-address-conflict",
    severity=Severity.ERROR,
    summary="The bridge the config names already has another IPv4 address than the gateway bridge would set.",
    meaning=(
        "With `isGateway` (or `isDefaultGateway`) bridge gives the bridge the gateway of the "
        "host-local range (its `gateway`, by default the subnet's first address) and refuses an "
        "IPv4 address it finds there that differs, unless `forceAddress` is true. The address is "
        "read from the kernel (the bridge's primary IPv4 address, the first one bridge compares). "
        "Checked only on the live node (host root `/`): a mounted host root's interfaces are not "
        "visible from a container unless it shares the host's network namespace."
    ),
    example='{"type": "bridge", "bridge": "cni0", "isGateway": true,\n "ipam": {"type": "host-local", "subnet": "10.85.0.0/16"}}\n# cni0 carries 10.88.0.1/16',
    correct_example='{"type": "bridge", "bridge": "cni0", "isGateway": true,\n "ipam": {"type": "host-local", "subnet": "10.88.0.0/16"}}',
    when_to_ignore="Never while pods use this network.",
    fix="Delete the stale bridge (`ip link delete <bridge>` with no pods on it), point the config at another bridge, or set `forceAddress: true`.",
    runtime_errors=('failed to set bridge addr: "cni0" already has an IP address different from 10.85.0.1/16',),
    references=BRIDGE_REFS,
)

HOST_LOCAL_EXHAUSTED = Rule(
    code="CNI704",
    name="host-local-range-exhausted",
    severity=Severity.ERROR,
    summary="Every address of a host-local range set is reserved: the next ADD gets none.",
    meaning=(
        "host-local keeps one file per reserved address under `dataDir/<network>` (default "
        "`/var/lib/cni/networks/<network>`) and removes it on DEL. When every address of a range "
        "set (the gateway excluded) has a file, ADD fails. Usually addresses leaked: DEL failed "
        "or never ran (see CNI706), or the range is too small for the pods on the node. At 90 % "
        "and more the finding is a warning."
    ),
    example="$ ls /var/lib/cni/networks/mynet | wc -l   # a /30 range: 1 usable address, reserved",
    correct_example="A range large enough for the node's pods, and leases only for pods that exist.",
    when_to_ignore="Never at 100 %; a warning at 90 % on a node that is full by design.",
    fix=(
        "Fix teardown first (why did DEL not release?), then remove the reservations of containers that no "
        "longer exist (CNI706 lists them) or give the network a larger range."
    ),
    runtime_errors=("failed to allocate for range 0: no IP addresses available in range set: 10.85.0.1-10.85.255.254",),
    references=HOST_LOCAL_REFS,
)

HOST_LOCAL_LEAKED = Rule(
    code="CNI705",
    name="host-local-lease-leaked",
    severity=Severity.WARNING,
    summary="host-local holds addresses for containers libcni has no cached result for: likely leaked.",
    meaning=(
        "libcni (>= 0.7) caches each successful ADD's result under `/var/lib/cni/results` "
        "(`<network>-<container>-<ifname>`) and deletes it on DEL. A lease whose container has no "
        "cache entry was left behind by a DEL that never ran or failed after the cache was removed; "
        "such leases fill the range until ADD fails (CNI704). cnidoctor only reports them: removing "
        "a lease of a running pod gives its address to the next pod."
    ),
    example="/var/lib/cni/networks/mynet/10.85.0.7  (container 3f2a..., no /var/lib/cni/results/mynet-3f2a...-eth0)",
    correct_example="Every lease file has a cache entry for the same container.",
    when_to_ignore="When the runtime keeps its libcni cache elsewhere (a non-default cache dir) or predates libcni 0.7.",
    fix="Check that the containers are gone (crictl pods / crictl ps -a), then delete their lease files.",
    references=HOST_LOCAL_REFS,
)

CALICO_NODENAME = Rule(
    code="CNI706",
    name="calico-nodename-missing",
    severity=Severity.ERROR,
    summary="calico's nodename file is missing: calico/node has not started on this node.",
    meaning=(
        "calico's plugin reads the node name calico/node writes (`nodename_file`, default "
        "`/var/lib/calico/nodename`) and fails ADD when it is missing, unless "
        "`nodename_file_optional` is true."
    ),
    example="$ ls /var/lib/calico/nodename\nls: cannot access '/var/lib/calico/nodename': No such file or directory",
    correct_example="$ cat /var/lib/calico/nodename\nnode-1",
    when_to_ignore="While calico/node is starting for the first time on the node.",
    fix="Make calico/node run on this node with /var/lib/calico mounted (kubectl -n calico-system logs <calico-node pod>).",
    runtime_errors=(
        "stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is "
        "running and has mounted /var/lib/calico/",
    ),
    references=(
        'projectcalico/calico:cni-plugin/pkg/plugin/plugin.go@v3.27.0 ("%s: check that the calico/node container '
        'is running and has mounted /var/lib/calico/")',
    ),
)

KUBECONFIG_TOKEN_EXPIRED = Rule(
    code="CNI707",
    name="cni-kubeconfig-token-expired",
    severity=Severity.ERROR,
    summary="The service-account token in the kubeconfig the plugin uses has expired.",
    meaning=(
        "calico's plugin (`kubernetes.kubeconfig`, usually /etc/cni/net.d/calico-kubeconfig) and "
        "Multus (`kubeconfig`) talk to the API server with the token their daemon writes into that "
        "kubeconfig and refreshes. When the daemon stopped refreshing it (not running, or its own "
        "token is stale), the API server answers Unauthorized and every ADD fails. cnidoctor reads "
        "only the JWT's `exp` claim, locally; the token is never sent anywhere or printed."
    ),
    example="# exp of the token in /etc/cni/net.d/calico-kubeconfig lies in the past",
    correct_example="# the daemon rewrites the kubeconfig before exp",
    when_to_ignore="When the API server is configured to accept expired tokens (it should not be).",
    fix="Restart the provider's daemon on this node (calico-node / the Multus DaemonSet pod) so that it writes a fresh token.",
    runtime_errors=("error getting ClusterInformation: connection is unauthorized: Unauthorized",),
    references=(
        'projectcalico/calico:cni-plugin/pkg/plugin/plugin.go@v3.27.0 ("error getting ClusterInformation: %v")',
        "k8snetworkplumbingwg/multus-cni:pkg/multus/multus.go@v4.0.2 (kubeconfig, the pod lookup)",
        "RFC 7519 section 4.1.4 (exp)",
    ),
)

MULTUS_READINESS = Rule(
    code="CNI708",
    name="multus-readiness-indicator-missing",
    severity=Severity.ERROR,
    summary="Multus's readinessindicatorfile does not exist: Multus waits for it, then fails ADD.",
    meaning=(
        "With `readinessindicatorfile` set, Multus polls for that file (the default network's "
        "config) before every ADD and fails when it does not appear in time: the default network's "
        "daemon has not written it."
    ),
    example='{"type": "multus", "readinessindicatorfile": "/etc/cni/net.d/10-calico.conflist", ...}\n# no such file',
    correct_example="The default network's daemon runs and has written the file.",
    when_to_ignore="While the default network is starting on the node.",
    fix="Start the default network's daemon on this node, or correct `readinessindicatorfile`.",
    references=(
        'k8snetworkplumbingwg/multus-cni:pkg/multus/multus.go@v4.0.2 ("have you checked that your default network '
        'is ready? still waiting for readinessindicatorfile @ %v. pollimmediate error: %v")',
    ),
)

CILIUM_SOCKET = Rule(
    code="CNI709",
    name="cilium-agent-socket-missing",
    severity=Severity.ERROR,
    summary="The cilium agent's API socket does not exist: the cilium plugin cannot reach the agent.",
    meaning=(
        "cilium-cni talks to the agent over /var/run/cilium/cilium.sock on every ADD; without the "
        "socket the agent is not running on the node and ADD fails after the client's time-out."
    ),
    example="$ ls /var/run/cilium/cilium.sock\nls: cannot access '/var/run/cilium/cilium.sock': No such file or directory",
    correct_example="$ ls -l /var/run/cilium/cilium.sock\nsrw-rw---- 1 root root 0 ... /var/run/cilium/cilium.sock",
    when_to_ignore="While the cilium agent is starting.",
    fix="Make the cilium agent run on this node (kubectl -n kube-system logs <cilium pod on this node>).",
    references=(
        'cilium/cilium:plugins/cilium-cni/cmd/cmd.go@v1.15.0 ("unable to connect to Cilium daemon: %s")',
        "cilium/cilium:pkg/defaults/defaults.go@v1.15.0 (SockPath /var/run/cilium/cilium.sock)",
    ),
)

RULES: Tuple[Rule, ...] = (
    FLANNEL_SUBNET_ENV,
    FLANNEL_BRIDGE_MISMATCH,
    BRIDGE_ADDRESS_CONFLICT,
    HOST_LOCAL_EXHAUSTED,
    HOST_LOCAL_LEAKED,
    CALICO_NODENAME,
    KUBECONFIG_TOKEN_EXPIRED,
    MULTUS_READINESS,
    CILIUM_SOCKET,
)
