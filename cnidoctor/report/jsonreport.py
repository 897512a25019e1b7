"""JSON reporter: a versioned document described by ``cnidoctor/report/report.schema.json``.

``version`` changes only when a field is removed or changes meaning; new optional fields may
appear within a version. Keys are camelCase where they mirror CNI's own (``cniVersion``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ..model import Finding, PluginStatus, Prediction, Report, RuntimeSummary, Selection, SkippedFile, Step
from . import TOOL_NAME, RenderOptions, indented

# 2: a step the runtime never performs has outcome "not_sent" (1 reported it as "ok"); the
# meaning of an existing value changed, which the rule above says is a new version.
SCHEMA_VERSION = 2
SCHEMA_RESOURCE = "report/report.schema.json"


def render(report: Report, options: RenderOptions) -> str:
    return indented.dumps(as_document(report, options)) + "\n"


def as_document(report: Report, options: RenderOptions) -> Dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": options.tool_version},
        "inputs": list(report.inputs),
        "files": list(report.files),
        "selected": _selected(report.selected),
        "findings": [finding_as_dict(f) for f in report.findings],
        "summary": dict(report.counts()),
        "prediction": prediction_as_dict(report.prediction) if report.prediction is not None else None,
        "plugins": [plugin_as_dict(p) for p in report.plugins],
        **({"runtime": runtime_as_dict(report.runtime)} if report.runtime is not None else {}),
        # what the node-state checks (CNI7xx) read; null: not checked (files only, --no-probe)
        "node_state": {"checked": list(report.node_state)} if report.node_state is not None else None,
    }


def runtime_as_dict(runtime: RuntimeSummary) -> Dict[str, Any]:
    """The runtime modelled and where each part came from (``source``): never an assumption
    presented as a detection."""
    return {
        "name": runtime.name,
        "version": runtime.version,
        "libcni": runtime.libcni,
        "config_file": runtime.config_file,
        "conf_dir": runtime.conf_dir,
        "bin_dirs": list(runtime.bin_dirs),
        "max_conf_num": runtime.max_conf_num,
        "default_network": runtime.default_network,
        "host_root": runtime.host_root,
        "source": {"runtime": runtime.source_runtime, "version": runtime.source_version, "dirs": runtime.source_dirs},
        "evidence": [{"kind": e.kind, "path": e.path, "detail": e.detail} for e in runtime.evidence],
        "notes": list(runtime.notes),
        "installed": list(runtime.installed),
        "kubelet_endpoint": runtime.kubelet_endpoint,
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


def prediction_as_dict(prediction: Prediction) -> Dict[str, Any]:
    runtime = prediction.runtime
    return {
        "runtime": {
            "name": runtime.name,
            "version": runtime.version,
            "libcni": runtime.libcni,
            "release": runtime.release,
            "glue": runtime.glue,
        },
        "selected_file": prediction.selected_file,
        "selection": prediction.selection,
        "list_version": prediction.list_version,
        "steps": {name: step_as_dict(step) for name, step in prediction.steps},
        **({"skipped": [_skipped_as_dict(item) for item in prediction.skipped]} if prediction.skipped else {}),
    }


def _skipped_as_dict(item: SkippedFile) -> Dict[str, Any]:
    out: Dict[str, Any] = {"file": item.file, "reason": item.reason}
    return {**out, "text": item.text} if item.text is not None else out


def step_as_dict(step: Step) -> Dict[str, Any]:
    """``outcome`` and ``error`` always; the other fields only when they say something."""
    out: Dict[str, Any] = {"outcome": step.outcome, "error": step.error}
    if step.wrapped is not None:
        out["wrapped"] = step.wrapped
    if not step.called:
        out["called"] = False
    if not step.exact:
        out["exact"] = False
    if step.plugin is not None:
        out["plugin"] = step.plugin
    if step.detail:
        out["detail"] = step.detail
    if step.basis is not None:
        out["basis"] = step.basis
    if step.kubelet_error is not None:
        out["kubelet_error"] = step.kubelet_error
    if step.runtime_log is not None:
        out["runtime_log"] = step.runtime_log
    if step.kubelet_note:
        out["kubelet_note"] = step.kubelet_note
    if step.kubelet_alternatives:
        out["kubelet_alternatives"] = list(step.kubelet_alternatives)
    return out


def plugin_as_dict(plugin: PluginStatus) -> Dict[str, Any]:
    return {
        "type": plugin.type,
        "path": plugin.path,
        "problem": plugin.problem,
        "error": plugin.error,
        "cni_version": plugin.cni_version,
        "supported": list(plugin.supported),
        "probe_error": plugin.probe_error,
        "from_cache": plugin.from_cache,
    }


def load_schema() -> Dict[str, Any]:
    """The JSON Schema of this document, from the installed package."""
    from importlib import resources

    text = resources.files("cnidoctor").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: Dict[str, Any] = json.loads(text)
    return schema


__all__: List[str] = [
    "SCHEMA_VERSION",
    "as_document",
    "finding_as_dict",
    "load_schema",
    "plugin_as_dict",
    "prediction_as_dict",
    "render",
    "step_as_dict",
]
