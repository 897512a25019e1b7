"""Stage 2: bytes -> ParsedFile, as Go's encoding/json and libcni load them.

* ``.conflist``: libcni ``ConfListFromBytes`` (cni@v1.1.2 libcni/conf.go:60-130; cni@v1.3.0
  ``NetworkConfFromBytes`` :94-245): unmarshal into ``map[string]interface{}``, read the list
  keys with exact case, then json.Marshal every plugin (sorted keys) and decode it into libcni's
  ``NetConf`` struct (case-insensitive fields) with ``ConfFromBytes``.
* ``.conf`` / ``.json``: ``ConfFromBytes`` (conf.go:44-52) then ``ConfListFromConf``, which
  builds the list from the object's own name/cniVersion (cni@v1.1.2 libcni/conf.go ConfListFromConf).

A file libcni rejects gets exactly one error finding (no cascade) and ``network=None``;
``load_error`` is libcni's exact text. An unrendered template gets exactly one CNI108 and
``network=None`` too. Warnings (duplicate keys, key case, invalid UTF-8) come on top.
Positions are computed lazily: clean files never run the position scanner.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import field, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .. import gojson
from ..frozen import dataclass
from ..gojson import GoField, GoType, Locator
from ..model import Candidate, Finding, NetworkDirLoad, NetworkList, ParsedFile, PluginConf, Rule
from ..rules import syntax as R
from . import netdir

__all__ = [
    "AFTER_LIST_KEYS",
    "LIST_KEYS",
    "NETCONF",
    "fails_after_list_keys",
    "find_template",
    "parse",
    "plugin_conf_text",
]

# libcni pkg/types/types.go NetConf (cni@v1.1.2 :60-71; PluginConf with the NetConf alias in
# cni@v1.3.0 :62-80; ValidAttachments since v1.2.0). Only these keys are decoded by libcni.
_STRING = GoType("string", "string")
_IPAM = GoType("struct", "types.IPAM", fields=(GoField("type", _STRING),), struct_name="IPAM")
_DNS = GoType(
    "struct",
    "types.DNS",
    fields=(
        GoField("nameservers", GoType("slice", "[]string", elem=_STRING)),
        GoField("domain", _STRING),
        GoField("search", GoType("slice", "[]string", elem=_STRING)),
        GoField("options", GoType("slice", "[]string", elem=_STRING)),
    ),
    struct_name="DNS",
)
_ATTACHMENT = GoType(
    "struct",
    "types.GCAttachment",
    fields=(GoField("containerID", _STRING), GoField("ifname", _STRING)),
    struct_name="GCAttachment",
)
NETCONF = GoType(
    "struct",
    "types.NetConf",
    fields=(
        GoField("cniVersion", _STRING),
        GoField("name", _STRING),
        GoField("type", _STRING),
        GoField("capabilities", GoType("map", "map[string]bool", elem=GoType("bool", "bool"))),
        GoField("ipam", _IPAM),
        GoField("dns", _DNS),
        GoField("prevResult", GoType("map", "map[string]interface {}", elem=GoType("any", "interface {}"))),
        GoField("cni.dev/valid-attachments", GoType("slice", "[]types.GCAttachment", elem=_ATTACHMENT)),
    ),
    struct_name="NetConf",
)

# The keys libcni reads from a list (map lookups, exact case): cni@v1.3.0 libcni/conf.go:94-235.
LIST_KEYS = ("name", "cniVersion", "cniVersions", "disableCheck", "disableGC", "loadOnlyInlinedPlugins", "plugins")
_LIST_FOLDED = {gojson.fold_key(k): k for k in LIST_KEYS}

LIST_PREFIX = "error parsing configuration list: "  # conf.go ConfListFromBytes
CONF_PREFIX = "error parsing configuration: "  # conf.go ConfFromBytes
_V13_NOTE = "libcni v1.3.0 (containerd >= 2.1, CRI-O >= 1.33) names the struct PluginConf instead of NetConf"


@dataclass
class _File:
    """Everything the checks of one file share."""

    candidate: Candidate
    data: bytes
    locator: Locator
    findings: List[Finding] = field(default_factory=list)
    folded: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)  # object -> folded keys

    @property
    def path(self) -> str:
        return self.candidate.path

    @property
    def is_list(self) -> bool:
        return self.candidate.kind == "conflist"

    def add(
        self,
        rule: Rule,
        pointer: str,
        message: str,
        *,
        predicts: Optional[str] = None,
        offset: Optional[int] = None,
        plugin: Optional[str] = None,
    ) -> None:
        line = column = None
        if offset is not None:
            line, column = gojson.line_column(self.data, offset)
        self.findings.append(
            rule.at(self.path, pointer, message, predicts=predicts, line=line, column=column, plugin=plugin)
        )

    def predicts(self, load_error: str) -> str:
        """The text containerd (go-cni opts.go loadFromConfDir) reports for this load error."""
        kind = "config list file" if self.is_list else "config file"
        return f"failed to load CNI {kind} {self.path}: {load_error}: invalid cni config"


@dataclass(frozen=True)
class _Failure:
    """libcni refused the file: which rule, where, and libcni's exact text."""

    rule: Rule
    pointer: str
    load_error: str
    detail: str = ""
    predicts: Optional[str] = None  # when it is not go-cni's usual wrapper
    plugin: Optional[str] = None  # the failing plugin's type, when it has one


def parse(candidate: Candidate) -> ParsedFile:
    """Model libcni loading ``candidate``; never raises."""
    if candidate.problem is not None:
        return ParsedFile(candidate, None, None, None, ())  # discovery already reported it
    data = candidate.data or b""
    file = _File(candidate, data, Locator(data))
    template = find_template(data)
    try:
        decoded = gojson.decode(data)
    except gojson.GoSyntaxError as err:
        binary = binary_kind(data, err.offset)
        if binary is not None:
            return _binary_failure(file, err, binary)
        return _syntax_failure(file, err, template)
    if template is not None:
        return _template(file, decoded.value, template, _load(file, decoded)[1])
    network, failure = _load(file, decoded)
    _warnings(file, decoded)
    network_dir = _network_dir(file, decoded.value, network, failure)
    if failure is not None:
        _report_failure(file, _with_folder_note(failure, decoded.value, network_dir))
        network = None
    return ParsedFile(
        candidate,
        decoded.value,
        network,
        failure.load_error if failure else None,
        tuple(file.findings),
        locate=file.locator,
        network_dir=network_dir,
    )


# ----------------------------------------------------------------------------- the order of errors

# Load errors ConfListFromBytes/NetworkConfFromBytes raise only after the list keys that follow
# name/cniVersion (cniVersions, disableCheck, disableGC, loadOnlyInlinedPlugins) were read: the
# `plugins` key and each plugin (containernetworking/cni:libcni/conf.go@v1.1.2, @v1.2.0 and @v1.2.3
# (ConfListFromBytes), @v1.3.0 (NetworkConfFromBytes)). This parser reads no such key, so a file
# failing with one of these may fail with a list key's error first in a given release.
AFTER_LIST_KEYS = (
    LIST_PREFIX + "no 'plugins' key",
    LIST_PREFIX + "invalid 'plugins' type ",
    LIST_PREFIX + "no plugins in list",
    "failed to marshal plugin config ",
    "failed to parse plugin config ",
)


def fails_after_list_keys(load_error: Optional[str]) -> bool:
    """The load error is one libcni raises only after it read the list keys (AFTER_LIST_KEYS)."""
    return load_error is not None and load_error.startswith(AFTER_LIST_KEYS)


# ----------------------------------------------------------------------------- libcni v1.3.0


def plugin_conf_text(error: str) -> str:
    """A Go JSON type error as libcni v1.3.0 prints it: the plugin struct is ``types.PluginConf``
    (was ``types.NetConf``; containernetworking/cni:pkg/types/types.go@v1.3.0 (PluginConf))."""
    error = error.replace("type types.NetConf", "type types.PluginConf")
    return error.replace("Go struct field NetConf.", "Go struct field PluginConf.")


def _network_dir(
    file: _File, document: Any, network: Optional[NetworkList], failure: Optional[_Failure]
) -> Optional[NetworkDirLoad]:
    """libcni v1.3.0's view of a .conflist whose `<dir>/<name>/*.conf` it reads (config/netdir)."""
    if not file.is_list or not isinstance(document, dict):
        return None
    if failure is not None and failure.rule not in (R.MISSING_PLUGINS_KEY, R.SINGLE_CONF_IN_CONFLIST):
        return None  # NetworkConfFromBytes fails before the folder is read
    return netdir.network_dir_load(file.path, document, network, _plugin_file)


def _with_folder_note(failure: _Failure, document: Any, folder: Optional[NetworkDirLoad]) -> _Failure:
    """A list without `plugins` says what libcni v1.3.0 makes of its plugin folder."""
    if folder is None or folder.network is None:
        return failure
    if netdir.inlined_only(document):
        lead = failure.detail.split("libcni v1.3.0", 1)[0]
        return replace(
            failure,
            detail=lead + "libcni v1.3.0 does not read <dir>/<name>/*.conf either (loadOnlyInlinedPlugins is true) "
            "and fails with: error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key",
        )
    if not folder.network.plugins:
        return failure
    names = ", ".join(os.path.basename(f) for f in folder.files)
    return replace(
        failure,
        detail=f"libcni v1.3.0 (containerd >= 2.1, CRI-O >= 1.33) loads it anyway: it takes the plugins "
        f"from {folder.folder}/ ({names})",
    )


def _plugin_file(data: bytes, index: int) -> Tuple[Optional[PluginConf], Optional[str]]:
    """NetworkPluginConfFromBytes on one `<dir>/<name>/*.conf`: json.Unmarshal straight into
    types.PluginConf (file order, no re-marshalling), then the type check; no `failed to parse
    plugin config N:` prefix (containernetworking/cni:libcni/conf.go@v1.3.0
    (NetworkPluginConfFromBytes))."""
    try:
        decoded = gojson.decode(data)
    except gojson.GoSyntaxError as err:
        return None, CONF_PREFIX + err.message
    result = gojson.unmarshal(decoded.value, NETCONF, "", sort_keys=False)
    failure = _struct_failure(decoded.value, result, "", CONF_PREFIX)
    if failure is not None:
        return None, plugin_conf_text(failure.load_error)
    return _plugin_conf(index, f"/plugins/{index}", decoded.value, result.value), None


# ----------------------------------------------------------------------------- syntax errors


def _syntax_failure(file: _File, err: gojson.GoSyntaxError, template: Optional[Template]) -> ParsedFile:
    load_error = (LIST_PREFIX if file.is_list else CONF_PREFIX) + err.message
    if template is not None:
        _template(file, None, template, _Failure(R.INVALID_JSON, "", load_error))
    else:
        rule, hint = _classify(file.data, err)
        line, column = gojson.line_column(file.data, err.offset)
        message = (
            f"Go's encoding/json rejects this file at line {line} column {column}: "
            f"{err.message}{hint}. libcni fails with: {load_error}"
        )
        file.add(rule, "", message, predicts=file.predicts(load_error), offset=err.offset)
    return ParsedFile(file.candidate, None, None, load_error, tuple(file.findings), locate=file.locator)


def _classify(data: bytes, err: gojson.GoSyntaxError) -> Tuple[Rule, str]:
    """The most specific rule for a syntax error (go/src/encoding/json/scanner.go texts, wrapped by
    cni@v1.1.2 libcni/conf.go ConfListFromBytes as ``error parsing configuration list: ...``)."""
    at, rest = err.offset, data[err.offset :]
    message = err.message
    if at == 0 and data.startswith(gojson.BOM):
        return R.UTF8_BOM, " (a UTF-8 byte order mark; Go does not skip it)"
    if message.endswith("exceeded max depth"):
        return R.NESTING_TOO_DEEP, f" (Go's limit is {gojson.MAX_DEPTH} nested arrays/objects)"
    if rest[:2] in (b"//", b"/*") or (rest[:1] == b"#" and _line_start(data, at)):
        return R.JSON_COMMENT, " (JSON has no comments)"
    if _trailing_comma(data, at, message):
        return R.TRAILING_COMMA, " (a comma before a closing bracket)"
    if rest.startswith((b"NaN", b"Infinity")) or (
        message.endswith("in numeric literal") and rest.startswith(b"Infinity")
    ):
        return R.NON_FINITE_NUMBER, " (NaN and Infinity are not JSON)"
    if message.endswith("after top-level value") and rest[:1] in b'{["-0123456789tfn':
        return R.MULTIPLE_JSON_VALUES, " (a second JSON value follows the first)"
    return R.INVALID_JSON, ""


def _line_start(data: bytes, at: int) -> bool:
    return data[data.rfind(b"\n", 0, at) + 1 : at].strip() == b""


def _trailing_comma(data: bytes, at: int, message: str) -> bool:
    closing = message.endswith("'}' looking for beginning of object key string") or message.endswith(
        "']' looking for beginning of value"
    )
    return closing and data[:at].rstrip(b" \t\r\n").endswith(b",")


# ----------------------------------------------------------------------------- binary content

_MAGIC: Tuple[Tuple[bytes, str], ...] = (
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "gzip data"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\xfe\xed\xfa", "a Mach-O executable"),
    (b"MZ", "a Windows executable"),
)
_SNIFF_BYTES = 8192  # as git and grep decide "binary": a NUL byte near the start


def binary_kind(data: bytes, offset: int) -> Optional[str]:
    """What the file is when Go's scanner failed on binary content, else None.

    Binary: a known magic number, a NUL byte in the first 8 KiB (git's and grep's test), the
    rejected byte is a control character, or more than a tenth of the first 8 KiB is not
    UTF-8. A stray Latin-1 byte in a hand-written file stays a syntax error (CNI101)."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    if offset < len(data) and (data[offset] == 0x7F or (data[offset] < 0x20 and data[offset] not in b"\t\n\r")):
        return "binary data (control characters)"
    if head.decode("utf-8", "replace").count("\ufffd") * 10 > len(head):
        return "not UTF-8 text"
    return None


def _binary_failure(file: _File, err: gojson.GoSyntaxError, what: str) -> ParsedFile:
    load_error = (LIST_PREFIX if file.is_list else CONF_PREFIX) + err.message
    if err.offset < len(file.data):
        where = f"rejects its byte {file.data[err.offset]:#04x} at offset {err.offset}"
    else:  # "unexpected end of JSON input": the decoder ran out of bytes
        where = f"reaches the end of the file ({len(file.data)} bytes) without a value"
    message = f"this file is {what}, not a JSON network config: Go's encoding/json {where}, so libcni fails with: {load_error}"
    file.add(R.BINARY_CONTENT, "", message, predicts=file.predicts(load_error), offset=err.offset)
    return ParsedFile(file.candidate, None, None, load_error, tuple(file.findings), locate=file.locator)


# ----------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Template:
    """The first placeholder of an unrendered template: its syntax and character offset."""

    kind: str
    text: str
    start: int


# Placeholder syntaxes seen in real installers (corpus README "template" rows): Go/Helm
# text/template, Jinja, sed-style __NAME__, shell ${VAR}/$VAR/$1, Windows %VAR%, and a bare
# upper-case word where an address must be (kubernetes-the-hard-way's "SUBNET").
_ADDRESS_KEYS = r"(?:subnet|rangeStart|rangeEnd|gateway|dst|gw|address|podCIDR|cidr)"


@functools.cache
def _template_patterns() -> Tuple[Tuple[str, re.Pattern[str]], ...]:
    """Compiled on first use: only a file that passes _template_hint is searched (a few ms at import)."""
    return (
        ("Go/Helm template action", re.compile(r"(?P<ph>\{\{-?\s*[^{}]*?-?\}\})")),
        ("Jinja statement", re.compile(r"(?P<ph>\{%-?\s*[^{}]*?-?%\})")),
        ("sed-style placeholder", re.compile(r"(?P<ph>__[A-Z][A-Z0-9_]*__)")),
        ("shell variable", re.compile(r"(?P<ph>\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?+=-][^}\"]*)?\})")),
        ("shell variable", re.compile(r"[:,\[]\s*(?P<ph>\$[A-Za-z0-9_]+)\b")),  # bare: "x": $2
        (
            "shell variable",
            re.compile(
                r"(?P<ph>\$[A-Z][A-Z0-9_]{2,})\b|'(?P<q1>\$[A-Za-z_][A-Za-z0-9_]*)'"
                r"|\"(?P<q2>\$[A-Za-z_][A-Za-z0-9_]*)\""
            ),
        ),
        ("Windows %VARIABLE%", re.compile(r"(?P<ph>%[A-Z][A-Z0-9_]*%)")),
        ("upper-case placeholder", re.compile(r"(?i:\"" + _ADDRESS_KEYS + r"\")\s*:\s*\"(?P<ph>[A-Z][A-Z0-9_]{2,})\"")),
    )


# What every placeholder pattern needs somewhere in the file. One regex per alternative, each
# starting with a literal that the regex engine skips to, plus plain substring tests: one
# alternation of them all was tried at every byte, which cost half as much as decoding the file.
_TEMPLATE_HINT_TEXTS = (b"{{", b"{%", b"$")
_TEMPLATE_HINTS = (re.compile(rb"__[A-Z]"), re.compile(rb"%[A-Z]"), re.compile(rb"\"\s*:\s*\"[A-Z]{3}"))


def _template_hint(data: bytes) -> bool:
    return any(text in data for text in _TEMPLATE_HINT_TEXTS) or any(p.search(data) for p in _TEMPLATE_HINTS)


def find_template(data: bytes) -> Optional[Template]:
    """The first placeholder in ``data``, or None. Cheap when there is none."""
    if not _template_hint(data):
        return None
    text = data.decode("utf-8", "replace")
    found: Optional[Template] = None
    for kind, pattern in _template_patterns():
        match = pattern.search(text)
        if match is None:
            continue
        group = next(g for g in ("ph", "q1", "q2") if match.groupdict().get(g) is not None)
        if found is None or match.start(group) < found.start:
            found = Template(kind, match.group(group), match.start(group))
    return found


def _template(file: _File, document: Any, template: Template, failure: Optional[_Failure]) -> ParsedFile:
    offset = len(file.data.decode("utf-8", "replace")[: template.start].encode("utf-8"))
    pointer = file.locator.pointer_at(offset) if document is not None else ""
    outcome = (
        f"libcni would fail with: {failure.load_error}"
        if failure is not None
        else "libcni would load it and hand the placeholder to the plugin verbatim"
    )
    message = (
        f"unrendered template: {template.kind} {template.text!r}; the installer that "
        f"renders this file has not run (or this is its source). As it stands {outcome}"
    )
    predicts = None
    if failure is not None:
        predicts = failure.predicts or file.predicts(failure.load_error)
    file.add(R.UNRENDERED_TEMPLATE, pointer, message, predicts=predicts, offset=offset)
    return ParsedFile(
        file.candidate,
        document,
        None,
        failure.load_error if failure else None,
        tuple(file.findings),
        locate=file.locator,
    )


# ----------------------------------------------------------------------------- libcni load


def _load(file: _File, decoded: gojson.Decoded) -> Tuple[Optional[NetworkList], Optional[_Failure]]:
    if file.is_list:
        return _load_list(file, decoded)
    return _load_conf(file, decoded)


def _report_failure(file: _File, failure: _Failure) -> None:
    message = f"libcni refuses this file: {failure.load_error}"
    if failure.detail:
        message += f". {failure.detail}"
    file.add(
        failure.rule,
        failure.pointer,
        message,
        predicts=failure.predicts or file.predicts(failure.load_error),
        plugin=failure.plugin,
    )


def _overflow_failure(file: _File, literal: str, prefix: str) -> _Failure:
    text = f"json: cannot unmarshal number {literal} into Go value of type float64"
    pointer = file.locator.scanned.overflow[0] if file.locator.scanned.overflow else ""
    return _Failure(
        R.NON_FINITE_NUMBER,
        pointer,
        prefix + text,
        "The number does not fit Go's float64 (every JSON number is decoded as float64)",
    )


def _load_list(file: _File, decoded: gojson.Decoded) -> Tuple[Optional[NetworkList], Optional[_Failure]]:
    doc = decoded.value
    if doc is None:  # Unmarshal of null into a map is a no-op: the map stays empty
        return None, _Failure(
            R.NOT_AN_OBJECT, "", LIST_PREFIX + "no name", "The file is JSON null, which libcni reads as an empty list"
        )
    if not isinstance(doc, dict):
        text = f"json: cannot unmarshal {gojson.json_kind(doc)} into Go value of type map[string]interface {{}}"
        return None, _Failure(
            R.NOT_AN_OBJECT, "", LIST_PREFIX + text, "A network configuration list must be a JSON object"
        )
    if decoded.overflow is not None:
        return None, _overflow_failure(file, decoded.overflow, LIST_PREFIX)
    failure = _list_keys_failure(doc) or _plugins_failure(doc)
    if failure is not None:
        return None, failure
    plugins: List[PluginConf] = []
    for index, raw in enumerate(doc["plugins"]):
        plugin, failure = _load_plugin(file, raw, index)
        if failure is not None:
            return None, failure
        assert plugin is not None
        plugins.append(plugin)
    return _network_list(doc, plugins), None


def _list_keys_failure(doc: Mapping[str, Any]) -> Optional[_Failure]:
    """name and cniVersion as ConfListFromBytes reads them (cni@v1.1.2 libcni/conf.go:70-84:
    ``no name``, ``invalid name type %T``, ``invalid cniVersion type %T``)."""
    if "name" not in doc:
        variant = _case_variant(doc, "name")
        detail = (
            f'libcni reads the key "name" with exact case; {variant!r} is ignored'
            if variant
            else 'A network configuration list needs a "name"'
        )
        return _Failure(R.MISSING_LIST_NAME, "", LIST_PREFIX + "no name", detail)
    if not isinstance(doc["name"], str):
        return _Failure(
            R.WRONG_JSON_TYPE,
            "/name",
            LIST_PREFIX + f"invalid name type {gojson.go_type_name(doc['name'])}",
            "The network name must be a JSON string",
        )
    version = doc.get("cniVersion", "")
    if not isinstance(version, str):
        return _Failure(
            R.WRONG_JSON_TYPE,
            "/cniVersion",
            LIST_PREFIX + f"invalid cniVersion type {gojson.go_type_name(version)}",
            f'Quote the version: "cniVersion": "{_unquoted(version)}"',
        )
    return None


def _unquoted(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _plugins_failure(doc: Mapping[str, Any]) -> Optional[_Failure]:
    """The plugins key (cni@v1.1.2 libcni/conf.go:104-113: ``no 'plugins' key``,
    ``invalid 'plugins' type %T``, ``no plugins in list``)."""
    if "plugins" not in doc:
        text = LIST_PREFIX + "no 'plugins' key"
        v13 = (
            "libcni v1.3.0 instead loads <dir>/<name>/*.conf and, when there are none, fails "
            "with 'no plugin configs found'"
        )
        if "type" in doc:
            return _Failure(
                R.SINGLE_CONF_IN_CONFLIST, "", text, "This is a single plugin configuration saved as .conflist; " + v13
            )
        variant = _case_variant(doc, "plugins")
        lead = f'libcni reads "plugins" with exact case; {variant!r} is ignored. ' if variant else ""
        return _Failure(R.MISSING_PLUGINS_KEY, "", text, lead + v13)
    plugins = doc["plugins"]
    if not isinstance(plugins, list):
        return _Failure(
            R.WRONG_JSON_TYPE,
            "/plugins",
            LIST_PREFIX + f"invalid 'plugins' type {gojson.go_type_name(plugins)}",
            '"plugins" must be an array of plugin objects',
        )
    if not plugins:
        return _Failure(
            R.EMPTY_PLUGINS,
            "/plugins",
            LIST_PREFIX + "no plugins in list",
            "go-cni with libcni v1.3.0 reports: CNI config list in config file <f> "
            "has no networks, skipping: invalid cni config",
        )
    return None


def _case_variant(doc: Mapping[str, Any], key: str) -> Optional[str]:
    """A key a Go struct field ``key`` would take but libcni's exact-case map lookup does not."""
    return next((k for k, _ in gojson.field_members(doc, key) if k != key), None)


def _load_plugin(file: _File, raw: Any, index: int) -> Tuple[Optional[PluginConf], Optional[_Failure]]:
    """ConfFromBytes on json.Marshal(plugin): keys in sorted order (Go marshals maps sorted)."""
    pointer = f"/plugins/{index}"
    prefix = f"failed to parse plugin config {index}: {CONF_PREFIX}"
    result = gojson.unmarshal(raw, NETCONF, pointer, sort_keys=True)
    file.folded[pointer] = result.folded
    failure = _struct_failure(raw, result, pointer, prefix)
    if failure is not None:
        named = isinstance(raw, dict) and isinstance(raw.get("type"), str) and raw["type"]
        return None, replace(failure, plugin=raw["type"]) if named else failure
    return _plugin_conf(index, pointer, raw, result.value), None


def _struct_failure(raw: Any, result: gojson.StructResult, pointer: str, prefix: str) -> Optional[_Failure]:
    """Type errors first (Unmarshal returns before the type check), then missing 'type'."""
    if raw is not None and not isinstance(raw, dict):
        return _Failure(
            R.NOT_AN_OBJECT,
            pointer,
            prefix + str(result.error),
            "A plugin configuration must be a JSON object; " + _V13_NOTE,
        )
    if result.error is not None:
        return _Failure(R.WRONG_JSON_TYPE, result.error_pointer, prefix + result.error, _V13_NOTE)
    if not (result.value or {}).get("type"):
        text = prefix + "missing 'type'"
        if raw is None:
            return _Failure(
                R.NOT_AN_OBJECT,
                pointer,
                text,
                "The plugin configuration is null (libcni <= v0.8 even panics on a null .conf)",
            )
        if pointer == "" and isinstance(raw, dict) and isinstance(raw.get("plugins"), list):
            return _Failure(
                R.LIST_IN_CONF_FILE,
                pointer,
                text,
                "This is a configuration list saved as .conf/.json: .conf files are "
                "read as a single plugin, rename it to .conflist",
            )
        present = isinstance(raw, dict) and "type" in raw
        detail = (
            '"type" is empty or null' if present else '"type" is absent'
        ) + '; every plugin configuration names the plugin binary in "type"'
        return _Failure(R.MISSING_TYPE, pointer, text, detail)
    return None


def _plugin_conf(index: int, pointer: str, raw: Any, conf: Mapping[str, Any]) -> PluginConf:
    ipam = conf.get("ipam") or {}
    capabilities = conf.get("capabilities") or {}
    return PluginConf(
        index=index,
        pointer=pointer,
        type=conf.get("type") or None,
        raw=raw,
        ipam_type=ipam.get("type") or None,
        capabilities={k: bool(v) for k, v in capabilities.items()},
    )


def _network_list(doc: Mapping[str, Any], plugins: List[PluginConf]) -> NetworkList:
    versions = doc.get("cniVersions")
    well_formed = isinstance(versions, list) and all(isinstance(v, str) for v in versions)
    return NetworkList(
        name=doc["name"],
        cni_version=doc.get("cniVersion"),
        plugins=tuple(plugins),
        cni_versions=tuple(versions) if well_formed else None,  # type: ignore[arg-type]
        disable_check=doc.get("disableCheck"),
        disable_gc=doc.get("disableGC"),
    )


def _load_conf(file: _File, decoded: gojson.Decoded) -> Tuple[Optional[NetworkList], Optional[_Failure]]:
    """ConfFromBytes, then ConfListFromConf (go-cni opts.go: .conf and .json files)."""
    doc = decoded.value
    result = gojson.unmarshal(doc, NETCONF, "", sort_keys=False)
    file.folded[""] = result.folded
    failure = _struct_failure(doc, result, "", CONF_PREFIX)
    if failure is not None:
        return None, failure
    if decoded.overflow is not None:
        # ConfFromBytes skipped the unknown key, but ConfListFromConf re-decodes into a map
        text = f"json: cannot unmarshal number {decoded.overflow} into Go value of type float64"
        pointer = file.locator.scanned.overflow[0] if file.locator.scanned.overflow else ""
        wrapped = f"failed to convert CNI config file {file.path} to CNI config list: {text}: invalid cni config"
        return None, _Failure(
            R.NON_FINITE_NUMBER, pointer, text, "The number does not fit Go's float64", predicts=wrapped
        )
    conf = result.value
    plugin = _plugin_conf(0, "", doc, conf)
    version = conf.get("cniVersion")
    has_version = any(f == "cniVersion" for _, f in result.folded) or "cniVersion" in doc
    return NetworkList(
        name=conf.get("name", ""),
        cni_version=(version or "") if has_version else None,
        plugins=(plugin,),
        from_single_conf=True,
    ), None


# ----------------------------------------------------------------------------- warnings


def _warnings(file: _File, decoded: gojson.Decoded) -> None:
    """Things libcni accepts silently but that deserve a look (need positions: slow scan)."""
    doc = decoded.value
    if decoded.duplicates:
        _duplicate_keys(file)
    if decoded.invalid_utf8:
        _invalid_utf8(file)
    if isinstance(doc, dict):
        _key_case(file, doc)


def _duplicate_keys(file: _File) -> None:
    for pointer, first, repeat in file.locator.scanned.duplicates:
        key = gojson.pointer_tokens(pointer)[-1]
        line = gojson.line_column(file.data, first)[0]
        file.add(
            R.DUPLICATE_KEY,
            pointer,
            f"key {key!r} appears more than once in the same object (first on line {line}); "
            "Go's encoding/json keeps the last value silently, other JSON tools may keep "
            "the first",
            offset=repeat,
        )


def _invalid_utf8(file: _File) -> None:
    where = file.locator.scanned.invalid_utf8
    pointer = where[0] if where else ""
    count = len(where)
    file.add(
        R.INVALID_UTF8,
        pointer,
        f"{count} string(s) hold bytes that are not valid UTF-8; Go replaces each bad byte "
        "with U+FFFD, so libcni and the plugin see different text than the file holds",
    )


def _key_case(file: _File, doc: Mapping[str, Any]) -> None:
    if file.is_list:
        for key in doc:
            canonical = _LIST_FOLDED.get(gojson.fold_key(key))
            if canonical is not None and canonical != key:
                file.add(
                    R.KEY_CASE_MISMATCH,
                    gojson.pointer_join("", key),
                    f"list key {key!r} differs from {canonical!r} only in case: libcni reads "
                    f"list keys from a map with exact case, so {key!r} is silently IGNORED",
                )
        plugins = doc.get("plugins")
        objects = [(f"/plugins/{i}", p) for i, p in enumerate(plugins)] if isinstance(plugins, list) else []
    else:
        objects = [("", doc)]
    for pointer, raw in objects:
        if pointer not in file.folded and isinstance(raw, dict):
            file.folded[pointer] = gojson.unmarshal(raw, NETCONF, pointer).folded
        for member, canonical in file.folded.get(pointer, ()):
            _folded_key(file, member, canonical)


def _folded_key(file: _File, member: str, canonical: str) -> None:
    key = gojson.pointer_tokens(member)[-1]
    file.add(
        R.KEY_CASE_MISMATCH,
        member,
        f"key {key!r} differs from {canonical!r} only in case: Go's encoding/json matches "
        "struct fields case-insensitively, so libcni and Go plugins accept it, but a "
        "case-sensitive consumer (or a later exact-case key) will not see it the same way",
    )
