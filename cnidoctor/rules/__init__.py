"""The rule catalog: an explicit list of rule families, assembled on first use.

Code ranges (permanent; a retired code is never reused):
  CNI0xx discovery and selection of config files (rules/discovery.py)
  CNI1xx JSON syntax and libcni load errors        (rules/syntax.py)
  CNI2xx per-version JSON Schema                   (rules/schema.py)
  CNI3xx static semantics: versions, names, keys, chains (rules/semantics.py)
  CNI4xx plugin binaries: resolution and exec      (rules/binaries.py)
  CNI50x VERSION probe replies                     (rules/probe.py)
  CNI51x+ version cross-checks, runtime library    (rules/skew.py)
  CNI9xx cnidoctor's own configuration             (rules/tool.py)
"""

from __future__ import annotations

import functools
import re
from typing import Mapping, Tuple

from ..model import Rule
from . import binaries, schema, semantics, skew, syntax, tool
from . import directory as discovery
from . import replies as probe

FAMILIES: Tuple[Tuple[Rule, ...], ...] = (
    discovery.RULES,
    syntax.RULES,
    schema.RULES,
    semantics.RULES,
    binaries.RULES,
    probe.RULES,
    skew.RULES,
    tool.RULES,
)

CODE_PATTERN = re.compile(r"^CNI\d{3}$")


@functools.cache
def catalog() -> Mapping[str, Rule]:
    """All rules by code, in code order. Raises on a duplicate code or name (a programming error)."""
    rules: dict[str, Rule] = {}
    names: set[str] = set()
    for family in FAMILIES:
        for rule in family:
            if rule.code in rules or rule.name in names:
                raise RuntimeError(f"duplicate rule {rule.code} {rule.name}")
            rules[rule.code] = rule
            names.add(rule.name)
    return dict(sorted(rules.items()))


def get(code: str) -> Rule:
    """The rule for ``code`` (case-insensitive); KeyError if unknown."""
    return catalog()[code.upper()]
