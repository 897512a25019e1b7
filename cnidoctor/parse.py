"""Stage 2: bytes -> ParsedFile, as Go's encoding/json and libcni do it.

(Placeholder kept minimal; owned by the parsing work package.)
"""
from __future__ import annotations

import json

from .model import Candidate, NetworkList, ParsedFile, PluginConf


def parse(candidate: Candidate) -> ParsedFile:
    try:
        doc = json.loads(candidate.data or b"")
    except ValueError as exc:
        return ParsedFile(candidate, None, None, str(exc), ())
    if candidate.kind == "conflist":
        plugins = tuple(
            PluginConf(i, f"/plugins/{i}", p.get("type"), p) for i, p in enumerate(doc.get("plugins", []))
        )
        net = NetworkList(doc.get("name"), doc.get("cniVersion"), plugins)
    else:
        net = NetworkList(doc.get("name"), doc.get("cniVersion"), (PluginConf(0, "", doc.get("type"), doc),), from_single_conf=True)
    return ParsedFile(candidate, doc, net, None, ())
