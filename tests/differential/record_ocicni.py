"""Record what a real cri-o/ocicni generation selects for every fixture, for
tests/test_ocicni_recorded.py (which runs without Go).

    python tests/differential/record_ocicni.py --driver /path/to/cndocicni \\
        --ocicni-commit <sha> --libcni-commit <sha> --crio-release 1.33.13 [--only FIXTURE ...]

The driver is tests/differential/ocicni/main.go built against the ocicni and libcni sources a
CRI-O release vendors (docs/differential.md, "ocicni generations"); this script does not build
it. The ocicni and libcni versions and the Go version are read from the binary's own build
information (record.build_info), so a recording cannot claim a version it was not built from;
the commits and the CRI-O release are what the caller passes.

ocicni only loads here (no ADD, CHECK or DEL): every top-level plugin gets VERSION and the
default network may get STATUS, so no namespaces are needed. The plugin directory is the one
record.py uses: the fixture's own bin/ when it has one, else the real plugins in /usr/lib/cni.
A fixture whose ``args`` name a ``--host-root`` with a CRI-O configuration setting
``cni_default_network`` runs with that name as the driver's ``-default`` (CRI-O's InitCNI
argument) and its entry records it as ``default_network``.
Each run gets its own process group, killed afterwards (a plugin that never answers VERSION
leaves the driver reporting "hang"). Output: tests/differential/recorded/ocicni-<version>.json,
with the fixtures directory replaced by @FIXTURES@.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from differential import record  # noqa: E402

OCICNI = "github.com/cri-o/ocicni"
DRIVER_TIMEOUT = 60  # seconds; the driver gives up on the load after 20 s and on Status() after 10 s


def fixture_host_root(scenario: Path) -> Optional[Path]:
    """The node root a fixture's ``args`` names with ``--host-root`` (None: it names none)."""
    args = scenario / "args"
    lines = [line.strip() for line in args.read_text().splitlines()] if args.is_file() else []
    for flag, value in zip(lines, lines[1:]):
        if flag == "--host-root":
            return scenario / value
    return None


def crio_default_network(scenario: Path) -> str:
    """``cni_default_network`` from the fixture's CRI-O configuration under its host root:
    crio.conf, then every crio.conf.d/*.conf in name order, a later file's key replacing an
    earlier one (cri-o/cri-o:internal/criocli/criocli.go@v1.28.2 mergeConfig; every non-directory
    drop-in, only *.conf ones here). "" when unset."""
    root = fixture_host_root(scenario)
    if root is None:
        return ""
    crio = root / "etc" / "crio"
    value = ""
    for path in [crio / "crio.conf", *sorted((crio / "crio.conf.d").glob("*.conf"))]:
        if path.is_file():
            network = tomllib.loads(path.read_text()).get("crio", {}).get("network", {})
            value = network.get("cni_default_network", value)
    return value


def run_driver(driver: Path, confdir: Path, bindir: Path, scratch: Path, default: str = "") -> Mapping[str, Any]:
    """One driver run; files, not pipes, so a plugin child left behind cannot hold the output open.
    ``default``: CRI-O's cni_default_network, passed as the driver's ``-default``."""
    out_path, err_path = scratch / "out.json", scratch / "err.txt"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    command = [str(driver), "-confdir", str(confdir), "-bindirs", str(bindir)]
    if default:
        command += ["-default", default]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, start_new_session=True)
        try:
            child.wait(timeout=DRIVER_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.wait()
    if child.returncode != 0:
        raise SystemExit(f"driver exited {child.returncode}:\n{err_path.read_text(errors='replace')[-4000:]}")
    report: Mapping[str, Any] = json.loads(out_path.read_text())
    return report


def record_one(driver: Path, scenario: Path, scratch: Path) -> Mapping[str, Any]:
    fake = (scenario / "bin").is_dir()
    bindir = scenario / "bin" if fake else record.REAL_BIN
    default = crio_default_network(scenario)
    real = run_driver(driver, scenario / "net.d", bindir, scratch, default)
    pairs = [(str(record.FIXTURES.resolve()), "@FIXTURES@")]
    entry = {"bin": "fixture" if fake else str(record.REAL_BIN), "real": record.shorten(record.normalise(real, pairs))}
    return {**entry, "default_network": default} if default else entry


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--driver", type=Path, required=True)
    parser.add_argument("--ocicni-commit", required=True)
    parser.add_argument("--libcni-commit", required=True)
    parser.add_argument("--crio-release", required=True, help="the CRI-O release whose go.mod pins these versions")
    parser.add_argument("--only", nargs="*", default=[], help="re-record these fixtures, keep the others")
    args = parser.parse_args(argv)
    go_version, modules = record.build_info(args.driver)
    ocicni = modules.get(OCICNI, "")
    if not ocicni:
        raise SystemExit(f"{args.driver}: not built with {OCICNI}")
    out = record.RECORDED / f"ocicni-{ocicni.lstrip('v')}.json"
    old = json.loads(out.read_text()) if args.only and out.exists() else {"fixtures": {}}
    fixtures: Dict[str, Any] = dict(old["fixtures"])
    with tempfile.TemporaryDirectory(prefix="cndocicni") as scratch:
        for scenario in record.scenarios(args.only):
            print(scenario.name, file=sys.stderr)
            fixtures[scenario.name] = record_one(args.driver, scenario, Path(scratch))
    meta = {
        "ocicni": {"module": OCICNI, "tag": ocicni, "commit": args.ocicni_commit},
        "libcni": {"module": record.LIBCNI, "tag": modules.get(record.LIBCNI, ""), "commit": args.libcni_commit},
        "crio": args.crio_release,
        "go": go_version,
        "plugins": {
            "package": "containernetworking-plugins",
            "version": record.plugins_version(),
            "dir": str(record.REAL_BIN),
        },
        "recorded": datetime.date.today().isoformat(),
        "driver": "tests/differential/ocicni/main.go",
    }
    record.write_recording(out, meta, fixtures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
