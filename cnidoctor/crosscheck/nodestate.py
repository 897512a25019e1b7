"""Where the config side meets the node: the state a provider's plugin reads on ADD.

Only for the selected network and the providers it uses, itself or through a delegate (flannel
hands ADD to bridge + host-local; Multus to its delegates). Read-only: files under
``--host-root`` (on_host), and on the live node the bridge's IPv4 address from the kernel by
ioctl (SIOCGIFADDR/SIOCGIFNETMASK: the primary address, the first one bridge compares,
containernetworking/plugins:plugins/main/bridge/bridge.go@v1.1.1 ensureAddr). A mounted host
root's interfaces are not visible from a container unless it shares the host's network
namespace, so the bridge is read only when the host root is ``/``.

``gather`` collects the facts into a NodeState; ``judge`` turns them into CNI7xx findings and
the ADD refusals the prediction applies (predict.NodeRefusal).
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence, Tuple

from ..config.netconf import go_key
from ..frozen import dataclass
from ..model import Finding, Options, ParsedFile, PluginConf, Selection, Severity
from ..rules import nodestate as rules
from .predict import NodeRefusal
from .runtime_view import on_host

if TYPE_CHECKING:  # pragma: no cover
    import ipaddress

SUBNET_FILE = "/run/flannel/subnet.env"  # flannel-io/cni-plugin:flannel.go defaultSubnetFile
NETWORKS_DIR = "/var/lib/cni/networks"  # host-local's default dataDir (backend/disk/backend.go)
RESULTS_DIR = "/var/lib/cni/results"  # libcni's cache (cni@v1.1.2 libcni/api.go CacheDir)
CALICO_NODENAME = "/var/lib/calico/nodename"
CILIUM_SOCKET = "/var/run/cilium/cilium.sock"
WARN_SHARE = 0.9
# flannel's delegate errors changed wording across releases; newer text first (see rules FLANNEL_REFS)
FLANNEL_LOAD = "failed to load flannel 'subnet.env' file: {error}. Check the flannel pod log for this node."
FLANNEL_OLD_LOAD = "loadFlannelSubnetEnv failed: {error}"
SIOCGIFADDR, SIOCGIFNETMASK = 0x8915, 0x891B


@dataclass(frozen=True)
class SubnetEnv:
    """flannel's subnet.env as flannel's CNI plugin reads it."""

    path: str  # node path
    error: Optional[str]  # flannel's own error text (Go wording), None when it parses
    subnet: Optional[str] = None  # FLANNEL_SUBNET as a network, e.g. 10.244.1.0/24


@dataclass(frozen=True)
class BridgeAddress:
    """The IPv4 address of a bridge a config names, read from the node."""

    name: str
    address: Optional[str]  # primary IPv4 address/prefix; None: the bridge has none or does not exist
    skipped: str = ""  # why it could not be read (permission, not the live node)


@dataclass(frozen=True)
class RangeUsage:
    """How full one host-local range is, and which of its addresses no container holds."""

    index: int  # the range set's index (host-local's "range %d")
    text: str  # host-local's RangeSet.String(): start-end[,start-end]
    data_dir: str  # node path
    capacity: int
    used: int
    leaked: Tuple[str, ...]  # addresses whose container has no libcni cache entry


@dataclass(frozen=True)
class NodeStateResult:
    """The node-state checks of one run: what was checked, found and refused."""

    checked: Optional[Tuple[str, ...]]  # None: node state not checked in this run
    findings: Tuple[Finding, ...] = ()
    refusals: Tuple[NodeRefusal, ...] = ()


def reads_node(options: Options) -> bool:
    """Node state is read when the run reads a node: --host-root, or this node with probing on
    (a --no-probe check of the live node and a check of named files stay with the configs)."""
    if options.host_root is None:
        return False
    return options.probe or not is_live(options.host_root)


def is_live(host_root: Optional[str]) -> bool:
    return not host_root or os.path.abspath(host_root) == "/"


def check(options: Options, parsed: Sequence[ParsedFile], selection: Optional[Selection]) -> NodeStateResult:
    """The CNI7xx findings and ADD refusals for the selected network."""
    if not reads_node(options):
        return NodeStateResult(None)
    item = next((p for p in parsed if selection is not None and p.path == selection.file), None)
    if item is None or item.network is None:
        return NodeStateResult(())
    findings: List[Finding] = []
    refusals: List[NodeRefusal] = []
    checked: List[str] = []
    for plugin in item.network.plugins:
        found, refused, what = check_plugin(options, item, plugin)
        findings.extend(found)
        refusals.extend(refused)
        checked.extend(what)
    return NodeStateResult(tuple(dict.fromkeys(checked)), tuple(findings), tuple(refusals))


Checked = Tuple[List[Finding], List[NodeRefusal], List[str]]


def check_plugin(options: Options, item: ParsedFile, plugin: PluginConf) -> Checked:
    kind = (plugin.type or "").lower()
    if kind == "flannel":
        return check_flannel(options, item, plugin)
    if kind == "bridge":
        return check_bridge(options, item, plugin, dict(plugin.raw))
    if kind == "calico":
        return check_calico(options, item, plugin)
    if kind == "multus":
        return check_multus(options, item, plugin)
    if kind == "cilium-cni":
        return check_file(options, item, plugin, rules.CILIUM_SOCKET, CILIUM_SOCKET)
    if (plugin.ipam_type or "") == "host-local":
        return check_host_local(options, item, plugin, dict(plugin.raw), "")
    return [], [], []


def network_name(item: ParsedFile) -> str:
    return (item.network.name if item.network is not None else None) or ""


def value(raw: Mapping[str, Any], name: str) -> Any:
    """A plugin key as Go's encoding/json reads it (case-insensitive)."""
    key = go_key(raw, name)
    return raw.get(key) if key is not None else None


# --------------------------------------------------------------------------------------------- flannel


def read_subnet_env(root: Optional[str], path: str) -> SubnetEnv:
    """loadFlannelSubnetEnv (flannel-io/cni-plugin:flannel.go), with Go's error texts."""
    import ipaddress  # lazy: only the checks that read addresses need it

    try:
        with open(on_host(root, path), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        return SubnetEnv(path, f"open {path}: {reason}")
    seen = {}
    for line in lines:
        key, sep, rest = line.partition("=")
        if not sep:
            continue
        problem = _subnet_env_value(key, rest)
        if problem:
            return SubnetEnv(path, problem)
        seen[key] = rest
    missing = _missing_keys(seen)
    if missing:
        return SubnetEnv(path, f"{path} is missing {missing}")
    subnet = seen.get("FLANNEL_SUBNET")
    network = str(ipaddress.ip_interface(subnet).network) if subnet else None
    return SubnetEnv(path, None, network)


def _subnet_env_value(key: str, text: str) -> Optional[str]:
    import ipaddress  # lazy: only the checks that read addresses need it

    if key in ("FLANNEL_NETWORK", "FLANNEL_SUBNET", "FLANNEL_IPV6_NETWORK", "FLANNEL_IPV6_SUBNET"):
        if "/" not in text:
            return f"invalid CIDR address: {text}"
        try:
            ipaddress.ip_interface(text)
        except ValueError:
            return f"invalid CIDR address: {text}"
    if key == "FLANNEL_MTU" and not (text.isdigit() and text.isascii() and int(text) < 2**32):
        return f'strconv.ParseUint: parsing "{text}": invalid syntax'
    return None


def _missing_keys(seen: Mapping[str, str]) -> str:
    """subnetEnv.missing(): the keys flannel insists on, in its order."""
    out: List[str] = []
    if "FLANNEL_NETWORK" not in seen and "FLANNEL_IPV6_NETWORK" not in seen:
        out += ["FLANNEL_NETWORK", "FLANNEL_IPV6_NETWORK"]
    if "FLANNEL_SUBNET" not in seen and "FLANNEL_IPV6_SUBNET" not in seen:
        out += ["FLANNEL_SUBNET", "FLANNEL_IPV6_SUBNET"]
    out += [k for k in ("FLANNEL_MTU", "FLANNEL_IPMASQ") if k not in seen]
    return ", ".join(out)


def check_flannel(options: Options, item: ParsedFile, plugin: PluginConf) -> Checked:
    path = value(plugin.raw, "subnetFile") or SUBNET_FILE
    env = read_subnet_env(options.host_root, str(path))
    checked = [str(path)]
    if env.error is not None:
        shown = on_host(options.host_root, env.path)
        message = f"{shown}: {env.error}; the flannel plugin fails every ADD on network {network_name(item)!r}"
        text = FLANNEL_LOAD.format(error=env.error)
        finding = rules.FLANNEL_SUBNET_ENV.at(item.path, plugin.pointer, message, plugin="flannel")
        why = f"CNI701: {env.error}; flannel up to v1.7.1-flannel1 says {FLANNEL_OLD_LOAD.format(error=env.error)!r}"
        return [finding], [NodeRefusal(plugin.index, "body", "CNI701", text, False, why)], checked
    delegate = value(plugin.raw, "delegate")
    delegate = delegate if isinstance(delegate, dict) else {}
    if str(value(delegate, "type") or "bridge") != "bridge" or not env.subnet:
        return [], [], checked
    # flannel's delegate: isGateway true, host-local over FLANNEL_SUBNET (flannel_linux.go doCmdAdd)
    gateway = _first_host(env.subnet)
    found, refused, what = _bridge_conflict(
        options, item, plugin, delegate, gateway, rules.FLANNEL_BRIDGE_MISMATCH, "failed to delegate add: "
    )
    return found, refused, checked + what


def _first_host(network: str) -> str:
    import ipaddress  # lazy: only the checks that read addresses need it

    net = ipaddress.ip_network(network, strict=False)
    return f"{net.network_address + 1}/{net.prefixlen}"


# --------------------------------------------------------------------------------------------- bridge


def read_bridge(name: str) -> BridgeAddress:
    """The interface's primary IPv4 address by ioctl (no command run); skipped without permission."""
    import fcntl  # imported here: most runs read no interface (and a cold start pays every import)
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("256s", name.encode()[:15])
        try:
            addr = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)
            mask = fcntl.ioctl(sock.fileno(), SIOCGIFNETMASK, request)
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.EADDRNOTAVAIL, errno.ENXIO):
                return BridgeAddress(name, None)
            return BridgeAddress(name, None, f"cannot read {name}'s address: {os.strerror(exc.errno or 0)}")
    ip = socket.inet_ntoa(addr[20:24])
    prefix = bin(int.from_bytes(mask[20:24], "big")).count("1")
    return BridgeAddress(name, f"{ip}/{prefix}")


def check_bridge(options: Options, item: ParsedFile, plugin: PluginConf, raw: Mapping[str, Any]) -> Checked:
    found, refused, checked = check_host_local(options, item, plugin, raw, "")
    gateway = _gateway(raw)
    if gateway is None or not (value(raw, "isGateway") is True or value(raw, "isDefaultGateway") is True):
        return found, refused, checked
    more = _bridge_conflict(options, item, plugin, raw, gateway, rules.BRIDGE_ADDRESS_CONFLICT, "")
    return found + more[0], refused + more[1], checked + more[2]


def _bridge_conflict(
    options: Options, item: ParsedFile, plugin: PluginConf, raw: Mapping[str, Any], gateway: str, rule: Any, head: str
) -> Checked:
    name = str(value(raw, "bridge") or "cni0")
    if not is_live(options.host_root):
        return [], [], [f"bridge {name} (not visible under a mounted host root)"]
    bridge = read_bridge(name)
    if bridge.skipped:
        return [], [], [f"bridge {name} ({bridge.skipped})"]
    if value(raw, "forceAddress") is True or bridge.address is None or bridge.address == gateway:
        return [], [], [f"bridge {name}"]
    text = f"{head}failed to set bridge addr: {go_quote(name)} already has an IP address different from {gateway}"
    message = f"{name} carries {bridge.address}, but {plugin.type} sets {gateway} on it; ADD fails with: {text}"
    finding = rule.at(item.path, plugin.pointer, message, plugin=plugin.type)
    exact = head == ""
    refusal = NodeRefusal(plugin.index, "ipam" if exact else "body", rule.code, text, exact, f"{rule.code}: {message}")
    return [finding], [refusal], [f"bridge {name}"]


def go_quote(text: str) -> str:
    return json.dumps(text)


def _gateway(raw: Mapping[str, Any]) -> Optional[str]:
    """The IPv4 gateway/prefix host-local hands bridge: the first range's gateway, else subnet+1."""
    for ranges in range_sets(raw):
        for r in ranges:
            subnet = _subnet(r)
            if subnet is None or subnet.version != 4:
                continue
            gw = value(r, "gateway")
            return f"{gw}/{subnet.prefixlen}" if gw else _first_host(str(subnet))
    return None


# --------------------------------------------------------------------------------------------- host-local


def range_sets(raw: Mapping[str, Any]) -> List[List[Mapping[str, Any]]]:
    """host-local's range sets (ipam.ranges, or the old top-level ipam.subnet)."""
    ipam = value(raw, "ipam")
    if not isinstance(ipam, dict) or str(value(ipam, "type") or "") != "host-local":
        return []
    ranges = value(ipam, "ranges")
    if isinstance(ranges, list):
        return [[r for r in rs if isinstance(r, dict)] for rs in ranges if isinstance(rs, list)]
    return [[ipam]] if value(ipam, "subnet") else []


def _subnet(r: Mapping[str, Any]) -> Optional[ipaddress._BaseNetwork]:
    import ipaddress  # lazy: only the checks that read addresses need it

    try:
        return ipaddress.ip_network(str(value(r, "subnet")), strict=False)
    except ValueError:
        return None


def _bounds(r: Mapping[str, Any]) -> Optional[Tuple[int, int, Optional[int]]]:
    """(start, end, gateway) as integers, host-local's defaults (range.go Canonicalize)."""
    import ipaddress  # lazy: only the checks that read addresses need it

    subnet = _subnet(r)
    if subnet is None:
        return None
    try:
        start = int(ipaddress.ip_address(value(r, "rangeStart") or subnet.network_address + 1))
        last = int(subnet.broadcast_address) - (1 if subnet.version == 4 else 0)
        end = int(ipaddress.ip_address(value(r, "rangeEnd") or last))
        gw = int(ipaddress.ip_address(value(r, "gateway") or subnet.network_address + 1))
    except ValueError:
        return None
    return start, end, gw


def check_host_local(
    options: Options, item: ParsedFile, plugin: PluginConf, raw: Mapping[str, Any], head: str
) -> Checked:
    sets = range_sets(raw)
    if not sets:
        return [], [], []
    ipam = value(raw, "ipam")
    name = network_name(item)
    data_dir = f"{str(value(ipam, 'dataDir') or NETWORKS_DIR).rstrip('/')}/{name}"
    leases = read_leases(options.host_root, data_dir)
    cached = read_cache(options.host_root)
    found: List[Finding] = []
    refused: List[NodeRefusal] = []
    for index, ranges in enumerate(sets):
        usage = range_usage(index, ranges, data_dir, leases, cached, name)
        if usage is None:
            continue
        f, r = judge_range(item, plugin, usage, head)
        found += f
        refused += r
    return found, refused, [data_dir]


def read_leases(root: Optional[str], data_dir: str) -> Mapping[str, str]:
    """{address: container id} from host-local's store (file content: id, then \\r\\n and ifname)."""
    import ipaddress  # lazy: only the checks that read addresses need it

    out = {}
    try:
        names = os.listdir(on_host(root, data_dir))
    except OSError:
        return {}
    for entry in names:
        try:
            ipaddress.ip_address(entry)
            with open(
                os.path.join(on_host(root, data_dir), entry), encoding="utf-8", errors="replace", newline=""
            ) as handle:
                out[entry] = handle.read().strip()
        except (ValueError, OSError):
            continue
    return out


def read_cache(root: Optional[str]) -> Optional[Tuple[str, ...]]:
    """libcni's cached result names; None when there is no cache dir (leaks then cannot be told)."""
    try:
        return tuple(os.listdir(on_host(root, RESULTS_DIR)))
    except OSError:
        return None


def range_usage(
    index: int,
    ranges: Sequence[Mapping[str, Any]],
    data_dir: str,
    leases: Mapping[str, str],
    cached: Optional[Tuple[str, ...]],
    network: str,
) -> Optional[RangeUsage]:
    import ipaddress  # lazy: only the checks that read addresses need it

    bounds = [_bounds(r) for r in ranges]
    if not bounds or any(b is None for b in bounds):
        return None
    spans = [b for b in bounds if b is not None]
    capacity = sum(end - start + 1 - (1 if gw is not None and start <= gw <= end else 0) for start, end, gw in spans)
    used_ips = [ip for ip in leases if any(s <= int(ipaddress.ip_address(ip)) <= e for s, e, _ in spans)]
    text = ",".join(f"{ipaddress.ip_address(s)}-{ipaddress.ip_address(e)}" for s, e, _ in spans)
    leaked: Tuple[str, ...] = ()
    if cached is not None:
        leaked = tuple(sorted(ip for ip in used_ips if not _has_cache(network, leases[ip], cached)))
    return RangeUsage(index, text, data_dir, capacity, len(used_ips), leaked)


def _has_cache(network: str, lease: str, cached: Sequence[str]) -> bool:
    container, _, ifname = lease.partition("\r\n")
    wanted = f"{network}-{container.strip()}-{ifname.strip()}" if ifname else f"{network}-{container.strip()}-"
    return any(name == wanted or (not ifname and name.startswith(wanted)) for name in cached)


def judge_range(
    item: ParsedFile, plugin: PluginConf, usage: RangeUsage, head: str
) -> Tuple[List[Finding], List[NodeRefusal]]:
    found: List[Finding] = []
    refused: List[NodeRefusal] = []
    share = usage.used / usage.capacity if usage.capacity else 1.0
    where = f"{usage.data_dir} holds {usage.used} of {usage.capacity} addresses of range {usage.index} ({usage.text})"
    if share >= WARN_SHARE:
        text = f"{head}failed to allocate for range {usage.index}: no IP addresses available in range set: {usage.text}"
        exhausted = usage.used >= usage.capacity
        outcome = f"ADD fails with: {text}" if exhausted else f"{share:.0%} used"
        found.append(
            rules.HOST_LOCAL_EXHAUSTED.at(
                item.path,
                plugin.pointer,
                f"{where}; {outcome}",
                plugin=plugin.type,
                severity=None if exhausted else Severity.WARNING,
            )
        )
        if exhausted:
            refused.append(NodeRefusal(plugin.index, "ipam", "CNI704", text, head == "", f"CNI704: {where}"))
    if usage.leaked:
        shown = ", ".join(usage.leaked[:5]) + (" ..." if len(usage.leaked) > 5 else "")
        message = (
            f"{len(usage.leaked)} lease(s) in {usage.data_dir} belong to containers libcni has no cached result "
            f"for (likely leaked; cnidoctor removes nothing): {shown}"
        )
        found.append(rules.HOST_LOCAL_LEAKED.at(item.path, plugin.pointer, message, plugin=plugin.type))
    return found, refused


# --------------------------------------------------------------------------------------------- calico, multus, cilium


def check_file(options: Options, item: ParsedFile, plugin: PluginConf, rule: Any, path: str) -> Checked:
    if os.path.exists(on_host(options.host_root, path)):
        return [], [], [path]
    message = f"{on_host(options.host_root, path)} does not exist; {plugin.type} fails ADD on this node"
    return [rule.at(item.path, plugin.pointer, message, plugin=plugin.type)], [], [path]


def check_calico(options: Options, item: ParsedFile, plugin: PluginConf) -> Checked:
    found: List[Finding] = []
    refused: List[NodeRefusal] = []
    checked: List[str] = []
    path = str(value(plugin.raw, "nodename_file") or CALICO_NODENAME)
    if value(plugin.raw, "nodename_file_optional") is not True and not value(plugin.raw, "nodename"):
        f, _, c = check_file(options, item, plugin, rules.CALICO_NODENAME, path)
        found, checked = f, c
        if f:
            text = (
                f"stat {path}: no such file or directory: check that the calico/node container is running "
                "and has mounted /var/lib/calico/"
            )
            refused.append(NodeRefusal(plugin.index, "body", "CNI706", text, True, f"CNI706: {path} is missing"))
    kubernetes = value(plugin.raw, "kubernetes")
    kubeconfig = value(kubernetes, "kubeconfig") if isinstance(kubernetes, dict) else None
    if kubeconfig:
        text = "error getting ClusterInformation: connection is unauthorized: Unauthorized"
        f, r, c = check_token(options, item, plugin, str(kubeconfig), text)
        found, refused, checked = found + f, refused + r, checked + c
    return found, refused, checked


def check_multus(options: Options, item: ParsedFile, plugin: PluginConf) -> Checked:
    found: List[Finding] = []
    checked: List[str] = []
    kubeconfig = value(plugin.raw, "kubeconfig")
    refused: List[NodeRefusal] = []
    if kubeconfig:
        found, refused, checked = check_token(options, item, plugin, str(kubeconfig), None)
    indicator = value(plugin.raw, "readinessindicatorfile")
    if indicator:
        f, _, c = check_file(options, item, plugin, rules.MULTUS_READINESS, str(indicator))
        found, checked = found + f, checked + c
    return found, refused, checked


# compiled on first use (re's cache): only a kubeconfig's token is searched for it
TOKEN = r"""["']?token["']?\s*:\s*["']?([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)"""


def token_expiry(text: str) -> Optional[int]:
    """The ``exp`` claim of the first bearer token in a kubeconfig (decoded locally, never kept)."""
    match = re.search(TOKEN, text)
    if match is None:
        return None
    payload = match.group(1).split(".")[1]
    import base64  # only a kubeconfig with a token needs it

    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:  # binascii.Error (bad base64) is a ValueError
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return int(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def check_token(
    options: Options, item: ParsedFile, plugin: PluginConf, kubeconfig: str, text: Optional[str]
) -> Checked:
    try:
        with open(on_host(options.host_root, kubeconfig), encoding="utf-8", errors="replace") as handle:
            exp = token_expiry(handle.read())
    except OSError:
        return [], [], []
    checked = [f"token in {kubeconfig}"]
    now = int(time.time())
    if exp is None or exp > now:
        return [], [], checked
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
    message = f"the service-account token in {on_host(options.host_root, kubeconfig)} expired at {stamp}; the API server answers Unauthorized"
    finding = rules.KUBECONFIG_TOKEN_EXPIRED.at(item.path, plugin.pointer, message, plugin=plugin.type)
    refused = (
        [NodeRefusal(plugin.index, "body", "CNI707", text, True, f"CNI707: token expired at {stamp}")] if text else []
    )
    return [finding], refused, checked


__all__ = ["NodeStateResult", "check", "read_bridge", "read_subnet_env", "reads_node", "token_expiry"]
