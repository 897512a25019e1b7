"""The per-file pipeline's fast paths against the straightforward code they replace.

Each fast path must give exactly what the slow definition gives, for any input: the slow
definitions are restated here (as they were written before the fast paths) and compared on
generated objects whose keys collide under Go's case folding (encoding/json foldName: ASCII
case, U+017F long s -> S, U+212A Kelvin -> K), and on whole generated config directories
run serially and through the worker pool.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Tuple

from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from cnidoctor import engine, gojson
from cnidoctor.config import discover, netconf
from cnidoctor.config import validate as V

# Keys that fold onto the netconf fields and each other, plus some that only look similar.
KEY_PARTS = (
    "type",
    "TYPE",
    "Type",
    "tYPE",
    "name",
    "NAME",
    "ipam",
    "IPAM",
    "dns",
    "ſ",
    "K",
    "k",
    "\u212a",
    "s",
    "S",
    "é",
    "",
)
FIELDS = (*V.PLUGIN_FIELDS, *V.NESTED_FIELDS["dns"], "KEY", "S", "subnet")

keys = st.sampled_from(KEY_PARTS) | st.lists(st.sampled_from(KEY_PARTS), min_size=2, max_size=2).map("".join)
values = st.one_of(st.integers(), st.text(max_size=3), st.none())


def slow_field_members(obj: Mapping[str, Any], field: str, sort_keys: bool) -> Tuple[Tuple[str, Any], ...]:
    """gojson.field_members as first written: fold every member (all of them sorted first when
    the object was re-marshalled by libcni)."""
    wanted = gojson.fold_key(field)
    ordered = sorted(obj.items()) if sort_keys else gojson.members(obj)
    return tuple((k, v) for k, v in ordered if isinstance(k, str) and gojson.fold_key(k) == wanted)


def slow_canonical_keys(obj: Mapping[str, Any], fields: Tuple[str, ...]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for field in fields:
        found = slow_field_members(obj, field, sort_keys=True)
        key: Optional[str] = found[-1][0] if found else None
        if key is not None and key != field:
            out[field] = key
    return out


def decoded(pairs: List[Tuple[str, Any]]) -> Any:
    """The object as the parse stage holds it: gojson.decode of its text, so repeated keys give
    a DuplicateKeyDict whose ``pairs`` keep every member."""
    text = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"
    return gojson.decode(text.encode()).value


@settings(max_examples=200)
@given(st.lists(st.tuples(keys, values), min_size=2, max_size=10))
def test_field_members_equals_the_slow_definition(pairs: List[Tuple[str, Any]]) -> None:
    for members in (pairs, pairs[::-1]):  # both orders: sorting must not depend on document order
        obj = decoded(members)
        for field in (*FIELDS, *KEY_PARTS, *(k for k, _ in members)):
            for sort_keys in (False, True):
                assert gojson.field_members(obj, field, sort_keys) == slow_field_members(obj, field, sort_keys)


@settings(max_examples=200)
@given(st.lists(st.tuples(keys, values), min_size=2, max_size=10))
def test_one_grouping_answers_every_field_as_the_slow_definition(pairs: List[Tuple[str, Any]]) -> None:
    """gojson.Fields built once answers members/key/value for every field as a fresh fold of
    the whole object would, and the shared groupings (netconf.SharedLookups) too."""
    obj = decoded(pairs)
    for sort_keys in (False, True):
        fields = gojson.Fields(obj, sort_keys)
        for field in (*FIELDS, *KEY_PARTS, *(k for k, _ in pairs)):
            slow = slow_field_members(obj, field, sort_keys)
            assert fields.members(field) == slow
            assert fields.key(field) == (slow[-1][0] if slow else None)
            assert fields.value(field) == (slow[-1][1] if slow else None)
    with netconf.SharedLookups():
        for field in (*FIELDS, *(k for k, _ in pairs)):
            slow = slow_field_members(obj, field, sort_keys=True)
            assert netconf.go_key(obj, field) == (slow[-1][0] if slow else None)
            assert netconf.plugin_fields(obj) is netconf.plugin_fields(obj)


def test_shared_groupings_end_with_their_block() -> None:
    """Outside a block every lookup groups the object afresh (a changed object is read as it
    is now); an inner block keeps the outer one's groupings."""
    obj = {"type": "bridge"}
    with netconf.SharedLookups():
        first = netconf.plugin_fields(obj)
        with netconf.SharedLookups():
            assert netconf.plugin_fields(obj) is first
        assert netconf.plugin_fields(obj) is first
    obj["Type"] = "ptp"  # sorted, "Type" < "type": Go's field keeps "type"'s value
    obj["type"] = "macvlan"
    assert netconf.plugin_fields(obj) is not first
    assert netconf.go_key(obj, "type") == "type"
    assert netconf.plugin_fields(obj).members("type") == (("Type", "ptp"), ("type", "macvlan"))


@settings(max_examples=200)
@given(st.lists(st.tuples(keys, values), min_size=2, max_size=10))
def test_canonical_keys_equals_one_field_lookup_per_field(pairs: List[Tuple[str, Any]]) -> None:
    for obj in (decoded(pairs), decoded(pairs[::-1])):
        for fields in (V.PLUGIN_FIELDS, *V.NESTED_FIELDS.values(), V.ROUTE_FIELDS, V.ATTACHMENT_FIELDS, FIELDS):
            fast = V.canonical_keys(obj, fields)
            slow = slow_canonical_keys(obj, fields)
            assert fast == slow
            assert list(fast) == list(slow)  # same order too: it decides the renamed object's key order


def test_canonical_keys_take_the_last_sorted_variant() -> None:
    """By hand: sorted, the keys are "S" < "TYPE" < "type" < "ſ" (U+017F); the last variant of
    each field wins, and a field whose last variant is its own spelling needs no renaming."""
    obj = decoded([("type", 1), ("TYPE", 2), ("ſ", 3), ("S", 4)])
    assert V.canonical_keys(obj, ("type", "s", "TYPE")) == {"s": "ſ", "TYPE": "type"}
    assert gojson.field_members(obj, "s", sort_keys=True) == (("S", 4), ("ſ", 3))


def test_the_worker_pool_gives_what_the_serial_loop_gives() -> None:
    """Every fixture's config files (broken ones included: syntax errors, templates, binary
    files, unreadable entries, nesting too deep to pickle) analysed by the fork pool and
    serially: the same findings, in the same order, and per_file gives the same parsed files
    and findings either way."""
    paths = sorted(str(p) for p in FIXTURES.rglob("*") if p.is_dir() and not p.is_symlink())
    candidates = discover.discover(tuple(paths)).candidates
    assert len(candidates) > 200
    parsed = [engine.parse.parse(c) for c in candidates]
    pooled = engine._in_workers(parsed, 2)
    assert pooled is not None
    serial = [(p, engine.analyse_one(p)) for p in (engine.parse.parse(c) for c in candidates)]
    assert pooled == [found for _, found in serial]
    assert [p.findings for p in parsed] == [p.findings for p, _ in serial]
