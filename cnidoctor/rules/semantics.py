"""Rule family: see cnidoctor/rules/__init__.py for the code range."""
from __future__ import annotations

from typing import Tuple

from ..model import Finding, ParsedFile, Rule, Severity  # noqa: F401

RULES: Tuple[Rule, ...] = ()


def check(parsed: "ParsedFile") -> Tuple[Finding, ...]:
    """Static semantic findings for one parsed file (placeholder)."""
    return ()
