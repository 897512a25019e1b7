"""The options of the reference plugins (containernetworking/plugins), as their Go structs type them.

One reviewable table: for every reference plugin, the struct its ADD decodes stdin into, with
the JSON name and Go type of each field and the source it was read from. Checked against
plugins@v1.1.1 (the Debian package installed at /usr/lib/cni) and every release up to
plugins@v1.9.1; a field added later carries ``since`` (the first release whose struct has it).

What is *not* here on purpose: the keys of the embedded ``types.NetConf`` (cniVersion, name,
type, capabilities, ipam, dns, prevResult, args, runtimeConfig, cni.dev/*) and the spec-level
``ipMasq``. Those are valid in every plugin object; libcni and CNI109/CNI201/CNI203/CNI307 own
their types. Only these reference plugin types are described: other vendors reuse option names
with other types (aws-cni's string ``mtu``), so nothing here applies to them.

Go type names (``gojson.GoType.name``) are spelled as Go prints them in
``json: cannot unmarshal X into Go struct field S.f of type T`` (checked against the real
/usr/lib/cni binaries: e.g. ``net.IP``, ``main.Address``, ``uint64``, ``map[string]interface {}``).
"""

from __future__ import annotations

from typing import Mapping, Optional, Tuple

from ..frozen import dataclass
from ..gojson import GoField, GoType

INT_RANGES: Mapping[str, Tuple[int, int]] = {
    "int": (-(2**63), 2**63 - 1),  # Go int on the 64-bit builds the distributions ship
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}


@dataclass(frozen=True)
class PluginSpec:
    """A reference plugin: what it decodes and how it words a decode failure."""

    type: str
    root: GoType  # the plugin object (main/meta) or the `ipam` object (IPAM plugins)
    source: str  # where the struct was read
    wrap: str  # text the plugin puts before Go's json error on ADD (verified on the real binaries)
    since: str = ""  # first plugins release shipping the plugin ("" = v1.1.1 or earlier)
    # Main plugins that call an IPAM plugin: what they put before the IPAM plugin's error
    # (None: the plugin never calls IPAM, so its `ipam` object is not ours to check).
    ipam_relay: Optional[str] = None


def _t(kind: str, name: str) -> GoType:
    return GoType(kind, name)


STRING = _t("string", "string")
BOOL = _t("bool", "bool")
INT = _t("int", "int")
UINT32 = _t("uint", "uint32")
UINT64 = _t("uint", "uint64")
IP = _t("ip", "net.IP")
CIDR = _t("cidr", "string")  # a non-string fails inside types.IPNet.UnmarshalJSON decoding a string
STRINGS = GoType("slice", "[]string", elem=STRING)


def struct(struct_name: str, go_name: str, *fields: GoField) -> GoType:
    return GoType("struct", go_name, fields=tuple(fields), struct_name=struct_name)


def f(name: str, type_: GoType, since: str = "") -> GoField:
    """A field; ``since``: the first plugins release whose struct has it ("" = v1.1.1 or earlier)."""
    return GoField(name, type_, since)


# --- main plugins ---------------------------------------------------------------------------

VLAN_TRUNK = struct("VlanTrunk", "*main.VlanTrunk", f("minID", INT), f("maxID", INT), f("id", INT))

BRIDGE = struct(
    "NetConf",
    "main.NetConf",
    f("bridge", STRING),
    f("isGateway", BOOL),
    f("isDefaultGateway", BOOL),
    f("forceAddress", BOOL),
    f("ipMasqBackend", STRING, "v1.6.0"),
    f("mtu", INT),
    f("hairpinMode", BOOL),
    f("promiscMode", BOOL),
    f("vlan", INT),
    f("vlanTrunk", GoType("slice", "[]*main.VlanTrunk", elem=VLAN_TRUNK), "v1.3.0"),
    f("preserveDefaultVlan", BOOL, "v1.3.0"),
    f("macspoofchk", BOOL),
    f("enabledad", BOOL),
    f("disableContainerInterface", BOOL, "v1.5.0"),
    f("portIsolation", BOOL, "v1.7.0"),
)
PTP = struct("NetConf", "main.NetConf", f("ipMasqBackend", STRING, "v1.6.0"), f("mtu", INT))
MACVLAN = struct(
    "NetConf",
    "main.NetConf",
    f("master", STRING),
    f("mode", STRING),
    f("mtu", INT),
    f("mac", STRING),
    f("linkInContainer", BOOL, "v1.3.0"),
    f("bcqueuelen", UINT32, "v1.6.0"),
)
IPVLAN = struct(
    "NetConf",
    "main.NetConf",
    f("master", STRING),
    f("mode", STRING),
    f("mtu", INT),
    f("linkInContainer", BOOL, "v1.3.0"),
)
VLAN = struct(
    "NetConf",
    "main.NetConf",
    f("master", STRING),
    f("vlanId", INT),
    f("mtu", INT),
    f("linkInContainer", BOOL, "v1.3.0"),
)
HOST_DEVICE = struct(
    "NetConf",
    "main.NetConf",
    f("device", STRING),
    f("hwaddr", STRING),
    f("DPDKMode", BOOL),
    f("kernelpath", STRING),
    f("pciBusID", STRING),
)
TAP = struct(
    "NetConf",
    "main.NetConf",
    f("multiQueue", BOOL),
    f("mtu", INT),
    f("mac", STRING),
    f("owner", UINT32),
    f("group", UINT32),
    f("selinuxContext", STRING),
    f("bridge", STRING, "v1.4.0"),
)
TYPES_NETCONF_ONLY = struct("NetConf", "types.NetConf")  # loopback, dummy: no options of their own

# --- meta plugins ---------------------------------------------------------------------------

PORTMAP = struct(
    "PortMapConf",
    "main.PortMapConf",
    f("backend", STRING, "v1.6.0"),
    f("snat", BOOL),
    f("conditionsV4", STRINGS),
    f("conditionsV6", STRINGS),
    f("masqAll", BOOL, "v1.2.0"),
    f("markMasqBit", INT),
    f("externalSetMarkChain", STRING),
)
BANDWIDTH = struct(  # *BandwidthEntry is embedded: its fields are the plugin's own
    "PluginConf",
    "main.PluginConf",
    f("ingressRate", UINT64),
    f("ingressBurst", UINT64),
    f("egressRate", UINT64),
    f("egressBurst", UINT64),
    f("unshapedSubnets", STRINGS, "v1.5.0"),
    f("shapedSubnets", STRINGS, "v1.5.0"),
)
FIREWALL = struct(
    "FirewallNetConf",
    "main.FirewallNetConf",
    f("backend", STRING),
    f("iptablesAdminChainName", STRING),
    f("firewalldZone", STRING),
    f("ingressPolicy", STRING),  # `type IngressPolicy = string` (an alias)
)
TUNING = struct(
    "TuningConf",
    "main.TuningConf",
    f("dataDir", STRING),
    f("sysctl", GoType("map", "map[string]string", elem=STRING)),
    f("mac", STRING),
    f("promisc", BOOL),
    f("mtu", INT),
    f("txQLen", INT, "v1.4.0"),
    f("allmulti", BOOL),
)
SBR = struct("PluginConf", "main.PluginConf", f("table", INT, "v1.6.0"))
VRF = struct("VRFNetConf", "main.VRFNetConf", f("vrfname", STRING), f("table", UINT32))

# --- IPAM plugins (the `ipam` object; Go's error paths start at "ipam.") -------------------

ROUTE = struct("Route", "types.Route", f("dst", CIDR), f("gw", IP))  # cni types.Route UnmarshalJSON
ROUTES = GoType("slice", "[]*types.Route", elem=ROUTE)
RANGE_FIELDS = (f("rangeStart", IP), f("rangeEnd", IP), f("subnet", CIDR), f("gateway", IP))
RANGE = struct("Range", "allocator.Range", *RANGE_FIELDS)
HOST_LOCAL = struct(  # IPAMConfig embeds *Range: its four fields are promoted
    "IPAMConfig",
    "*allocator.IPAMConfig",
    *RANGE_FIELDS,
    f("Name", STRING),
    f("routes", ROUTES),
    f("dataDir", STRING),
    f("resolvConf", STRING),
    f("ranges", GoType("slice", "[]allocator.RangeSet", elem=GoType("slice", "allocator.RangeSet", elem=RANGE))),
)
DNS = struct(
    "DNS", "types.DNS", f("nameservers", STRINGS), f("domain", STRING), f("search", STRINGS), f("options", STRINGS)
)
ADDRESS = struct("Address", "main.Address", f("address", _t("static-cidr", "string")), f("gateway", IP))
STATIC = struct(
    "IPAMConfig",
    "*main.IPAMConfig",
    f("Name", STRING),
    f("routes", ROUTES),
    f("addresses", GoType("slice", "[]main.Address", elem=ADDRESS)),
    f("dns", DNS),
)
DHCP_OPTION = _t("string", "main.DHCPOption")
DHCP = struct(
    "IPAMConfig",
    "*main.IPAMConfig",
    f("daemonSocketPath", STRING),
    f(
        "provide",
        GoType(
            "slice",
            "[]main.ProvideOption",
            elem=struct(
                "ProvideOption",
                "main.ProvideOption",
                f("option", DHCP_OPTION),
                f("value", STRING),
                f("fromArg", STRING),
            ),
        ),
    ),
    f(
        "request",
        GoType(
            "slice",
            "[]main.RequestOption",
            elem=struct("RequestOption", "main.RequestOption", f("skipDefault", BOOL), f("option", DHCP_OPTION)),
        ),
    ),
    f("priority", INT, "v1.6.0"),
)

_LOAD = "failed to load netconf: "
_PARSE_CONFIG = "failed to parse network config: "
_PARSE_CONFIGURATION = "failed to parse network configuration: "

PLUGINS: Mapping[str, PluginSpec] = {
    spec.type: spec
    for spec in (
        PluginSpec(
            "bridge", BRIDGE, "plugins@v1.1.1..v1.9.1 plugins/main/bridge/bridge.go NetConf", _LOAD, ipam_relay=""
        ),
        PluginSpec("ptp", PTP, "plugins@v1.1.1..v1.9.1 plugins/main/ptp/ptp.go NetConf", _LOAD, ipam_relay=""),
        PluginSpec(
            "macvlan", MACVLAN, "plugins@v1.1.1..v1.9.1 plugins/main/macvlan/macvlan.go NetConf", _LOAD, ipam_relay=""
        ),
        PluginSpec(
            "ipvlan", IPVLAN, "plugins@v1.1.1..v1.9.1 plugins/main/ipvlan/ipvlan.go NetConf", _LOAD, ipam_relay=""
        ),
        PluginSpec(
            "vlan",
            VLAN,
            "plugins@v1.1.1..v1.9.1 plugins/main/vlan/vlan.go NetConf",
            _LOAD,
            ipam_relay="failed to execute IPAM delegate: ",
        ),
        PluginSpec(
            "host-device",
            HOST_DEVICE,
            "plugins@v1.1.1..v1.9.1 plugins/main/host-device/host-device.go NetConf",
            _LOAD,
            ipam_relay="",
        ),
        PluginSpec(
            "tap", TAP, "plugins@v1.3.0..v1.9.1 plugins/main/tap/tap.go NetConf", _LOAD, since="v1.3.0", ipam_relay=""
        ),
        PluginSpec(
            "dummy",
            TYPES_NETCONF_ONLY,
            "plugins@v1.2.0..v1.9.1 plugins/main/dummy/dummy.go (types.NetConf)",
            _PARSE_CONFIG,
            since="v1.2.0",
            ipam_relay="",
        ),
        PluginSpec(
            "loopback",
            TYPES_NETCONF_ONLY,
            "plugins@v1.1.1..v1.9.1 plugins/main/loopback/loopback.go (types.NetConf)",
            _PARSE_CONFIG,
        ),
        PluginSpec(
            "portmap",
            PORTMAP,
            "plugins@v1.1.1..v1.9.1 plugins/meta/portmap/main.go PortMapConf",
            "failed to parse config: " + _PARSE_CONFIGURATION,
        ),
        PluginSpec(
            "bandwidth",
            BANDWIDTH,
            "plugins@v1.1.1..v1.9.1 plugins/meta/bandwidth/main.go PluginConf, BandwidthEntry",
            _PARSE_CONFIGURATION,
        ),
        PluginSpec(
            "firewall", FIREWALL, "plugins@v1.1.1..v1.9.1 plugins/meta/firewall/firewall.go FirewallNetConf", _LOAD
        ),
        PluginSpec("tuning", TUNING, "plugins@v1.1.1..v1.9.1 plugins/meta/tuning/tuning.go TuningConf", _LOAD),
        PluginSpec("sbr", SBR, "plugins@v1.1.1..v1.9.1 plugins/meta/sbr/main.go PluginConf", _PARSE_CONFIGURATION),
        PluginSpec("vrf", VRF, "plugins@v1.1.1..v1.9.1 plugins/meta/vrf/main.go VRFNetConf", _LOAD),
    )
}

IPAM_PLUGINS: Mapping[str, PluginSpec] = {
    spec.type: spec
    for spec in (
        # LoadIPAMConfig returns Go's json error unwrapped on ADD (host-local main.go cmdAdd).
        PluginSpec(
            "host-local",
            HOST_LOCAL,
            "plugins@v1.1.1..v1.9.1 plugins/ipam/host-local/backend/allocator/config.go IPAMConfig, range.go Range",
            "",
        ),
        PluginSpec("static", STATIC, "plugins@v1.1.1..v1.9.1 plugins/ipam/static/main.go IPAMConfig, Address", ""),
        # The dhcp client decodes the whole config to find the daemon socket (main.go getSocketPath).
        PluginSpec(
            "dhcp",
            DHCP,
            "plugins@v1.1.1..v1.9.1 plugins/ipam/dhcp/main.go IPAMConfig, ProvideOption, RequestOption",
            "error obtaining socketPath: error parsing socket path conf: ",
        ),
    )
}

# Keys of the ipam object every IPAM plugin accepts (cni types.IPAM{Type}; routes are spec-level
# and typed per plugin above).
IPAM_SPEC_KEYS = ("type",)

__all__ = ["INT_RANGES", "IPAM_PLUGINS", "IPAM_SPEC_KEYS", "PLUGINS", "PluginSpec"]
