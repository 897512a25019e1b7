"""Render `cnidoctor plugins` (an Inventory) as a table or JSON. Pure: returns text, prints nothing.

The table is grouped by bin dir (one heading per dir, then one row per file) so it fits an 80
column terminal; each binary's problem detail is listed under its table, wrapped. The release
column is the version recorded in the binary's Go build info (cnidoctor/gobuild.py reads the
``.go.buildinfo`` section, as ``go version -m`` does; nothing is executed).
"""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Callable, Dict, List, Optional

from .. import gobuild
from ..versions import SPEC_VERSIONS

if TYPE_CHECKING:  # pragma: no cover
    from ..plugins.inventory import Inventory, PluginRow

HEADERS = ("name", "arch", "cniVersion", "supported", "release", "status")
# The last path component of an ``-X importpath.name=value`` symbol that carries a release, as
# the reference plugins (containernetworking/plugins:pkg/utils/buildversion, ``BuildVersion``),
# flannel (flannel-io/flannel:pkg/version, ``Version``) and most Go projects name it.
VERSION_SYMBOLS = ("version", "buildversion", "gitversion", "releaseversion")

ReleaseReader = Callable[[str], Optional[str]]


def release_version(path: str) -> Optional[str]:
    """The release a Go binary was built as: its main module's version (``go install
    mod@v1.4.0`` records it), else a ``-X …Version=`` value of its recorded -ldflags. None for
    non-Go files, GOPATH builds without either (Debian's packages), and ``(devel)`` builds."""
    info = gobuild.read_build_info(path)
    if info is None:
        return None
    if info.main is not None and info.main.version and info.main.version != "(devel)":
        return info.main.version
    for symbol, value in gobuild.ldflags_values(info).items():
        if symbol.rsplit(".", 1)[-1].lower() in VERSION_SYMBOLS and value:
            return value
    return None


def _supported(row: PluginRow) -> str:
    """``0.1.0-1.0.0`` when the reply lists a contiguous run of spec versions, else the list."""
    versions = list(row.supported)
    if not versions:
        return "-"
    if len(versions) > 2 and all(v in SPEC_VERSIONS for v in versions):
        first = SPEC_VERSIONS.index(versions[0])
        if list(SPEC_VERSIONS[first : first + len(versions)]) == versions:
            return f"{versions[0]}-{versions[-1]}"
    return ",".join(versions)


def _status(row: PluginRow) -> str:
    if row.status in ("ok", "legacy") and row.from_cache:
        return f"{row.status} (cached)"
    return row.status


def _detail(row: PluginRow) -> Optional[str]:
    if row.status == "shadowed" and row.shadowed_by:
        return f"shadowed by {row.shadowed_by}"
    if row.error and row.status not in ("ok", "legacy"):
        return _one_line(row.error)
    if row.detail and row.status not in ("ok", "legacy"):
        return row.detail
    return None


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _wrap(text: str, width: int, first: str, rest: str) -> List[str]:
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    ) or [first]


def releases(inventory: Inventory, reader: ReleaseReader = release_version) -> Dict[str, Optional[str]]:
    return {row.path: reader(row.path) if row.status != "not-regular" else None for row in inventory.rows}


def render_table(inventory: Inventory, width: int = 80, reader: ReleaseReader = release_version) -> str:
    from tabulate import tabulate

    release = releases(inventory, reader)
    out: List[str] = []
    if not inventory.rows:
        out.append(f"no files in {' '.join(inventory.bin_dirs)}")
    for directory in dict.fromkeys(row.directory for row in inventory.rows):
        rows = [row for row in inventory.rows if row.directory == directory]
        out.append(f"{directory} ({len(rows)} files)")
        table = [
            (row.name, row.arch or "-", row.cni_version or "-", _supported(row), release[row.path] or "-", _status(row))
            for row in rows
        ]
        out.append(textwrap.indent(tabulate(table, headers=HEADERS, tablefmt="simple", disable_numparse=True), "  "))
        for row in rows:
            detail = _detail(row)
            if detail:
                out.extend(_wrap(f"{row.name}: {detail}", width, "  ", "      "))
        out.append("")
    if inventory.findings:
        for finding in inventory.findings:
            out.extend(_wrap(f"{finding.code} {finding.severity.label}: {finding.message}", width, "", "    "))
            if finding.predicts:
                out.extend(_wrap(f"runtime error: {_one_line(finding.predicts)}", width, "    ", "      "))
        out.append("")
    out.extend(
        _wrap(
            f"{len(inventory.rows)} files in {len(inventory.bin_dirs)} bin dir(s); "
            f"{inventory.probed} executed with CNI_COMMAND=VERSION this run",
            width,
            "",
            "  ",
        )
    )
    return "\n".join(out) + "\n"


def render_json(inventory: Inventory, reader: ReleaseReader = release_version) -> str:
    release = releases(inventory, reader)
    document = {
        "binDirs": list(inventory.bin_dirs),
        "plugins": [dict(row.as_dict(), release=release[row.path]) for row in inventory.rows],
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


def render(inventory: Inventory, fmt: str, width: int = 80) -> str:
    return render_json(inventory) if fmt == "json" else render_table(inventory, width)
