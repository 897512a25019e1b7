"""CNI204/CNI205: a reference plugin's own options, checked the way its Go code decodes them.

Called from ``validate.validate`` for files libcni loads. For each plugin object whose ``type``
is a reference plugin (``plugin_options.PLUGINS``), the object is walked against the plugin's
NetConf struct exactly as encoding/json would decode it:

* a key that matches no field (Go matches case-insensitively, an exact spelling first) is
  ignored by Go without a word: CNI204 plugin-option-unknown (warning), with a did-you-mean;
* a value Go cannot decode into the field's type, or an address the plugin's types refuse
  (net.IP's UnmarshalText, cni types.IPNet's ParseCIDR, the static plugin's ParseCIDR of
  ``address``) fails ADD for every pod: CNI205 plugin-option-invalid (error), with the text
  the runtime prints.

The ``ipam`` object is checked by ``ipam.type`` (host-local, static, dhcp) only under a
reference main plugin, which hands its stdin to the IPAM plugin unchanged. Third-party main
plugins may rewrite it first: Calico turns host-local ``"subnet": "usePodCidr"`` into the
node's pod CIDR before delegating (calico cni-plugin k8s.go), so that value works there.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ..frozen import dataclass
from ..gojson import GoField, GoType
from ..gojson import fold_key as go_fold
from ..gojson import pointer as json_pointer
from ..model import Finding, PluginConf
from ..rules.schema import PLUGIN_OPTION_INVALID, PLUGIN_OPTION_UNKNOWN
from .netconf import did_you_mean, go_key, plugin_description
from .plugin_options import INT_RANGES, IPAM_PLUGINS, PLUGINS, PluginSpec
from .schemas import any_version_list_keys

PathPart = Union[str, int]
Path = Tuple[PathPart, ...]


@dataclass(frozen=True)
class Problem:
    """One thing the plugin's decoder does with a value we can name."""

    path: Path  # inside the plugin object
    kind: str  # "unknown" (ignored key), "decode" (json type error), "parse" (address refused)
    text: str  # Go's error text (decode/parse); "" for unknown
    exact: bool = True  # False when a custom UnmarshalJSON may word the error differently
    candidates: Tuple[str, ...] = ()  # unknown: the struct's field names


def reference_plugin_findings(path: str, plugins: Sequence[PluginConf], spec_keys: Sequence[str]) -> List[Finding]:
    """CNI204/CNI205 findings for the reference plugins of one loadable file."""
    skipped = _skipped_keys(tuple(spec_keys))
    out: List[Finding] = []
    for plugin in plugins:
        spec = PLUGINS.get(plugin.type or "")
        if spec is None or not isinstance(plugin.raw, dict):
            continue
        out.extend(_findings(path, plugin, spec, None, walk_object(plugin.raw, spec.root, (), (), skipped)))
        ipam_spec = IPAM_PLUGINS.get(plugin.ipam_type or "")
        if ipam_spec is None or spec.ipam_relay is None:
            continue
        ipam_key = _key_for(plugin.raw, "ipam")
        if ipam_key is None:
            continue
        ipam = plugin.raw[ipam_key]
        if isinstance(ipam, dict):
            problems = walk_object(ipam, ipam_spec.root, (ipam_key,), ("ipam",), _IPAM_SKIPPED)
            if ipam_spec.type == "host-local" and not any(p.kind != "unknown" for p in problems):
                problems.extend(host_local_range_problems(ipam, ipam_key))
            out.extend(_findings(path, plugin, spec, ipam_spec, problems))
    return out


# --- host-local's range checks after decoding ------------------------------------------------
# plugins@v1.1.1 plugins/ipam/host-local/backend/allocator/config.go LoadIPAMConfig puts the
# top-level shorthand (subnet, rangeStart, rangeEnd) in front of `ranges` as set 0, then
# Canonicalize()s each set: `invalid range set N: <Range.Canonicalize error>` (range.go). The
# texts below were checked by running the real v1.1.1 host-local on such configs.


def host_local_range_problems(ipam: Mapping[str, Any], ipam_key: str) -> Iterator[Problem]:
    """At most one problem: host-local stops at the first bad range of the first bad set."""
    for index, members in enumerate(_range_sets(ipam, ipam_key)):
        for where, item in members:
            problem = _range_problem(item, where)
            if problem is not None:
                yield Problem(problem[0], "parse", f"invalid range set {index}: {problem[1]}")
                return


def _range_sets(ipam: Mapping[str, Any], ipam_key: str) -> List[List[Tuple[Path, Mapping[str, Any]]]]:
    """The range sets in host-local's order: the top-level shorthand first, then `ranges`."""
    sets: List[List[Tuple[Path, Mapping[str, Any]]]] = []
    subnet_key = _key_for(ipam, "subnet")
    if subnet_key is not None and isinstance(ipam.get(subnet_key), str):
        sets.append([((ipam_key,), ipam)])
    ranges_key = _key_for(ipam, "ranges")
    ranges = ipam.get(ranges_key) if ranges_key is not None else None
    for i, range_set in enumerate(ranges if isinstance(ranges, list) else []):
        if isinstance(range_set, list):
            members: List[Tuple[Path, Mapping[str, Any]]] = [
                ((ipam_key, str(ranges_key), i, j), r) for j, r in enumerate(range_set) if isinstance(r, dict)
            ]
            sets.append(members)
    return sets


def _range_problem(item: Mapping[str, Any], where: Path) -> Optional[Tuple[Path, str]]:
    """Range.Canonicalize's first complaint about one decoded range, if any."""
    import ipaddress  # lazy: only files with host-local ranges

    subnet_key = _key_for(item, "subnet")
    subnet = item.get(subnet_key) if subnet_key is not None else None
    if not isinstance(subnet, str) or not is_go_cidr(subnet):
        return None  # absent or undecodable: reported by the decode walk (or host-local's own message)
    network, problem = _subnet_problem(subnet)
    if problem is not None:
        return where + (str(subnet_key),), problem
    for field, label in (("rangeStart", "RangeStart"), ("rangeEnd", "RangeEnd")):
        key = _key_for(item, field)
        value = item.get(key) if key is not None else None
        if isinstance(value, str) and is_go_ip(value) and ipaddress.ip_address(value) not in network:
            return where + (str(key),), f"{label} {value} not in network {network}"
    return None


@functools.lru_cache(maxsize=1024)
def _subnet_problem(subnet: str) -> Tuple[Any, Optional[str]]:
    """(the network, Range.Canonicalize's complaint about the subnet itself or None) for a
    subnet net.ParseCIDR accepts; a pure function of the text, and a repository's configs
    repeat their subnets, so the address parsing (the costly part) is done once per text."""
    import ipaddress

    interface = ipaddress.ip_interface(subnet)
    network = interface.network
    if network.prefixlen > network.max_prefixlen - 2:
        return network, f"Network {subnet} too small to allocate from"
    if interface.ip != network.network_address:
        return network, (
            f"Network has host bits set. For a subnet mask of length "
            f"{network.prefixlen} the network address is {network.network_address}"
        )
    return network, None


@functools.cache
def _skipped_keys(spec_keys: Tuple[str, ...]) -> FrozenSet[str]:
    """Folded keys never reported: the spec's plugin keys, and list-level key names inside a
    plugin object (a .conf's `disableCheck`), which belong to the list-key rules (CNI202/CNI306)."""
    return frozenset(go_fold(k) for k in (*spec_keys, *any_version_list_keys()))


_IPAM_SKIPPED = frozenset({go_fold("type")})
_NOTHING: FrozenSet[str] = frozenset()
_FIELD_MAPS: Dict[int, Tuple[Dict[str, GoField], Dict[str, GoField]]] = {}


def field_maps(struct: GoType) -> Tuple[Dict[str, GoField], Dict[str, GoField]]:
    """({json name: field}, {folded name: field}) of a struct, built once per table entry."""
    maps = _FIELD_MAPS.get(id(struct))
    if maps is None:
        maps = ({fld.name: fld for fld in struct.fields}, {go_fold(fld.name): fld for fld in struct.fields})
        _FIELD_MAPS[id(struct)] = maps  # the table's GoTypes live for the whole process
    return maps


def _key_for(obj: Mapping[str, Any], field: str) -> Optional[str]:
    """The key whose value the plugin's struct field ends up with: the plugin reads its stdin
    as libcni re-marshalled it, keys sorted (netconf.go_key)."""
    return go_key(obj, field)


# --- walking a value as encoding/json decodes it -------------------------------------------


def walk_object(
    obj: Mapping[str, Any], struct: GoType, path: Path, fields: Tuple[str, ...], skipped: FrozenSet[str]
) -> List[Problem]:
    """Problems in a JSON object decoded into ``struct`` (keys in ``skipped`` are not ours)."""
    out: List[Problem] = []
    _walk_object(obj, struct, path, fields, skipped, out)
    return out


# The walk appends to one list instead of chaining generators: it visits every value of every
# reference plugin object of every file, and a generator per value (``yield from`` at each
# level) cost more than the checks themselves.
def _walk_object(
    obj: Mapping[str, Any],
    struct: GoType,
    path: Path,
    fields: Tuple[str, ...],
    skipped: FrozenSet[str],
    out: List[Problem],
) -> None:
    exact, folded = field_maps(struct)
    for key, value in obj.items():
        fold = go_fold(key)
        if fold in skipped or (not path and fold.startswith("CNI.DEV/")) or key.startswith("_"):
            continue  # spec/list keys are other rules' business; "_comment"-style keys are deliberate notes
        field = exact.get(key) or folded.get(fold)
        if field is None:
            out.append(Problem(path + (key,), "unknown", "", candidates=tuple(exact)))
            continue
        _walk(value, field.type, path + (key,), struct.struct_name, fields + (field.name,), out)


def walk(value: Any, go: GoType, path: Path, struct: str, fields: Tuple[str, ...]) -> List[Problem]:
    """Problems decoding ``value`` into a field of type ``go`` of struct ``struct``."""
    out: List[Problem] = []
    _walk(value, go, path, struct, fields, out)
    return out


def _walk(value: Any, go: GoType, path: Path, struct: str, fields: Tuple[str, ...], out: List[Problem]) -> None:
    kind = go.kind
    if kind == "any":
        return
    if value is None:  # JSON null leaves a Go value untouched, except types.IPNet (ParseCIDR(""))
        if kind == "cidr":
            out.append(Problem(path, "parse", "invalid CIDR address: "))
        return
    if kind == "struct":
        if not isinstance(value, dict):
            out.append(_decode(value, go, path, struct, fields))
        elif go.struct_name != "Route":
            _walk_object(value, go, path, fields, _NOTHING, out)
        else:
            out.extend(_inexact(p) for p in walk_object(value, go, path, fields, _NOTHING))
    elif kind in ("slice", "map"):
        items = (
            enumerate(value)
            if isinstance(value, list) and kind == "slice"
            else (value.items() if isinstance(value, dict) and kind == "map" else None)
        )
        if items is None:
            out.append(_decode(value, go, path, struct, fields))
            return
        assert go.elem is not None
        for index, item in items:
            _walk(item, go.elem, path + (index,), struct, fields, out)
    else:
        problem = scalar_problem(value, go, path, struct, fields)
        if problem is not None:
            out.append(problem)


def _inexact(problem: Problem) -> Problem:
    """cni types.Route has its own UnmarshalJSON: type errors inside may be worded differently."""
    if problem.kind != "decode":
        return problem
    return Problem(problem.path, problem.kind, problem.text, False, problem.candidates)


def scalar_problem(value: Any, go: GoType, path: Path, struct: str, fields: Tuple[str, ...]) -> Optional[Problem]:
    kind = go.kind
    if kind in ("string", "ip", "cidr", "static-cidr"):
        if not isinstance(value, str):
            return _decode(value, go, path, struct, fields)
        if kind == "ip" and value and not is_go_ip(value):
            return Problem(path, "parse", f"invalid IP address: {value}")
        if kind == "cidr" and not is_go_cidr(value):
            return Problem(path, "parse", f"invalid CIDR address: {value}")
        if kind == "static-cidr" and not is_go_cidr(value):
            # plugins@v1.1.1 plugins/ipam/static/main.go LoadIPAMConfig, after decoding
            return Problem(path, "parse", f"the 'address' field is expected to be in CIDR notation, got: '{value}'")
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else _decode(value, go, path, struct, fields)
    if kind in ("int", "uint"):
        if isinstance(value, int) and not isinstance(value, bool):
            low, high = INT_RANGES[go.name]
            if low <= value <= high:
                return None
        return _decode(value, go, path, struct, fields)
    if kind == "float":
        return (
            None
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else _decode(value, go, path, struct, fields)
        )
    return None


def _decode(value: Any, go: GoType, path: Path, struct: str, fields: Tuple[str, ...]) -> Problem:
    """Go's UnmarshalTypeError text (encoding/json decode.go; field path joined with ".")."""
    return Problem(
        path,
        "decode",
        f"json: cannot unmarshal {go_value(value, go)} into Go struct field "
        f"{struct}.{'.'.join(fields)} of type {go.name}",
    )


def go_value(value: Any, go: GoType) -> str:
    """The JSON kind as UnmarshalTypeError.Value: numbers that do not fit an integer add the literal."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value!r}" if go.kind in ("int", "uint") else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# --- addresses as Go's net package parses them -----------------------------------------------

_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z"
)
_PREFIX = re.compile(r"[0-9]+\Z")


def is_go_ip(text: str) -> bool:
    """net.ParseIP: dotted IPv4 without leading zeros (Go >= 1.17), or IPv6 without a zone."""
    if _IPV4.match(text):
        return True
    if ":" not in text or "%" in text:
        return False
    import ipaddress  # lazy: only for IPv6 literals

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def is_go_cidr(text: str) -> bool:
    """net.ParseCIDR: an address, "/", a decimal prefix length within the family's bits."""
    address, slash, prefix = text.partition("/")
    if not slash or not _PREFIX.match(prefix) or not is_go_ip(address):
        return False
    return int(prefix) <= (32 if _IPV4.match(address) else 128)


# --- problems to findings ----------------------------------------------------------------------


def _findings(
    path: str, plugin: PluginConf, spec: PluginSpec, ipam: Optional[PluginSpec], problems: Iterable[Problem]
) -> Iterator[Finding]:
    for problem in problems:
        pointer = plugin.pointer + json_pointer(problem.path)
        if problem.kind == "unknown":
            yield unknown_finding(path, pointer, plugin, spec, ipam, problem)
        else:
            yield invalid_finding(path, pointer, plugin, spec, ipam, problem)


def place(problem: Problem, plugin: PluginConf, spec: PluginSpec, ipam: Optional[PluginSpec]) -> str:
    inner = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in problem.path).lstrip(".")
    where = f"plugins[{plugin.index}]" if plugin.pointer else "the plugin object"
    owner = f'type "{spec.type}"' + (f', IPAM "{ipam.type}"' if ipam else "")
    return f"`{inner}` of {where} ({owner})"


def unknown_finding(
    path: str, pointer: str, plugin: PluginConf, spec: PluginSpec, ipam: Optional[PluginSpec], problem: Problem
) -> Finding:
    key = str(problem.path[-1])
    reader = ipam or spec
    nested = len(problem.path) > (2 if ipam else 1)
    what = "a field" if nested else ("an option of the " + reader.type + (" IPAM plugin" if ipam else " plugin"))
    message = (
        f"{place(problem, plugin, spec, ipam)} is not {what}; Go's encoding/json ignores "
        f"unknown keys, so this setting has no effect (struct: {reader.source})"
    )
    suggestion = did_you_mean(key, problem.candidates)
    fix: Optional[str] = None
    if suggestion is not None:
        message += f". Did you mean `{suggestion}`?"
        fix = f"Rename `{key}` to `{suggestion}`, or delete it."
    elif not nested and not ipam:
        others = sorted(t for t, s in PLUGINS.items() if t != spec.type and _has_field(s.root, key))
        if others:
            message += f". `{key}` is an option of {', '.join(others)}, not of {spec.type}"
    return PLUGIN_OPTION_UNKNOWN.at(path, pointer, message, plugin=spec.type, fix=fix)


def _has_field(struct: GoType, key: str) -> bool:
    folded = go_fold(key)
    return any(go_fold(fld.name) == folded for fld in struct.fields)


def invalid_finding(
    path: str, pointer: str, plugin: PluginConf, spec: PluginSpec, ipam: Optional[PluginSpec], problem: Problem
) -> Finding:
    reader = ipam or spec
    role = "IPAM plugin" if ipam else "plugin"
    message = (
        f"{place(problem, plugin, spec, ipam)}: the {reader.type} {role} cannot decode this value "
        f"({problem.text}), so ADD fails for every pod (struct: {reader.source})"
    )
    predicts = None
    if problem.exact:
        relayed = (spec.ipam_relay or "") + ipam.wrap if ipam else spec.wrap
        predicts = f"{libcni_prefix(plugin)}{relayed}{problem.text}"
    return PLUGIN_OPTION_INVALID.at(path, pointer, message, plugin=spec.type, predicts=predicts)


def libcni_prefix(plugin: PluginConf) -> str:
    """`plugin type="X" name="N" failed (add): ` (libcni >= v1.0.0; cni@v1.3.0 libcni/api.go:521, 615-626)."""
    return f"plugin {plugin_description(plugin)} failed (add): "


__all__ = ["is_go_cidr", "is_go_ip", "reference_plugin_findings", "walk"]
