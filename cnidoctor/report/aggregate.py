"""Fleet summary of many ``cnidoctor check --format json`` reports (one per node).

Input is text: JSON lines (what the DaemonSet in ``deploy/daemonset.yaml`` prints, one compact
report per run with a ``node`` key added from the downward API) or whole, pretty-printed JSON
documents one after another (``--format json`` as it is). Anything that is not a report is
counted as an input error with its line number, never raised.

The summary answers the fleet questions of issue 8 §7: which nodes have which finding, which
network name is configured differently on different nodes (drift), how far plugin and runtime
versions spread, and on which nodes the runtime was not detected. Pure functions only: the
CLI reads the files and prints.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..frozen import dataclass

_DECODER = json.JSONDecoder()
NODES_SHOWN = 5  # node names listed per text line before "(+N more)"


@dataclass(frozen=True)
class InputError:
    """A line of the fleet input that is not a cnidoctor JSON report."""

    source: str
    line: int
    reason: str


@dataclass(frozen=True)
class NodeReport:
    """What the summary needs from one report."""

    node: str
    findings: Tuple[Tuple[str, str], ...]  # (code, severity), each once
    network: Optional[str]
    network_variant: Optional[str]
    plugins: Tuple[Tuple[str, str], ...]  # (type, version)
    runtime: Optional[Tuple[str, str]]  # ("containerd", "1.7.13 (libcni 1.1.2)"); None: not detected


@dataclass(frozen=True)
class Spread:
    """One key (finding code, network, plugin type, runtime name) and the nodes per value."""

    key: str
    values: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (value, nodes), most nodes first


@dataclass(frozen=True)
class FleetSummary:
    """Many nodes' reports, grouped by finding, network, plugin and runtime."""

    nodes: Tuple[str, ...]
    errors: Tuple[InputError, ...]
    findings: Tuple[Spread, ...]  # key = code, values = ((severity, nodes), ...)
    drift: Tuple[Spread, ...]  # networks with more than one variant
    plugins: Tuple[Spread, ...]  # every plugin type, values = versions
    runtimes: Tuple[Spread, ...]  # key = runtime name, values = "version (libcni X)"
    undetected: Tuple[str, ...]  # nodes whose runtime could not be detected


def aggregate(texts: Iterable[str], names: Optional[Sequence[str]] = None) -> FleetSummary:
    """Summarise every report found in ``texts``; ``names`` labels each text (file names)."""
    reports: List[NodeReport] = []
    errors: List[InputError] = []
    for index, text in enumerate(texts):
        source = names[index] if names is not None and index < len(names) else f"input {index + 1}"
        for line, document in _documents(text, source, errors):
            label = f"{os.path.basename(source)}#{len(reports) + 1}"
            node = _node_report(document, label)
            if node is None:
                errors.append(InputError(source, line, "not a cnidoctor JSON report"))
            else:
                reports.append(node)
    return _summarise(reports, errors)


# --- reading -----------------------------------------------------------------------------------


def _documents(text: str, source: str, errors: List[InputError]) -> Iterable[Tuple[int, Any]]:
    """Every JSON value in ``text`` (JSON lines or concatenated documents); a value that does not
    decode is an error and reading resumes at the next line."""
    position = 0
    while True:
        position = _skip_space(text, position)
        if position >= len(text):
            return
        line = text.count("\n", 0, position) + 1
        try:
            value, end = _DECODER.raw_decode(text, position)
        except ValueError as error:
            errors.append(InputError(source, line, f"not JSON ({_short(error)})"))
            position = _next_line(text, position)
            continue
        if not isinstance(value, dict):
            errors.append(InputError(source, line, "not a cnidoctor JSON report"))
            position = _next_line(text, end)
            continue
        yield line, value
        position = end


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _next_line(text: str, position: int) -> int:
    newline = text.find("\n", position)
    return len(text) if newline < 0 else newline + 1


def _short(error: ValueError) -> str:
    return str(error).split(":")[0]


def _node_report(document: Mapping[str, Any], label: str) -> Optional[NodeReport]:
    tool = document.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "cnidoctor" or not isinstance(document.get("findings"), list):
        return None
    node = document.get("node")
    selected = _mapping(document.get("selected"))
    return NodeReport(
        node=node if isinstance(node, str) and node else label,
        findings=_finding_codes(document["findings"]),
        network=_text(selected.get("network")),
        network_variant=_network_variant(selected) if selected else None,
        plugins=_plugin_versions(document.get("plugins")),
        runtime=_runtime_label(document.get("runtime")),
    )


def _finding_codes(findings: Sequence[Any]) -> Tuple[Tuple[str, str], ...]:
    pairs = {(_text(f.get("code")) or "?", _text(f.get("severity")) or "?") for f in findings if isinstance(f, dict)}
    return tuple(sorted(pairs))


def _network_variant(selected: Mapping[str, Any]) -> str:
    """The content identity of the selected network: its SHA-256 when the report carries it
    (``selected.sha256``), else only what the report says about it (cniVersion, file name)."""
    digest = _text(selected.get("sha256"))
    if digest:
        return f"sha256:{digest[:12]}"
    name = os.path.basename(_text(selected.get("file")) or "?")
    return f"{name} cniVersion={_text(selected.get('cniVersion')) or '?'}"


def _plugin_versions(plugins: Any) -> Tuple[Tuple[str, str], ...]:
    """(type, version) per probed plugin: the release from build info when the report has it,
    else the newest cniVersion its VERSION reply supports."""
    out = set()
    for entry in plugins if isinstance(plugins, list) else ():
        if not isinstance(entry, dict) or not _text(entry.get("type")):
            continue
        release = _text(entry.get("release")) or _text(entry.get("version"))
        cni = _text(entry.get("cni_version"))
        version = release or (f"cniVersion {cni}" if cni else "not probed")
        out.add((str(entry["type"]), version))
    return tuple(sorted(out))


def _runtime_label(runtime: Any) -> Optional[Tuple[str, str]]:
    """(name, ``version (libcni X)``) for a detected runtime; None when the section is missing or
    says the runtime was assumed (``source.runtime`` is not ``detected``)."""
    section = _mapping(runtime)
    source = _mapping(section.get("source"))
    name = _text(section.get("name"))
    if not name or source.get("runtime") != "detected":
        return None
    version = _text(section.get("version")) or "?"
    libcni = _text(section.get("libcni")) or "?"
    return name, f"{version} (libcni {libcni})"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


# --- summarising -------------------------------------------------------------------------------


def _summarise(reports: Sequence[NodeReport], errors: Sequence[InputError]) -> FleetSummary:
    return FleetSummary(
        nodes=tuple(r.node for r in reports),
        errors=tuple(errors),
        findings=_spread((code, severity, r.node) for r in reports for code, severity in r.findings),
        drift=tuple(
            s
            for s in _spread((r.network, r.network_variant, r.node) for r in reports if r.network and r.network_variant)
            if len(s.values) > 1
        ),
        plugins=_spread((kind, version, r.node) for r in reports for kind, version in r.plugins),
        runtimes=_spread((r.runtime[0], r.runtime[1], r.node) for r in reports if r.runtime),
        undetected=tuple(r.node for r in reports if r.runtime is None),
    )


def _spread(triples: Iterable[Tuple[str, str, str]]) -> Tuple[Spread, ...]:
    table: Dict[str, Dict[str, List[str]]] = defaultdict(lambda: defaultdict(list))
    for key, value, node in triples:
        table[key][value].append(node)
    return tuple(
        Spread(
            key, tuple(sorted(((v, tuple(n)) for v, n in values.items()), key=lambda item: (-len(item[1]), item[0])))
        )
        for key, values in sorted(table.items())
    )


# --- rendering ---------------------------------------------------------------------------------


def render_json(summary: FleetSummary) -> str:
    document = {
        "nodes": len(summary.nodes),
        "input_errors": [{"source": e.source, "line": e.line, "reason": e.reason} for e in summary.errors],
        "findings": [
            {"code": s.key, "severity": severity, "nodes": list(nodes)}
            for s in summary.findings
            for severity, nodes in s.values
        ],
        "drift": [_spread_json(s, "network", "variant") for s in summary.drift],
        "plugins": [_spread_json(s, "type", "version") for s in summary.plugins],
        "runtimes": [_spread_json(s, "name", "version") for s in summary.runtimes],
        "runtime_not_detected": list(summary.undetected),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _spread_json(spread: Spread, key_name: str, value_name: str) -> Dict[str, Any]:
    return {key_name: spread.key, "values": [{value_name: v, "nodes": list(n)} for v, n in spread.values]}


def render_text(summary: FleetSummary) -> str:
    total = len(summary.nodes)
    lines = [f"{total} node report{'s' if total != 1 else ''}, {len(summary.errors)} input error(s)"]
    lines += [f"  {e.source}:{e.line}: {e.reason}" for e in summary.errors]
    lines += _section("Findings (nodes affected)", _finding_lines(summary, total))
    lines += _section("Config drift (same network name, different content)", _spread_lines(summary.drift))
    lines += _section("Runtimes", _spread_lines(summary.runtimes))
    if summary.undetected:
        lines += _section(
            f"Runtime not detected on {len(summary.undetected)} node(s)", [f"  {_nodes(summary.undetected)}"]
        )
    spread_plugins = tuple(s for s in summary.plugins if len(s.values) > 1)
    lines += _section("Plugin versions that differ between nodes", _spread_lines(spread_plugins))
    return "\n".join(lines) + "\n"


def _section(title: str, body: List[str]) -> List[str]:
    return ["", f"{title}:", *body] if body else []


def _finding_lines(summary: FleetSummary, total: int) -> List[str]:
    rows = [(s.key, severity, nodes) for s in summary.findings for severity, nodes in s.values]
    rows.sort(key=lambda row: (-len(row[2]), row[0]))
    return [f"  {code} {severity:<7} {len(nodes)}/{total}  {_nodes(nodes)}" for code, severity, nodes in rows]


def _spread_lines(spreads: Sequence[Spread]) -> List[str]:
    lines: List[str] = []
    for spread in spreads:
        lines.append(f"  {spread.key}:")
        lines += [f"    {value}  {len(nodes)} node(s): {_nodes(nodes)}" for value, nodes in spread.values]
    return lines


def _nodes(nodes: Sequence[str]) -> str:
    shown = ", ".join(nodes[:NODES_SHOWN])
    return shown + (f" (+{len(nodes) - NODES_SHOWN} more)" if len(nodes) > NODES_SHOWN else "")


__all__ = ["FleetSummary", "InputError", "NodeReport", "Spread", "aggregate", "render_json", "render_text"]
