"""Node benchmark: a realistic node checked against the real reference plugins in /usr/lib/cni.

    python bench/node.py                 # table on stdout
    python bench/node.py --repeat 9 --json --bin-dir /opt/cni/bin

It writes three configs (the default bridge network with its chain, a macvlan/DHCP secondary
network and an ipvlan/static one; 12 distinct binaries) into a temp net.d and times, median of
--repeat runs after one untimed warm-up:

* cold, fresh cache: ``cnidoctor check --bin-dir DIR <net.d>`` with CNIDOCTOR_CACHE_DIR set to a
  new empty directory for every run (a first run on a node);
* cold, ``--no-cache``: the same without reading or writing the cache;
* warm: the same with a cache directory filled by one priming run (every later run on a node);
* what operators do by hand: a shell loop running ``CNI_COMMAND=VERSION`` on each binary one
  after another, once for every binary in DIR and once for the 12 the configs reference.

Child processes: each cnidoctor variant runs once more under ``strace -f -e trace=execve`` and we
count successful execve calls after the first (the first is cnidoctor itself), split into plugin
binaries (paths inside DIR) and anything else. strace sees every exec of every descendant, so a
warm run that reports 0 plugin execs really started none. The cold run is the control: it must
show the plugins being executed, otherwise the counting (or probing) is broken and we say so.
If strace is missing or ptrace is forbidden (some containers), the column says so instead of
guessing: atime- or wrapper-based counting would be unreliable (relatime) or change what is probed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from benchlib import (
    REPO_ROOT,
    Command,
    bench_env,
    by_package,
    environment,
    ms,
    parse_importtime,
    save,
    spread,
    table,
    time_interleaved,
    tool,
)

DEFAULT_BIN_DIR = "/usr/lib/cni"

CONFIGS: Dict[str, Dict[str, Any]] = {
    # containerd's default network shape: bridge + host-local, then the usual chain.
    "10-containerd-net.conflist": {
        "cniVersion": "1.0.0",
        "name": "containerd-net",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipMasq": True,
                "promiscMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": "10.88.0.0/16"}], [{"subnet": "2001:db8:4860::/64"}]],
                    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall"},
            {"type": "tuning", "sysctl": {"net.ipv4.conf.IFNAME.arp_notify": "1"}},
            {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        ],
    },
    # A Multus-style secondary network on the storage VLAN, addresses from the site DHCP server.
    "20-storage-macvlan.conflist": {
        "cniVersion": "1.0.0",
        "name": "storage",
        "plugins": [
            {"type": "macvlan", "master": "eth1", "mode": "bridge", "ipam": {"type": "dhcp"}},
            {"type": "sbr"},
        ],
    },
    # A tenant network in its own VRF with static addressing.
    "30-tenant-ipvlan.conflist": {
        "cniVersion": "1.0.0",
        "name": "tenant-a",
        "plugins": [
            {
                "type": "ipvlan",
                "master": "eth2",
                "mode": "l2",
                "ipam": {"type": "static", "addresses": [{"address": "192.0.2.10/24", "gateway": "192.0.2.1"}]},
            },
            {"type": "vrf", "vrfname": "tenant-a"},
        ],
    },
}


def referenced_types() -> List[str]:
    """Plugin and IPAM types the configs name, in first-use order."""
    seen: List[str] = []
    for doc in CONFIGS.values():
        for plugin in doc["plugins"]:
            for name in (plugin["type"], plugin.get("ipam", {}).get("type")):
                if name and name not in seen:
                    seen.append(name)
    return seen


def write_netd(directory: Path) -> Path:
    netd = directory / "net.d"
    netd.mkdir()
    for name, doc in CONFIGS.items():
        (netd / name).write_text(json.dumps(doc, indent=2) + "\n")
    return netd


def plugin_binaries(bin_dir: Path) -> List[Path]:
    return sorted(p for p in bin_dir.iterdir() if p.is_file() and os.access(p, os.X_OK))


def base_env(cache_dir: Optional[Path], installed: bool = False) -> Dict[str, str]:
    env = bench_env()
    if installed:  # an installed console script: this checkout must not shadow what is installed
        env.pop("PYTHONPATH", None)
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.pop("CNIDOCTOR_CACHE_DIR", None)
    if cache_dir is not None:
        env["CNIDOCTOR_CACHE_DIR"] = str(cache_dir)
    return env


# ------------------------------------------------------------------ counting child processes

EXECVE = re.compile(r'^(?P<pid>\d+)\s+execve\("(?P<path>[^"]*)"')
RESUMED = re.compile(r"^(?P<pid>\d+)\s+<\.\.\. execve resumed>.*=\s*(?P<rc>-?\d+)")
RESULT = re.compile(r"=\s*(?P<rc>-?\d+)(?:\s+\w+\s+\(.*\))?\s*$")


def count_execs(trace: str, bin_dir: Path) -> Tuple[int, int]:
    """(plugin execs, other child execs) from ``strace -f -e trace=execve -o`` output.

    Only successful execve calls count (``= 0``); PATH lookups that fail with ENOENT do not.
    With -f an execve can be split into ``<unfinished ...>`` and ``<... execve resumed>`` lines,
    so pending paths are kept per pid. The first successful exec is cnidoctor itself.
    """
    pending: Dict[str, str] = {}
    done: List[str] = []
    for line in trace.splitlines():
        start = EXECVE.match(line)
        if start:
            if line.rstrip().endswith("<unfinished ...>"):
                pending[start["pid"]] = start["path"]
                continue
            result = RESULT.search(line)
            if result and result["rc"] == "0":
                done.append(start["path"])
            continue
        resumed = RESUMED.match(line)
        if resumed and resumed["pid"] in pending:
            path = pending.pop(resumed["pid"])
            if resumed["rc"] == "0":
                done.append(path)
    children = done[1:]
    root = str(bin_dir.resolve())
    plugins = sum(1 for p in children if str(Path(p).resolve()).startswith(root + os.sep))
    return plugins, len(children) - plugins


def strace_usable() -> Optional[str]:
    """None when strace can trace here, else the reason it cannot."""
    if shutil.which("strace") is None:
        return "strace not installed"
    with tempfile.NamedTemporaryFile() as out:
        done = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=execve", "-o", out.name, "true"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return f"strace cannot trace here: {done.stderr.strip()[:120]}"
    return None


def traced_execs(argv: Sequence[str], env: Mapping[str, str], bin_dir: Path) -> Tuple[int, int, int]:
    """Run ``argv`` under strace; (plugin execs, other child execs, exit code)."""
    with tempfile.NamedTemporaryFile(prefix="cnidoctor-strace-", suffix=".txt") as out:
        done = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=execve", "-o", out.name, *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            check=False,
        )
        plugins, others = count_execs(Path(out.name).read_text(errors="replace"), bin_dir)
    return plugins, others, done.returncode


# ------------------------------------------------------------------ the benchmark


def shell_loop(binaries: Sequence[Path]) -> List[str]:
    """What an operator types: each binary's VERSION reply, one after another."""
    quoted = " ".join("'" + str(b).replace("'", "'\\''") + "'" for b in binaries)
    return ["sh", "-c", f'for b in {quoted}; do CNI_COMMAND=VERSION "$b" </dev/null; done']


@dataclass(frozen=True)
class Subject:
    """The cnidoctor being timed: this checkout (``python -c 'from cnidoctor.entry import main...'``
    with the repository first on PYTHONPATH) or an installed console script (``--cnidoctor``),
    with the interpreter whose bare start is the floor."""

    argv: Tuple[str, ...]
    python: str
    installed: bool
    description: str


def checkout_subject() -> Subject:
    return Subject(
        tuple(tool("cnidoctor")), sys.executable, False, f"this checkout ({REPO_ROOT}) via {sys.executable} -c"
    )


def installed_subject(command: str) -> Subject:
    """An installed ``cnidoctor`` console script: what users run. Its interpreter (the floor rows
    and -X importtime use it) is the one named on its ``#!`` line, as the kernel runs it."""
    path = shutil.which(command)
    if path is None:
        raise SystemExit(f"bench/node.py: --cnidoctor {command}: not found or not executable")
    with open(path, "rb") as handle:
        first = handle.readline().decode("utf-8", "replace").strip()
    if not first.startswith("#!"):
        raise SystemExit(f"bench/node.py: --cnidoctor {path}: not a script with a #! line")
    words = first[2:].split()
    python = words[0] if words else ""
    if not python or not os.access(python, os.X_OK):
        raise SystemExit(f"bench/node.py: --cnidoctor {path}: interpreter {python!r} not found")
    return Subject((path,), python, True, f"installed console script {path} (#!{first[2:]})")


@dataclass(frozen=True)
class Row:
    """One timed command; ``before_each`` gives a fresh environment per run (cold rows)."""

    label: str
    argv: Tuple[str, ...]
    env: Mapping[str, str]
    before_each: Any = None
    traced: bool = False


def _command(row: Row) -> Command:
    env = row.env
    return (row.label, row.argv, row.before_each if row.before_each else lambda: env)


def cnidoctor_rows(subject: Subject, check_args: List[str], tmp: Path, prefix: str) -> Tuple[List[Row], Any]:
    """Cold (fresh cache dir), cold (--no-cache) and warm rows of one cnidoctor; primes the warm
    cache (and returns the priming run: the sanity line)."""
    fresh_dirs = iter(range(100_000))
    tag = prefix.strip(": ").replace(" ", "-") or "this"

    def fresh_cache_env() -> Dict[str, str]:
        return base_env(tmp / f"cache-{tag}-cold-{next(fresh_dirs)}", subject.installed)

    check = [*subject.argv, *check_args]
    warm_env = base_env(tmp / f"cache-{tag}-warm", subject.installed)
    sanity = subprocess.run(check, capture_output=True, text=True, env=warm_env, check=False)  # primes
    no_cache = [*subject.argv, check_args[0], "--no-cache", *check_args[1:]]
    rows = [
        Row(prefix + COLD, tuple(check), fresh_cache_env(), fresh_cache_env, traced=True),
        Row(prefix + "cnidoctor, cold (--no-cache)", tuple(no_cache), base_env(None, subject.installed), traced=True),
        Row(prefix + WARM, tuple(check), warm_env, traced=True),
    ]
    return rows, sanity


def run(bin_dir: Path, repeat: int, subject: Subject, baseline: Optional[Subject] = None) -> Dict[str, Any]:
    cnidoctor = list(subject.argv)
    python = subject.python
    binaries = plugin_binaries(bin_dir)
    wanted = referenced_types()
    referenced = [bin_dir / name for name in wanted if (bin_dir / name).is_file()]
    missing = [name for name in wanted if not (bin_dir / name).is_file()]
    why_no_strace = strace_usable()
    with tempfile.TemporaryDirectory(prefix="cnidoctor-bench-node-") as tmp_name:
        tmp = Path(tmp_name)
        netd = write_netd(tmp)
        check_args = ["check", "--bin-dir", str(bin_dir), "--format", "json", str(netd)]
        check = [*cnidoctor, *check_args]
        rows, sanity = cnidoctor_rows(subject, check_args, tmp, "")
        warm_env = dict(rows[2].env)
        warm_cache = Path(warm_env["CNIDOCTOR_CACHE_DIR"])
        rows += [
            Row(f"sh loop, VERSION on all {len(binaries)} binaries", tuple(shell_loop(binaries)), bench_env()),
            Row(f"sh loop, VERSION on the {len(referenced)} referenced", tuple(shell_loop(referenced)), bench_env()),
            Row(FLOOR, (python, "-c", "pass"), base_env(None, subject.installed)),
            # Without `site`: what is left when the venv's site hooks (an editable install's
            # finder imports pathlib, re, urllib...; a wheel install has none) are not paid.
            Row(FLOOR_NO_SITE, (python, "-S", "-c", "pass"), base_env(None, subject.installed)),
            # The floor of a cold run: importing what any miss imports, before reading a file.
            # First the libraries alone (click is the CLI, dataclasses/typing the model), then
            # cnidoctor's CLI, then the pipeline.
            Row(
                IMPORT_LIBRARIES, (python, "-c", "import click, dataclasses, typing"), base_env(None, subject.installed)
            ),
            Row(IMPORT_CLI, (python, "-c", "import cnidoctor.cli"), base_env(None, subject.installed)),
            Row(
                IMPORT_PIPELINE,
                (python, "-c", "import cnidoctor.cli, cnidoctor.engine"),
                base_env(None, subject.installed),
            ),
        ]
        if not subject.installed:
            # A hit needs nothing from site-packages; a miss would (so: informative row only).
            # (An installed script finds cnidoctor in site-packages, so it cannot run with -S.)
            rows.append(Row(WARM_NO_SITE, (python, "-S", *check[1:]), warm_env))
        if baseline is not None:
            rows += cnidoctor_rows(baseline, check_args, tmp, BASELINE)[0]
            rows.append(Row(BASELINE + FLOOR, (baseline.python, "-c", "pass"), base_env(None, True)))
        results: List[Dict[str, Any]] = []
        for row, measured in zip(rows, time_interleaved([_command(row) for row in rows], repeat)):
            if row.traced and why_no_strace is None:
                env = row.before_each() if row.before_each else row.env
                plugins, others, code = traced_execs(row.argv, env, bin_dir)
                measured.update(plugin_execs=plugins, other_execs=others, traced_exit=code)
            results.append(measured)
        # Where a warm run's time goes when it starts no child: imports, by package (one run).
        # The console script does exactly this: import cnidoctor.entry, call main(argv).
        argv = [arg for arg in check[len(cnidoctor) :]]
        script = (
            [cnidoctor[0], *argv] if subject.installed else ["-c", f"from cnidoctor.entry import main; main({argv!r})"]
        )
        imports = subprocess.run(
            [python, "-X", "importtime", *script],
            capture_output=True,
            text=True,
            env=warm_env,
            check=False,
        )
        import_costs = by_package(parse_importtime(imports.stderr))
        cache_files = (
            sorted(str(p.relative_to(warm_cache)) for p in warm_cache.rglob("*") if p.is_file())
            if warm_cache.is_dir()
            else []
        )
    return {
        "timed": subject.description,
        "baseline": baseline.description if baseline is not None else None,
        "bin_dir": str(bin_dir),
        "configs": sorted(CONFIGS),
        "referenced": wanted,
        "missing": missing,
        "results": results,
        "strace": why_no_strace or "ok",
        "sanity": {
            "exit": sanity.returncode,
            "stderr": sanity.stderr.strip()[:300],
            "findings": _finding_codes(sanity.stdout),
        },
        "warm_cache_files": cache_files,
        "warm_imports_by_package_us": import_costs,
    }


def _finding_codes(stdout: str) -> List[str]:
    try:
        return sorted(f["code"] for f in json.loads(stdout).get("findings", []))
    except (ValueError, AttributeError):
        return ["(output is not JSON)"]


def print_report(data: Dict[str, Any]) -> None:
    print(f"\ntimed cnidoctor: {data['timed']}")
    if data.get("baseline"):
        print(f"baseline ({BASELINE.strip()} rows, timed in the same rounds): {data['baseline']}")
    print(f"\nbin dir {data['bin_dir']}; configs {', '.join(data['configs'])}")
    print(
        f"referenced types ({len(data['referenced'])}): {', '.join(data['referenced'])}"
        + (f"; MISSING from bin dir: {', '.join(data['missing'])}" if data["missing"] else "")
    )
    sanity = data["sanity"]
    print(
        f"sanity run: exit {sanity['exit']}, findings {sanity['findings'] or 'none'}"
        + (f", stderr: {sanity['stderr']}" if sanity["stderr"] else "")
    )
    print(f"warm cache dir holds {len(data['warm_cache_files'])} file(s): {data['warm_cache_files'][:5]}")
    print(f"child-process count: {'strace -f -e trace=execve' if data['strace'] == 'ok' else data['strace']}\n")
    rows = []
    for r in data["results"]:
        execs = f"{r['plugin_execs']} plugin / {r['other_execs']} other" if "plugin_execs" in r else "-"
        codes = ",".join(sorted({str(c) for c in r["exit_codes"]}))
        cpu = ms(r.get("cpu_median"))
        rows.append(
            [r["label"], ms(r["median"]), ms(r["best"]), f"{spread(r['runs']):.0%}", cpu, len(r["runs"]), codes, execs]
        )
    headers = ["command", "median", "best", "spread", "CPU (median)", "runs", "exit", "child execs (strace)"]
    print(table(rows, headers))
    print_ratios(data["results"])
    costs = data["warm_imports_by_package_us"]
    total = sum(us for _, us in costs)
    print(f"\nwarm run, python -X importtime (one run): {total / 1000:.0f} ms of imports; heaviest packages:")
    print("  " + ", ".join(f"{pkg} {us / 1000:.1f} ms" for pkg, us in costs[:8]))
    traced = {r["label"]: r for r in data["results"] if "plugin_execs" in r}
    cold = traced.get(COLD)
    warm = traced.get(WARM)
    if cold is not None and warm is not None:
        if cold["plugin_execs"] == 0:
            print(
                "\nNOTE: the cold run executed no plugin, so this build does not probe yet (or the "
                "strace count is broken); the warm-run count proves nothing until it does."
            )
        else:
            verdict = (
                "started no child process"
                if warm["plugin_execs"] + warm["other_execs"] == 0
                else f"started {warm['plugin_execs']} plugin and {warm['other_execs']} other child process(es)"
            )
            print(f"\nwarm run {verdict} (cold run control: {cold['plugin_execs']} plugin execs)")


FLOOR = "python -c pass (same venv)"
FLOOR_NO_SITE = "python -S -c pass (no site hooks)"
WARM_NO_SITE = "cnidoctor, warm, python -S (no site hooks)"
COLD = "cnidoctor, cold (fresh cache dir)"
WARM = "cnidoctor, warm (cached)"
BASELINE = "baseline: "
IMPORT_LIBRARIES = "python -c 'import click, dataclasses, typing' (no cnidoctor)"
IMPORT_CLI = "python -c 'import cnidoctor.cli' (no run)"
IMPORT_PIPELINE = "python -c 'import cnidoctor.cli, cnidoctor.engine' (no run)"
# The targets of issue 11, as (row, reference row, at most).
TARGETS = (
    (WARM, "sh loop, VERSION on the", 0.5),
    (WARM, FLOOR, 1.6),
    (COLD, "sh loop, VERSION on the", 2.0),
    (WARM_NO_SITE, "sh loop, VERSION on the", 0.5),
    (WARM_NO_SITE, FLOOR_NO_SITE, 1.6),
    # not targets: what a cold run cannot go below while it imports the CLI and the pipeline
    (IMPORT_LIBRARIES, "sh loop, VERSION on the", 2.0),
    (IMPORT_CLI, "sh loop, VERSION on the", 2.0),
    (IMPORT_PIPELINE, "sh loop, VERSION on the", 2.0),
    (BASELINE + WARM, "sh loop, VERSION on the", 0.5),
    (BASELINE + WARM, BASELINE + FLOOR, 1.6),
    (BASELINE + COLD, "sh loop, VERSION on the", 2.0),
)


def ratios(results: Sequence[Dict[str, Any]]) -> List[Tuple[str, str, float, Optional[float], float]]:
    """(row, reference, wall-time median ratio, CPU-time median ratio, target) for each target
    whose rows were measured. The targets are wall time; the CPU ratio is what the wall ratio
    would tend to on an idle machine for a row that runs nothing in parallel."""
    by_label = {r["label"]: r for r in results}
    out = []
    for row, reference, target in TARGETS:
        ref = next((r for label, r in by_label.items() if label.startswith(reference)), None)
        if row in by_label and ref is not None:
            mine = by_label[row]
            cpu = mine["cpu_median"] / ref["cpu_median"] if mine.get("cpu_median") and ref.get("cpu_median") else None
            out.append((row, ref["label"], mine["median"] / ref["median"], cpu, target))
    return out


def print_ratios(results: Sequence[Dict[str, Any]]) -> None:
    print("\nratios of medians (this run, side by side; wall time, then CPU time):")
    for row, reference, ratio, cpu, target in ratios(results):
        cpu_text = f", CPU {cpu:.2f}x" if cpu is not None else ""
        if row in (IMPORT_LIBRARIES, IMPORT_CLI, IMPORT_PIPELINE):
            room = "within" if ratio <= target else "already over"
            print(f"  {row} / {reference}: {ratio:.2f}x ({room} the cold target's {target}x){cpu_text}")
            continue
        verdict = "ok" if ratio <= target else "ABOVE target"
        print(f"  {row} / {reference}: {ratio:.2f}x (target <= {target}x: {verdict}){cpu_text}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", default=DEFAULT_BIN_DIR)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also write bench/results/node-<time>.json")
    parser.add_argument(
        "--cnidoctor",
        metavar="PATH",
        help="time this installed console script (e.g. /tmp/pv/bin/cnidoctor from a wheel install; "
        "the floor rows use the interpreter on its #! line) instead of this checkout",
    )
    parser.add_argument(
        "--baseline",
        metavar="PATH",
        help="also time this installed console script (e.g. a wheel of the previous commit), in the "
        "same rounds: before/after ratios from one run",
    )
    args = parser.parse_args(argv)
    bin_dir = Path(args.bin_dir)
    if not bin_dir.is_dir() or not plugin_binaries(bin_dir):
        print(
            f"bench/node.py: skipped: no plugin binaries in {bin_dir} "
            "(install containernetworking-plugins or pass --bin-dir)"
        )
        return 0
    env = environment()
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    subject = installed_subject(args.cnidoctor) if args.cnidoctor else checkout_subject()
    baseline = installed_subject(args.baseline) if args.baseline else None
    data = run(bin_dir, args.repeat, subject, baseline)
    print_report(data)
    if args.json:
        print(f"\nwrote {save('node', {'environment': env, **data})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
