"""Stage 3: validate a parsed file against the JSON Schema of the version it declares.

(Placeholder kept minimal; owned by the schema work package.)
"""
from __future__ import annotations

from typing import Tuple

from .model import Finding, ParsedFile


def validate(parsed: ParsedFile) -> Tuple[Finding, ...]:
    return ()
