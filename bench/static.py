"""Static-analysis benchmark: cnidoctor vs a plain JSON Schema check, and cnidoctor start-up.

    python bench/static.py                      # 1, 100, 2000, 10000 files; table on stdout
    python bench/static.py --sizes 1,100 --repeat 3 --json
    python bench/static.py --no-jsonschema      # cnidoctor only (schema not installed yet)

For each size N it writes N realistic, valid 1.0.0 conflists into a temp dir and times, as
subprocesses, median of --repeat runs after one untimed warm-up:

* ``cnidoctor check --no-probe --format json <dir>``
* ``check-jsonschema --default-filetype json --schemafile <cnidoctor's 1.0.0 conflist schema>
  <files...>`` (the same files; the schema cnidoctor ships, found via importlib.resources)

then start-up: ``python -c pass`` (the interpreter floor), ``cnidoctor --version``,
``cnidoctor check --no-probe`` on one file, ``check-jsonschema --version``; and the top import
costs from ``python -X importtime`` (median per module over several runs). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import json
import random
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from benchlib import (
    ImportCost,
    Timing,
    bench_env,
    by_package,
    environment,
    ms,
    parse_importtime,
    peak_rss_kib,
    save,
    spread,
    table,
    time_command,
    time_interleaved,
    tool,
)

SCHEMA_PARTS = ("_schemas", "1.0.0", "conflist.schema.json")  # repository schemas/, packaged via a symlink

# ------------------------------------------------------------------ realistic configs

Plugin = Dict[str, Any]


def host_local(rng: random.Random) -> Plugin:
    third = rng.randrange(0, 250)
    ranges: List[List[Dict[str, str]]] = [[{"subnet": f"10.{third}.0.0/16"}]]
    if rng.random() < 0.3:  # dual stack, as containerd's default bridge config
        ranges.append([{"subnet": f"fd00:{third:x}::/64"}])
    return {"type": "host-local", "ranges": ranges, "routes": [{"dst": "0.0.0.0/0"}]}


def bridge(rng: random.Random) -> Plugin:
    return {
        "type": "bridge",
        "bridge": f"cni{rng.randrange(8)}",
        "isGateway": True,
        "ipMasq": True,
        "hairpinMode": rng.random() < 0.5,
        "ipam": host_local(rng),
    }


def ptp(rng: random.Random) -> Plugin:
    return {"type": "ptp", "ipMasq": True, "mtu": rng.choice((1460, 1500, 8950)), "ipam": host_local(rng)}


def macvlan(rng: random.Random) -> Plugin:
    ipam: Plugin = rng.choice(
        (
            {"type": "dhcp"},
            {
                "type": "static",
                "addresses": [
                    {"address": f"192.168.{rng.randrange(250)}.10/24", "gateway": f"192.168.{rng.randrange(250)}.1"}
                ],
            },
        )
    )
    return {"type": "macvlan", "master": rng.choice(("eth0", "ens3", "bond0")), "mode": "bridge", "ipam": ipam}


def ipvlan(rng: random.Random) -> Plugin:
    return {"type": "ipvlan", "master": "eth1", "mode": rng.choice(("l2", "l3")), "ipam": host_local(rng)}


def vlan(rng: random.Random) -> Plugin:
    return {"type": "vlan", "master": "eth0", "vlanId": rng.randrange(2, 4000), "ipam": host_local(rng)}


def host_device(rng: random.Random) -> Plugin:
    return {
        "type": "host-device",
        "device": f"eth{rng.randrange(1, 4)}",
        "ipam": {"type": "static", "addresses": [{"address": "10.200.0.2/24"}]},
    }


def calico(rng: random.Random) -> Plugin:
    return {
        "type": "calico",
        "log_level": "info",
        "datastore_type": "kubernetes",
        "mtu": 0,
        "ipam": {"type": "calico-ipam"},
        "policy": {"type": "k8s"},
        "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"},
    }


def flannel(rng: random.Random) -> Plugin:
    return {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}}


MAIN_PLUGINS: Tuple[Callable[[random.Random], Plugin], ...] = (
    bridge,
    bridge,
    ptp,
    macvlan,
    ipvlan,
    vlan,
    host_device,
    calico,
    flannel,
)
CHAINED: Tuple[Plugin, ...] = (
    {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
    {"type": "firewall", "backend": "iptables"},
    {"type": "tuning", "sysctl": {"net.core.somaxconn": "512"}},
    {"type": "bandwidth", "capabilities": {"bandwidth": True}},
)


def conflist(index: int, rng: random.Random) -> Dict[str, Any]:
    """One valid 1.0.0 list: a main plugin, then 0-3 of portmap/firewall/tuning/bandwidth in order."""
    main = rng.choice(MAIN_PLUGINS)(rng)
    chained = [dict(p) for p in CHAINED if rng.random() < 0.5]
    return {"cniVersion": "1.0.0", "name": f"{main['type']}-net-{index}", "plugins": [main, *chained]}


def generate(directory: Path, count: int, seed: int = 1) -> List[Path]:
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        doc = conflist(index, rng)
        path = directory / f"{10 + index:05d}-{doc['plugins'][0]['type']}.conflist"
        path.write_text(json.dumps(doc, indent=2) + "\n")
        paths.append(path)
    return paths


# ------------------------------------------------------------------ the schema cnidoctor ships


@contextlib.contextmanager
def installed_schema() -> Iterator[Path]:
    """cnidoctor's 1.0.0 conflist schema as a file path; SystemExit with a clear message if absent."""
    resource = importlib.resources.files("cnidoctor").joinpath(*SCHEMA_PARTS)
    if not resource.is_file():
        raise SystemExit(
            "bench: cnidoctor/" + "/".join(SCHEMA_PARTS) + " is not installed, so there is nothing "
            "to compare check-jsonschema with. Land the schemas (or run with --no-jsonschema)."
        )
    with importlib.resources.as_file(resource) as path:
        yield path


# ------------------------------------------------------------------ measurements


def sanity_check(argv: Sequence[str], label: str, json_output: bool) -> str:
    """One captured run before timing: a crash or a tool error must not be timed as a result."""
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, env=bench_env())
    if done.returncode not in (0, 1):
        return f"{label}: exit {done.returncode}: {(done.stderr or done.stdout).strip()[:300]}"
    if json_output:
        try:
            report = json.loads(done.stdout)
        except ValueError:
            return f"{label}: output is not JSON"
        codes = sorted({f["code"] for f in report.get("findings", [])})
        return f"{label}: exit {done.returncode}, {len(report.get('findings', []))} findings {codes[:8]}"
    return f"{label}: exit {done.returncode} {done.stdout.strip()[:200]}"


def ratio(mine: Dict[str, Any], theirs: Optional[Dict[str, Any]], key: str) -> str:
    return f"{mine[key] / theirs[key]:.2f}x" if theirs and mine.get(key) and theirs.get(key) else "-"


def bench_sizes(sizes: Sequence[int], repeat: int, with_jsonschema: bool) -> Tuple[List[Dict[str, Any]], List[str]]:
    cnidoctor, jsonschema_cli = tool("cnidoctor"), tool("check-jsonschema") if with_jsonschema else []
    rows: List[Dict[str, Any]] = []
    notes: List[str] = []
    with contextlib.ExitStack() as stack:
        schema = stack.enter_context(installed_schema()) if with_jsonschema else None
        for size in sizes:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"cnidoctor-bench-{size}-")))
            files = generate(directory, size)
            reps = repeat if size < 10_000 else max(1, min(repeat, 3))
            # --no-cache: the pipeline itself, as in a pre-commit or CI run on changed files; the
            # result-cache column is the same command on unchanged files (every later run).
            cached = [*cnidoctor, "check", "--no-probe", "--format", "json", str(directory)]
            ours = [*cached[:-4], "--no-cache", *cached[-4:]]
            notes.append(sanity_check(ours, f"cnidoctor, {size} files", json_output=True))
            env = dict(bench_env(), CNIDOCTOR_CACHE_DIR=str(directory.parent / f"cnidoctor-bench-cache-{size}"))
            commands: List[Tuple[str, Sequence[str], Mapping[str, str]]] = [
                ("cnidoctor", ours, bench_env()),
                ("cnidoctor cached", cached, env),
            ]
            if schema is not None:
                theirs = [*jsonschema_cli, "--default-filetype", "json", "--schemafile", str(schema), *map(str, files)]
                notes.append(sanity_check(theirs, f"check-jsonschema, {size} files", json_output=False))
                commands.append(("check-jsonschema", theirs, bench_env()))
            row: Dict[str, Any] = {"files": size}
            for label, timing in zip(
                (c[0] for c in commands),
                time_interleaved([(label, argv, lambda env=env: env) for label, argv, env in commands], reps),
            ):
                row[label] = timing
            row["peak_rss_kib"], _ = peak_rss_kib(ours)
            rows.append(row)
    return rows, notes


def bench_startup(repeat: int) -> List[Timing]:
    cnidoctor = tool("cnidoctor")
    with tempfile.TemporaryDirectory(prefix="cnidoctor-bench-startup-") as tmp:
        one = generate(Path(tmp), 1)[0]
        timings = [
            time_command("python -c pass (floor)", [sys.executable, "-c", "pass"], repeat),
            time_command("cnidoctor --version", [*cnidoctor, "--version"], repeat),
            time_command(
                "cnidoctor check --no-probe <1 file>",
                [*cnidoctor, "check", "--no-probe", "--no-cache", "--format", "json", str(one)],
                repeat,
            ),
        ]
        try:
            timings.append(time_command("check-jsonschema --version", [*tool("check-jsonschema"), "--version"], repeat))
        except SystemExit:
            pass
    return timings


def importtime(runs: int) -> List[ImportCost]:
    """Median self/cumulative import time per module of a one-file ``check --no-probe``."""
    samples: Dict[str, List[Tuple[float, float, int]]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="cnidoctor-bench-imports-") as tmp:
        one = generate(Path(tmp), 1)[0]
        # The console script does exactly this: import cnidoctor.entry, call main().
        code = (
            "import sys\nfrom cnidoctor.entry import main\n"
            f"main(['check', '--no-probe', '--no-cache', '--format', 'json', {str(one)!r}])"
        )
        for run in range(runs + 1):  # run 0 only writes the bytecode caches
            done = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", code],
                capture_output=True,
                text=True,
                check=False,
                env=bench_env(),
            )
            for cost in parse_importtime(done.stderr) if run else ():
                samples[cost.module].append((cost.self_us, cost.cumulative_us, cost.depth))
    return [
        ImportCost(
            module,
            statistics.median(s[0] for s in values),
            statistics.median(s[1] for s in values),
            values[0][2],
            [s[0] for s in values],
        )
        for module, values in samples.items()
    ]


# ------------------------------------------------------------------ report


def print_report(
    sizes: List[Dict[str, Any]], notes: List[str], startup: List[Timing], imports: List[ImportCost], top: int
) -> None:
    print("\n## Static check: median wall and CPU time (subprocess, warm page cache)\n")
    rows = []
    for row in sizes:
        ours, cached = row["cnidoctor"], row["cnidoctor cached"]
        theirs = row.get("check-jsonschema")
        rows.append(
            [
                row["files"],
                ms(ours["median"]),
                f"{spread(ours['runs']):.0%}",
                f"{row['files'] / ours['median']:.0f}",
                ms(theirs["median"]) if theirs else "-",
                f"{spread(theirs['runs']):.0%}" if theirs else "-",
                ratio(ours, theirs, "median"),
                ms(ours["cpu_median"]),
                ms(theirs["cpu_median"]) if theirs else "-",
                ratio(ours, theirs, "cpu_median"),
                ms(cached["median"]),
                f"{row['peak_rss_kib'] / 1024:.0f} MiB",
                len(ours["runs"]),
                ",".join(sorted({str(c) for c in ours["exit_codes"]})),
            ]
        )
    print(
        table(
            rows,
            [
                "files",
                "cnidoctor --no-cache",
                "spread",
                "files/s",
                "check-jsonschema",
                "spread",
                "cnidoctor/jsonschema (target <= 0.8x)",
                "cnidoctor CPU",
                "check-jsonschema CPU",
                "CPU ratio",
                "cnidoctor, result cached",
                "peak RSS",
                "runs",
                "exit",
            ],
        )
    )
    print(
        "\n`spread` = (slowest - fastest) / median of the wall times; CPU = median user + system time "
        "of the process and its children (wait4), which a loaded machine hardly moves; the commands "
        "of one size run interleaved, one of each per round; peak RSS = one --no-cache run's ru_maxrss (the largest "
        "process: the parent, or one worker of the pool from 4,000 files)."
    )
    print("\nSanity runs (captured, not timed):")
    for note in notes:
        print(f"  {note}")

    print("\n## Start-up (median, includes interpreter start)\n")
    floor = next((t for t in startup if t.label.startswith("python -c pass")), None)
    print(
        table(
            [
                [
                    t.label,
                    ms(t.median),
                    ms(t.best),
                    f"{spread(t.runs):.0%}",
                    f"{t.median / floor.median:.2f}x" if floor else "-",
                    len(t.runs),
                ]
                for t in startup
            ],
            ["command", "median", "best", "spread", "/ floor", "runs"],
        )
    )
    print("target: `cnidoctor --version` <= 2.5x the floor")

    total = sum(c.self_us for c in imports)
    print(f"\n## python -X importtime, one-file check (sum of self times: {total / 1000:.1f} ms)\n")
    print("By top-level package (self time summed):\n")
    print(
        table(
            [[pkg, f"{us / 1000:.1f} ms", f"{100 * us / total:.0f}%"] for pkg, us in by_package(imports)[:top]],
            ["package", "self", "share"],
        )
    )
    print("\nTop modules by self time:\n")
    heaviest = sorted(imports, key=lambda c: -c.self_us)[:top]
    print(
        table(
            [[c.module, f"{c.self_us / 1000:.1f} ms", f"{c.cumulative_us / 1000:.1f} ms"] for c in heaviest],
            ["module", "self", "cumulative"],
        )
    )
    print("\nTop-level imports by cumulative time:\n")
    roots = sorted((c for c in imports if c.depth == 0), key=lambda c: -c.cumulative_us)[:top]
    print(table([[c.module, f"{c.cumulative_us / 1000:.1f} ms"] for c in roots], ["module", "cumulative"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,2000,10000", help="comma-separated file counts")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (10000 files: at most 3)")
    parser.add_argument("--startup-repeat", type=int, default=15)
    parser.add_argument("--importtime-runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15, help="rows in the import tables")
    parser.add_argument("--no-jsonschema", action="store_true", help="time cnidoctor only")
    parser.add_argument("--json", action="store_true", help="also write bench/results/static-<time>.json")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    env = environment()
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    size_rows, notes = bench_sizes(sizes, args.repeat, with_jsonschema=not args.no_jsonschema)
    startup = bench_startup(args.startup_repeat)
    imports = importtime(args.importtime_runs)
    print_report(size_rows, notes, startup, imports, args.top)
    if args.json:
        path = save(
            "static",
            {
                "environment": env,
                "sizes": size_rows,
                "sanity": notes,
                "startup": [t.as_dict() for t in startup],
                "imports": [
                    {"module": c.module, "self_us": c.self_us, "cumulative_us": c.cumulative_us, "depth": c.depth}
                    for c in imports
                ],
            },
        )
        print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
