"""Differential test against recordings of the newer libcni generations: cnidoctor's
``--runtime libcni@1.2.3`` and ``--runtime libcni@1.3.0`` predictions, per fixture and step,
against what the real libcni 1.2.3 + go-cni 1.1.12 and libcni 1.3.0 + go-cni 1.1.13 did.

The recordings (tests/differential/recorded/libcni-<version>.json) were made by
tests/differential/record.py with the same driver, sandbox and plugins as the live 1.1.2 test
(tests/test_differential.py); their ``meta`` names each library's tag and commit, the Go
version and the plugins package. No Go toolchain and no namespaces are needed here, but
cnidoctor still probes the real plugins (VERSION only), so the cases that ran the reference
plugins need the same containernetworking-plugins package in /usr/lib/cni and skip without it.
The comparison rules are the live test's own functions (docs/differential.md).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Tuple

import pytest
import test_differential as live
from conftest import FIXTURES

from cnidoctor.crosscheck.predict import SANDBOX

RECORDED = Path(__file__).resolve().parent / "differential" / "recorded"
GENERATIONS = ("1.2.3", "1.3.0")

# (version, scenario, step) -> reason quoting the recorded text; strict like the live test's.
KNOWN_MISMATCHES: Dict[Tuple[str, str, str], str] = {}


def _load(version: str) -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads((RECORDED / f"libcni-{version}.json").read_text())
    return data


def _denormalise(value: Any) -> Any:
    """The recorder's placeholders back to this checkout; the container ID becomes cnidoctor's
    own placeholder for it (the runtime picks the ID, cnidoctor cannot know it)."""
    if isinstance(value, str):
        return value.replace("@FIXTURES@", str(FIXTURES)).replace("@ID@", SANDBOX)
    if isinstance(value, list):
        return [_denormalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _denormalise(v) for k, v in value.items()}
    return value


def _installed_plugins() -> str:
    shown = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "containernetworking-plugins"], capture_output=True, text=True
    )
    return shown.stdout.strip() if shown.returncode == 0 else ""


class Recorded:
    def __init__(self) -> None:
        self.data = {version: _load(version) for version in GENERATIONS}
        self.plugins = _installed_plugins() if live.REAL_BIN.joinpath("bridge").exists() else ""
        self.done: Dict[Tuple[str, str], live.Pair] = {}

    def pair(self, version: str, name: str) -> live.Pair:
        if (version, name) not in self.done:
            self.done[version, name] = self._pair(version, name)
        return self.done[version, name]

    def _pair(self, version: str, name: str) -> live.Pair:
        data = self.data[version]
        entry = data["fixtures"].get(name)
        if entry is None:
            pytest.fail(f"{name} has no recording for libcni {version}: run tests/differential/record.py")
        scenario = FIXTURES / name
        fake = entry["bin"] == "fixture"
        if not fake:
            wanted = data["meta"]["plugins"]["version"]
            if self.plugins != wanted:
                pytest.skip(
                    f"recorded with containernetworking-plugins {wanted} in /usr/lib/cni; here: {self.plugins or 'none'}"
                )
        bindir = scenario / "bin" if fake else live.REAL_BIN
        report = live.predict(scenario, bindir, f"libcni@{version}")
        compared_as_fake = fake and not live.emulates_verbs(scenario)
        return live.Pair(scenario, compared_as_fake, _denormalise(entry["real"]), "", report)


@pytest.fixture(scope="session")
def recorded() -> Recorded:
    return Recorded()


def _cases() -> Iterator[Any]:
    for version in GENERATIONS:
        for scenario in live.SCENARIOS:
            for step in live.STEPS:
                reason = KNOWN_MISMATCHES.get((version, scenario.name, step))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(version, scenario.name, step, marks=marks, id=f"{version}-{scenario.name}-{step}")


def test_every_fixture_is_recorded() -> None:
    for version in GENERATIONS:
        data = _load(version)
        missing = [s.name for s in live.SCENARIOS if s.name not in data["fixtures"]]
        assert not missing, f"libcni {version}: not recorded: {missing} (tests/differential/record.py --only ...)"
        assert data["meta"]["libcni"]["tag"] == f"v{version}"


@pytest.mark.parametrize(("version", "scenario", "step"), list(_cases()))
def test_prediction_matches_recorded_libcni(recorded: Recorded, version: str, scenario: str, step: str) -> None:
    pair = recorded.pair(version, scenario)
    if step == "version":
        live.compare_version(pair)
    elif step == "load":
        live.compare_load(pair)
    else:
        live.compare_verb(pair, step)
