"""Node stage: resolve plugin binaries, probe them (VERSION only), cross-check versions,
predict the runtime's behaviour. (Placeholder; owned by the probe work package.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Tuple

from .model import Finding, ParsedFile, Selection


@dataclass(frozen=True)
class NodeResult:
    findings: Tuple[Finding, ...] = ()
    prediction: Optional[Mapping[str, Any]] = None
    plugins: Tuple[Mapping[str, Any], ...] = ()


def check(parsed: Sequence[ParsedFile], selection: Optional[Selection], options: Any) -> NodeResult:
    return NodeResult()
