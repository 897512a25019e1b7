"""Shared helpers for the benchmarks: locate the tools, time subprocesses, print and save tables.

Benchmarks time real subprocesses (what a user or a CI job pays, interpreter start-up included),
take the median of several repetitions after one untimed warm-up run, and never assert on time.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from tabulate import tabulate

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def bench_env() -> Dict[str, str]:
    """The environment for timed children: os.environ without PYTHONDONTWRITEBYTECODE.

    An installed wheel has its bytecode compiled; with PYTHONDONTWRITEBYTECODE=1 (set in some dev
    shells) every run would recompile every changed module, which measures the compiler, not
    cnidoctor. The untimed warm-up run writes the .pyc files (``__pycache__`` is git-ignored).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # This checkout's cnidoctor, whatever the venv's editable install points at (see tool()).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# What the `cnidoctor` command (bin/cnidoctor) does: cnidoctor.entry.main, run with this
# interpreter and this checkout first on sys.path: a venv's `cnidoctor` script may belong to
# another checkout (an editable install of the main worktree), so it would time other code.
# (A checkout from before cnidoctor.entry existed runs cnidoctor.cli:main, for before/after runs.)
CNIDOCTOR = [
    sys.executable,
    "-c",
    "import sys\ntry:\n from cnidoctor.entry import main\nexcept ImportError:\n from cnidoctor.cli import main\nsys.exit(main())",
]


def tool(name: str) -> List[str]:
    """cnidoctor from this checkout; other tools: the console script ``name`` next to this
    interpreter (the venv), else on PATH."""
    if name == "cnidoctor":
        return list(CNIDOCTOR)
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(name)
    if found:
        return [found]
    if name == "cnidoctor":
        return [sys.executable, "-m", "cnidoctor"]
    raise SystemExit(f"bench: `{name}` is not installed (pip install {name}); cannot run this benchmark")


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of ``runs`` repetitions of one command (warm-up excluded)."""

    label: str
    runs: List[float]
    exit_codes: List[int]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        return min(self.runs)

    def as_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out.update(median=self.median, best=self.best)
        return out


def run_once(
    argv: Sequence[str], env: Optional[Mapping[str, str]] = None, cwd: Optional[Path] = None
) -> tuple[float, int]:
    """Run ``argv`` with output discarded; (wall seconds, exit code)."""
    start = time.perf_counter()
    done = subprocess.run(
        list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=dict(env) if env is not None else bench_env(),
        cwd=cwd,
        check=False,
    )
    return time.perf_counter() - start, done.returncode


def time_command(
    label: str,
    argv: Sequence[str],
    repeat: int,
    *,
    warmup: bool = True,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[Path] = None,
    before_each: Any = None,
    note: str = "",
) -> Timing:
    """Median-able timings of ``argv``; ``before_each()`` may return a fresh env per run."""
    if warmup:
        run_once(argv, env=env, cwd=cwd)
    runs: List[float] = []
    codes: List[int] = []
    for _ in range(repeat):
        run_env = before_each() if before_each is not None else env
        seconds, code = run_once(argv, env=run_env, cwd=cwd)
        runs.append(seconds)
        codes.append(code)
    return Timing(label, runs, codes, note)


def run_once_cpu(argv: Sequence[str], env: Mapping[str, str]) -> Tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one run, output discarded. CPU is user + system
    time from wait4 of the process and every descendant it waited for (a probe, a plugin run by
    a shell loop, a worker pool): unlike wall time it hardly moves when other work loads the
    machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(env)
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


# (label, argv, the environment of one run: called before each run, so a row can get a fresh
# cache directory every time)
Command = Tuple[str, Sequence[str], Callable[[], Mapping[str, str]]]


def time_interleaved(commands: Sequence[Command], repeat: int) -> List[Dict[str, Any]]:
    """Timing dicts (Timing's keys plus cpu_runs, cpu_median), one per command: one untimed
    warm-up run each, then ``repeat`` rounds that run every command once. Commands compared by
    a ratio are timed in the same rounds, so a load that comes and goes on a shared machine
    (other test suites, a compiler) lands on all of them alike instead of on whichever command
    happened to be timed while it lasted."""
    for _, argv, env in commands:
        run_once_cpu(argv, env())
    walls: List[List[float]] = [[] for _ in commands]
    cpus: List[List[float]] = [[] for _ in commands]
    codes: List[List[int]] = [[] for _ in commands]
    for _ in range(repeat):
        for index, (_, argv, env) in enumerate(commands):
            wall, cpu, code = run_once_cpu(argv, env())
            walls[index].append(wall)
            cpus[index].append(cpu)
            codes[index].append(code)
    out = []
    for index, (label, _, _) in enumerate(commands):
        timing = Timing(label, walls[index], codes[index]).as_dict()
        timing.update(cpu_runs=cpus[index], cpu_median=statistics.median(cpus[index]))
        out.append(timing)
    return out


def peak_rss_kib(argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> Tuple[int, int]:
    """(peak resident set size in KiB, exit code) of one run of ``argv``: wait4's ru_maxrss, the
    largest of the process and the children it waited for (a worker pool's largest worker)."""
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=dict(env) if env is not None else bench_env(),
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss, proc.returncode


def spread(seconds: Sequence[float]) -> float:
    """(max - min) / median of the timed runs: how much a loaded machine moved the numbers."""
    middle = statistics.median(seconds)
    return (max(seconds) - min(seconds)) / middle if middle else 0.0


def ms(seconds: Optional[float]) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    return tabulate(rows, headers=list(headers), tablefmt="github", disable_numparse=True)


def environment() -> Dict[str, Any]:
    """Enough context to compare two result files: versions, commit, machine."""
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    try:
        from cnidoctor import __version__ as version
    except ImportError:  # pragma: no cover - bench run outside the venv
        version = "?"
    return {
        "cnidoctor": version,
        "commit": commit + ("+dirty" if dirty else ""),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "bytecode": "cached (PYTHONDONTWRITEBYTECODE dropped for timed runs)"
        if os.environ.get("PYTHONDONTWRITEBYTECODE")
        else "cached",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def save(kind: str, payload: Dict[str, Any]) -> Path:
    """Write ``payload`` to bench/results/<kind>-<timestamp>.json (git-ignored)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


@dataclass
class ImportCost:
    """One module's import time from ``python -X importtime`` (microseconds, median of runs)."""

    module: str
    self_us: float
    cumulative_us: float
    depth: int
    samples: List[float] = field(default_factory=list)


def parse_importtime(stderr: str) -> List[ImportCost]:
    """Lines ``import time: <self> | <cumulative> | <indent><module>``; indent = nesting depth."""
    costs: List[ImportCost] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            self_part, cumulative_part, name_part = line[len("import time:") :].split("|", 2)
            self_us, cumulative_us = float(self_part), float(cumulative_part)
        except ValueError:
            continue
        name = name_part.rstrip()
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        costs.append(ImportCost(name.strip(), self_us, cumulative_us, depth))
    return costs


def by_package(costs: Sequence[ImportCost]) -> List[Tuple[str, float]]:
    """Self time summed per top-level package: where start-up goes, attributable to a dependency."""
    totals: Dict[str, float] = {}
    for cost in costs:
        root = cost.module.split(".")[0]
        totals[root] = totals.get(root, 0.0) + cost.self_us
    return sorted(totals.items(), key=lambda item: -item[1])
