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
        source
        for source, target in edges()
        if target == "cnidoctor.cli" and source not in ("cnidoctor.__main__", "cnidoctor.entry")  # the entry points
    )
    assert importers == []


def test_the_import_checker_resolves_relative_imports() -> None:
    """The checker resolves `from ..model` and `from ..rules import directory` to absolute names."""
    probe = PACKAGE / "config" / "discover.py"
    found = set(imported_modules(probe))
    assert "cnidoctor.model" in found and "cnidoctor.rules.directory" in found


def module_level_imports(path: Path) -> Iterator[str]:
    """What importing ``path`` imports at once: top-level statements only (a function body runs
    later; ``if TYPE_CHECKING:`` never runs). Importing ``a.b.c`` also runs ``a`` and ``a.b``."""
    current = module_name(path).split(".")
    package = current if path.name == "__init__.py" else current[:-1]
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for child in ast.walk(node) if isinstance(node, (ast.If, ast.Try)) else (node,):
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package[: len(package) - child.level + 1] if child.level else []
                source = ".".join(base + ([child.module] if child.module else []))
                yield source
                yield from (f"{source}.{alias.name}" for alias in child.names)


def import_graph() -> dict:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict = {name: set() for name in modules}
    for name, path in modules.items():
        for target in module_level_imports(path):
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                # a module's own parent packages are already being imported when it runs
                if prefix in modules and prefix != name and not name.startswith(prefix + "."):
                    graph[name].add(prefix)
    return graph


def find_cycle(graph: dict) -> list:
    state: dict = {}
    stack: list = []

    def visit(node: str) -> list:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_no_import_cycle_at_module_level() -> None:
    """A module-level cycle works or breaks by import order; none is allowed."""
    assert find_cycle(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


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
