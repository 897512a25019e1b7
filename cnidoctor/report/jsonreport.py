"""JSON reporter: a versioned document described by ``cnidoctor/report/report.schema.json``.

``version`` changes only when a field is removed or changes meaning; new optional fields may
appear within a version. Keys are camelCase where they mirror CNI's own (``cniVersion``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from ..model import Finding, Report, Selection
from . import TOOL_NAME, RenderOptions

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "report/report.schema.json"


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(as_document(report, options), indent=2, ensure_ascii=False) + "\n"


def as_document(report: Report, options: RenderOptions) -> Dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": options.tool_version},
        "inputs": list(report.inputs),
        "files": list(report.files),
        "selected": _selected(report.selected),
        "findings": [finding_as_dict(f) for f in report.findings],
        "summary": dict(report.counts()),
        "prediction": _plain(report.prediction),
        "plugins": [_plain(p) for p in report.plugins],
    }


def finding_as_dict(finding: Finding) -> Dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.label,
        "message": finding.message,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "pointer": finding.pointer,
        "plugin": finding.plugin,
        "predicts": finding.predicts,
        "fix": finding.fix,
        "help": finding.help,
    }


def _selected(selected: Optional[Selection]) -> Optional[Dict[str, Any]]:
    if selected is None:
        return None
    out = {"file": selected.file, "network": selected.network, "cniVersion": selected.cni_version}
    return {**out, "sha256": selected.sha256} if selected.sha256 else out


def _plain(value: Any) -> Any:
    """Mappings/tuples from the node stage as plain JSON values (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def load_schema() -> Dict[str, Any]:
    """The JSON Schema of this document, from the installed package."""
    from importlib import resources

    text = resources.files("cnidoctor").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: Dict[str, Any] = json.loads(text)
    return schema


__all__: List[str] = ["SCHEMA_VERSION", "as_document", "finding_as_dict", "load_schema", "render"]
