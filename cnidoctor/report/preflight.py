"""kubeadm-style preflight lines (``check --preflight``), for node bootstrap scripts.

Mirrors kubeadm's preflight output (kubernetes/kubernetes:cmd/kubeadm/app/preflight/checks.go,
RunChecks): every check runs; each warning is printed as a tab-indented
``[WARNING <Name>]: <msg>``; errors are collected and printed after
``[preflight] Some fatal errors occurred:``, followed by the hint to make a check non-fatal with
``--ignore-preflight-errors=...``. The check name is the rule code, so
``--ignore-preflight-errors=CNI301,CNI104`` (or ``all``) reads as kubeadm users expect.
Informational findings are counted, not listed: kubeadm has no such level.
"""

from __future__ import annotations

from typing import List

from ..model import Finding, Report, Severity
from . import RenderOptions, relative_path


def render(report: Report, options: RenderOptions) -> str:
    lines: List[str] = [f"[preflight] Running CNI pre-flight checks{_subject(report)}"]
    warnings = [f for f in report.findings if f.severity is Severity.WARNING]
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    infos = len(report.findings) - len(warnings) - len(errors)
    lines.extend(f"\t[WARNING {f.code}]: {_message(f, options)}" for f in warnings)
    if errors:
        lines.append("[preflight] Some fatal errors occurred:")
        lines.extend(f"\t[ERROR {f.code}]: {_message(f, options)}" for f in errors)
        codes = ",".join(dict.fromkeys(f.code for f in errors))
        lines.append(
            "[preflight] If you know what you are doing, you can make a check non-fatal with "
            f"`--ignore-preflight-errors={codes}` (see `cnidoctor explain CODE`)"
        )
    else:
        lines.append(f"[preflight] CNI checks passed{_tail(len(warnings), infos)}")
    return "\n".join(lines) + "\n"


def _subject(report: Report) -> str:
    runtime = report.runtime
    if runtime is None:
        return ""
    what = runtime.name + (f" {runtime.version}" if runtime.version else "")
    if runtime.source_runtime == "default":
        what += " (assumed: not read from the node)"
    if runtime.source_dirs == "flag":
        return f" for {what}: {', '.join(report.inputs)}"
    return f" for {what}: configs in {runtime.conf_dir}, plugins in {', '.join(runtime.bin_dirs)}"


def _message(finding: Finding, options: RenderOptions) -> str:
    where = ""
    if finding.file:
        where = relative_path(finding.file, options.base_dir)
        where += f":{finding.line}:{finding.column}" if finding.line else ""
        where += ": "
    return where + " ".join(finding.message.split())


def _tail(warnings: int, infos: int) -> str:
    parts = [f"{warnings} warning{'s' if warnings != 1 else ''}"] if warnings else []
    parts += [f"{infos} info"] if infos else []
    return f" ({', '.join(parts)})" if parts else ""
