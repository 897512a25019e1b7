"""How libcni and the plugins read a network config object: Go's struct-field matching applied
to the netconf fields that the config checks, the plugin-option checks and the prediction share.

One place for these so the three agree (cni@v1.3.0 libcni/api.go pluginDescription,
pkg/types/types.go NetConf and IPAM).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Type

from ..gofmt import go_quote
from ..gojson import Fields, field_key
from ..model import ParsedFile, PluginConf


class SharedLookups:
    """``with SharedLookups():`` each plugin object is grouped by field (gojson.Fields) once,
    and every lookup inside reads that one grouping: a file's checks read each of its plugin
    objects for about a dozen fields. Only for code that never changes the objects it reads
    (the groups would go stale); each object is held until the block ends, so its id cannot be
    reused for another one. Outside the block each lookup groups the object afresh; a block
    inside another shares the outer one's groupings."""

    __slots__ = ("outer",)

    def __enter__(self) -> None:
        global _SHARED
        self.outer = _SHARED is None
        if self.outer:
            _SHARED = {}

    def __exit__(
        self, kind: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        global _SHARED
        if self.outer:
            _SHARED = None


_SHARED: Optional[Dict[int, Tuple[Mapping[str, Any], Fields]]] = None


def plugin_fields(obj: Mapping[str, Any]) -> Fields:
    """``obj`` grouped by field as every plugin reads it after libcni re-marshals it, keys
    sorted (cni@v1.1.2 libcni/conf.go ConfListFromBytes, InjectConf); shared inside a
    ``SharedLookups`` block."""
    shared = _SHARED
    if shared is None:
        return Fields(obj, sort_keys=True)
    held = shared.get(id(obj))
    if held is None or held[0] is not obj:
        held = shared[id(obj)] = (obj, Fields(obj, sort_keys=True))
    return held[1]


def go_key(mapping: Mapping[str, Any], name: str, sort_keys: bool = True) -> Optional[str]:
    """The key whose value encoding/json leaves in struct field ``name`` (gojson.field_key).

    ``sort_keys`` (the default) reads a plugin object as libcni hands it to every reader after
    loading: re-marshalled from a map, keys sorted (cni@v1.1.2 libcni/conf.go ConfListFromBytes,
    InjectConf). Pass False for a ``.conf`` file's own top level, which ConfFromBytes decodes
    from the file's bytes (conf.go:44-52), in document order."""
    if sort_keys:
        return plugin_fields(mapping).key(name)
    return field_key(mapping, name, sort_keys=False)


def plugin_description(plugin: PluginConf) -> str:
    """libcni pluginDescription: type="X" plus name="N" when the plugin object has its own name."""
    name = plugin_fields(plugin.raw).value("name")
    out = f"type={go_quote(plugin.type or '')}"
    if isinstance(name, str) and name:
        out += f" name={go_quote(name)}"
    return out


def capabilities_of(plugin: PluginConf) -> Mapping[str, Any]:
    """The plugin's capabilities map (parse fills ``PluginConf.capabilities``; the raw object is
    the fallback, matched like Go's struct field)."""
    if plugin.capabilities:
        return plugin.capabilities
    value = plugin_fields(plugin.raw).value("capabilities")
    return value if isinstance(value, dict) else {}


def ipam_type_of(plugin: PluginConf) -> Optional[str]:
    """``ipam.type`` as libcni's IPAM struct reads it (parse fills ``PluginConf.ipam_type``)."""
    if plugin.ipam_type:
        return plugin.ipam_type
    ipam = plugin_fields(plugin.raw).value("ipam")
    if not isinstance(ipam, dict):
        return None
    value = plugin_fields(ipam).value("type")
    return value if isinstance(value, str) and value else None


def _is_list(parsed: ParsedFile) -> bool:
    return parsed.network is not None and not parsed.network.from_single_conf


def _doc(parsed: ParsedFile) -> Mapping[str, Any]:
    return parsed.document if isinstance(parsed.document, dict) else {}


def declared_version(parsed: ParsedFile) -> Optional[str]:
    """The cniVersion as declared (None = absent). Lists: libcni's exact-key map lookup."""
    assert parsed.network is not None
    if _is_list(parsed):
        value = _doc(parsed).get("cniVersion")
        return value if isinstance(value, str) else None
    return parsed.network.cni_version


def did_you_mean(key: str, candidates: Sequence[str]) -> Optional[str]:
    """The closest known key (case-insensitive, difflib ratio >= 0.75), if any."""
    if not candidates:
        return None
    import difflib  # lazy: only for files with an unknown key

    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[match[0]] if match else None
