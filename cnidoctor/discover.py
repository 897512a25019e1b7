"""Stage 1: paths -> candidate config files in the order the runtimes read them.

(Placeholder kept minimal; owned by the discovery work package.)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence, Tuple

from .model import Candidate, Finding

EXTENSIONS = (".conf", ".conflist", ".json")


@dataclass(frozen=True)
class Discovered:
    candidates: Tuple[Candidate, ...]
    findings: Tuple[Finding, ...]
    directories: Tuple[str, ...]


def _kind(name: str) -> str:
    return "conflist" if name.endswith(".conflist") else "conf"


def discover(paths: Sequence[str]) -> Discovered:
    candidates = []
    directories = []
    for path in paths:
        if os.path.isdir(path):
            directories.append(path)
            for name in sorted(os.listdir(path), key=lambda n: n.encode("utf-8", "surrogateescape")):
                full = os.path.join(path, name)
                if os.path.splitext(name)[1] in EXTENSIONS and not os.path.isdir(full):
                    with open(full, "rb") as fh:
                        candidates.append(Candidate(full, _kind(name), fh.read(), directory=path))  # type: ignore[arg-type]
        else:
            with open(path, "rb") as fh:
                candidates.append(Candidate(path, _kind(path), fh.read()))  # type: ignore[arg-type]
    return Discovered(tuple(candidates), (), tuple(directories))
