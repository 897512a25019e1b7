"""gojson: Go's encoding/json behaviour (texts from go/src/encoding/json/scanner.go and decode.go,
expected values derived from those sources, not from this module's output)."""

from __future__ import annotations

from typing import Any

import pytest

from cnidoctor import gojson
from cnidoctor.gojson import GoField, GoSyntaxError, GoType, Locator


def go_error(data: bytes) -> GoSyntaxError:
    with pytest.raises(GoSyntaxError) as info:
        gojson.decode(data)
    return info.value


# scanner.go: s.error(c, context) -> "invalid character " + quoteChar(c) + " " + context;
# at EOF scanner.eof() steps one ' ', so states that reject a space name ' '.
@pytest.mark.parametrize(
    "data, message, offset",
    [
        (b'{"a": 1,}', "invalid character '}' looking for beginning of object key string", 8),
        (b"[1, 2,]", "invalid character ']' looking for beginning of value", 6),
        (b'{"a" 1}', "invalid character '1' after object key", 5),
        (b'{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair", 8),
        (b"[1 2]", "invalid character '2' after array element", 3),
        (b"{} {}", "invalid character '{' after top-level value", 3),
        (b"// x\n{}", "invalid character '/' looking for beginning of value", 0),
        (b'{"a": NaN}', "invalid character 'N' looking for beginning of value", 6),
        (b'{"a": -Infinity}', "invalid character 'I' in numeric literal", 7),
        (b'{"a": "x\ty"}', "invalid character '\\t' in string literal", 8),
        (b'{"a": "\\x"}', "invalid character 'x' in string escape code", 8),
        (b'{"a": "\\u00zz"}', "invalid character 'z' in \\u hexadecimal character escape", 11),
        (b'{"a": tru}', "invalid character '}' in literal true (expecting 'e')", 9),
        (b'{"a": nul}', "invalid character '}' in literal null (expecting 'l')", 9),
        (b'{"a": fals}', "invalid character '}' in literal false (expecting 'e')", 10),
        (b'{"a": 1.}', "invalid character '}' after decimal point in numeric literal", 8),
        (b'{"a": 1e}', "invalid character '}' in exponent of numeric literal", 8),
        (b'{"a": 01}', "invalid character '1' after object key:value pair", 7),
        (b"{'a': 1}", "invalid character '\\'' looking for beginning of object key string", 1),
        (b"", "unexpected end of JSON input", 0),
        (b'{"a": [1, 2', "unexpected end of JSON input", 11),
        (b'{"a": "abc', "unexpected end of JSON input", 10),
        (b'{"a": -', "invalid character ' ' in numeric literal", 7),
        (b'{"a": 1.', "invalid character ' ' after decimal point in numeric literal", 8),
        (b'{"a": t', "invalid character ' ' in literal true (expecting 'r')", 7),
        (b'{"a": "\\', "invalid character ' ' in string escape code", 8),
        (b"\x00", "invalid character '\\x00' looking for beginning of value", 0),
        (b"\x80{}", "invalid character '\\u0080' looking for beginning of value", 0),
        (b"\xc3\xa9", "invalid character '\u00c3' looking for beginning of value", 0),
    ],
)
def test_go_syntax_error_texts(data: bytes, message: str, offset: int) -> None:
    err = go_error(data)
    assert (err.message, err.offset) == (message, offset)


def test_bom_is_not_skipped() -> None:
    # Go reads byte 0xEF as rune U+00EF 'ï' (quoteChar: string(c) of a byte).
    err = go_error(b'\xef\xbb\xbf{"a": 1}')
    assert err.message == "invalid character '\u00ef' looking for beginning of value"
    assert err.offset == 0


def test_accepts_what_go_accepts() -> None:
    assert gojson.decode(b' \t\r\n{"a": [1, -0, 1.5e3, true, false, null, "\\u00e9"]} \n').value == {
        "a": [1, 0, 1500.0, True, False, None, "\u00e9"]
    }


def test_depth_limit_is_exactly_10000() -> None:
    ok = b"[" * 10000 + b"]" * 10000
    value: Any = gojson.decode(ok).value
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == 9999  # 10000 arrays, the innermost empty
    err = go_error(b"[" * 10001 + b"]" * 10001)
    assert (err.message, err.offset) == ("invalid character '[' exceeded max depth", 10000)


def test_depth_100000_does_not_crash() -> None:
    err = go_error(b'{"a":' * 100000 + b"1" + b"}" * 100000)
    assert err.message == "invalid character '{' exceeded max depth"


def test_deep_but_allowed_document_is_decoded_iteratively() -> None:
    data = b'{"x": ' + b"[" * 5000 + b'"leaf"' + b"]" * 5000 + b"}"
    decoded = gojson.decode(data)
    assert isinstance(decoded.value["x"], list)


def test_duplicate_keys_last_value_wins() -> None:
    decoded = gojson.decode(b'{"v": "0.2.0", "n": 1, "v": "0.3.1"}')
    assert decoded.duplicates
    assert decoded.value["v"] == "0.3.1"
    assert list(gojson.members(decoded.value)) == [("v", "0.2.0"), ("n", 1), ("v", "0.3.1")]
    result = gojson.scan(b'{"v": "0.2.0", "n": 1, "v": "0.3.1"}')
    assert result.duplicates == [("/v", 1, 23)]


def test_invalid_utf8_in_strings_becomes_one_replacement_per_byte() -> None:
    # decode.go unquote: utf8.DecodeRune returns (RuneError, 1) for each invalid byte.
    decoded = gojson.decode(b'{"name": "r\xe9seau", "x": "\xe2\x82"}')
    assert decoded.invalid_utf8
    assert decoded.value == {"name": "r\ufffdseau", "x": "\ufffd\ufffd"}
    assert gojson.scan(b'{"name": "r\xe9seau"}').invalid_utf8 == ["/name"]


def test_lone_surrogate_escape_becomes_replacement_character() -> None:
    assert gojson.decode(b'["\\ud800", "\\ud83d\\ude00"]').value == ["\ufffd", "\U0001f600"]


def test_float64_overflow_is_reported_not_accepted() -> None:
    decoded = gojson.decode(b'{"a": {"mtu": 1e999}}')
    assert decoded.overflow == "1e999"
    assert gojson.scan(b'{"a": {"mtu": 1e999}}').overflow == ("/a/mtu", "1e999")
    assert gojson.decode(b'{"a": 1e308}').overflow is None


def test_huge_integer_literal_does_not_crash() -> None:
    decoded = gojson.decode(b"[" + b"9" * 5000 + b"]")
    assert decoded.overflow == "9" * 5000


@pytest.mark.parametrize(
    "value, name",
    [
        (None, "<nil>"),
        (True, "bool"),
        (1, "float64"),
        (1.5, "float64"),
        ("x", "string"),
        ([], "[]interface {}"),
        ({}, "map[string]interface {}"),
    ],
)
def test_go_type_names(value: Any, name: str) -> None:
    assert gojson.go_type_name(value) == name


def test_pointer_escaping() -> None:
    assert gojson.pointer_join("/a", "cni.dev/valid~x") == "/a/cni.dev~1valid~0x"
    assert gojson.pointer_tokens("/a/cni.dev~1valid~0x") == ["a", "cni.dev/valid~x"]


DOC = b"""{
  "cniVersion": "1.0.0",
  "name": "n\xc3\xa9t",
  "plugins": [
    {"type": "bridge", "ipam": {"type": "host-local"}},
\t{"type": "portmap", "a/b": 1}
  ]
}
"""


@pytest.mark.parametrize(
    "pointer, position",
    [
        ("", (1, 1)),
        ("/cniVersion", (2, 3)),
        ("/plugins", (4, 3)),
        ("/plugins/0", (5, 5)),
        ("/plugins/0/ipam/type", (5, 33)),
        ("/plugins/1", (6, 2)),  # a tab counts as one column
        ("/plugins/1/a~1b", (6, 22)),
        ("/plugins/0/ipam/ranges/0", (5, 24)),  # missing: nearest existing ancestor (/plugins/0/ipam)
        ("/nothere", (1, 1)),
    ],
)
def test_locator(pointer: str, position: tuple) -> None:
    assert Locator(DOC)(pointer) == position


def test_columns_count_characters_not_bytes() -> None:
    data = '{"name": "h\u00e9h\u00e9", "x": 1}'.encode()
    assert Locator(data)("/x") == (1, 18)  # 20 if counted in bytes


def test_duplicate_key_locates_the_value_go_keeps() -> None:
    data = b'{\n "ipam": {"type": "a", "x": 1},\n "ipam": {"type": "b"}\n}'
    locate = Locator(data)
    assert locate("/ipam") == (3, 2)
    assert locate("/ipam/x") == (3, 2)  # only existed in the discarded first value


NETCONF_LIKE = GoType(
    "struct",
    "types.NetConf",
    fields=(
        GoField("type", GoType("string", "string")),
        GoField("capabilities", GoType("map", "map[string]bool", elem=GoType("bool", "bool"))),
        GoField(
            "ipam",
            GoType("struct", "types.IPAM", fields=(GoField("type", GoType("string", "string")),), struct_name="IPAM"),
        ),
    ),
    struct_name="NetConf",
)


def test_struct_fields_match_case_insensitively_and_later_wins() -> None:
    decoded = gojson.decode(b'{"type": "a", "TYPE": "b", "Ipam": {"TyPe": "x"}}').value
    result = gojson.unmarshal(decoded, NETCONF_LIKE)
    assert result.error is None
    assert result.value == {"type": "b", "ipam": {"type": "x"}}
    assert result.folded == [("/TYPE", "type"), ("/Ipam", "ipam"), ("/Ipam/TyPe", "type")]


def test_struct_fold_includes_kelvin_and_long_s() -> None:
    # fold.go: U+212A KELVIN SIGN folds with k, U+017F LONG S with s.
    result = gojson.unmarshal(
        {"\u017fype": "x"},
        GoType("struct", "T", fields=(GoField("sype", GoType("string", "string")),), struct_name="T"),
    )
    assert result.value == {"sype": "x"}


def test_struct_sorted_keys_model_remarshalled_maps() -> None:
    # json.Marshal(map) sorts keys: "Type" < "type", so the exact "type" comes last and wins.
    result = gojson.unmarshal({"type": "a", "Type": "b"}, NETCONF_LIKE, sort_keys=True)
    assert result.value["type"] == "a"
    result = gojson.unmarshal({"type": "a", "Type": "b"}, NETCONF_LIKE, sort_keys=False)
    assert result.value["type"] == "b"


@pytest.mark.parametrize(
    "value, error, pointer",
    [
        (
            {"capabilities": {"portMappings": "true"}},
            "json: cannot unmarshal string into Go struct field NetConf.capabilities of type bool",
            "/capabilities/portMappings",
        ),
        (
            {"ipam": "host-local"},
            "json: cannot unmarshal string into Go struct field NetConf.ipam of type types.IPAM",
            "/ipam",
        ),
        (
            {"ipam": {"type": 1}},
            "json: cannot unmarshal number into Go struct field IPAM.ipam.type of type string",
            "/ipam/type",
        ),
        ({"type": ["a"]}, "json: cannot unmarshal array into Go struct field NetConf.type of type string", "/type"),
        (
            {"capabilities": []},
            "json: cannot unmarshal array into Go struct field NetConf.capabilities of type map[string]bool",
            "/capabilities",
        ),
        ("bridge", "json: cannot unmarshal string into Go value of type types.NetConf", ""),
    ],
)
def test_struct_type_errors(value: Any, error: str, pointer: str) -> None:
    result = gojson.unmarshal(value, NETCONF_LIKE)
    assert (result.error, result.error_pointer) == (error, pointer)


def test_struct_null_leaves_fields_unchanged_and_first_error_wins() -> None:
    result = gojson.unmarshal({"type": "a", "TYPE": None}, NETCONF_LIKE)
    assert result.value["type"] == "a"
    result = gojson.unmarshal({"type": 1, "ipam": 2}, NETCONF_LIKE)
    assert result.error_pointer == "/type"


# --- field_members: the one model of which keys fill a struct field ------------------------------


def test_field_members_are_every_case_variant_in_document_order() -> None:
    # The real host-local v1.1.1, fed this ipam object directly (CNI_COMMAND=DEL), fails with
    # "invalid range set 0: Network 10.0.0.0/31 too small to allocate from": both keys fill
    # Subnet, the last one in the bytes wins.
    doc = gojson.decode(b'{"subnet": "10.0.0.0/24", "type": "host-local", "Subnet": "10.0.0.0/31"}').value
    assert gojson.field_members(doc, "subnet") == (("subnet", "10.0.0.0/24"), ("Subnet", "10.0.0.0/31"))
    assert gojson.field_key(doc, "subnet") == "Subnet"
    assert gojson.field_value(doc, "subnet") == "10.0.0.0/31"


def test_field_members_keep_repeated_keys_in_document_order() -> None:
    doc = gojson.decode(b'{"type": "a", "TYPE": "b", "type": "c"}').value
    assert gojson.field_members(doc, "type") == (("type", "a"), ("TYPE", "b"), ("type", "c"))


def test_field_members_after_libcni_are_sorted_and_deduplicated() -> None:
    # libcni re-marshals every plugin object from a map (keys once, sorted): through the real
    # libcni 1.1.2 the host-local object above gets 10.0.0.2/24 (differential test, fixture
    # fields-host-local-subnet-case-variants), because "Subnet" < "subnet".
    doc = gojson.decode(b'{"subnet": "10.0.0.0/24", "Subnet": "10.0.0.0/31", "subnet": "10.1.0.0/24"}').value
    assert gojson.field_members(doc, "subnet", sort_keys=True) == (("Subnet", "10.0.0.0/31"), ("subnet", "10.1.0.0/24"))
    # an exact spelling is not preferred: "rangeStart" < "rangestart", so the variant wins
    doc = {"rangeStart": "10.0.0.10", "rangestart": "10.9.0.10"}
    assert gojson.field_key(doc, "rangeStart", sort_keys=True) == "rangestart"


def test_field_members_fold_like_go() -> None:
    doc = {"\u212aey": 1, "key": 2, "kez": 3, "k\u00e9y": 4}
    assert gojson.field_members(doc, "KEY") == (("\u212aey", 1), ("key", 2))
    assert gojson.field_value({}, "key") is None and gojson.field_key({}, "key") is None


def test_field_members_agree_with_struct_decoding() -> None:
    for raw in (b'{"TYPE": "a", "type": "b"}', b'{"type": "b", "Type": "a", "tYPE": "c"}', b'{"Type": "a"}'):
        doc = gojson.decode(raw).value
        for sort_keys in (False, True):
            decoded = gojson.unmarshal(doc, NETCONF_LIKE, sort_keys=sort_keys).value
            assert decoded["type"] == gojson.field_value(doc, "type", sort_keys), (raw, sort_keys)
