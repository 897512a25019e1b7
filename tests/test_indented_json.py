"""report/indented.dumps must be json.dumps(value, indent=2, ensure_ascii=False) byte for byte."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cnidoctor.report import indented

SAMPLES: list = [
    None,
    True,
    False,
    0,
    -17,
    10**30,
    1.5,
    -0.0,
    1e300,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    'quote " backslash \\ tab \t newline \n nul \x00 del \x7f',
    "non-ASCII é ✓ \U0001f600 lone surrogate \ud800",
    [],
    {},
    [[]],
    {"a": {}},
    (1, "two", (3,)),
    {"findings": [{"code": "CNI007", "line": 3, "column": None, "fix": ""}], "summary": {"error": 0}},
    [{"deep": [[{"x": [1, [2, [3, {"y": []}]]]}]]}],
]


@pytest.mark.parametrize("value", SAMPLES, ids=range(len(SAMPLES)))
def test_same_bytes_as_json_dumps(value: Any) -> None:
    assert indented.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("key", [1, 2.5, True, None])
def test_keys_json_converts_are_left_to_json(key: Any) -> None:
    value = {"a": 1, key: [key]}
    assert indented.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_unknown_types_raise_as_json_does() -> None:
    with pytest.raises(TypeError):
        indented.dumps({"a": {1, 2}})


def test_random_documents() -> None:
    rng = random.Random(11)

    def make(depth: int) -> Any:
        pick = rng.randrange(8 if depth < 5 else 5)
        if pick == 0:
            return rng.choice([None, True, False])
        if pick == 1:
            return rng.randrange(-(10**6), 10**6)
        if pick == 2:
            return rng.uniform(-1e6, 1e6)
        if pick in (3, 4):
            return "".join(chr(rng.choice([rng.randrange(0, 0x80), rng.randrange(0x80, 0x3000)])) for _ in range(6))
        if pick == 5:
            return [make(depth + 1) for _ in range(rng.randrange(4))]
        return {make_key(): make(depth + 1) for _ in range(rng.randrange(4))}

    def make_key() -> str:
        return "".join(chr(rng.randrange(0x20, 0x250)) for _ in range(rng.randrange(1, 5)))

    for _ in range(300):
        value = make(0)
        assert indented.dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)
