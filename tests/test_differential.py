"""Differential test: cnidoctor's prediction for ``--runtime libcni@1.1.2`` against the real
library, over every fixture with a ``net.d/``.

The real side is tests/differential/driver/main.go, built here from Debian's sources of
libcni 1.1.2 (golang-github-appc-cni-dev) and go-cni 1.1.7 (golang-github-containerd-go-cni-dev)
in GOPATH mode, offline, into a per-session temporary directory. It loads the directory as
go-cni's default loader does (lexically first .conf/.conflist/.json) and runs VERSION, ADD,
CHECK and DEL through libcni.CNIConfig with the real reference plugins (/usr/lib/cni) or the
fixture's own ``bin/``. See docs/differential.md.

Isolation: the driver runs inside a throwaway "host" network namespace (``ip netns add``) and a
private mount namespace with a tmpfs over /var/lib (host-local leases) and over /run/dbus and
/run/cni when present (no firewalld/dhcp daemon of the real host is reachable); the container
is a second throwaway namespace. Bridges, veths, routes and iptables chains the plugins create
live in those namespaces and vanish with them, so a fixture's own bridge names and subnets
cannot collide with the machine's, and nothing has a route off the machine. Both namespaces are
deleted in ``finally``; the test then asserts they are gone.

Compared per step (one test case each):

* ``version``: libcni GetVersionInfo per plugin type vs cnidoctor's ``plugins`` table.
* ``load``: the real first file and libcni's bare error vs the prediction's ``selected_file``
  and ``load`` step; when cnidoctor finds nothing loadable (no prediction), the real load must
  fail too, and go-cni's own wrapper text must equal cnidoctor's ``predicts`` for that file.
* ``add``/``check``/``del``: outcome and exact error text. ``unknown`` accepts anything (the
  real outcome is recorded in the test's output). cnidoctor predicts CHECK as it runs after a
  successful ADD; when the real ADD failed, CHECK ran without a cached result, so only failures
  raised before that matters (libcni's gate, or the first plugin's refusal) are compared. With a fixture's fake ``bin/`` scripts (they answer
  every command with their VERSION reply) only failures libcni raises itself are compared.

Known mismatches are ``xfail(strict=True)`` with the real text, so they flip when fixed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import pytest
from conftest import FIXTURES, run_cli
from differential import sandbox
from differential.sandbox import RealRun

from cnidoctor.crosscheck.predict import SANDBOX

RUNTIME = "libcni@1.1.2"
REAL_BIN = Path("/usr/lib/cni")
GOPATH = Path("/usr/share/gocode")
DRIVER_SRC = Path(__file__).resolve().parent / "differential" / "driver"
STEPS = ("version", "load", "add", "check", "del")
SCENARIOS = sorted(p for p in FIXTURES.iterdir() if (p / "net.d").exists())

# Texts only libcni itself produces (not a plugin): comparable even with fake plugins, which
# answer every CNI_COMMAND with their VERSION reply and so never fail on their own.
LIBCNI_TEXTS = (
    "unsupported CNI result version",
    "does not support the CHECK command",
    "invalid version",
    "failed to convert",
    "failed to find plugin",
    "invalid plugin name",
    "invalid characters found in network name",
    "error parsing configuration",
    "fork/exec ",  # the kernel refused to execute the file: no plugin code ran
)

# Types whose ADD needs node state the sandbox does not have (a master/host interface such as
# eth0, the dhcp daemon): for lists that run one, only libcni's own errors are compared.
NODE_STATE_TYPES = ("macvlan", "ipvlan", "host-device", "vlan", "dhcp")
NODE_STATE_PATTERN = re.compile(r'"type"\s*:\s*"(' + "|".join(NODE_STATE_TYPES) + r')"')

# A VERSION call the real library had to kill or abandon: its text depends on timing (how
# much a flooding plugin printed before the deadline), so only the outcome class is compared.
DEADLINE_MARKERS = ("signal: killed", "context deadline exceeded", "still waiting")
FLOOD_LENGTH = 2000  # tests/differential/record.py TEXT_LIMIT
TRUNCATED_MARK = "[... recording truncated:"  # tests/differential/record.py TRUNCATED

# (scenario, step) -> reason quoting the real library (measured with this test, libcni 1.1.2,
# Debian plugins 1.1.1). strict: they flip to XPASS, failing the run, once cnidoctor is fixed.
KNOWN_MISMATCHES: Dict[Tuple[str, str], str] = {}


# ---------------------------------------------------------------------------------------------
# environment


def _missing_requirement() -> Optional[str]:
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) for network and mount namespaces"
    for tool in ("go", "ip", "unshare", "mount", "sh"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    for package, path in (
        ("golang-github-appc-cni-dev", GOPATH / "src/github.com/containernetworking/cni/libcni"),
        ("golang-github-containerd-go-cni-dev", GOPATH / "src/github.com/containerd/go-cni"),
        ("containernetworking-plugins", REAL_BIN / "bridge"),
    ):
        if not path.exists():
            return f"{path} missing (Debian package {package})"
    return sandbox.netns_works() or None


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the driver once per session, offline, outside the repository."""
    reason = _missing_requirement()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("cnddriver")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(out),
        "GO111MODULE": "off",  # GOPATH mode: imports resolve from Debian's /usr/share/gocode
        "GOPATH": str(GOPATH),
        "GOCACHE": str(out / "cache"),
        "GOPROXY": "off",
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    binary = out / "cnddriver"
    built = subprocess.run(
        ["go", "build", "-o", str(binary), "main.go"],
        cwd=DRIVER_SRC,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if built.returncode != 0:
        pytest.fail("building the differential driver failed:\n" + built.stderr)
    return binary


# ---------------------------------------------------------------------------------------------
# running the real library in throwaway namespaces


def run_real(binary: Path, confdir: Path, bindir: Path, scratch: Path) -> RealRun:
    try:
        return sandbox.run_real(binary, confdir, bindir, scratch)
    except (sandbox.DriverFailed, sandbox.NamespacesLeft) as exc:
        pytest.fail(str(exc))


# ---------------------------------------------------------------------------------------------
# both sides, once per scenario


@dataclass(frozen=True)
class Pair:
    scenario: Path
    fake_bin: bool  # the fixture's own bin/ (fake scripts): only libcni's own errors compare
    real: Mapping[str, Any]
    stderr: str
    report: Mapping[str, Any]

    @property
    def prediction(self) -> Optional[Mapping[str, Any]]:
        return self.report.get("prediction")

    @property
    def node_state(self) -> Optional[str]:
        """The node-state-dependent type the selected file runs, if any."""
        load = self.real.get("load")
        if not load or load.get("outcome") != "ok":
            return None
        found = NODE_STATE_PATTERN.search(Path(load["file"]).read_text(errors="replace"))
        return found.group(1) if found else None


def emulates_verbs(scenario: Path) -> bool:
    """A ``bin-emulates-verbs`` marker: the fixture's fake scripts implement ADD/CHECK/DEL as the
    real plugin they stand for does (each script cites its upstream source), so every step compares."""
    return (scenario / "bin-emulates-verbs").exists()


def predict(scenario: Path, bindir: Path, runtime: str = RUNTIME) -> Mapping[str, Any]:
    args = [
        "check",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--no-cache",
        "--runtime",
        runtime,
        "--bin-dir",
        str(bindir),
        str(scenario / "net.d"),
    ]
    result = run_cli(args, cwd=scenario)
    assert result.exit_code == 0, result.output
    report: Mapping[str, Any] = json.loads(result.stdout)
    return report


def _with_sandbox_placeholder(value: Any, container_id: str) -> Any:
    """The driver's container ID as cnidoctor's placeholder for it: the runtime picks the ID,
    so cnidoctor's texts say `<sandbox-id>` where libcni prints it."""
    if isinstance(value, str):
        return value.replace(container_id, SANDBOX)
    if isinstance(value, list):
        return [_with_sandbox_placeholder(v, container_id) for v in value]
    if isinstance(value, dict):
        return {k: _with_sandbox_placeholder(v, container_id) for k, v in value.items()}
    return value


class Pairs:
    """Both sides per scenario, computed on first use and kept for the session."""

    def __init__(self, driver: Path, scratch: Path, dump: Optional[str]) -> None:
        self.driver, self.scratch, self.dump = driver, scratch, dump
        self.done: Dict[str, Pair] = {}

    def __getitem__(self, name: str) -> Pair:
        if name not in self.done:
            self.done[name] = self._run(name)
        return self.done[name]

    def _run(self, name: str) -> Pair:
        scenario = FIXTURES / name
        fake = (scenario / "bin").is_dir()
        bindir = scenario / "bin" if fake else REAL_BIN
        real = run_real(self.driver, scenario / "net.d", bindir, self.scratch)
        report = _with_sandbox_placeholder(real.report, real.container_id)
        pair = Pair(scenario, fake and not emulates_verbs(scenario), report, real.stderr, predict(scenario, bindir))
        if self.dump:
            record = {
                "real": pair.real,
                "prediction": pair.prediction,
                "plugins": pair.report.get("plugins"),
                "stderr": pair.stderr[-4000:],
            }
            (Path(self.dump) / f"{name}.json").write_text(json.dumps(record, indent=1))
        return pair


@pytest.fixture(scope="session")
def pairs(driver: Path, tmp_path_factory: pytest.TempPathFactory) -> Pairs:
    # CNIDOCTOR_DIFF_DUMP=<dir>: write both sides per scenario there, as JSON
    return Pairs(driver, tmp_path_factory.mktemp("cndruns"), os.environ.get("CNIDOCTOR_DIFF_DUMP"))


# ---------------------------------------------------------------------------------------------
# comparison


def _strip_prefix(text: str) -> str:
    """`plugin type="X" failed (add): inner` -> inner (libcni >= 1.0 wrapper)."""
    if text.startswith("plugin type=") and "): " in text:
        return text.split("): ", 1)[1]
    return text


def _libcni_text(text: Optional[str]) -> bool:
    inner = _strip_prefix(text or "")
    return any(marker in inner for marker in LIBCNI_TEXTS)


def _real_step(pair: Pair, step: str) -> Optional[Mapping[str, Any]]:
    value = pair.real.get(step)
    return value if isinstance(value, Mapping) else None


def compare_version(pair: Pair) -> None:
    real: Mapping[str, Any] = pair.real.get("version") or {}
    if not real:
        pytest.skip("no plugin was run: the selected config does not load")
    if any(f["code"] == "CNI108" for f in pair.report["findings"]):
        pytest.skip("an unrendered template: cnidoctor deliberately analyses only the rendered file")
    table = {p["type"]: p for p in pair.report.get("plugins", [])}
    for kind, got in real.items():
        assert kind in table, f"cnidoctor did not resolve plugin type {kind!r}"
        mine = table[kind]
        probe_ok = mine["problem"] is None and mine["probe_error"] is None and bool(mine["supported"])
        if got["outcome"] == "ok":
            assert probe_ok, (kind, mine)
            assert sorted(mine["supported"]) == sorted(got["supported"] or []), kind
        elif any(marker in (got["error"] or "") for marker in DEADLINE_MARKERS):
            assert not probe_ok, f"{kind}: libcni gave up ({got['error']}), cnidoctor's probe succeeded"
        elif _flood(got["error"]):
            head = got["error"].split('"', 1)[0]
            text = mine["error"] or mine["probe_error"] or ""
            assert text.startswith(head), f"{kind}: libcni {head!r}...; cnidoctor {text[:200]!r}"
        else:
            assert (mine["error"] or mine["probe_error"]) == got["error"], kind


def _flood(text: str) -> bool:
    """A plugin's output cut off at its deadline (probe-timeout's vendor-debug floods stdout):
    how much of it libcni quotes depends on timing, so only the text before the quote is
    compared. The recorder shortens such texts (tests/differential/record.py TRUNCATED)."""
    return len(text) > FLOOD_LENGTH or TRUNCATED_MARK in text


def compare_load(pair: Pair) -> None:
    real = pair.real.get("load")
    prediction = pair.prediction
    if real is None:
        # no config file at all: go-cni's own text is the only one (issue 9, class 1)
        gocni = pair.real["gocni"]
        assert gocni["outcome"] == "fail", "go-cni finds no config file but loads"
        assert prediction is not None, f"go-cni: {gocni['error']!r}; cnidoctor predicts nothing"
        assert prediction["selected_file"] is None, "go-cni finds no config file, cnidoctor predicts for one"
        predicted = prediction["steps"]["load"]
        assert (predicted["outcome"], predicted["error"]) == (gocni["outcome"], gocni["error"])
        return
    if prediction is None:
        assert real["outcome"] == "fail", f"cnidoctor: nothing loads; libcni loaded {real['file']}"
        _compare_gocni_text(pair, real["file"])
        return
    assert os.path.abspath(prediction["selected_file"]) == real["file"], (
        f"go-cni selects {real['file']} ({real['outcome']}: {real['error']})"
    )
    predicted = prediction["steps"]["load"]
    if predicted["outcome"] == "unknown":
        pytest.skip(f"cnidoctor: unknown ({predicted.get('detail', '')}); libcni: {real['outcome']} {real['error']!r}")
    assert (predicted["outcome"], predicted["error"]) == (real["outcome"], real["error"])
    assert pair.real["gocni"]["outcome"] == real["outcome"]


def _compare_gocni_text(pair: Pair, first: str) -> None:
    """cnidoctor's load finding on the file go-cni stops at predicts go-cni's wrapper text."""
    texts = [
        f["predicts"]
        for f in pair.report["findings"]
        if f.get("predicts")
        and f["file"]
        and os.path.abspath(f["file"]) == first
        and f["predicts"].startswith(("failed to load CNI", "network type not found", "CNI config list"))
    ]
    assert texts, f"no finding on {first} predicts go-cni's load error {pair.real['gocni']['error']!r}"
    real = pair.real["gocni"]["error"]
    assert real in texts, f"go-cni: {real!r}; cnidoctor predicts {texts!r}"


def _check_independent_of_add(pair: Pair, predicted: Mapping[str, Any]) -> bool:
    """A predicted CHECK failure that does not depend on ADD having succeeded: libcni's own gate
    before the plugin loop (no plugin blamed), or a refusal by the first plugin (it runs first
    whatever the cache holds, and skel/exec refuse before the plugin reads prevResult)."""
    if predicted["outcome"] != "fail":
        return False
    blamed = predicted.get("plugin")
    plugins = (pair.real.get("load") or {}).get("plugins") or []
    return blamed is None or (bool(plugins) and blamed == plugins[0])


def compare_verb(pair: Pair, step: str) -> None:
    prediction = pair.prediction
    real = _real_step(pair, step)
    if real is None or prediction is None:
        pytest.skip("not reached: the first config file does not load")
    predicted = prediction["steps"][step]
    if predicted["outcome"] == "unknown":
        pytest.skip(f"cnidoctor: unknown ({predicted.get('detail', '')}); libcni: {real['outcome']} {real['error']!r}")
    add = _real_step(pair, "add")
    if (
        step == "check"
        and add is not None
        and add["outcome"] != "ok"
        and not _check_independent_of_add(pair, predicted)
    ):
        pytest.skip(
            f"CHECK is predicted for after a successful ADD; the real ADD failed ({add['error']!r}), "
            f"so CHECK ran without a cached result (libcni: {real['outcome']} {real['error']!r})"
        )
    # A step inferred from a failed VERSION probe (basis "version-probe") is comparable with the
    # fixtures' fake scripts: they answer every CNI_COMMAND as they answer VERSION, which is the
    # very behaviour the inference assumes; what is checked is the text libcni makes of it.
    libcni_own = predicted["outcome"] == "fail" and (
        _libcni_text(predicted["error"]) or predicted.get("basis") == "version-probe"
    )
    if pair.fake_bin and not libcni_own:
        pytest.skip(
            f"fake plugins do not implement this verb; only libcni's own errors are comparable "
            f"(libcni: {real['outcome']} {real['error']!r})"
        )
    if pair.node_state and not libcni_own:
        pytest.skip(
            f"{pair.node_state} needs node state the sandbox lacks; only libcni's own errors are "
            f"comparable (libcni: {real['outcome']} {real['error']!r})"
        )
    if predicted.get("exact") is False and real["error"] is not None:
        assert predicted["outcome"] == real["outcome"] and predicted["error"] in real["error"], (predicted, real)
        return
    assert (predicted["outcome"], predicted["error"]) == (real["outcome"], real["error"]), pair.stderr[-2000:]


def _cases() -> Iterator[Any]:
    for scenario in SCENARIOS:
        for step in STEPS:
            reason = KNOWN_MISMATCHES.get((scenario.name, step))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(scenario.name, step, marks=marks, id=f"{scenario.name}-{step}")


@pytest.mark.parametrize(("scenario", "step"), list(_cases()))
def test_prediction_matches_libcni(pairs: Pairs, scenario: str, step: str) -> None:
    pair = pairs[scenario]
    if step == "version":
        compare_version(pair)
    elif step == "load":
        compare_load(pair)
    else:
        compare_verb(pair, step)
