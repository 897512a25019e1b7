"""Rule family: see cnidoctor/rules/__init__.py for the code range."""
from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity  # noqa: F401

RULES: Tuple[Rule, ...] = ()
