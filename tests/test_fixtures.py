"""Every scenario under fixtures/ run through the CLI; findings compared on
(code, file, pointer, severity), never on message wording.

A scenario is a directory with ``net.d/`` (configs), optionally ``bin/`` (plugins; then the
check probes with ``--bin-dir bin``, otherwise ``--no-probe``), optionally ``args`` (extra CLI
arguments, one per line) and ``expected.json``: a list of {code, file, pointer, severity}.
Each expectation was written from cni-facts.md / libcni source, not copied from output.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest

from conftest import FIXTURES, finding_keys, run_cli

SCENARIOS = sorted(p for p in FIXTURES.iterdir() if (p / "expected.json").is_file())


def scenario_args(scenario: Path) -> List[str]:
    args = ["check", "--format", "json", "--fail-on", "never"]
    if (scenario / "bin").is_dir():
        args += ["--bin-dir", "bin"]
    else:
        args.append("--no-probe")
    extra = scenario / "args"
    if extra.is_file():
        args += [line.strip() for line in extra.read_text().splitlines() if line.strip()]
    target = scenario / "net.d"
    args.append("net.d" if target.exists() else ".")
    return args


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Path) -> None:
    result = run_cli(scenario_args(scenario), cwd=scenario)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    expected = sorted(
        (e["code"], e["file"], e["pointer"], e["severity"])
        for e in json.loads((scenario / "expected.json").read_text())
    )
    assert finding_keys(report) == expected
