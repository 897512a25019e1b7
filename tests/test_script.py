"""The `cnidoctor` command as users get it: built into a wheel, installed by pip.

bin/cnidoctor is shipped as a script instead of a console_scripts entry point because the wrapper
pip writes for an entry point imports `re` (and with it enum, functools, collections) before any
cnidoctor code runs. These tests build a real wheel from this checkout, install it with pip
(which rewrites the `#!python` line, PEP 427) and check what the installed command does and
imports, observed from the outside with `python -X importtime`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import FIXTURES, ROOT

SCRIPT = "cnidoctor-0.1.0.data/scripts/cnidoctor"


def _can_build_offline() -> bool:
    # setuptools >= 70.1 has bdist_wheel itself; older ones need the `wheel` package (test extra).
    # A venv of Python >= 3.12 has no setuptools at all unless something installed it.
    if importlib.util.find_spec("setuptools") is None:
        return False
    import setuptools

    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _can_build_offline():
        pytest.skip("building a wheel without network needs setuptools with `wheel`, or setuptools >= 70.1")
    out = tmp_path_factory.mktemp("wheel")
    # a copy of what the build reads: building writes build/ and *.egg-info next to setup.cfg
    src = out / "src"
    skip = shutil.ignore_patterns("__pycache__")
    for name in ("cnidoctor", "schemas", "bin"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=skip)
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(src))
    (found,) = out.glob("cnidoctor-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip's own install of the wheel (into a --target dir: the same script handling as a venv)."""
    target = tmp_path_factory.mktemp("target")
    _pip("install", "--no-deps", "--no-index", "--target", str(target), str(wheel))
    return target


def test_the_wheel_ships_the_script_and_no_entry_point_that_would_overwrite_it(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        first = archive.read(SCRIPT).splitlines()[0]
        mode = archive.getinfo(SCRIPT).external_attr >> 16
        assert first == b"#!python"
        assert mode & 0o111, oct(mode)
        # pip generates console_scripts wrappers after copying the data scripts: a same-named
        # entry point would silently replace bin/cnidoctor with the slower wrapper
        entry_points = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert not entry_points or b"cnidoctor" not in archive.read(entry_points[0])


def run_installed(target: Path, args: List[str], cache: Path) -> subprocess.CompletedProcess:
    """The installed command as the kernel would start it: the interpreter on its #! line runs
    the script, plus -X importtime to see what it imports, and -S so that what is seen is the
    script's own imports: this test venv's site hooks (an editable install's finder imports re)
    are the venv's, not the command's. The dependencies come from the venv's site-packages,
    named on PYTHONPATH after the installed copy (without site, its .pth files are not run)."""
    script = target / "bin" / "cnidoctor"
    shebang = script.read_text().splitlines()[0]
    assert shebang == "#!" + sys.executable, shebang  # pip pointed it at the installing interpreter
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    paths = sysconfig.get_paths()
    path = os.pathsep.join(dict.fromkeys([str(target), paths["purelib"], paths["platlib"]]))
    env.update(PYTHONPATH=path, CNIDOCTOR_CACHE_DIR=str(cache), LC_ALL="C.UTF-8")
    return subprocess.run(
        [sys.executable, "-S", "-X", "importtime", str(script), *args],
        capture_output=True,
        env=env,
        cwd=cache.parent,
        timeout=120,
    )


def imported(stderr: bytes) -> List[str]:
    return [line.rsplit("|", 1)[-1].strip() for line in stderr.decode().splitlines() if line.startswith("import time:")]


def test_installed_version_imports_neither_re_nor_click(installed: Path, tmp_path: Path) -> None:
    run = run_installed(installed, ["--version"], tmp_path / "cache")
    assert run.returncode == 0
    assert run.stdout == b"cnidoctor, version 0.1.0\n"
    modules = imported(run.stderr)
    assert "cnidoctor.entry" in modules
    assert not {"re", "enum", "click"} & set(modules), modules


def test_installed_check_hit_replays_without_re_or_the_pipeline(installed: Path, tmp_path: Path) -> None:
    args = ["check", "--no-probe", "--format", "json", str(FIXTURES / "clean-bridge" / "net.d")]
    first = run_installed(installed, args, tmp_path / "cache")
    assert "cnidoctor.engine" in imported(first.stderr)  # the slow path ran (and was recorded)
    hit = run_installed(installed, args, tmp_path / "cache")
    assert (hit.stdout, hit.returncode) == (first.stdout, first.returncode)
    modules = imported(hit.stderr)
    assert "cnidoctor.fastpath" in modules
    assert not {"re", "enum", "click", "cnidoctor.engine"} & set(modules), modules
