"""Text reporter (placeholder; owned by the reporters work package)."""
from __future__ import annotations

from ..model import Report
from . import RenderOptions


def render(report: Report, options: RenderOptions) -> str:
    lines = [f"{f.file}:{f.line}:{f.column}: {f.code} [{f.severity.label}] {f.message}" for f in report.findings]
    return "\n".join(lines) + ("\n" if lines else "")
