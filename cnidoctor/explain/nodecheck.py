"""--check: run cnidoctor's own checks on this node and relate them to the explained error.

The question answered is "is the cause explain named present here?". The engine's findings whose
codes are among the matched causes' codes confirm a cause ("your 10-flannel.conflist has no
cniVersion (line 1)"); values the error names (a cniVersion, a plugin, a file) that no config
here has mean the error does not describe this node's current state. Any failure becomes a
``reason`` - this must never crash, and never needs /etc/cni/net.d to exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..model import Finding, Severity
from .matcher import Explanation

# Codes that say "the config dir is missing or empty": a missing dir confirms them directly.
NO_CONFIG_CODES = ("CNI001", "CNI002")


@dataclass(frozen=True)
class NodeView:
    conf_dir: str
    checked: bool
    verdict: str  # cause-present | does-not-match | not-detected | not-checked
    reason: str = ""
    confirmed: Tuple[Dict[str, Any], ...] = ()
    notes: Tuple[str, ...] = ()
    selected: Optional[Dict[str, Any]] = None
    other_errors: Tuple[Dict[str, Any], ...] = ()
    files: Tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "conf_dir": self.conf_dir,
            "checked": self.checked,
            "verdict": self.verdict,
            "reason": self.reason or None,
            "confirmed": list(self.confirmed),
            "notes": list(self.notes),
            "selected": self.selected,
            "other_errors": list(self.other_errors),
            "files": list(self.files),
        }


@dataclass(frozen=True)
class _Configs:
    """What the configs here declare, for comparing with the values in the error."""

    versions: Set[str]
    plugins: Set[str]
    networks: Set[str]
    basenames: Set[str]


def _finding_dict(finding: Finding) -> Dict[str, Any]:
    where = os.path.basename(finding.file) if finding.file else "node"
    line = f" (line {finding.line})" if finding.line else ""
    return {
        "code": finding.code,
        "severity": finding.severity.label,
        "file": finding.file,
        "line": finding.line,
        "message": finding.message,
        "text": f"your {where} - {finding.message}{line}" if finding.file else finding.message,
    }


def _configs(conf_dir: str) -> _Configs:
    from ..config import discover, parse

    found = discover.discover([conf_dir])
    versions: Set[str] = set()
    plugins: Set[str] = set()
    networks: Set[str] = set()
    for candidate in found.candidates:
        parsed = parse.parse(candidate)
        net = parsed.network
        if net is None:
            continue
        if isinstance(net.cni_version, str):
            versions.add(net.cni_version)
        if isinstance(net.name, str):
            networks.add(net.name)
        for plugin in net.plugins:
            if isinstance(plugin.type, str):
                plugins.add(plugin.type)
            ipam = plugin.raw.get("ipam") if isinstance(plugin.raw, dict) else None
            if isinstance(ipam, dict) and isinstance(ipam.get("type"), str):
                plugins.add(ipam["type"])
    return _Configs(versions, plugins, networks, {os.path.basename(c.path) for c in found.candidates})


def _mismatches(explanation: Explanation, configs: _Configs, codes: Sequence[str]) -> List[str]:
    """Values the error names that this node's configs do not have."""
    if not explanation.matches:
        return []
    variables = explanation.matches[0].variables
    notes: List[str] = []
    version = variables.get("config_version")
    builtin_loopback = "CNI516" in codes  # containerd's own loopback config is not on disk
    if isinstance(version, str) and version and not builtin_loopback and version not in configs.versions:
        have = ", ".join(sorted(f'"{v}"' for v in configs.versions)) or "none"
        notes.append(
            f'the error is about cniVersion "{version}", but no config here declares it (they declare: {have})'
        )
    plugin = variables.get("plugin")
    if (
        isinstance(plugin, str)
        and plugin
        and not builtin_loopback
        and plugin.lower() != "multus"
        and configs.plugins
        and plugin not in configs.plugins
    ):
        notes.append(f'the error names plugin "{plugin}", which no config here uses')
    named = variables.get("file")
    if isinstance(named, str) and named and os.path.basename(named) not in configs.basenames:
        notes.append(f"the error names {named}, which is not in this config dir")
    return notes


def check_node(
    explanation: Explanation,
    conf_dir: str,
    bin_dirs: Sequence[str] = (),
    probe: bool = True,
    probe_timeout: float = 5.0,
) -> NodeView:
    """Run the checks relevant to ``explanation`` against ``conf_dir`` (never raises)."""
    codes = [code for match in explanation.matches for code in match.codes]
    if not os.path.isdir(conf_dir):
        if any(code in NO_CONFIG_CODES for code in codes):
            return NodeView(
                conf_dir,
                True,
                "cause-present",
                confirmed=(
                    {
                        "code": "CNI002",
                        "severity": "error",
                        "file": None,
                        "line": None,
                        "message": f"{conf_dir} does not exist",
                        "text": f"{conf_dir} does not exist on this node",
                    },
                ),
            )
        return NodeView(conf_dir, False, "not-checked", reason=f"{conf_dir} does not exist on this node")
    try:
        return _check(explanation, conf_dir, bin_dirs, probe, probe_timeout, codes)
    except Exception as exc:
        return NodeView(
            conf_dir, False, "not-checked", reason=f"checking {conf_dir} failed: {type(exc).__name__}: {exc}"
        )


def _check(
    explanation: Explanation,
    conf_dir: str,
    bin_dirs: Sequence[str],
    probe: bool,
    probe_timeout: float,
    codes: Sequence[str],
) -> NodeView:
    from .. import engine
    from ..settings import Settings

    options = engine.Options(paths=(conf_dir,), probe=probe, bin_dirs=tuple(bin_dirs), probe_timeout=probe_timeout)
    report = engine.run(options, Settings())
    confirmed = [f for f in report.findings if f.code in codes]
    named_file = explanation.context.variables.get("file")
    if isinstance(named_file, str):  # an error naming a file: that file's errors are the cause
        confirmed += [
            f
            for f in report.findings
            if f.file
            and os.path.basename(f.file) == os.path.basename(named_file)
            and f.severity >= Severity.ERROR
            and f not in confirmed
        ]
    others = [f for f in report.findings if f.severity >= Severity.ERROR and f not in confirmed][:5]
    notes = _mismatches(explanation, _configs(conf_dir), codes)
    if confirmed:
        verdict = "cause-present"
    elif notes:
        verdict = "does-not-match"
    else:
        verdict = "not-detected"
    selected = None
    if report.selected is not None:
        selected = {
            "file": report.selected.file,
            "network": report.selected.network,
            "cni_version": report.selected.cni_version,
        }
    return NodeView(
        conf_dir,
        True,
        verdict,
        confirmed=tuple(_finding_dict(f) for f in confirmed),
        notes=tuple(notes),
        selected=selected,
        other_errors=tuple(_finding_dict(f) for f in others),
        files=tuple(report.files),
    )
