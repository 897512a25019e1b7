"""Stage 3: validate a parsed file against the JSON Schema of the cniVersion it declares.

Only files libcni loads reach this stage (``parsed.network is not None``); a file whose
cniVersion is absent or not one of the spec's exact version strings gets no schema check here
(CNI301/CNI302/CNI303 in rules/semantics.py say why). The schema kind follows what libcni
builds: a ``.conflist`` is checked as a list, a single ``.conf``/``.json`` object as one plugin
configuration (libcni wraps it into a list using its own name and cniVersion).

Five findings come from here (rules/schema.py):
  CNI201 schema-violation  a value of the wrong type that the runtime or the plugin reading it refuses
  CNI202 unknown-list-key  a list-level key libcni does not read (silently ignored), with did-you-mean
  CNI203 spec-deviation    the config departs from the spec's schema, but nothing refuses it
  CNI204 plugin-option-unknown  a key a reference plugin has no option for (plugin_check.py)
  CNI205 plugin-option-invalid  a reference plugin option Go cannot decode/parse (plugin_check.py)

Everything the schema can say that another rule family already says is dropped through
``OWNED_ELSEWHERE`` (an explicit table) so a problem is reported once, by its owner.
"""

from __future__ import annotations

import fnmatch
import functools
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from ..frozen import dataclass
from ..gofmt import go_quote
from ..gofmt import go_type_name as go_type
from ..gofmt import json_kind as go_json_kind
from ..gojson import Fields, escape_token, field_members, pointer, pointer_join
from ..gojson import fold_key as go_fold  # the key as encoding/json compares it to a field name
from ..model import Finding, ParsedFile
from ..rules.schema import SCHEMA_VIOLATION, SPEC_DEVIATION, UNKNOWN_LIST_KEY
from . import plugin_check, schemas
from .netconf import SharedLookups, did_you_mean, plugin_fields
from .schemas import any_version_list_keys

if TYPE_CHECKING:  # pragma: no cover
    from jsonschema.exceptions import ValidationError

PathPart = Union[str, int]
Path = Tuple[PathPart, ...]
Renames = Dict[Path, Dict[str, str]]


def validate(parsed: ParsedFile) -> Tuple[Finding, ...]:
    """Schema findings for one parsed file (``()`` when libcni does not load it or no schema applies)."""
    network = parsed.network
    document = parsed.document
    if network is None or not isinstance(document, dict):
        return ()
    with SharedLookups():  # validation reads the document's objects and builds new ones
        findings = spec_findings(parsed, document, network.cni_version, network.from_single_conf)
        return tuple(findings + plugin_option_findings(parsed, findings))


def spec_findings(
    parsed: ParsedFile, document: Mapping[str, Any], version: Optional[str], single: bool
) -> List[Finding]:
    """CNI201-CNI203 against the schema of the declared spec version."""
    if version is None or not schemas.has_schema(version):
        return []  # absent/unknown version: CNI301/CNI302/CNI303 (semantics) own it
    kind = "plugin" if single else "conflist"
    findings: List[Finding] = []
    if kind == "conflist":
        findings.extend(unknown_list_keys(parsed.path, document, version))
    findings.extend(schema_findings_of(parsed.path, document, kind, version))
    findings.extend(replaced_member_findings(parsed.path, document, kind, version, findings))
    return findings


def schema_findings_of(path: str, document: Mapping[str, Any], kind: str, version: str) -> List[Finding]:
    """CNI201/CNI203 for the values Go leaves in the fields (the last member of each)."""
    instance, renames = prepare(document, kind, version)
    if schemas.quick_check(kind, version)(instance):
        return []  # provably what jsonschema would say: no schema error at all
    return schema_findings(path, instance, renames, kind, version)


def replaced_member_findings(
    path: str, document: Mapping[str, Any], kind: str, version: str, found: Sequence[Finding]
) -> List[Finding]:
    """CNI201/CNI203 for members Go decodes and then overwrites with a later case variant.

    encoding/json decodes every member that folds to a field, so `"ipMasq": true, "IPMASQ":
    "x"` fails bridge although the kept value is fine (gojson.field_members; checked on the
    real plugins v1.1.1). Each such member is validated in a copy of the document from which
    the members after it are removed; only what that copy says about the member is kept.
    """
    seen = {(f.pointer, f.code) for f in found}
    out: List[Finding] = []
    for member, variant in replaced_member_variants(document, kind):
        for finding in schema_findings_of(path, variant, kind, version):
            inside = finding.pointer == member or finding.pointer.startswith(member + "/")
            if inside and (finding.pointer, finding.code) not in seen:
                seen.add((finding.pointer, finding.code))
                out.append(finding)
    return out


def plugin_option_findings(parsed: ParsedFile, spec_level: Sequence[Finding]) -> List[Finding]:
    """CNI204/CNI205 for reference plugins (plugin_check.py), one finding per place.

    They do not depend on the declared version (the plugin decodes its options whatever it
    is). A place a spec-level finding already covers (CNI201/CNI203 at the same pointer or
    above it, e.g. a route entry without dst) is left to that finding.
    """

    assert parsed.network is not None
    found = plugin_check.reference_plugin_findings(parsed.path, parsed.network.plugins, PLUGIN_FIELDS)
    if not found or not spec_level:
        return found
    taken = [f.pointer for f in spec_level if f.pointer]
    return [f for f in found if not any(f.pointer == t or f.pointer.startswith(t + "/") for t in taken)]


# --- preparing the instance: what libcni and Go plugins actually decode ------------------------

# Go's encoding/json matches JSON keys to struct fields case-insensitively, and libcni (and the
# plugins) decode every plugin object into a struct (cni@v1.3.0 pkg/types/types.go PluginConf,
# IPAM, DNS; plugins' own NetConf for ipMasq/args/runtimeConfig). So the Windows spelling
# `"DNS": {"Nameservers": [...]}` reaches the typed `dns` field: the member Go keeps (the last
# one of gojson.field_members, keys sorted as libcni re-marshals them) is validated under the
# canonical name and error paths are mapped back to its spelling; the members it overwrites
# are validated too (replaced_member_findings), since each of them is decoded.
# The *list* level is read with map lookups (libcni/conf.go NetworkConfFromBytes) and is
# case-sensitive: it is never renamed.
PLUGIN_FIELDS = (
    "type",
    "name",
    "cniVersion",
    "capabilities",
    "ipam",
    "dns",
    "prevResult",
    "ipMasq",
    "args",
    "runtimeConfig",
    "cni.dev/valid-attachments",
    "cni.dev/attachments",
)
NESTED_FIELDS: Mapping[str, Tuple[str, ...]] = {
    "ipam": ("type", "routes"),
    "dns": ("nameservers", "domain", "search", "options"),
}
ROUTE_FIELDS = ("dst", "gw")  # cni pkg/types Route{Dst, GW}, as host-local/static decode ipam.routes
ATTACHMENT_FIELDS = ("containerID", "ifname")


def canonical_keys(obj: Mapping[str, Any], fields: Tuple[str, ...]) -> Dict[str, str]:
    """{field: key} for fields whose value Go takes from a key spelt differently: the last of
    the field's members as the plugin reads the object, keys sorted (gojson.field_members)."""
    names, folds = _field_folds(fields)
    if folds:  # the usual object: every key that folds to a field is that field's own spelling
        for key in obj:
            if isinstance(key, str) and key not in names and go_fold(key) in folds:
                break
        else:
            return {}
    last: Dict[str, str] = {}  # folded name -> the last key with it, keys sorted: one pass per object
    for key in sorted(k for k in obj if isinstance(k, str)):
        last[go_fold(key)] = key
    out: Dict[str, str] = {}
    for field in fields:
        found = last.get(go_fold(field))
        if found is not None and found != field:
            out[field] = found
    return out


@functools.cache
def _field_folds(fields: Tuple[str, ...]) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """(the field names, their folded names); no folded names when two fields fold alike (then
    a key spelt as one field can be the other's case variant, and canonical_keys takes the
    long way)."""
    folds = frozenset(go_fold(f) for f in fields)
    return frozenset(fields), folds if len(folds) == len(set(fields)) else frozenset()


def _renamed(obj: Mapping[str, Any], fields: Tuple[str, ...], path: Path, renames: Renames) -> Dict[str, Any]:
    mapping = canonical_keys(obj, fields)
    if not mapping:
        return dict(obj)
    renames[path] = mapping
    replaced = {key for field in mapping for key, _ in field_members(obj, field)}
    out = {k: v for k, v in obj.items() if k not in replaced}
    out.update({field: obj[original] for field, original in mapping.items()})
    return out


def replaced_member_variants(document: Mapping[str, Any], kind: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(pointer of a replaced member, a copy of ``document`` in which it is the last one)."""
    if kind == "plugin":
        yield from _plugin_variants(document, "", lambda plugin: dict(plugin))
        return
    plugins = document.get("plugins")
    for index, plugin in enumerate(plugins if isinstance(plugins, list) else []):
        if isinstance(plugin, dict):
            yield from _plugin_variants(plugin, f"/plugins/{index}", _in_list(document, index))


def _in_list(document: Mapping[str, Any], index: int) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
    def rebuild(plugin: Dict[str, Any]) -> Dict[str, Any]:
        plugins = list(document["plugins"])
        plugins[index] = plugin
        return {**document, "plugins": plugins}

    return rebuild


def _plugin_variants(
    plugin: Mapping[str, Any], base: str, rebuild: Callable[[Dict[str, Any]], Dict[str, Any]]
) -> Iterator[Tuple[str, Dict[str, Any]]]:
    fields = plugin_fields(plugin)
    for key, later in _replaced_members(fields, PLUGIN_FIELDS):
        yield pointer_join(base, key), rebuild(_without(plugin, later))
    for field, nested in NESTED_FIELDS.items():
        outer = fields.key(field)
        inner = plugin.get(outer) if outer is not None else None
        if outer is None or not isinstance(inner, dict):
            continue
        for key, later in _replaced_members(plugin_fields(inner), nested):
            where = pointer_join(pointer_join(base, outer), key)
            yield where, rebuild({**plugin, outer: _without(inner, later)})


def _replaced_members(fields: Fields, names: Tuple[str, ...]) -> Iterator[Tuple[str, Tuple[str, ...]]]:
    """(key, the keys decoded after it) for each member a later case variant overwrites.

    Almost every object has no two keys that fold alike, and then nothing is replaced (this
    runs for every plugin object of every file)."""
    if not fields.has_variants:
        return
    for name in names:
        keys = [key for key, _ in fields.members(name)]
        for index, key in enumerate(keys[:-1]):
            yield key, tuple(keys[index + 1 :])


def _without(obj: Mapping[str, Any], keys: Tuple[str, ...]) -> Dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


def normalise_plugin(obj: Any, path: Path, renames: Renames) -> Any:
    """A copy of a plugin object with Go-matched keys under their canonical names."""
    if not isinstance(obj, dict):
        return obj
    out = _renamed(obj, PLUGIN_FIELDS, path, renames)
    for field, nested in NESTED_FIELDS.items():
        if isinstance(out.get(field), dict):
            out[field] = _renamed(out[field], nested, path + (field,), renames)
    routes = out.get("ipam", {}).get("routes") if isinstance(out.get("ipam"), dict) else None
    if isinstance(routes, list):
        out["ipam"]["routes"] = [
            _renamed(r, ROUTE_FIELDS, path + ("ipam", "routes", i), renames) if isinstance(r, dict) else r
            for i, r in enumerate(routes)
        ]
    for field in ("cni.dev/valid-attachments", "cni.dev/attachments"):
        items = out.get(field)
        if isinstance(items, list):
            out[field] = [
                _renamed(a, ATTACHMENT_FIELDS, path + (field, i), renames) if isinstance(a, dict) else a
                for i, a in enumerate(items)
            ]
    return out


def prepare(document: Mapping[str, Any], kind: str, version: str) -> Tuple[Any, Renames]:
    """The instance the schema sees, and how to map its paths back to the document.

    For a list, keys this version's list schema does not define are left out: CNI202 (or the
    owner of a newer-spec key, CNI306) reports them, so ``additionalProperties: false`` of the
    shipped schema never fires here and the quick check stays useful on such files.
    """
    renames: Renames = {}
    if kind == "plugin":
        return normalise_plugin(document, (), renames), renames
    known = list_keys(version)
    instance = {k: v for k, v in document.items() if k in known}
    plugins = instance.get("plugins")
    if isinstance(plugins, list):
        instance["plugins"] = [normalise_plugin(p, ("plugins", i), renames) for i, p in enumerate(plugins)]
    return instance, renames


def original_path(path: Iterable[PathPart], renames: Renames) -> Path:
    """Map a path in the prepared instance back to the spelling used in the document.

    ``renames`` is keyed by the canonical parent path, which is exactly the error's own prefix
    (jsonschema reports paths in the prepared, canonical instance).
    """
    canonical = tuple(path)
    return tuple(
        renames.get(canonical[:i], {}).get(part, part) if isinstance(part, str) else part
        for i, part in enumerate(canonical)
    )


# --- CNI202: list-level keys libcni does not read ----------------------------------------------


@functools.cache
def list_keys(version: str) -> FrozenSet[str]:
    """The list-level keys the conflist schema of ``version`` defines."""
    return frozenset(schemas.load_schema("conflist", version)["properties"])


def unknown_list_keys(path: str, document: Mapping[str, Any], version: str) -> List[Finding]:
    """CNI202 for each list-level key no spec version defines (libcni ignores them silently).

    A key defined by another spec version is CNI306 newer-spec-key (semantics); a top-level
    ``type`` next to ``plugins`` makes the whole document a hybrid, CNI319 (semantics), and its
    other plugin-level keys are part of that one problem.
    """
    known = list_keys(version)
    extra = [k for k in document if k not in known]
    if not extra or "type" in document:
        return []
    everywhere = set(any_version_list_keys())
    folded = {go_fold(k) for k in everywhere}
    return [
        unknown_key_finding(path, key, version)
        for key in extra
        if key not in everywhere
        # a case variant of a list key (`disablecheck`) is CNI115 key-case-mismatch (parse)
        and go_fold(key) not in folded
        and not is_tool_metadata(key, document[key])
    ]


def is_tool_metadata(key: str, value: Any) -> bool:
    """List-level keys a known tool reads from the file itself, so they are not dead.

    Podman's CNI backend stores network labels/options as list-level
    ``"args": {"podman_labels": {...}, "podman_options": {...}}`` and reads them back from the
    file (containers/common libnetwork/cni, e.g. testfiles/valid/label.conflist).
    """
    return (
        key == "args"
        and isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and k.startswith("podman_") for k in value)
    )


def unknown_key_finding(path: str, key: str, version: str) -> Finding:
    suggestion = did_you_mean(key, any_version_list_keys())
    where = f"list key `{key}` is not a CNI {version} list key; libcni ignores it"
    if suggestion is not None:
        message = f"{where}. Did you mean `{suggestion}`?"
        fix = f"Rename `{key}` to `{suggestion}` (list keys are case-sensitive: libcni reads them by exact name)."
    elif go_fold(key) in {go_fold(f) for f in PLUGIN_FIELDS}:
        message = f"{where}: `{key}` is a plugin key, and plugins only see the keys of their own object"
        fix = f"Move `{key}` into the plugin object(s) in `plugins` that should use it."
    else:
        message = f"{where} (dead configuration, or a typo)"
        fix = None
    return UNKNOWN_LIST_KEY.at(path, pointer((key,)), message, fix=fix)


# --- which schema complaints belong to other rule families ------------------------------------


@dataclass(frozen=True)
class Owned:
    """A schema complaint another rule reports: (keywords, location) -> owning code."""

    location: str  # fnmatch pattern over the location (see ``location_of``)
    keywords: FrozenSet[str]  # jsonschema keywords; empty = any keyword
    owner: str
    why: str
    since: str = "0.1.0"  # only for configs declaring this spec version or later


def _owned(location: str, keywords: str, owner: str, why: str, since: str = "0.1.0") -> Owned:
    return Owned(location, frozenset(keywords.split()), owner, why, since)


# Locations are "/"-joined paths with plugin indexes replaced by "*" and a "/" inside a key
# written "~1" (as in a JSON pointer). Patterns match segment by segment (fnmatch per segment);
# a final "**" matches that place and everything below it. A single .conf's own plugin keys are
# under "plugins/*/..." too, but its name/cniVersion are the network's (libcni builds the list
# from them), so they sit at the top like a list's.
OWNED_ELSEWHERE: Tuple[Owned, ...] = (
    _owned("cniVersion", "required", "CNI301", "no cniVersion: no schema is chosen then; listed for completeness"),
    _owned("cniVersion", "type", "CNI109", "libcni refuses a non-string cniVersion (invalid cniVersion type)"),
    _owned(
        "name",
        "required",
        "CNI114/CNI305",
        "a list without name is refused by libcni (CNI114); a .conf without one fails in the plugin (CNI305)",
    ),
    _owned("name", "type", "CNI109", "libcni refuses a non-string name (invalid name type)"),
    _owned("name", "pattern", "CNI304", "the network-name character rule (spec 1.0.0) is CNI304"),
    _owned("cniVersions/**", "", "CNI308", "cniVersions selection and entries are CNI308"),
    _owned(
        "disableCheck",
        "",
        "CNI309/CNI109",
        "a string disableCheck is CNI309; any other non-boolean is refused by libcni",
    ),
    _owned("plugins", "required", "CNI110", "libcni refuses a list without plugins (no 'plugins' key)"),
    _owned("plugins", "type", "CNI109", "libcni refuses a non-array plugins (invalid 'plugins' type)"),
    _owned("plugins", "minItems", "CNI111", "libcni refuses an empty plugins array (no plugins in list)"),
    _owned("plugins/*", "type", "CNI109", "libcni cannot decode a non-object plugin entry"),
    _owned("plugins/*/type", "required", "CNI112", "libcni refuses a plugin without type (missing 'type')"),
    _owned("plugins/*/type", "type", "CNI109", "libcni decodes type into a string field"),
    _owned("plugins/*/type", "minLength pattern", "CNI311", "an empty type or one with path separators is CNI311"),
    _owned(
        "plugins/*/name",
        "",
        "CNI310/CNI109",
        "inside a list the runtime overwrites a plugin's name; libcni decodes it as a string",
    ),
    _owned(
        "plugins/*/cniVersion",
        "",
        "CNI310/CNI109",
        "a plugin-level cniVersion in a list is ignored (CNI310); libcni decodes it as a string",
    ),
    _owned(
        "plugins/*/capabilities/**",
        "",
        "CNI109",
        "libcni decodes capabilities as map[string]bool and refuses anything else",
    ),
    _owned("plugins/*/ipam", "type", "CNI109", "libcni decodes ipam into its IPAM struct"),
    _owned("plugins/*/ipam/type", "type", "CNI109", "libcni decodes ipam.type into a string field"),
    _owned("plugins/*/ipam/type", "pattern", "CNI311", "an ipam type with path separators is CNI311"),
    _owned("plugins/*/dns/**", "", "CNI109", "libcni decodes dns into its DNS struct"),
    _owned("plugins/*/prevResult/**", "", "CNI109", "libcni decodes prevResult as an object"),
    _owned("plugins/*/args/**", "", "CNI307", "args is reserved for the runtime from spec 1.0.0", since="1.0.0"),
    _owned(
        "plugins/*/runtimeConfig/**",
        "",
        "CNI307",
        "runtimeConfig is reserved for the runtime from spec 1.0.0",
        since="1.0.0",
    ),
    _owned("plugins/*/cni.dev~1*/**", "", "CNI307", "cni.dev/* keys are reserved for the runtime (spec 1.0.0)"),
)


def owner_of(location: str, keyword: str, version: str) -> Optional[Owned]:
    """The table row that assigns this complaint to another rule, if any."""
    from ..versions import at_least

    for row in OWNED_ELSEWHERE:
        if row.keywords and keyword not in row.keywords:
            continue
        if location_matches(location, row.location) and at_least(version, row.since):
            return row
    return None


def location_matches(location: str, pattern: str) -> bool:
    """Segment-wise fnmatch; a trailing "**" segment matches any depth (including none)."""
    parts = location.split("/")
    wanted = pattern.split("/")
    if wanted[-1] == "**":
        wanted = wanted[:-1]
        parts = parts[: len(wanted)]
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted))


def location_of(path: Path, kind: str) -> str:
    """A path as used in ``OWNED_ELSEWHERE``: plugin indexes become "*", "/" in a key "~1"."""
    parts = [escape_token(p) for p in path]
    if kind == "plugin":
        if parts[:1] in (["name"], ["cniVersion"]):
            return "/".join(parts)
        parts = ["plugins", "*"] + parts
    elif len(parts) >= 2 and parts[0] == "plugins":
        parts[1] = "*"
    return "/".join(parts)


# --- turning jsonschema errors into findings ---------------------------------------------------

# Plugins of containernetworking/plugins that decode a spec-typed key into a typed Go field and
# so fail the whole ADD when the JSON type is wrong (plugins@v1.9.1; ipMasq: bridge.go:54,
# ptp.go:47, win-overlay_windows.go:41; args: bridge.go:69, tap.go:52, tuning.go:65,
# host-local allocator/config.go:40, static main.go:42; ipam.routes: host-local config.go:50,
# static main.go:48). For other plugins a wrong type is spec deviation only (CNI203).
TYPED_BY_PLUGIN: Mapping[str, FrozenSet[str]] = {
    "ipMasq": frozenset({"bridge", "ptp", "win-overlay"}),
    "args": frozenset({"bridge", "tap", "tuning"}),
}
TYPED_BY_IPAM: Mapping[str, FrozenSet[str]] = {
    "args": frozenset({"host-local", "static"}),
    "ipam.routes": frozenset({"host-local", "static"}),
}
# Plugins whose "failed to load netconf: %v" wrapper we can predict exactly.
NETCONF_WRAPPED = frozenset({"bridge", "ptp", "win-overlay"})

# List booleans libcni >= v1.2.1 reads with readBool (cni@v1.3.0 libcni/conf.go:160-190): a bool,
# or the strings "true"/"false" in any case; anything else refuses the file. Older libcni
# releases do not read these keys at all.
READBOOL_KEYS = ("disableGC", "loadOnlyInlinedPlugins")
_READBOOL_SINCE = {  # loadOnlyInlinedPlugins is read only from v1.3.0 (cni@v1.3.0 libcni/conf.go:195-223)
    "disableGC": "libcni >= v1.2.1 (containerd >= 2.0, CRI-O >= 1.31)",
    "loadOnlyInlinedPlugins": "libcni >= v1.3.0 (containerd >= 2.1, CRI-O >= 1.33)",
}


@dataclass(frozen=True)
class Complaint:
    """One schema error, reduced to what a finding needs."""

    path: Path  # in the prepared instance
    keyword: str
    instance: Any
    schema: Mapping[str, Any]
    detail: str  # jsonschema's message of the most relevant (sub-)error
    missing: Optional[str] = None  # for "required": the absent key


def schema_findings(path: str, instance: Any, renames: Renames, kind: str, version: str) -> List[Finding]:
    """CNI201/CNI203 findings for a document the quick check rejected (imports jsonschema)."""
    out: Dict[Tuple[str, str], Finding] = {}
    for complaint in complaints(instance, kind, version):
        location = location_of(complaint.path + _missing(complaint), kind)
        if owner_of(location, complaint.keyword, version) is not None:
            continue
        finding = to_finding(path, complaint, instance, renames, kind, version)
        out.setdefault((finding.pointer, finding.code), finding)
    return list(out.values())


def _missing(complaint: Complaint) -> Path:
    return (complaint.missing,) if complaint.missing is not None else ()


def complaints(instance: Any, kind: str, version: str) -> List[Complaint]:
    """Top-level errors, most relevant first; for anyOf/oneOf the best sub-error's message."""
    from jsonschema.exceptions import best_match, relevance

    errors: List[ValidationError] = list(schemas.validator(kind, version).iter_errors(instance))
    missing = _required_keys(errors)
    out: List[Complaint] = []
    for error in sorted(errors, key=relevance):  # stable: keeps jsonschema's order among equals
        detail = best_match(error.context).message if error.context else error.message
        out.append(
            Complaint(
                tuple(error.absolute_path),
                str(error.validator),
                error.instance,
                error.schema if isinstance(error.schema, dict) else {},
                detail,
                missing.get(id(error)),
            )
        )
    return out


def _required_keys(errors: Sequence[ValidationError]) -> Dict[int, str]:
    """For each "required" error, the key it is about.

    jsonschema yields one error per absent key, in the order of the keyword's list
    (_keywords.required), so the n-th error at a place is about the n-th absent key there.
    """
    out: Dict[int, str] = {}
    seen: Dict[Path, int] = {}
    for error in errors:
        if error.validator != "required":
            continue
        where = tuple(error.absolute_path)
        present = error.instance if isinstance(error.instance, dict) else {}
        absent = [str(k) for k in error.validator_value if k not in present]
        index = seen.get(where, 0)
        seen[where] = index + 1
        if index < len(absent):
            out[id(error)] = absent[index]
    return out


def to_finding(path: str, complaint: Complaint, instance: Any, renames: Renames, kind: str, version: str) -> Finding:
    ptr = pointer(original_path(complaint.path, renames))
    plugin_type, ipam_type, plugin_name = plugin_context(instance, complaint.path, kind)
    field = field_name(complaint.path + _missing(complaint), kind)
    if complaint.keyword == "required":
        text = f"{describe_place(complaint.path, kind, plugin_type)}: required key `{complaint.missing}` is missing"
    else:
        text = f"{describe_place(complaint.path, kind, plugin_type)}: expected {expected(complaint.schema, complaint.keyword)}, got {json_kind(complaint.instance)}"
    if field in READBOOL_KEYS and complaint.keyword == "type":
        return readbool_finding(path, ptr, field, complaint.instance, text)
    refusing = refusing_plugin(field, plugin_type, ipam_type) if complaint.keyword == "type" else None
    if refusing is None:
        if complaint.keyword not in ("type", "required", "enum", "anyOf"):
            text = f"{text} ({complaint.detail})"
        return SPEC_DEVIATION.at(path, ptr, f"{text}; the spec {version} schema requires this", plugin=plugin_type)
    predicts = netconf_prediction(plugin_type, plugin_name, field, complaint) if refusing == plugin_type else None
    role = "plugin" if refusing == plugin_type else "IPAM plugin"
    message = f"{text}; the {refusing} {role} decodes `{field}` into a typed Go field and refuses the configuration"
    return SCHEMA_VIOLATION.at(path, ptr, message, plugin=plugin_type, predicts=predicts)


def readbool_finding(path: str, ptr: str, field: str, value: Any, text: str) -> Finding:
    """disableGC/loadOnlyInlinedPlugins: a "true"/"false" string works everywhere, anything else
    is refused by libcni >= v1.2.1 (cni@v1.3.0 libcni/conf.go:173,182)."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return SPEC_DEVIATION.at(
            path,
            ptr,
            f'{text}; libcni >= v1.2.1 accepts the string "true"/"false" and older releases ignore `{field}`',
            fix=f'Write `"{field}": {value.lower()}` (a JSON boolean) as the spec says.',
        )
    if isinstance(value, str):
        predicts = f"error parsing configuration list: invalid value {go_quote(value.lower())} for {field}"
    else:
        predicts = f"error parsing configuration list: invalid type {go_type(value)} for {field}"
    return SCHEMA_VIOLATION.at(
        path,
        ptr,
        f"{text}; {_READBOOL_SINCE.get(field, _READBOOL_SINCE['disableGC'])} refuses to load the file",
        predicts=predicts,
        fix=f'Write `"{field}": true` or `false` (a JSON boolean).',
    )


def refusing_plugin(field: Optional[str], plugin_type: Optional[str], ipam_type: Optional[str]) -> Optional[str]:
    """The reference plugin (main or IPAM) that decodes ``field`` into a typed Go field, if any."""
    if field is None:
        return None
    if plugin_type is not None and plugin_type in TYPED_BY_PLUGIN.get(field, frozenset()):
        return plugin_type
    if ipam_type is not None and ipam_type in TYPED_BY_IPAM.get(field, frozenset()):
        return ipam_type
    return None


def netconf_prediction(
    plugin_type: Optional[str], plugin_name: Optional[str], field: Optional[str], complaint: Complaint
) -> Optional[str]:
    """`plugin type="bridge" failed (add): failed to load netconf: json: cannot unmarshal ...`
    (libcni >= v1.0.0 prefix, cni@v1.3.0 libcni/api.go:521 and pluginDescription :615)."""
    if (
        plugin_type not in NETCONF_WRAPPED
        or field != "ipMasq"
        or len(complaint.path) != _plugin_depth(complaint.path) + 1
    ):
        return None
    described = f"type={go_quote(plugin_type or '')}" + (f" name={go_quote(plugin_name)}" if plugin_name else "")
    return (
        f"plugin {described} failed (add): failed to load netconf: json: cannot unmarshal "
        f"{go_json_kind(complaint.instance)} into Go struct field NetConf.ipMasq of type bool"
    )


def _plugin_depth(path: Path) -> int:
    return 2 if path[:1] == ("plugins",) else 0


def plugin_context(instance: Any, path: Path, kind: str) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(type, ipam type, name) of the plugin object ``path`` lies in, if it lies in one."""
    plugin: Any = None
    if kind == "plugin":
        plugin = instance
    elif len(path) >= 2 and path[0] == "plugins" and isinstance(path[1], int):
        plugins = instance.get("plugins") if isinstance(instance, dict) else None
        plugin = plugins[path[1]] if isinstance(plugins, list) and path[1] < len(plugins) else None
    if not isinstance(plugin, dict):
        return None, None, None
    ptype = plugin.get("type") if isinstance(plugin.get("type"), str) else None
    ipam = plugin.get("ipam")
    itype = ipam.get("type") if isinstance(ipam, dict) and isinstance(ipam.get("type"), str) else None
    name = plugin.get("name") if isinstance(plugin.get("name"), str) else None
    return ptype, itype, name


def field_name(path: Path, kind: str) -> Optional[str]:
    """The well-known key a path is about: a list key, a plugin key, or "ipam.routes"."""
    rest = path[_plugin_depth(path) :] if kind == "conflist" else path
    if rest[:2] == ("ipam", "routes"):
        return "ipam.routes"
    return str(rest[0]) if rest and isinstance(rest[0], str) else None


def describe_place(path: Path, kind: str, plugin_type: Optional[str]) -> str:
    """`ipMasq` of plugins[0] (type "bridge")  /  list key `disableGC`."""
    depth = _plugin_depth(path) if kind == "conflist" else 0
    inner = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path[depth:]).replace(".[", "[")
    if kind == "conflist" and depth == 0:
        return f"list key `{inner}`"
    owner = f"plugins[{path[1]}]" if depth else "the plugin object"
    kind_text = f" (type {go_quote(plugin_type)})" if plugin_type else ""
    return f"`{inner}` of {owner}{kind_text}" if inner else f"{owner}{kind_text}"


def expected(schema: Mapping[str, Any], keyword: str) -> str:
    """What the schema wanted, in words."""
    if keyword == "anyOf":
        return " or ".join(
            expected(sub, next(iter(k for k in sub if k in ("type", "enum")), "type"))
            for sub in schema.get("anyOf", ())
        )
    if keyword == "enum" or "enum" in schema:
        return "one of " + ", ".join(go_quote(v) for v in schema.get("enum", ()))
    if keyword == "type" or "type" in schema:
        return _ARTICLE.get(str(schema.get("type")), str(schema.get("type")))
    if keyword == "minLength":
        return "a non-empty string"
    if keyword == "minItems":
        return "a non-empty array"
    if keyword == "pattern":
        return f"a string matching {schema.get('pattern')}"
    return f"a value satisfying `{keyword}`"


_ARTICLE = {"object": "an object", "array": "an array", "string": "a string", "boolean": "a boolean (true/false)"}


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {go_quote(shown)}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


__all__ = ["OWNED_ELSEWHERE", "prepare", "validate"]
