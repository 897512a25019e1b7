"""Every scenario under fixtures/ run through the CLI; findings compared on
(code, file, pointer, severity), never on message wording.

A scenario is a directory with ``net.d/`` (configs), optionally ``bin/`` (plugins; then the
check probes with ``--bin-dir bin``, otherwise ``--no-probe``), optionally ``args`` (extra CLI
arguments, one per line, e.g. ``--bin-dir`` / ``bin2`` for a second plugin dir) and
``expected.json``: a list of {code, file, pointer, severity}. A scenario whose ``bin/`` holds
symlinks into /usr/lib/cni (the real Debian plugins) has a ``requires-real-plugins`` marker
file and is skipped where those plugins are not installed. Every run gets its own empty probe
cache (CNIDOCTOR_CACHE_DIR), so no run reads a stale cache or writes to the user's home.

Each scenario runs in a copy under tmp_path, so nothing can write into the repository. What git
cannot store is made in the copy from a ``make`` file, one entry per line: ``fifo PATH`` (a named
pipe) or ``bigfile PATH BYTES`` (a config above the size limit). A ``targets`` file replaces the
default target (``net.d``) with its lines, e.g. a directory that does not exist.
Each expectation was written from cni-facts.md / libcni source, not copied from output.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import List

import pytest
from conftest import FIXTURES, finding_keys, run_cli

# Node roots (a ``root/`` directory) run with --host-root in tests/test_node_fixtures.py.
SCENARIOS = sorted(p for p in FIXTURES.iterdir() if (p / "expected.json").is_file() and not (p / "root").is_dir())
REAL_PLUGINS = Path("/usr/lib/cni")


def scenario_args(scenario: Path) -> List[str]:
    args = ["check", "--format", "json", "--fail-on", "never"]
    if (scenario / "bin").is_dir():
        args += ["--bin-dir", "bin"]
    else:
        args.append("--no-probe")
    extra = scenario / "args"
    if extra.is_file():
        args += [line.strip() for line in extra.read_text().splitlines() if line.strip()]
    targets = scenario / "targets"
    if targets.is_file():
        args += [line.strip() for line in targets.read_text().splitlines() if line.strip()]
    else:
        args.append("net.d" if (scenario / "net.d").exists() else ".")
    return args


def materialise(scenario: Path, into: Path) -> Path:
    """Copy the scenario (symlinks as symlinks) and create what git cannot store."""
    copy = into / scenario.name
    shutil.copytree(scenario, copy, symlinks=True)
    make = copy / "make"
    for line in make.read_text().splitlines() if make.is_file() else ():
        kind, path, *rest = line.split()
        target = copy / path
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "bigfile":
            with open(target, "wb") as handle:
                handle.write(b"{" + b" " * (int(rest[0]) - 2) + b"}")
        else:
            raise ValueError(f"{make}: unknown entry {line!r}")
    return copy


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Path, tmp_path: Path) -> None:
    if (scenario / "requires-real-plugins").exists() and not (REAL_PLUGINS / "bridge").is_file():
        pytest.skip(f"needs the real CNI plugins in {REAL_PLUGINS}")
    env = {"CNIDOCTOR_CACHE_DIR": str(tmp_path / "probe-cache")}
    copy = materialise(scenario, tmp_path)
    result = run_cli(scenario_args(copy), cwd=copy, env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = sorted(
        (e["code"], e["file"], e["pointer"], e["severity"])
        for e in json.loads((scenario / "expected.json").read_text())
    )
    assert finding_keys(report) == expected
