"""The rule catalog: an explicit list of rule families, assembled on first use.

Each family carries its permanent code range and the tag reporters give its rules (SARIF
``properties.tags``); a retired code is never reused. The families, in code order:
"""

from __future__ import annotations

import functools
import re
from typing import Mapping, Tuple

from ..frozen import dataclass
from ..model import Rule


@dataclass(frozen=True)
class Family:
    """A module of rules: ``prefix`` is the code range every rule's code starts with (CNI0 =
    CNI000-CNI099), ``tag`` what reporters call the family."""

    name: str
    prefix: str
    tag: str
    rules: Tuple[Rule, ...]


@functools.cache
def families() -> Tuple[Family, ...]:
    """The families in code order. Assembled on first use, so that a stage importing one family's
    rules (config/parse.py takes rules.syntax) does not load every family's checks with it: the
    node checks in rules/binaries.py and rules/skew.py work over crosscheck's context, which a
    configs-only run never needs."""
    from . import (
        binaries,
        directory,
        nodestate,
        replies,
        runtime_containerd,
        runtime_crio,
        schema,
        semantics,
        skew,
        syntax,
        tool,
    )

    return (
        Family("discovery and selection of config files", "CNI0", "discovery", directory.RULES),
        Family("JSON syntax and libcni load errors", "CNI1", "syntax", syntax.RULES),
        Family("per-version JSON Schema and plugin options", "CNI2", "schema", schema.RULES),
        Family("static semantics: versions, names, keys, chains", "CNI3", "semantics", semantics.RULES),
        Family("plugin binaries: resolution and exec", "CNI4", "binaries", binaries.RULES),
        Family("VERSION probe replies", "CNI50", "versions", replies.RULES),
        Family("version cross-checks and the runtime library", "CNI5", "versions", skew.RULES),
        Family(
            "the container runtime's configuration",
            "CNI6",
            "runtime",
            runtime_containerd.RULES + runtime_crio.RULES,
        ),
        Family("the node state a provider's plugin reads on ADD", "CNI7", "node-state", nodestate.RULES),
        Family("cnidoctor's own configuration", "CNI9", "settings", tool.RULES),
    )


CODE_PATTERN = re.compile(r"^CNI\d{3}$")


@functools.cache
def catalog() -> Mapping[str, Rule]:
    """All rules by code, in code order. Raises on a duplicate code or name (a programming error)."""
    rules: dict[str, Rule] = {}
    names: set[str] = set()
    for family in families():
        for rule in family.rules:
            if rule.code in rules or rule.name in names:
                raise RuntimeError(f"duplicate rule {rule.code} {rule.name}")
            rules[rule.code] = rule
            names.add(rule.name)
    return dict(sorted(rules.items()))


@functools.cache
def family_of(code: str) -> Family:
    """The family that declares ``code``; KeyError if none does."""
    for family in families():
        if any(rule.code == code for rule in family.rules):
            return family
    raise KeyError(code)


def get(code: str) -> Rule:
    """The rule for ``code`` (case-insensitive); KeyError if unknown."""
    return catalog()[code.upper()]
