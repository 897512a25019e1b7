"""Render `cnidoctor plugins` (an Inventory) as a table or JSON. Pure: returns text, prints nothing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, List, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.inventory import Inventory, PluginRow

HEADERS = ("path", "arch", "cniVersion", "supported", "status")


def _supported(row: PluginRow) -> str:
    if not row.supported:
        return "-"
    return ",".join(row.supported)


def _status(row: PluginRow) -> str:
    if row.status == "shadowed" and row.shadowed_by:
        return f"shadowed by {row.shadowed_by}"
    if row.status in ("ok", "legacy") and row.from_cache:
        return f"{row.status} (cached)"
    if row.error and row.status not in ("ok", "legacy"):
        return f"{row.status}: {_one_line(row.error)}"
    if row.detail and row.status not in ("ok", "legacy"):
        return f"{row.status}: {row.detail}"
    return row.status


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _rows(inventory: Inventory) -> List[Sequence[str]]:
    return [
        (row.path, row.arch or "-", row.cni_version or "-", _supported(row), _status(row)) for row in inventory.rows
    ]


def render_table(inventory: Inventory) -> str:
    from tabulate import tabulate

    out: List[str] = []
    if inventory.rows:
        out.append(tabulate(_rows(inventory), headers=HEADERS, tablefmt="simple"))
    else:
        out.append(f"no files in {' '.join(inventory.bin_dirs)}")
    if inventory.findings:
        out.append("")
        for finding in inventory.findings:
            out.append(f"{finding.code} {finding.severity.label}: {finding.message}")
            if finding.predicts:
                out.append(f"    runtime error: {_one_line(finding.predicts, 300)}")
    out.append("")
    out.append(
        f"{len(inventory.rows)} files in {len(inventory.bin_dirs)} bin dir(s); "
        f"{inventory.probed} executed with CNI_COMMAND=VERSION this run"
    )
    return "\n".join(out) + "\n"


def render_json(inventory: Inventory) -> str:
    document = {
        "binDirs": list(inventory.bin_dirs),
        "plugins": [row.as_dict() for row in inventory.rows],
        "findings": [
            {
                "code": f.code,
                "severity": f.severity.label,
                "message": f.message,
                "plugin": f.plugin,
                "predicts": f.predicts,
                "file": f.file,
                "pointer": f.pointer,
            }
            for f in inventory.findings
        ],
        "executed": inventory.probed,
    }
    return json.dumps(document, indent=2) + "\n"


def render(inventory: Inventory, fmt: str) -> str:
    return render_json(inventory) if fmt == "json" else render_table(inventory)
