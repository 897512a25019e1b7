"""House rules enforced by machine: the three sides never import each other, nothing imports the
CLI, and ruff (lint + format) and mypy pass.

The import check reads every module's imports with ``ast`` (module level *and* function level:
a lazy import is still a dependency), so a cycle cannot hide in a function body.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cnidoctor"
SIDES = ("config", "plugins", "runtime")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> Iterator[str]:
    """Absolute names of everything ``path`` imports (``from x import y`` yields x and x.y)."""
    current = module_name(path).split(".")
    package = current if path.name == "__init__.py" else current[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def edges() -> Set[Tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for target in imported_modules(path):
            if target.startswith("cnidoctor"):
                found.add((module_name(path), target))
    return found


def side_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SIDES else ""


def test_the_three_sides_never_import_each_other() -> None:
    crossing = sorted(
        (source, target)
        for source, target in edges()
        if side_of(source) and side_of(target) and side_of(source) != side_of(target)
    )
    assert crossing == [], "config/, plugins/ and runtime/ meet only in crosscheck/"


def test_the_sides_do_not_reach_into_the_meeting_place_or_the_cli() -> None:
    upward = sorted(
        (source, target)
        for source, target in edges()
        if side_of(source) and target.split(".")[1:2] and target.split(".")[1] in ("crosscheck", "engine", "cli")
    )
    assert upward == []


def test_nothing_imports_the_cli() -> None:
    importers = sorted(
        source for source, target in edges() if target == "cnidoctor.cli" and source != "cnidoctor.__main__"
    )
    assert importers == []


def test_the_import_checker_resolves_relative_imports() -> None:
    """The checker resolves `from ..model` and `from ..rules import directory` to absolute names."""
    probe = PACKAGE / "config" / "discover.py"
    found = set(imported_modules(probe))
    assert "cnidoctor.model" in found and "cnidoctor.rules.directory" in found


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "cnidoctor", "tests", "bench"],
        ["ruff", "format", "--check", "cnidoctor", "tests", "bench"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_linters_pass(command: list) -> None:
    run = subprocess.run([_tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
