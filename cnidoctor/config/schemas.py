"""The per-version CNI configuration JSON Schemas: ``schemas/<version>/`` at the repository top.

They are the published artefact (editors and ``check-jsonschema --schemafile`` use them from a
clone) and package data of ``cnidoctor`` as ``cnidoctor/_schemas/``, a relative symlink to
``../schemas`` that setuptools resolves when it builds the wheel (setup.cfg says why). So every
read below goes to the installed package, wheel or editable, never to a path outside it.

Two kinds per spec version: ``conflist`` (a network configuration list) and ``plugin`` (one
plugin configuration object, which is also what a single ``.conf`` file holds). ``index.json``
lists every file with its ``$id``, version, kind, sha256 and the spec/libcni text it follows.

Start-up matters (``cnidoctor check`` must stay well under 150 ms), so nothing heavy is
imported here: a schema is read on first use, ``jsonschema`` is imported only when a full
validator is first needed, and both are cached per (kind, version). ``quick_check`` is a
small interpreter for exactly the keywords these schemas use; the validate stage runs it
first and calls ``jsonschema`` only for a document it rejects, so a clean file never pays
for importing ``jsonschema`` (tests/test_schemas.py checks that both always agree).
"""

from __future__ import annotations

import functools
import json
import os
import re
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Sequence, Set, Tuple

from ..versions import SPEC_VERSIONS

if TYPE_CHECKING:  # pragma: no cover - typing only; jsonschema is imported lazily at run time
    from jsonschema.protocols import Validator

KINDS: Tuple[str, ...] = ("conflist", "plugin")
SCHEMA_DIR = "_schemas"  # inside the cnidoctor package

Check = Callable[[Any], bool]


class UnsupportedSchema(ValueError):
    """A schema uses a keyword ``quick_check`` does not interpret (a programming error)."""


def has_schema(version: str) -> bool:
    """True for the exact spec version strings we ship schemas for ("1.0" is not one)."""
    return version in SPEC_VERSIONS


def schema_path(kind: str, version: str) -> str:
    """Path of a schema relative to the ``cnidoctor`` package, e.g. ``_schemas/1.0.0/conflist.schema.json``."""
    if kind not in KINDS or not has_schema(version):
        raise KeyError(f"no {kind!r} schema for CNI version {version!r}")
    return f"{SCHEMA_DIR}/{version}/{kind}.schema.json"


def read_resource(relative: str) -> bytes:
    """Bytes of a data file inside the installed ``cnidoctor`` package (wheel, sdist or editable).

    When the package is a plain directory (every pip install) the file is read directly:
    importing ``importlib.resources`` costs ~7 ms of start-up, which is 5% of the budget.
    Anything else (a zip import, a custom loader) goes through ``importlib.resources``.
    """
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # cnidoctor/
    candidate = os.path.join(package_dir, *relative.split("/"))
    if os.path.isfile(candidate):
        with open(candidate, "rb") as handle:
            return handle.read()
    return read_packaged(relative)


def read_packaged(relative: str) -> bytes:
    """The same bytes through ``importlib.resources`` (works for zipped packages too)."""
    from importlib import resources  # lazy: only for packages that are not plain directories

    node = resources.files("cnidoctor")
    for part in relative.split("/"):
        node = node.joinpath(part)
    return node.read_bytes()


@functools.cache
def load_schema(kind: str, version: str) -> Mapping[str, Any]:
    """The decoded schema for ``kind`` at spec ``version`` (read once)."""
    loaded: Mapping[str, Any] = json.loads(read_resource(schema_path(kind, version)))
    return loaded


@functools.cache
def load_index() -> Mapping[str, Any]:
    """``schemas/index.json``: one entry per shipped schema (paths relative to it)."""
    loaded: Mapping[str, Any] = json.loads(read_resource(f"{SCHEMA_DIR}/index.json"))
    return loaded


@functools.cache
def validator(kind: str, version: str) -> Validator:
    """A compiled Draft 2020-12 validator, built once per (kind, version)."""
    from jsonschema import Draft202012Validator  # lazy: ~80 ms of imports, only on a rejected file

    return Draft202012Validator(load_schema(kind, version))


@functools.cache
def quick_check(kind: str, version: str) -> Check:
    """A predicate that is True exactly when ``validator(kind, version)`` finds no error."""
    schema = load_schema(kind, version)
    return _Compiler(schema).compile(schema)


# --- quick_check: a tiny interpreter for the keyword subset our schemas use -------------------

# Keywords that never affect validity (annotations and containers resolved via $ref).
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "deprecated"}
)

# JSON Schema type name -> Python type, as jsonschema's default Draft 2020-12 type checker
# decides it for these four (exact isinstance; bool is not an integer here because we never
# use "integer"/"number" - compile() refuses them rather than risk a subtle mismatch).
_TYPES: Mapping[str, type] = {"object": dict, "array": list, "string": str, "boolean": bool}


class _Compiler:
    """Turns a schema into nested closures; refuses any keyword it does not implement exactly."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: Dict[str, Check] = {}
        self.active: Set[str] = set()

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"schema must be an object or boolean: {schema!r}")
        checks: List[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            build = getattr(self, "_kw_" + keyword.lstrip("$"), None)
            if build is None:
                raise UnsupportedSchema(f"quick_check does not implement {keyword!r}")
            checks.append(build(value, schema))
        return _all_of(checks)

    def _kw_ref(self, ref: str, _schema: Mapping[str, Any]) -> Check:
        if not ref.startswith("#/$defs/") or "/" in ref[len("#/$defs/") :]:
            raise UnsupportedSchema(f"only local #/$defs/<name> references are supported: {ref!r}")
        if ref in self.active:
            raise UnsupportedSchema(f"recursive reference {ref!r} is not implemented")
        if ref not in self.refs:
            self.active.add(ref)
            self.refs[ref] = self.compile(self.root["$defs"][ref[len("#/$defs/") :]])
            self.active.discard(ref)
        return self.refs[ref]

    def _kw_type(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        unknown = [n for n in names if n not in _TYPES]
        if unknown:
            raise UnsupportedSchema(f"quick_check does not implement type {unknown!r}")
        classes = tuple(_TYPES[n] for n in names)
        return lambda x: isinstance(x, classes)

    def _kw_properties(self, value: Mapping[str, Any], _schema: Mapping[str, Any]) -> Check:
        subs = tuple((key, self.compile(sub)) for key, sub in value.items())

        def check(x: Any) -> bool:
            if isinstance(x, dict):
                for key, sub in subs:  # plain loops: ~2x faster than all(<genexpr>) here
                    if key in x and not sub(x[key]):
                        return False
            return True

        return check

    def _kw_required(self, value: Sequence[str], _schema: Mapping[str, Any]) -> Check:
        keys = tuple(value)

        def check(x: Any) -> bool:
            if isinstance(x, dict):
                for key in keys:
                    if key not in x:
                        return False
            return True

        return check

    def _kw_additionalProperties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise UnsupportedSchema("additionalProperties with patternProperties is not implemented")
        known = frozenset(schema.get("properties", {}))
        if value is True:
            return _always
        sub = self.compile(value)

        def check(x: Any) -> bool:
            if isinstance(x, dict):
                for key, item in x.items():
                    if key not in known and not sub(item):
                        return False
            return True

        return check

    def _kw_items(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        sub = self.compile(value)

        def check(x: Any) -> bool:
            if isinstance(x, list):
                for item in x:
                    if not sub(item):
                        return False
            return True

        return check

    def _kw_minItems(self, value: int, _schema: Mapping[str, Any]) -> Check:
        return lambda x: not isinstance(x, list) or len(x) >= value

    def _kw_minLength(self, value: int, _schema: Mapping[str, Any]) -> Check:
        # jsonschema counts code points, as len() on a Python str does.
        return lambda x: not isinstance(x, str) or len(x) >= value

    def _kw_pattern(self, value: str, _schema: Mapping[str, Any]) -> Check:
        # jsonschema applies re.search (unanchored) with Python's re; so do we.
        regex = re.compile(value)
        return lambda x: not isinstance(x, str) or regex.search(x) is not None

    def _kw_enum(self, value: Sequence[Any], _schema: Mapping[str, Any]) -> Check:
        if not all(isinstance(v, str) for v in value):
            raise UnsupportedSchema("quick_check implements enum of strings only")
        # jsonschema's equality for a string operand is plain ==, and a non-string never equals one.
        allowed = tuple(value)
        return lambda x: isinstance(x, str) and x in allowed

    def _kw_anyOf(self, value: Sequence[Any], _schema: Mapping[str, Any]) -> Check:
        subs = tuple(self.compile(sub) for sub in value)

        def check(x: Any) -> bool:
            for sub in subs:  # noqa: SIM110 - any(<genexpr>) builds a generator per call
                if sub(x):
                    return True
            return False

        return check


def _always(_x: Any) -> bool:
    return True


def _never(_x: Any) -> bool:
    return False


def _all_of(checks: List[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def check_all(x: Any) -> bool:
        for check in frozen:  # noqa: SIM110 - all(<genexpr>) made a generator per schema node
            if not check(x):
                return False
        return True

    return check_all


@functools.cache
def any_version_list_keys() -> Tuple[str, ...]:
    """Every list-level key some spec version defines, in a stable order."""
    seen: Dict[str, None] = {}
    for version in SPEC_VERSIONS:
        seen.update(dict.fromkeys(load_schema("conflist", version)["properties"]))
    return tuple(seen)
