"""GitHub Actions workflow-command annotations, then the full text report in a folded group.

``::error file=F,line=L,col=C,title=CNI301::message`` per finding (``::warning`` /
``::notice`` by severity). Escaping follows @actions/core: in data ``%``, CR and LF become
``%25``, ``%0D``, ``%0A``; property values additionally escape ``:`` and ``,`` (actions/toolkit:
packages/core/src/command.ts). GitHub shows at most 10 annotations per severity per step, so the complete report
follows inside ``::group::`` (with workflow commands paused, see ``render``).
"""

from __future__ import annotations

from typing import List

from ..model import Finding, Report, Severity
from . import RenderOptions, relative_path
from . import text as text_report

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: Report, options: RenderOptions) -> str:
    import hashlib  # lazy: only this format hashes; start-up matters for the other formats

    lines: List[str] = [annotation(f, options) for f in report.findings]
    plain = text_report.render(
        report,
        RenderOptions(color=False, base_dir=options.base_dir, tool_version=options.tool_version, width=options.width),
    )
    # Messages quote config values; a line of the report starting with "::" must not become a
    # workflow command, so command processing is paused around it. The token is derived from the
    # report itself, so the report cannot contain it.
    token = hashlib.sha256(plain.encode("utf-8")).hexdigest()[:32]
    lines += [
        "::group::cnidoctor report",
        f"::stop-commands::{token}",
        plain.rstrip("\n"),
        f"::{token}::",
        "::endgroup::",
    ]
    return "\n".join(lines) + "\n"


def annotation(finding: Finding, options: RenderOptions) -> str:
    props = []
    if finding.file is not None:
        props.append(("file", relative_path(finding.file, options.base_dir)))
        props.append(("line", str(finding.line or 1)))
        props.append(("col", str(finding.column or 1)))
    props.append(("title", finding.code))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{COMMANDS[finding.severity]} {rendered}::{escape_data(_body(finding))}"


def _body(finding: Finding) -> str:
    parts = [finding.message if finding.file else _node_message(finding)]
    if finding.predicts:
        parts.append(f"runtime error: {finding.predicts}")
    if finding.fix:
        parts.append(f"fix: {finding.fix}")
    parts.append(f"see: cnidoctor explain {finding.code}")
    return "\n".join(parts)


def _node_message(finding: Finding) -> str:
    where = f"plugin {finding.plugin}" if finding.plugin else "node"
    return f"{where}: {finding.message}"


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")
