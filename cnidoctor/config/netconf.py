"""How libcni and the plugins read a network config object: Go's struct-field matching applied
to the netconf fields that the config checks, the plugin-option checks and the prediction share.

One place for these so the three agree (cni@v1.3.0 libcni/api.go pluginDescription,
pkg/types/types.go NetConf and IPAM).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ..gofmt import go_quote
from ..model import ParsedFile, PluginConf


def go_key(mapping: Mapping[str, Any], name: str) -> Optional[str]:
    """The key encoding/json would decode into struct field ``name``: the last key that matches
    case-insensitively (an exact match is one of them)."""
    found = None
    wanted = name.lower()
    for key in mapping:
        if isinstance(key, str) and key.lower() == wanted:
            found = key
    return found


def plugin_description(plugin: PluginConf) -> str:
    """libcni pluginDescription: type="X" plus name="N" when the plugin object has its own name."""
    name_key = go_key(plugin.raw, "name")
    name = plugin.raw.get(name_key) if name_key else None
    out = f"type={go_quote(plugin.type or '')}"
    if isinstance(name, str) and name:
        out += f" name={go_quote(name)}"
    return out


def capabilities_of(plugin: PluginConf) -> Mapping[str, Any]:
    """The plugin's capabilities map (parse fills ``PluginConf.capabilities``; the raw object is
    the fallback, matched like Go's struct field)."""
    if plugin.capabilities:
        return plugin.capabilities
    key = go_key(plugin.raw, "capabilities")
    value = plugin.raw.get(key) if key else None
    return value if isinstance(value, dict) else {}


def ipam_type_of(plugin: PluginConf) -> Optional[str]:
    """``ipam.type`` as libcni's IPAM struct reads it (parse fills ``PluginConf.ipam_type``)."""
    if plugin.ipam_type:
        return plugin.ipam_type
    key = go_key(plugin.raw, "ipam")
    ipam = plugin.raw.get(key) if key else None
    if not isinstance(ipam, dict):
        return None
    type_key = go_key(ipam, "type")
    value = ipam.get(type_key) if type_key else None
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
