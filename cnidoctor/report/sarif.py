"""SARIF 2.1.0 reporter, shaped for GitHub code scanning.

What GitHub needs (docs "SARIF support for code scanning"):
``tool.driver.name`` and ``rules[]`` with id/shortDescription/fullDescription/help; results with a
stable ``ruleId``, ``message.text`` and one physical location whose ``artifactLocation.uri`` is
relative to the repository root and whose ``region`` has ``startLine`` (Microsoft's validator rule
GH1003). Every catalog rule is listed so ``ruleIndex`` is stable across runs.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import quote

from ..model import Finding, Report, Rule, Severity
from ..rules import family_of
from . import INFORMATION_URI, TOOL_NAME, RenderOptions, indented, relative_path
from .catalog import rule_doc_url

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
TEXT_LIMIT = 1024  # GitHub: shortDescription/fullDescription at most 1024 characters
FINGERPRINT_KEY = "cnidoctorFinding/v1"

LEVELS: Mapping[Severity, str] = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub's own problem.severity vocabulary for non-security rules.
PROBLEM_SEVERITY: Mapping[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "recommendation",
}


def render(report: Report, options: RenderOptions) -> str:
    return indented.dumps(as_sarif(report, options)) + "\n"


def as_sarif(report: Report, options: RenderOptions) -> Dict[str, Any]:
    from ..rules import catalog

    rules = list(catalog().values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    run: Dict[str, Any] = {
        "tool": {"driver": _driver(rules, options)},
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(options.base_dir)}},
        "results": [_result(f, report, index, options) for f in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


# -- rules ------------------------------------------------------------------------------------


def _driver(rules: List[Rule], options: RenderOptions) -> Dict[str, Any]:
    driver: Dict[str, Any] = {
        "name": TOOL_NAME,
        "version": options.tool_version,
        "informationUri": INFORMATION_URI,
        "rules": [rule_descriptor(rule) for rule in rules],
    }
    if _is_semver(options.tool_version):
        driver["semanticVersion"] = options.tool_version
    return driver


def rule_descriptor(rule: Rule) -> Dict[str, Any]:
    """A SARIF reportingDescriptor: the rule's catalog entry, as ``cnidoctor explain`` shows it."""
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _limit(rule.summary)},
        "fullDescription": {"text": _limit(rule.meaning)},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "helpUri": rule_doc_url(rule),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["cni", family_of(rule.code).tag],
            "precision": "very-high",
            "problem.severity": PROBLEM_SEVERITY[rule.severity],
        },
    }


def _help_text(rule: Rule) -> str:
    parts = [f"Fix: {rule.fix}"]
    if rule.runtime_errors:
        parts.append("Runtime errors this predicts:\n" + "\n".join(f"  {e}" for e in rule.runtime_errors))
    parts.append(f"Run `cnidoctor explain {rule.code}` for the full explanation.")
    return "\n\n".join(parts)


def _help_markdown(rule: Rule) -> str:
    parts = [f"**{rule.code} {rule.name}**: {rule.summary}", rule.meaning]
    if rule.example:
        language = "toml" if rule.code.startswith("CNI9") else "json"
        parts.append(f"Example:\n\n```{language}\n{rule.example}\n```")
    if rule.correct_example:
        parts.append(f"Correct example:\n\n```{language}\n{rule.correct_example}\n```")
    parts.append(f"**Fix:** {rule.fix}")
    if rule.when_to_ignore:
        parts.append(f"**When to ignore:** {rule.when_to_ignore}")
    if rule.runtime_errors:
        parts.append("Runtime errors this predicts:\n\n" + "\n".join(f"- `{e}`" for e in rule.runtime_errors))
    if rule.references:
        parts.append("References:\n\n" + "\n".join(f"- {ref}" for ref in rule.references))
    parts.append(f"`cnidoctor explain {rule.code}`")
    return "\n\n".join(parts)


# -- results ----------------------------------------------------------------------------------


def _result(finding: Finding, report: Report, index: Mapping[str, int], options: RenderOptions) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [_location(finding, report, options)],
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    result["partialFingerprints"] = {FINGERPRINT_KEY: _fingerprint(finding, uri)}
    return result


def _message(finding: Finding) -> str:
    """First sentence is the alert title on GitHub, so the message leads; fix and runtime error follow."""
    text = finding.message
    if finding.predicts:
        text += f"\nRuntime error: {finding.predicts}"
    if finding.fix:
        text += f"\nFix: {finding.fix}"
    return text


def _location(finding: Finding, report: Report, options: RenderOptions) -> Dict[str, Any]:
    """The finding's own place; node-level findings (no file) are pinned to the config the
    runtime uses (the file a user can change), at line 1, and named logically (plugin/node)."""
    file = finding.file or _node_anchor(report)
    location: Dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": _artifact(file, options),
            "region": {
                "startLine": max(1, finding.line or 1) if finding.file else 1,
                "startColumn": max(1, finding.column or 1) if finding.file else 1,
            },
        }
    }
    logical = _logical(finding)
    if logical:
        location["logicalLocations"] = [logical]
    return location


def _node_anchor(report: Report) -> str:
    if report.selected is not None:
        return report.selected.file
    if report.files:
        return report.files[0]
    return report.inputs[0] if report.inputs else "."


def _logical(finding: Finding) -> Optional[Dict[str, Any]]:
    if finding.file is not None:
        return {"fullyQualifiedName": finding.pointer, "kind": "object"} if finding.pointer else None
    name = f"plugin {finding.plugin}" if finding.plugin else "node"
    return {"name": name, "kind": "module"}


def _artifact(path: str, options: RenderOptions) -> Dict[str, Any]:
    relative = relative_path(path, options.base_dir)
    if relative.startswith("/"):
        # Outside the repository: an absolute file URI (GitHub maps or drops it; it never guesses).
        return {"uri": pathlib.PurePosixPath(relative).as_uri()}
    return {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}


def _directory_uri(base_dir: str) -> str:
    absolute = os.path.abspath(base_dir).replace(os.sep, "/")
    return pathlib.PurePosixPath(absolute).as_uri().rstrip("/") + "/"


def _fingerprint(finding: Finding, uri: str) -> str:
    """Stable across line shifts: the JSON pointer, not the line, says where the problem is."""
    import hashlib  # lazy: only this format hashes; start-up matters for the other formats

    key = "\x00".join((finding.code, uri, finding.pointer, finding.plugin or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _limit(text: str) -> str:
    text = text.strip() or "-"
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 3].rstrip() + "..."


def _is_semver(version: str) -> bool:
    core = version.split("+", 1)[0].split("-", 1)[0].split(".")
    return len(core) == 3 and all(part.isdigit() for part in core)
