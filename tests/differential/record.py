"""Record what a real libcni/go-cni generation does with every fixture, for
tests/test_differential_recorded.py (which runs without Go and without namespaces).

    sudo python tests/differential/record.py --driver /path/to/cnddriver \\
        --libcni-commit <sha> --gocni-commit <sha> [--only FIXTURE ...]

The driver is tests/differential/driver/main.go built against the tagged libcni and go-cni
sources; this script does not build it and the repository holds no build recipe for fetched
sources (docs/differential.md says which tags and commits were used). The libcni and go-cni
versions and the Go version are read from the binary's own build information, so a recording
cannot claim a version it was not built from; the commits are what the caller passes.

Each fixture runs exactly as in the live test (tests/test_differential.py): in throwaway
network namespaces and a private mount namespace (tests/differential/sandbox.py), with the real
reference plugins in /usr/lib/cni or the fixture's own bin/. Output:
tests/differential/recorded/libcni-<version>.json. Machine-specific strings are replaced by
placeholders: the fixtures directory (@FIXTURES@), the driver's cache directory (@CACHE@), the
container's netns path (@NETNS@) and the container ID (@ID@). ADD's result (addresses, MACs)
is dropped: it is never compared. A text longer than 2000 characters is shortened (shorten).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from differential import sandbox  # noqa: E402

FIXTURES = HERE.parent.parent / "fixtures"
RECORDED = HERE / "recorded"
REAL_BIN = Path("/usr/lib/cni")
LIBCNI = "github.com/containernetworking/cni"
GOCNI = "github.com/containerd/go-cni"
BUILDINFO_MAGIC = b"\xff Go buildinf:"
TEXT_LIMIT = 2000
TRUNCATED = "[... recording truncated: {} characters in all ...]"


def _varint(data: bytes, at: int) -> Tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def build_info(binary: Path) -> Tuple[str, Dict[str, str]]:
    """(Go version, {module path: version}) from a Go >= 1.18 binary's build information
    (the inline-string format of Go's debug/buildinfo, flag bit 2)."""
    data = binary.read_bytes()
    at = data.find(BUILDINFO_MAGIC)
    if at < 0 or not data[at + 15] & 2:
        raise SystemExit(f"{binary}: no Go >= 1.18 build information")
    length, pos = _varint(data, at + 32)
    go_version = data[pos : pos + length].decode()
    length, pos = _varint(data, pos + length)
    modinfo = data[pos : pos + length].decode(errors="replace")
    modules = {}
    for line in modinfo.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0] == "dep":
            modules[fields[1]] = fields[2]
    return go_version, modules


def plugins_version() -> str:
    shown = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "containernetworking-plugins"], capture_output=True, text=True
    )
    return shown.stdout.strip() if shown.returncode == 0 else "unknown"


def scenarios(only: List[str]) -> List[Path]:
    found = sorted(p for p in FIXTURES.iterdir() if (p / "net.d").exists())
    return [p for p in found if not only or p.name in only]


def _placeholders(run: sandbox.RealRun) -> List[Tuple[str, str]]:
    return [
        (str(FIXTURES.resolve()), "@FIXTURES@"),
        (run.cache_dir, "@CACHE@"),
        (f"/run/netns/{run.container_id}c", "@NETNS@"),
        (run.container_id, "@ID@"),
    ]


def normalise(value: Any, pairs: List[Tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for machine, placeholder in pairs:
            value = value.replace(machine, placeholder)
        return value
    if isinstance(value, list):
        return [normalise(v, pairs) for v in value]
    if isinstance(value, dict):
        return {normalise(k, pairs): normalise(v, pairs) for k, v in value.items()}
    return value


def shorten(value: Any) -> Any:
    """A text longer than TEXT_LIMIT keeps its head and tail around a marker: the only such
    texts are a flooding plugin's output cut off at its deadline, whose length depends on
    timing (the tests compare only their outcome class, see TRUNCATED)."""
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        return value[: TEXT_LIMIT // 2] + TRUNCATED.format(len(value)) + value[-TEXT_LIMIT // 2 :]
    if isinstance(value, list):
        return [shorten(v) for v in value]
    if isinstance(value, dict):
        return {k: shorten(v) for k, v in value.items()}
    return value


def record_one(driver: Path, scenario: Path, scratch: Path) -> Mapping[str, Any]:
    fake = (scenario / "bin").is_dir()
    bindir = scenario / "bin" if fake else REAL_BIN
    run = sandbox.run_real(driver, scenario / "net.d", bindir, scratch)
    real = dict(run.report)
    if isinstance(real.get("add"), dict):
        real["add"] = {k: v for k, v in real["add"].items() if k != "result"}
    return {"bin": "fixture" if fake else str(REAL_BIN), "real": shorten(normalise(real, _placeholders(run)))}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--driver", type=Path, required=True)
    parser.add_argument("--libcni-commit", required=True)
    parser.add_argument("--gocni-commit", required=True)
    parser.add_argument("--only", nargs="*", default=[], help="re-record these fixtures, keep the others")
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or sandbox.netns_works():
        raise SystemExit("needs root and working `ip netns add` (see docs/differential.md)")
    go_version, modules = build_info(args.driver)
    libcni = modules.get(LIBCNI, "")
    out = RECORDED / f"libcni-{libcni.lstrip('v')}.json"
    old = json.loads(out.read_text()) if args.only and out.exists() else {"fixtures": {}}
    fixtures: Dict[str, Any] = dict(old["fixtures"])
    with tempfile.TemporaryDirectory(prefix="cndrecord") as scratch:
        for scenario in scenarios(args.only):
            print(scenario.name, file=sys.stderr)
            fixtures[scenario.name] = record_one(args.driver, scenario, Path(scratch))
    meta = {
        "libcni": {"module": LIBCNI, "tag": libcni, "commit": args.libcni_commit},
        "go-cni": {"module": GOCNI, "tag": modules.get(GOCNI, ""), "commit": args.gocni_commit},
        "go": go_version,
        "plugins": {"package": "containernetworking-plugins", "version": plugins_version(), "dir": str(REAL_BIN)},
        "recorded": datetime.date.today().isoformat(),
        "driver": "tests/differential/driver/main.go",
    }
    write_recording(out, meta, fixtures)
    return 0


def write_recording(out: Path, meta: Mapping[str, Any], fixtures: Mapping[str, Any]) -> None:
    """One recording file: stable key order, so a re-recording diffs only where it changed."""
    out.write_text(
        json.dumps({"meta": meta, "fixtures": fixtures}, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    )
    print(f"wrote {out} ({len(fixtures)} fixtures)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
