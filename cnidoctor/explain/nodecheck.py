"""--check: run cnidoctor's own checks on this node and relate them to the explained error.

The question answered is "is the cause explain named present here?". The engine's findings whose
codes are among the matched causes' codes confirm a cause ("your 10-flannel.conflist has no
cniVersion (line 1)"); values the error names (a cniVersion, a plugin, a file) that no config
here has mean the error does not describe this node's current state. Any failure becomes a
``reason`` - this must never crash, and never needs /etc/cni/net.d to exist.
"""

from __future__ import annotations

import os
from dataclasses import field, replace
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..frozen import dataclass
from ..model import Finding, Severity
from .matcher import Explanation

# Codes that say "the config dir is missing or empty": a missing dir confirms them directly.
NO_CONFIG_CODES = ("CNI001", "CNI002")


@dataclass(frozen=True)
class NodeView:
    """Whether this node shows the cause `explain` names."""

    conf_dir: str
    checked: bool
    verdict: str  # cause-present | does-not-match | not-detected | not-checked
    reason: str = ""
    confirmed: Tuple[Dict[str, Any], ...] = ()
    notes: Tuple[str, ...] = ()
    selected: Optional[Dict[str, Any]] = None
    other_errors: Tuple[Dict[str, Any], ...] = ()
    files: Tuple[str, ...] = field(default_factory=tuple)
    subject: str = "configs"  # what the verdict compared: "configs", or "configs and state"

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
    host_root: str = "/",
) -> NodeView:
    """Run the checks relevant to ``explanation`` against ``conf_dir`` and, for the families
    whose cause is a file or link on the node, against the node state under ``host_root``
    (reading only; never raises)."""
    return _with_state(
        _config_view(explanation, conf_dir, bin_dirs, probe, probe_timeout), node_state(explanation, host_root)
    )


def _config_view(
    explanation: Explanation, conf_dir: str, bin_dirs: Sequence[str], probe: bool, probe_timeout: float
) -> NodeView:
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


# --------------------------------------------------------------------------- node state
# What a family's node check can look at. All of it only reads: stat, a bounded read of a small
# text file, statvfs; nothing is created, written or executed.
NODE_CHECK_KINDS = ("missing", "lacks_keys", "unreadable", "read_only_fs", "missing_link")
_MAX_READ = 64 * 1024


@dataclass(frozen=True)
class NodeState:
    """What the node-state checks of the explained family found under ``host_root``."""

    confirmed: Tuple[Dict[str, Any], ...] = ()
    notes: Tuple[str, ...] = ()


def host_path(host_root: str, path: str) -> str:
    """``path`` as seen from this process when the node's root is mounted at ``host_root``."""
    if host_root in ("", "/"):
        return path
    return os.path.join(host_root, path.lstrip("/"))


def _candidates(host_root: str, path: str) -> List[str]:
    """/var/run is a symlink to /run on current distributions; under a mounted host root the
    absolute link would point into this container, so both spellings are tried."""
    out = [host_path(host_root, path)]
    if path.startswith("/var/run/"):
        out.append(host_path(host_root, "/run/" + path[len("/var/run/") :]))
    return out


def _fact(path: str, text: str, cause_text: str, family: str) -> Dict[str, Any]:
    return {
        "code": "",
        "severity": "error",
        "file": path,
        "line": None,
        "message": text,
        "text": text,
        "cause_text": cause_text,
        "family": family,
    }


def _path_for(check: Any, variables: Dict[str, Any]) -> str:
    named = variables.get(check.path_var) if check.path_var else None
    return named if isinstance(named, str) and named.startswith("/") else check.path


def _missing(check: Any, path: str, host_root: str) -> Tuple[Optional[str], Optional[str]]:
    if any(os.path.lexists(p) for p in _candidates(host_root, path)):
        return None, f"{path} exists here now (created since the error, or the error is from another node)"
    return f"{path} does not exist", None


def _lacks_keys(check: Any, path: str, host_root: str) -> Tuple[Optional[str], Optional[str]]:
    real = host_path(host_root, path)
    if not os.path.isfile(real):
        return f"{path} does not exist", None
    with open(real, encoding="utf-8", errors="replace") as handle:
        text = handle.read(_MAX_READ)
    present = {line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line}
    lacking = [key for key in check.keys if key not in present]
    if lacking:
        return f"{path} has no {', '.join(lacking)} line", None
    return None, f"{path} has {', '.join(check.keys)} here now"


def _unreadable(check: Any, path: str, host_root: str) -> Tuple[Optional[str], Optional[str]]:
    """The rootless case: a non-root plugin cannot traverse a 0700 directory or read a 0600 file."""
    real = host_path(host_root, path)
    if not os.path.lexists(real):
        return None, f"{path} does not exist here (the plugin then skips the check)"
    if not os.stat(real).st_mode & 0o004:
        return f"{path} is not readable by non-root users (mode {oct(os.stat(real).st_mode & 0o777)})", None
    parent, shown = os.path.dirname(real), os.path.dirname(path)
    while shown not in ("", "/"):
        mode = os.stat(parent).st_mode
        if not mode & 0o001:
            return f"{shown} cannot be traversed by non-root users (mode {oct(mode & 0o777)})", None
        parent, shown = os.path.dirname(parent), os.path.dirname(shown)
    return None, f"{path} is readable by every user here"


def _read_only_fs(check: Any, path: str, host_root: str) -> Tuple[Optional[str], Optional[str]]:
    real, shown = host_path(host_root, path), path
    while not os.path.exists(real) and shown not in ("", "/"):  # the plugin would create it
        real, shown = os.path.dirname(real), os.path.dirname(shown)
    if os.statvfs(real).f_flag & os.ST_RDONLY:
        return f"{shown} is on a read-only file system", None
    return None, f"{shown} is on a writable file system here"


def _missing_link(check: Any, variables: Dict[str, Any], host_root: str) -> Tuple[Optional[str], Optional[str]]:
    name = variables.get(check.var)
    sys_net = host_path(host_root, "/sys/class/net")
    if not isinstance(name, str) or not name or "/" in name or not os.path.isdir(sys_net):
        return None, None
    if os.path.lexists(os.path.join(sys_net, name)):
        return None, f"interface {name} exists on this node"
    return f"no interface named {name} on this node (/sys/class/net/{name})", None


def _evaluate(check: Any, variables: Dict[str, Any], host_root: str) -> Tuple[Optional[str], Optional[str]]:
    """(confirming fact, clearing note) of one node check; either may be None."""
    if check.kind == "missing_link":
        return _missing_link(check, variables, host_root)
    path = _path_for(check, variables)
    if not path:
        return None, None
    by_kind = {"missing": _missing, "lacks_keys": _lacks_keys, "unreadable": _unreadable, "read_only_fs": _read_only_fs}
    return by_kind[check.kind](check, path, host_root)


def node_state(explanation: Explanation, host_root: str = "/") -> NodeState:
    """Read-only checks of the node state the top family's causes depend on (the files and links
    named in kb.json's ``node_checks``), under ``host_root``; never raises."""
    if not explanation.matches:
        return NodeState()
    top = explanation.matches[0]
    from .matcher import fill

    confirmed: List[Dict[str, Any]] = []
    notes: List[str] = []
    for check in top.entry.node_checks:
        try:
            fact, note = _evaluate(check, dict(top.variables), host_root)
        except OSError as exc:  # unreadable or permission denied: say so, claim nothing
            notes.append(f"could not check {check.path or check.var}: {exc.strerror or exc}")
            continue
        if fact is not None:
            cause = top.entry.causes[check.cause] if check.cause < len(top.entry.causes) else None
            cause_text = fill(cause.text, top.variables) if cause is not None else ""
            confirmed.append(_fact(_path_for(check, dict(top.variables)), fact, cause_text, top.entry.id))
        if note is not None:
            notes.append(note)
    return NodeState(tuple(confirmed), tuple(notes))


def _with_state(view: NodeView, state: NodeState) -> NodeView:
    """Fold the node-state facts into the config-side view: a confirmed fact makes the cause present."""
    if not state.confirmed and not state.notes:
        return view
    confirmed = state.confirmed + (view.confirmed if view.checked else ())
    notes = state.notes + (view.notes if view.checked else ())
    if confirmed:
        verdict = "cause-present"
    elif view.checked and view.verdict != "not-detected":
        verdict = view.verdict
    else:
        verdict = "does-not-match"
    subject = "configs and state" if view.checked else "state"
    return replace(view, checked=True, verdict=verdict, reason="", confirmed=confirmed, notes=notes, subject=subject)
