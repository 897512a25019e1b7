"""JSON reporter (placeholder; owned by the reporters work package)."""
from __future__ import annotations

import json

from ..model import Report
from . import RenderOptions


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps({
        "version": 1,
        "findings": [
            {"code": f.code, "severity": f.severity.label, "message": f.message, "file": f.file,
             "line": f.line, "column": f.column, "pointer": f.pointer}
            for f in report.findings
        ],
    }, indent=2) + "\n"
