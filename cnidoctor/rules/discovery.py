"""Rule family: see cnidoctor/rules/__init__.py for the code range."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from ..model import Finding, ParsedFile, Rule, Selection, Severity  # noqa: F401

RULES: Tuple[Rule, ...] = ()


@dataclass(frozen=True)
class DirectoryResult:
    findings: Tuple[Finding, ...]
    selection: Optional[Selection]


def check_directories(parsed: Sequence[ParsedFile], directories: Sequence[str]) -> DirectoryResult:
    """Directory-level findings (shadowing, duplicates, selection) - placeholder."""
    first = next((p for p in parsed if p.network is not None), None)
    if first is None or first.network is None:
        return DirectoryResult((), None)
    return DirectoryResult((), Selection(first.path, first.network.name, first.network.cni_version))
