"""Node findings for libcni v1.3.0's plugin-folder plugins (crosscheck/folderplugins) follow the
runtime scope: only libcni >= 1.3.0 reads ``<dir>/<name>/*.conf`` (containernetworking/cni:
libcni/conf.go@v1.3.0 (NetworkConfFromFile)); the recorded 1.2.3 run and the live 1.1.2 run of
fixture binaries-network-subdirectory-plugin-not-found load only the inlined bridge and ADD
succeeds, the recorded 1.3.0 run fails ADD on the folder's tuning."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from conftest import FIXTURES, run_cli

SCENARIO = FIXTURES / "binaries-network-subdirectory-plugin-not-found"
FOLDER_FILE = "net.d/mynet/50-tuning.conf"


def _folder_findings(tmp_path: Path, *runtimes: str) -> List[Tuple[str, str, str]]:
    copy = tmp_path / SCENARIO.name
    if not copy.exists():
        shutil.copytree(SCENARIO, copy, symlinks=True)
    args = ["check", "--format", "json", "--fail-on", "never", "--bin-dir", "bin"]
    for runtime in runtimes:
        args += ["--runtime", runtime]
    report = json.loads(run_cli([*args, "net.d"], cwd=copy).output)
    return [(f["code"], f["pointer"], f["severity"]) for f in report["findings"] if f["file"] == FOLDER_FILE]


@pytest.fixture(autouse=True)
def _real_plugins() -> None:
    if not Path("/usr/lib/cni/bridge").is_file():
        pytest.skip("needs the real plugins in /usr/lib/cni")


def test_no_folder_finding_without_libcni_1_3_in_scope(tmp_path: Path) -> None:
    assert _folder_findings(tmp_path, "containerd@1.7") == []
    assert _folder_findings(tmp_path, "crio@1.30") == []


def test_error_when_a_libcni_1_3_runtime_is_in_scope(tmp_path: Path) -> None:
    assert _folder_findings(tmp_path, "containerd@2.1") == [("CNI401", "/type", "error")]
    assert _folder_findings(tmp_path, "containerd@1.7", "containerd@2.1") == [("CNI401", "/type", "error")]


def test_kept_listings_answer_as_the_folder_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """netdir.listings_kept (engine.per_file) lists each conf dir once instead of opening every
    list's <dir>/<name>/ folder: for a missing folder, a folder with files, a file in the
    folder's place and a name with a NUL byte, the answer is the one the folder itself gives,
    and a missing folder costs no scandir of its own."""
    from cnidoctor.config import netdir

    (tmp_path / "present").mkdir()
    (tmp_path / "present" / "10-a.conf").write_text("{}")
    (tmp_path / "a-file").write_text("")
    folders = [str(tmp_path / name) for name in ("absent", "present", "a-file", "nul\0name", "sub/absent")]
    outside = [netdir._conf_files(folder) for folder in folders]
    opened: List[str] = []
    real_scandir = os.scandir

    def counting(path: Any) -> Any:
        opened.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(netdir.os, "scandir", counting)
    with netdir.listings_kept():
        inside = [netdir._conf_files(folder) for folder in folders]
    assert inside == outside
    assert str(tmp_path / "absent") not in opened
    assert str(tmp_path / "present") in opened


def test_findings_in_a_folder_conf_carry_their_position(tmp_path: Path) -> None:
    """A finding in a plugin folder's .conf (libcni v1.3.0) points into that file, and its line
    and column are where the member stands in the file's text (was 1:1: the folder's files are
    not parsed files with a locator of their own)."""
    scenario = FIXTURES / "skew-network-subdirectory-version"
    args = ["check", "--no-cache", "--format", "json", "--fail-on", "never", "--runtime", "libcni@1.3.0"]
    report = json.loads(run_cli([*args, "--bin-dir", str(scenario / "bin"), "net.d"], cwd=scenario).output)
    conf = "net.d/mynet/10-bridge.conf"
    lines = (scenario / conf).read_text().splitlines()
    in_folder = [f for f in report["findings"] if f["file"] == conf]
    assert in_folder and all(f["pointer"] == "/ipam/type" for f in in_folder)
    row = next(n for n, text in enumerate(lines) if '"ipam"' in text)
    expected = (row + 1, lines[row].index('"type"', lines[row].index('"ipam"')) + 1)
    assert {(f["line"], f["column"]) for f in in_folder} == {expected}
