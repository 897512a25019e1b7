"""The knowledge base: ``kb.json`` loaded into typed records, compiled once, on first use.

``kb.json`` is the one reviewable place that says, for every runtime error family (the texts libcni, the
plugins and the runtimes print, cited per entry): its patterns, who prints it, its causes (most likely first, each
with the rule codes it corresponds to and an optional condition on the extracted variables), the
fix and the runtime releases concerned. Nothing about a particular error lives in code.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from ..frozen import dataclass
from .template import Compiled, compile_template

KB_PATH = Path(__file__).with_name("kb.json")

ROLES = ("cause", "generic", "wrapper")


@dataclass(frozen=True)
class Cause:
    """One cause of a knowledge-base entry, with the rule codes that detect it."""

    text: str
    codes: Tuple[str, ...]
    when: Tuple[Tuple[Any, ...], ...] = ()


@dataclass(frozen=True)
class NodeCheck:
    """A node-state fact that confirms cause number ``cause`` of a family when it holds on the node
    (``explain --check``): ``kind`` is one of nodecheck.NODE_CHECK_KINDS; the file is ``path``, or
    the value the error names in variable ``path_var`` when it was extracted (a custom
    nodename_file, another cilium socket); ``keys`` lists the KEY= lines a file must have."""

    kind: str
    cause: int
    path: str = ""
    path_var: str = ""
    var: str = ""
    keys: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One error family. ``role``: ``cause`` names a cause; ``generic`` names one too but a more
    specific family found in the same text ranks above it; ``wrapper`` only says who printed the
    message and at which step (containerd ADD, CRI-O CHECK, ...)."""

    id: str
    title: str
    role: str
    component: str
    patterns: Tuple[Compiled, ...]
    causes: Tuple[Cause, ...] = ()
    fix: str = ""
    runtimes: Tuple[str, ...] = ()
    references: Tuple[str, ...] = ()
    facts: Tuple[str, ...] = ()
    reports: Tuple[int, ...] = ()
    requires_context: bool = False
    keep_with_inner: bool = False
    priority: int = 0
    runtime: Optional[str] = None
    step: Optional[str] = None
    node_checks: Tuple[NodeCheck, ...] = ()

    @property
    def codes(self) -> Tuple[str, ...]:
        """Every rule code any of the causes corresponds to, in first-seen order."""
        seen: Dict[str, None] = {}
        for cause in self.causes:
            for code in cause.codes:
                seen.setdefault(code, None)
        return tuple(seen)


def _pattern(raw: Any) -> Compiled:
    """A pattern is a template string, or {"template": ..., "requires_context": true} for a
    bare text other software prints too (Go's own JSON errors)."""
    if isinstance(raw, str):
        return compile_template(raw)
    return replace(compile_template(raw["template"]), requires_context=bool(raw.get("requires_context")))


def _node_check(raw: Mapping[str, Any]) -> NodeCheck:
    return NodeCheck(
        kind=raw["kind"],
        cause=int(raw.get("cause", 0)),
        path=raw.get("path", ""),
        path_var=raw.get("path_var", ""),
        var=raw.get("var", ""),
        keys=tuple(raw.get("keys", ())),
    )


def _entry(raw: Mapping[str, Any]) -> Entry:
    role = raw["role"]
    if role not in ROLES:
        raise ValueError(f"kb.json: entry {raw.get('id')!r} has unknown role {role!r}")
    return Entry(
        id=raw["id"],
        title=raw["title"],
        role=role,
        component=raw["component"],
        patterns=tuple(_pattern(p) for p in raw["patterns"]),
        causes=tuple(
            Cause(c["text"], tuple(c.get("codes", ())), tuple(tuple(w) for w in c.get("when", ())))
            for c in raw.get("causes", ())
        ),
        fix=raw.get("fix", ""),
        runtimes=tuple(raw.get("runtimes", ())),
        references=tuple(raw.get("references", ())),
        facts=tuple(raw.get("facts", ())),
        reports=tuple(raw.get("reports", ())),
        requires_context=bool(raw.get("requires_context", False)),
        keep_with_inner=bool(raw.get("keep_with_inner", False)),
        priority=int(raw.get("priority", 0)),
        runtime=raw.get("runtime"),
        step=raw.get("step"),
        node_checks=tuple(_node_check(n) for n in raw.get("node_checks", ())),
    )


@functools.cache
def entries() -> Tuple[Entry, ...]:
    """All KB entries (loaded and compiled on the first call: `cnidoctor check` never pays)."""
    data = json.loads(KB_PATH.read_text(encoding="utf-8"))
    loaded = tuple(_entry(raw) for raw in data["entries"])
    ids = [e.id for e in loaded]
    if len(ids) != len(set(ids)):
        raise ValueError("kb.json: duplicate entry id")
    return loaded


def for_code(code: str) -> Tuple[Entry, ...]:
    """The families whose causes correspond to rule ``code`` (for `cnidoctor explain CODE`)."""
    return tuple(e for e in entries() if code in e.codes)
