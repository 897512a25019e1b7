"""Differential test against recordings of the real cri-o/ocicni: which network CRI-O makes the
default for each fixture, and which files it skips on the way there and why.

The recordings (tests/differential/recorded/ocicni-<version>.json) were made by
tests/differential/record_ocicni.py with tests/differential/ocicni/main.go built against the
ocicni and libcni a CRI-O release vendors (``meta.crio``; docs/differential.md, "ocicni
generations"). For every fixture cnidoctor runs with ``--runtime crio@<that release>`` and the
same plugin directory, and must agree on:

* the default network: its name and file (cnidoctor's ``selected``), or that there is none;
* every file ocicni skips before it reaches the default (all files when there is none), with
  the class of the skip read from ocicni's own log line (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3
  loadNetworks): ``load`` ("Error loading CNI config (list) file ..."), ``no-type``, ``convert``,
  ``no-plugins``, ``validate`` ("Error validating CNI config file ...": libcni
  ValidateNetworkList's bracketed list of every failure) and ``silent`` (ENOENT, no log line);
* where cnidoctor gives the text of a skip (``prediction.skipped[].text``), ocicni's log line;
* every "Ignored CNI network ... because already exists" line, over all files: cnidoctor's CNI011
  predicts exactly these (``predicts``), on the same files.

A fixture whose ``args`` name a ``--host-root`` carries CRI-O's configuration there (e.g. a
``cni_default_network``, which the recorder passed as the driver's ``-default``); cnidoctor then
runs with that host root too. The driver's GetDefaultNetworkName() returns a fixed name even when
no network has it: no "Found CNI network <name>" line (``default_file`` null) means no default.
With a host root, cnidoctor checks a plugin's ELF interpreter under it (plugins/elfinfo.py), as a
real node root needs; the fixture therefore runs from a temporary copy into which this test puts
the loader the real plugins name (PT_INTERP) and the libraries it resolves for them - copied from
this machine at test time, never committed.

Files after the default are out of scope: ocicni logs them too, but they do not change which
network pods without a network annotation get. No Go toolchain and no namespaces are needed;
cnidoctor still probes the plugins (VERSION only), so fixtures recorded with the real plugins in
/usr/lib/cni need the same containernetworking-plugins package and skip without it.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import pytest
from conftest import FIXTURES, run_cli

RECORDED = Path(__file__).resolve().parent / "differential" / "recorded"
REAL_BIN = Path("/usr/lib/cni")
GENERATIONS = tuple(sorted(p.name[len("ocicni-") : -len(".json")] for p in RECORDED.glob("ocicni-*.json")))

# (ocicni version, fixture) -> why cnidoctor still differs; strict, so a fix flips it to XPASS.
KNOWN_MISMATCHES: Dict[Tuple[str, str], str] = {}


def _load(version: str) -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads((RECORDED / f"ocicni-{version}.json").read_text())
    return data


def _denormalise(value: Any, fixtures: Path) -> Any:
    if isinstance(value, str):
        return value.replace("@FIXTURES@", str(fixtures))
    if isinstance(value, list):
        return [_denormalise(v, fixtures) for v in value]
    if isinstance(value, dict):
        return {k: _denormalise(v, fixtures) for k, v in value.items()}
    return value


def _installed_plugins() -> str:
    shown = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "containernetworking-plugins"], capture_output=True, text=True
    )
    return shown.stdout.strip() if shown.returncode == 0 else ""


def _log_class(message: str, file: str) -> Optional[str]:
    """The class of ocicni's log line about ``file`` (ocicni.go@v0.4.3 loadNetworks), None when
    the line is not about skipping it."""
    prefixes = (
        (f"Error loading CNI config list file {file}: ", "load"),
        (f"Error loading CNI config file {file}: no 'type'; perhaps this is a .conflist?", "no-type"),
        (f"Error loading CNI config file {file}: ", "load"),
        (f"Error converting CNI config file {file} to list: ", "convert"),
        (f"CNI config list {file} has no networks, skipping", "no-plugins"),
        (f"Error validating CNI config file {file}: ", "validate"),
    )
    for prefix, kind in prefixes:
        if message.startswith(prefix):
            return kind
    if re.fullmatch(rf"Ignored CNI network .* at {re.escape(file)} because already exists", message):
        return "duplicate"
    return None


def real_skips(real: Mapping[str, Any]) -> Dict[str, Tuple[str, str]]:
    """{file: (class, ocicni's log line)} for the files ocicni skips before its default."""
    out: Dict[str, Tuple[str, str]] = {}
    for file in real["files"]:
        if file == real["default_file"]:
            break
        lines = [(line["message"], _log_class(line["message"], file)) for line in real["logs"]]
        skipped = [(kind, message) for message, kind in lines if kind is not None]
        found = any(
            message.startswith("Found CNI network ") and message.endswith(f" at {file}") for message, _ in lines
        )
        if skipped:
            out[file] = skipped[0]
        elif not found:
            out[file] = ("silent", "")
    return out


def ignored_lines(real: Mapping[str, Any]) -> Dict[str, str]:
    """{file: ocicni's "Ignored CNI network ..." line}, over every file ocicni walks."""
    out: Dict[str, str] = {}
    for line in real["logs"]:
        found = re.fullmatch(r"Ignored CNI network .* at (.*) because already exists", line["message"])
        if found:
            out[found.group(1)] = line["message"]
    return out


def cnidoctor_ignored(report: Mapping[str, Any]) -> Dict[str, str]:
    """{file: the "Ignored CNI network ..." line CNI011 predicts}."""
    return {
        f["file"]: f["predicts"]
        for f in report["findings"]
        if f["code"] == "CNI011" and (f.get("predicts") or "").startswith("Ignored CNI network ")
    }


def paired_by_cni008(report: Mapping[str, Any], file: str) -> bool:
    """A .conf and a .conflist of one network: CNI008 reports the pair instead of CNI011
    (rules/directory.py), without predicting ocicni's "Ignored" line for the second file."""
    return any(f["code"] == "CNI008" and file in (f["file"], *f["message"].split()) for f in report["findings"])


def host_root_arg(scenario: Path) -> Optional[str]:
    """The ``--host-root`` value of the fixture's ``args`` (None: it has none)."""
    args = scenario / "args"
    lines = [line.strip() for line in args.read_text().splitlines()] if args.is_file() else []
    return next((value for flag, value in zip(lines, lines[1:]) if flag == "--host-root"), None)


PT_INTERP = 3


def elf_interpreter(path: Path) -> Optional[str]:
    """PT_INTERP of a little-endian ELF64 executable (the loader the kernel runs), read here
    rather than through cnidoctor so the setup does not depend on the code under test."""
    data = path.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return None
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        header = phoff + index * phentsize
        if struct.unpack_from("<I", data, header)[0] == PT_INTERP:
            offset, filesz = (
                struct.unpack_from("<Q", data, header + 8)[0],
                struct.unpack_from("<Q", data, header + 32)[0],
            )
            return data[offset : offset + filesz].rstrip(b"\0").decode()
    return None


def loader_files(bindir: Path) -> List[str]:
    """The loaders the plugins in ``bindir`` name and the libraries each resolves for them
    (``<loader> --list <plugin>``: the real loader's own answer, ldd's mechanism)."""
    files: List[str] = []
    for plugin in sorted(bindir.iterdir()):
        interpreter = elf_interpreter(plugin.resolve()) if plugin.resolve().is_file() else None
        if interpreter is None:
            continue
        listed = subprocess.run([interpreter, "--list", str(plugin)], capture_output=True, text=True, check=True)
        files += [interpreter, *re.findall(r"=> (/\S+)", listed.stdout)]
    return list(dict.fromkeys(files))


def with_loaders(scenario: Path, bindir: Path, into: Path, host_root: str) -> Path:
    """A copy of ``scenario`` under ``into`` whose host root holds this machine's loader and
    libraries for the plugins in ``bindir`` at the paths the plugins name."""
    copy = into / scenario.name
    shutil.copytree(scenario, copy, symlinks=True)
    for name in loader_files(bindir):
        target = copy / host_root / name.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(name).resolve(), target)
    return copy


def predict(scenario: Path, bindir: Path, runtime: str, host_root: Optional[str] = None) -> Mapping[str, Any]:
    args = ["check", "--format", "json", "--fail-on", "never", "--no-cache", "--runtime", runtime]
    args += ["--host-root", str(scenario / host_root)] if host_root else []
    args += ["--bin-dir", str(bindir), str(scenario / "net.d")]
    result = run_cli(args, cwd=scenario)
    assert result.exit_code == 0, result.output
    report: Mapping[str, Any] = json.loads(result.stdout)
    return report


class Recorded:
    def __init__(self) -> None:
        self.data = {version: _load(version) for version in GENERATIONS}
        self.plugins = _installed_plugins() if REAL_BIN.joinpath("bridge").exists() else ""

    def pair(self, version: str, name: str, scratch: Path) -> Tuple[Mapping[str, Any], Mapping[str, Any]]:
        data = self.data[version]
        entry = data["fixtures"].get(name)
        if entry is None:
            pytest.fail(f"{name} has no recording for ocicni {version}: run tests/differential/record_ocicni.py")
        fake = entry["bin"] == "fixture"
        if not fake and self.plugins != data["meta"]["plugins"]["version"]:
            pytest.skip(f"recorded with containernetworking-plugins {data['meta']['plugins']['version']}")
        scenario = FIXTURES / name
        bindir = scenario / "bin" if fake else REAL_BIN
        host_root = host_root_arg(scenario)
        if host_root is None:
            return _denormalise(entry["real"], FIXTURES), predict(scenario, bindir, crio_runtime(data))
        copy = with_loaders(scenario, bindir, scratch, host_root)
        bindir = copy / "bin" if fake else REAL_BIN
        return _denormalise(entry["real"], scratch), predict(copy, bindir, crio_runtime(data), host_root)


def crio_runtime(data: Mapping[str, Any]) -> str:
    """``crio@<major.minor>`` of the CRI-O release whose go.mod pins the recorded ocicni."""
    major, minor = data["meta"]["crio"].split(".")[:2]
    return f"crio@{major}.{minor}"


@pytest.fixture(scope="session")
def recorded() -> Recorded:
    return Recorded()


def _cases() -> Iterator[Any]:
    for version in GENERATIONS:
        for name in sorted(_load(version)["fixtures"]):
            reason = KNOWN_MISMATCHES.get((version, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(version, name, marks=marks, id=f"{version}-{name}")


def test_recordings_cover_every_fixture_and_generation() -> None:
    wanted = sorted(p.name for p in FIXTURES.iterdir() if (p / "net.d").exists())
    crio = set()
    for version in GENERATIONS:
        data = _load(version)
        assert sorted(data["fixtures"]) == wanted, f"ocicni {version}: re-record (record_ocicni.py)"
        assert data["meta"]["ocicni"]["tag"] == f"v{version}"
        crio.add(crio_runtime(data))
    assert {"crio@1.28", "crio@1.33", "crio@1.35"} <= crio


# ocicni's errMissingDefaultNetwork (Status() with no default network), "No ..." or "no ..." per
# generation (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.3); the directory is CRI-O's network_dir as
# configured, so a trailing slash is not compared.
NO_NETWORK = re.compile(r"([Nn]o CNI configuration file in )(.*?)/?(\. Has your network provider started\?)")


def no_network_text(text: Optional[str]) -> Optional[str]:
    found = NO_NETWORK.search(text or "")
    return "".join(found.groups()) if found else None


def cnidoctor_no_network_text(report: Mapping[str, Any]) -> Optional[str]:
    """The no-default text cnidoctor predicts for CRI-O: the load step's error when no file is
    read at all, else the text its detail gives for "without another valid file"."""
    load = ((report.get("prediction") or {}).get("steps") or {}).get("load") or {}
    return no_network_text(load.get("error")) or no_network_text(load.get("detail"))


def cnidoctor_skips(report: Mapping[str, Any]) -> Dict[str, Tuple[str, Optional[str]]]:
    prediction = report.get("prediction") or {}
    return {item["file"]: (item["reason"], item.get("text")) for item in prediction.get("skipped", [])}


@pytest.mark.parametrize(("version", "name"), list(_cases()))
def test_crio_selection_matches_recorded_ocicni(recorded: Recorded, version: str, name: str, tmp_path: Path) -> None:
    real, report = recorded.pair(version, name, tmp_path)
    if real["init"] != "ok":
        prediction = report.get("prediction") or {}
        load = (prediction.get("steps") or {}).get("load") or {}
        assert report["selected"] is None and load.get("outcome") in ("unknown", "hang"), (
            f"ocicni's load: {real['init']} ({real['init_error']}); cnidoctor: {report['selected']} {load}"
        )
        return
    selected = report["selected"] or {}
    got = (selected.get("network"), selected.get("file"))
    # a fixed cni_default_network no valid file defines: GetDefaultNetworkName() still returns
    # it, but no network backs it (ocicni.go@v0.4.3 getDefaultNetwork) - no default
    want_default = (real["default"], real["default_file"]) if real["default_file"] else (None, None)
    assert got == want_default, f"ocicni's default: {real['default']} at {real['default_file']}"
    mismatches: List[str] = []
    status = real["status"] or {}
    real_status = no_network_text(status.get("error")) if status.get("outcome") == "fail" else None
    if real_status is not None and cnidoctor_no_network_text(report) != real_status:
        mismatches.append(f"Status(): ocicni {real_status!r}, cnidoctor {cnidoctor_no_network_text(report)!r}")
    want = real_skips(real)
    have = cnidoctor_skips(report)
    for file in sorted(set(want) | set(have)):
        real_kind, real_text = want.get(file, ("not skipped", ""))
        kind, text = have.get(file, ("not skipped", None))
        if kind == "unknown" and real_kind != "not skipped":
            continue  # cnidoctor skips it without claiming why (an unrendered template)
        if kind != real_kind:
            mismatches.append(f"{file}: ocicni {real_kind} ({real_text!r}), cnidoctor {kind} ({text!r})")
        elif text is not None and text != real_text:
            mismatches.append(f"{file}: ocicni says {real_text!r}, cnidoctor {text!r}")
    real_ignored, ignored = ignored_lines(real), cnidoctor_ignored(report)
    for file in sorted(set(real_ignored) | set(ignored)):
        if file not in ignored and paired_by_cni008(report, file):
            continue
        if real_ignored.get(file) != ignored.get(file):
            mismatches.append(f"{file}: ocicni logs {real_ignored.get(file)!r}, CNI011 predicts {ignored.get(file)!r}")
    assert not mismatches, "\n".join(mismatches)


def _recorded_no_network_lead(data: Mapping[str, Any]) -> str:
    """`No` or `no`: how this generation's real ocicni began its Status() error."""
    for entry in data["fixtures"].values():
        text = no_network_text((entry["real"]["status"] or {}).get("error"))
        if text is not None:
            return text.split(" ", 1)[0]
    pytest.skip("no recording of this generation has a Status() error")


@pytest.mark.parametrize("version", GENERATIONS)
def test_cni636_quotes_the_generations_wording(version: str) -> None:
    """CNI636 (a cni_default_network no usable file defines) quotes the error pods wait with in
    the wording of the release modelled (--runtime), as the recorded real ocicni wrote it; with
    the node's conf dir given on the command line too (then only files are read from the path
    given, and the runtime's checks still apply to the runtime's own conf dir)."""
    data = _load(version)
    lead = _recorded_no_network_lead(data)
    root = FIXTURES / "node-crio-default-network-missing" / "root"
    base = ["check", "--no-probe", "--no-cache", "--format", "json", "--fail-on", "never"]
    base += ["--host-root", str(root), "--runtime", crio_runtime(data)]
    for extra in ([], [str(root / "etc" / "cni" / "net.d")]):
        report = json.loads(run_cli(base + extra).output)
        messages = [f["message"] for f in report["findings"] if f["code"] == "CNI636"]
        assert len(messages) == 1, (extra, report["findings"])
        assert (
            no_network_text(messages[0])
            == f"{lead} CNI configuration file in /etc/cni/net.d. Has your network provider started?"
        )


def test_cni636_not_for_another_directory_given(tmp_path: Path) -> None:
    """A copy of the same configs in a directory that is not CRI-O's network_dir is checked as
    files only: CRI-O never reads it, so its cni_default_network says nothing about it."""
    root = FIXTURES / "node-crio-default-network-missing" / "root"
    elsewhere = tmp_path / "net.d"
    shutil.copytree(root / "etc" / "cni" / "net.d", elsewhere)
    args = ["check", "--no-probe", "--no-cache", "--format", "json", "--fail-on", "never"]
    report = json.loads(run_cli(args + ["--host-root", str(root), str(elsewhere)]).output)
    assert [f["code"] for f in report["findings"] if f["code"] == "CNI636"] == []
