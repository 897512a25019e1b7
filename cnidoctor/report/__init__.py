"""Reporters: pure functions from a Report to text. Imported lazily by name."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Dict

from ..model import Report

FORMATS: Dict[str, str] = {
    "text": "text",
    "json": "jsonreport",
    "sarif": "sarif",
    "github": "github",
}


@dataclass(frozen=True)
class RenderOptions:
    """How to render: ``color`` for ANSI styling; ``base_dir`` to make paths repo-relative."""

    color: bool = False
    base_dir: str = "."
    tool_version: str = "0"


def renderer(fmt: str) -> Callable[[Report, RenderOptions], str]:
    module = importlib.import_module(f".{FORMATS[fmt]}", __name__)
    return module.render  # type: ignore[no-any-return]
