"""discover.py and rules/discovery.py: runtime file order, unsafe entries, directory analysis.

Expectations follow libcni ConfFiles / go-cni loadFromConfDir / ocicni loadNetworks
(cni-facts.md §4.1-§4.5, §3.2 #16/#48/#49). Non-regular entries are created under tmp_path
because git cannot store a FIFO.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import List, Tuple

import pytest

from cnidoctor.config import discover
from cnidoctor.model import Candidate, NetworkList, ParsedFile, PluginConf, Severity
from cnidoctor.rules import directory as rules

GOOD = b'{"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}'


def codes(found: discover.Discovered) -> List[Tuple[str, str]]:
    return sorted((f.code, f.file or "") for f in found.findings)


def test_go_ext_matches_filepath_ext() -> None:
    # Go filepath.Ext: from the last dot, a leading dot counts (unlike os.path.splitext).
    assert discover.go_ext(".conf") == ".conf"
    assert discover.go_ext("10-x.conflist.bak") == ".bak"
    assert discover.go_ext("10-x.CONF") == ".CONF"
    assert discover.go_ext("noext") == ""


def test_order_is_byte_order_and_filters_extensions(tmp_path: Path) -> None:
    names = ["20-b.conf", "100-a.conflist", ".hidden.json", "Z.json", "a.CONF", "x.yaml", "10-c.conflist"]
    for name in names:
        (tmp_path / name).write_bytes(GOOD)
    (tmp_path / "sub.conf").mkdir()  # a directory entry is skipped (ConfFiles f.IsDir())
    found = discover.discover([str(tmp_path)])
    got = [os.path.basename(c.path) for c in found.candidates]
    # '.' < digits < upper case < lower case; .CONF is not .conf (case-sensitive)
    assert got == [".hidden.json", "10-c.conflist", "100-a.conflist", "20-b.conf", "Z.json"]
    assert [c.kind for c in found.candidates] == ["conf", "conflist", "conflist", "conf", "conf"]
    assert all(c.directory == str(tmp_path) for c in found.candidates)
    assert found.directories == (str(tmp_path),)
    assert "sub.conf" in found.subdirectories[str(tmp_path)]


def test_non_utf8_names_sort_by_bytes(tmp_path: Path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/\xff-x.conf"
    with open(raw, "wb") as fh:
        fh.write(GOOD)
    (tmp_path / "z.conf").write_bytes(GOOD)
    found = discover.discover([str(tmp_path)])
    assert [os.fsencode(os.path.basename(c.path)) for c in found.candidates] == [b"z.conf", b"\xff-x.conf"]


def test_explicit_file_any_extension(tmp_path: Path) -> None:
    path = tmp_path / "net.txt"
    path.write_bytes(GOOD)
    found = discover.discover([str(path)])
    assert len(found.candidates) == 1
    cand = found.candidates[0]
    assert (cand.kind, cand.data, cand.directory) == ("conf", GOOD, None)
    assert found.directories == ()


def test_missing_directory_is_cni002(tmp_path: Path) -> None:
    missing = str(tmp_path / "net.d")
    found = discover.discover([missing])
    assert codes(found) == [("CNI002", missing)]
    assert found.findings[0].predicts == f"no network config found in {missing}: cni plugin not initialized"


def test_missing_explicit_config_file_is_cni003(tmp_path: Path) -> None:
    missing = str(tmp_path / "10-x.conflist")
    found = discover.discover([missing])
    assert codes(found) == [("CNI003", missing)]
    assert found.candidates[0].problem == "unreadable"


def test_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "10-x.conflist"
    link.symlink_to(tmp_path / "gone")
    found = discover.discover([str(tmp_path)])
    assert codes(found) == [("CNI003", str(link))]
    assert found.candidates[0].problem == "dangling-symlink"
    assert found.findings[0].predicts == (
        f"failed to load CNI config list file {link}: error reading {link}: open {link}: "
        "no such file or directory: invalid cni config"
    )


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a.conf").symlink_to(tmp_path / "b.conf")
    (tmp_path / "b.conf").symlink_to(tmp_path / "a.conf")
    found = discover.discover([str(tmp_path)])
    assert [c.problem for c in found.candidates] == ["symlink-loop", "symlink-loop"]
    assert "too many levels of symbolic links" in (found.findings[0].predicts or "")


def test_symlink_to_directory_is_kept_and_unreadable(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "00-x.conf").symlink_to(tmp_path / "real")
    found = discover.discover([str(tmp_path)])
    assert [c.problem for c in found.candidates] == ["directory"]
    path = str(tmp_path / "00-x.conf")
    assert found.findings[0].predicts == (
        f"failed to load CNI config file {path}: error reading {path}: read {path}: is a directory: invalid cni config"
    )


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "10-x.conf"
    os.mkfifo(fifo)  # opening it for reading without a writer would block forever
    found = discover.discover([str(tmp_path)])
    assert codes(found) == [("CNI004", str(fifo))]
    assert found.candidates[0].problem == "not-regular"
    assert found.candidates[0].data is None


def test_socket_is_not_regular(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        found = discover.discover([str(tmp_path)])
    finally:
        sock.close()
    assert codes(found) == [("CNI004", str(path))]
    assert "no such device or address" in (found.findings[0].predicts or "")


def test_too_large_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with open(path, "wb") as fh:
        fh.truncate(discover.MAX_CONFIG_BYTES + 1)  # sparse: no real I/O
    found = discover.discover([str(tmp_path)])
    assert codes(found) == [("CNI005", str(path))]
    assert found.candidates[0].data is None and found.candidates[0].problem == "too-large"


def test_small_limit_reads_bounded(tmp_path: Path) -> None:
    path = tmp_path / "x.conf"
    path.write_bytes(GOOD)
    assert discover.read_config(str(path), limit=10).problem == "too-large"
    assert discover.read_config(str(path)).data == GOOD


@pytest.mark.skipif(os.geteuid() == 0, reason="root bypasses file permissions (CI runs as root)")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "10-x.conflist"
    path.write_bytes(GOOD)
    path.chmod(0)
    try:
        found = discover.discover([str(tmp_path)])
    finally:
        path.chmod(0o644)
    assert codes(found) == [("CNI003", str(path))]
    assert f"error reading {path}: open {path}: permission denied" in (found.findings[0].predicts or "")


def test_ignored_extensions_reported(tmp_path: Path) -> None:
    for name in ("05-cilium.conflist.cilium_bak", "10-calico.conflist.bak", "10-x.conf.disabled", "notes.txt"):
        (tmp_path / name).write_bytes(GOOD)
    found = discover.discover([str(tmp_path)])
    assert found.candidates == ()
    assert sorted(os.path.basename(f.file or "") for f in found.findings if f.code == "CNI012") == [
        "05-cilium.conflist.cilium_bak",
        "10-calico.conflist.bak",
        "10-x.conf.disabled",
    ]


# --- directory analysis on ParsedFile objects built directly (independent of parse.py) -------


def parsed(
    path: str,
    *,
    name: str | None = "n",
    kind: str = "conflist",
    ok: bool = True,
    types: Tuple[str, ...] = ("bridge",),
    directory: str | None = "d",
    version: str | None = "1.0.0",
) -> ParsedFile:
    cand = Candidate(path=path, kind=kind, data=b"{}", directory=directory)  # type: ignore[arg-type]
    if not ok:
        return ParsedFile(cand, None, None, "error parsing configuration list: no name", ())
    plugins = tuple(PluginConf(i, f"/plugins/{i}", t, {"type": t}) for i, t in enumerate(types))
    doc = {"cniVersion": version, "name": name, "plugins": [{"type": t} for t in types]}
    net = NetworkList(name, version, plugins, from_single_conf=(kind == "conf"))
    return ParsedFile(cand, doc, net, None, ())


def keys(result: rules.DirectoryResult) -> List[Tuple[str, str, str, str]]:
    return sorted((f.code, f.file or "", f.pointer, f.severity.label) for f in result.findings)


def test_selection_is_first_loadable_and_broken_first_is_cni006() -> None:
    files = [parsed("d/00-broken.conflist", ok=False), parsed("d/10-a.conflist", name="a")]
    result = rules.check_directories(files, ["d"], subdirectories={"d": ()})
    assert result.selection is not None and result.selection.file == "d/10-a.conflist"
    assert keys(result) == [("CNI006", "d/00-broken.conflist", "", "error")]
    assert result.findings[0].predicts == (
        "failed to load CNI config list file d/00-broken.conflist: error parsing configuration list: no name: "
        "invalid cni config"
    )


def test_broken_after_default_is_not_cni006() -> None:
    files = [parsed("d/10-a.conflist", name="a"), parsed("d/20-broken.conflist", ok=False)]
    assert keys(rules.check_directories(files, ["d"], subdirectories={"d": ()})) == []


def test_nothing_loads_is_cni014() -> None:
    result = rules.check_directories([parsed("d/10-x.conflist", ok=False)], ["d"], subdirectories={"d": ()})
    assert result.selection is None
    assert keys(result) == [("CNI014", "d/10-x.conflist", "", "error")]


def test_empty_directory_is_cni001() -> None:
    result = rules.check_directories([], ["d"], subdirectories={"d": ()})
    assert keys(result) == [("CNI001", "d", "", "error")]
    assert result.findings[0].predicts == "no network config found in d: cni plugin not initialized"


def test_shadowed_loopback_is_info() -> None:
    files = [
        parsed("d/10-a.conflist", name="a"),
        parsed("d/99-loopback.conf", name="lo", kind="conf", types=("loopback",)),
    ]
    assert keys(rules.check_directories(files, ["d"], subdirectories={"d": ()})) == [
        ("CNI007", "d/99-loopback.conf", "", "info"),
    ]


def test_duplicate_names_and_crio_file_name_default() -> None:
    files = [parsed("d/10-a.conf", name="", kind="conf"), parsed("d/20-b.conflist", name="10-a.conf")]
    # ocicni names the nameless network after its file (path.Base), so both are "10-a.conf"
    got = keys(rules.check_directories(files, ["d"], subdirectories={"d": ()}))
    assert ("CNI011", "d/20-b.conflist", "/name", "warning") in got


def test_loose_files_no_selection_but_duplicates() -> None:
    files = [parsed("a.conflist", name="x", directory=None), parsed("b.conflist", name="x", directory=None)]
    result = rules.check_directories(files, [])
    assert result.selection is None
    assert keys(result) == [("CNI011", "b.conflist", "/name", "warning")]


@pytest.mark.parametrize(
    "name, reason",
    [
        ("10-x.conflist.orig.conflist", True),
        ("10-calico.conf.bak.conf", True),
        ("old-10-x.conflist", True),
        (".10-x.conflist", True),
        ("10-x~.conflist", True),
        ("10-backup.conflist", True),
        ("10-calico.conflist", False),
        ("99-loopback.conf", False),
        ("05-cilium.conflist", False),
    ],
)
def test_backup_names(name: str, reason: bool) -> None:
    assert (rules.backup_reason(name) is not None) is reason


def test_network_subdirectory_uses_discovered_subdirs(tmp_path: Path) -> None:
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "50-tuning.conf").write_bytes(b'{"type": "tuning"}')
    files = [parsed(str(tmp_path / "10-n.conflist"), name="n", directory=str(tmp_path))]
    result = rules.check_directories(files, [str(tmp_path)], subdirectories={str(tmp_path): ("n",)})
    assert keys(result) == [("CNI013", str(tmp_path / "10-n.conflist"), "/name", "warning")]
    assert "50-tuning.conf" in result.findings[0].message


def test_network_subdirectory_not_for_single_conf(tmp_path: Path) -> None:
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "50-tuning.conf").write_bytes(b"{}")
    files = [parsed(str(tmp_path / "10-n.conf"), name="n", kind="conf", directory=str(tmp_path))]
    assert keys(rules.check_directories(files, [str(tmp_path)])) == []


def test_severity_of_rules_is_declared() -> None:
    assert rules.BROKEN_FILE_SHADOWS.severity is Severity.ERROR
    assert rules.IGNORED_EXTENSION.severity is Severity.INFO
    assert all(r.code.startswith("CNI0") and r.summary and r.meaning and r.fix and r.example for r in rules.RULES)


# --- issue 10 point 4: a root-only config checked by an unprivileged user ----------------------

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # `nobody` cannot reach the venv's interpreter under /root

UNPRIVILEGED_CHILD = """
import json, sys
from cnidoctor import engine
from cnidoctor.settings import Settings
for runtime in ("containerd@1.7.20", "crio@1.28"):
    report = engine.run(engine.Options(paths=(sys.argv[1],), runtimes=(runtime,)), Settings())
    p = report.prediction
    print(json.dumps({
        "findings": sorted([f.code, f.severity.label, f.message] for f in report.findings),
        "selected": report.selected.file if report.selected else None,
        "predicted": p.selected_file if p else None,
        "load": [p.step("load").outcome, p.step("load").error] if p else None,
    }))
"""


def _run_as_nobody(net_d: Path, work: Path) -> List[dict]:
    import json
    import shutil
    import subprocess

    from conftest import ROOT

    shutil.copytree(ROOT / "cnidoctor", work / "src" / "cnidoctor")
    subprocess.run(["chmod", "-R", "a+rX", str(work / "src")], check=True)
    env = {"PYTHONPATH": str(work / "src"), "PATH": "/usr/bin:/bin", "HOME": str(work)}
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", UNPRIVILEGED_CHILD, str(net_d)],
        user=NOBODY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a root-only config and drop to nobody")
@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason=f"{SYSTEM_PYTHON} is not installed")
def test_root_only_config_read_by_nobody_is_info_and_predicts_nothing() -> None:
    # CIS Kubernetes Benchmark 4.1.x / 1.1.x: CNI files root-owned, mode 600 or stricter. The
    # runtime reads them as root, so an unprivileged check knows nothing about them.
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="cnidoctor-cis-"))  # pytest's tmp_path is root-only
    try:
        work.chmod(0o755)
        _check_hardened_as_nobody(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_hardened_as_nobody(work: Path) -> None:
    net_d = work / "net.d"
    net_d.mkdir()
    hardened = net_d / "10-flannel.conflist"
    hardened.write_bytes(GOOD)
    hardened.chmod(0o600)
    (net_d / "20-other.conflist").write_bytes(GOOD.replace(b'"n"', b'"other"'))
    for result in _run_as_nobody(net_d, work):
        codes_seen = {(code, severity) for code, severity, _ in result["findings"]}
        assert ("CNI003", "info") in codes_seen, result
        assert not any(sev == "error" for _, sev in codes_seen), result
        assert "CNI006" not in {c for c, _ in codes_seen}  # no "containerd stops here"
        message = next(m for c, _, m in result["findings"] if c == "CNI003")
        assert f"uid {NOBODY}" in message and "run as root" in message
        # what the runtime uses is unknown: the root-only file sorts first
        assert result["selected"] is None
        assert result["predicted"] == str(hardened)
        assert result["load"][0] == "unknown", result


# --- issue 10 point 2: CRI-O's default network is the first file that loads AND validates ------

FLANNEL = b'{"name": "cbr0", "cniVersion": "0.3.1", "plugins": [{"type": "flannel", "delegate": {}}, {"type": "portmap", "capabilities": {"portMappings": true}}]}'
KINDNET = b'{"cniVersion": "0.3.1", "name": "kindnet", "plugins": [{"type": "ptp", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]}}, {"type": "portmap", "capabilities": {"portMappings": true}}]}'


def _flannel_without_binary(tmp_path: Path) -> Path:
    net_d = tmp_path / "net.d"
    net_d.mkdir()
    (net_d / "10-flannel.conflist").write_bytes(FLANNEL)
    (net_d / "20-kindnet.conflist").write_bytes(KINDNET)
    return net_d


@pytest.mark.skipif(not Path("/usr/lib/cni/ptp").is_file(), reason="needs the reference plugins in /usr/lib/cni")
@pytest.mark.parametrize(
    "runtime, default, loader",
    [
        # ocicni loadNetworks (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.4.0, as CRI-O 1.28 vendors it)
        # skips 10-flannel: ValidateNetworkList fails, "flannel" is not in plugin_dirs.
        ("crio@1.28", "20-kindnet.conflist", "20-kindnet.conflist"),
        # go-cni reads the first file only and does not validate: flannel it is (ADD fails later)
        ("containerd@1.7.20", "10-flannel.conflist", "10-flannel.conflist"),
    ],
)
def test_default_network_agrees_across_report_prediction_and_findings(
    tmp_path: Path, runtime: str, default: str, loader: str
) -> None:
    from cnidoctor import engine
    from cnidoctor.settings import Settings

    net_d = _flannel_without_binary(tmp_path)
    options = engine.Options(
        paths=(str(net_d),), probe=True, bin_dirs=("/usr/lib/cni",), runtimes=(runtime,), use_cache=False
    )
    report = engine.run(options, Settings())
    assert report.selected is not None and os.path.basename(report.selected.file) == default
    assert report.prediction is not None and os.path.basename(report.prediction.selected_file or "") == loader
    kindnet = [f for f in report.findings if (f.file or "").endswith("20-kindnet.conflist")]
    if default == "20-kindnet.conflist":
        # no finding may claim kindnet is used only by name; CNI015 says CRI-O falls back to it
        assert [f.code for f in kindnet] == ["CNI015"]
        assert report.prediction.step("load").outcome == "ok"
    else:
        assert [f.code for f in kindnet] == ["CNI007"]


def test_containerd_has_no_default_network_when_its_first_file_fails(tmp_path: Path) -> None:
    from cnidoctor import engine
    from cnidoctor.settings import Settings

    net_d = tmp_path / "net.d"
    net_d.mkdir()
    (net_d / "05-broken.conf").write_bytes(b'{"cniVersion": "0.3.1", "name": "x", "type": "bridge",}')
    (net_d / "10-good.conflist").write_bytes(GOOD)
    report = engine.run(engine.Options(paths=(str(net_d),), runtimes=("containerd@1.7.20",)), Settings())
    # go-cni stops at 05-broken.conf: containerd has no default network at all
    assert report.prediction is not None and report.prediction.selected_file.endswith("05-broken.conf")
    assert report.selected is None
    report = engine.run(engine.Options(paths=(str(net_d),), runtimes=("crio@1.28",)), Settings())
    assert report.selected is not None and report.selected.file.endswith("10-good.conflist")
    assert report.prediction is not None and report.prediction.selected_file == report.selected.file
