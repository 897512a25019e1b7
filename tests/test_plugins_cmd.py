"""`cnidoctor plugins`: the inventory table/JSON of every binary in the bin dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from plugin_helpers import REAL, REAL_NAMES, fake, real_plugins_present


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(cache))
    return cache


def plugins_json(*args: str, exit_code: int = 0) -> dict:
    """The JSON inventory; ``exit_code`` 1 when a binary has an error-severity finding (as check)."""
    result = run_cli(["plugins", "--format", "json", *args])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


@pytest.mark.skipif(not real_plugins_present(), reason="reference plugins not installed at /usr/lib/cni")
def test_real_plugins_table(tmp_path: Path) -> None:
    report = plugins_json("--bin-dir", str(REAL))
    rows = {Path(r["path"]).name: r for r in report["plugins"]}
    assert sorted(rows) == sorted(REAL_NAMES)
    assert all(r["status"] == "ok" and r["cniVersion"] == "1.0.0" for r in rows.values())
    assert rows["firewall"]["supportedVersions"] == ["0.4.0", "1.0.0"]
    assert report["findings"] == [] and report["executed"] == 16
    again = plugins_json("--bin-dir", str(REAL))
    assert again["executed"] == 0 and all(r["fromCache"] for r in again["plugins"])
    text = run_cli(["plugins", "--bin-dir", str(REAL)]).stdout.splitlines()
    # One heading per bin dir, then a row per binary by base name (the dir is not repeated).
    assert text[0] == f"{REAL} (16 files)"
    assert text[1].split() == ["name", "arch", "cniVersion", "supported", "release", "status"]
    firewall = next(line.split() for line in text if line.split()[:1] == ["firewall"])
    assert firewall[2:4] == ["1.0.0", "0.4.0,1.0.0"] and firewall[5] == "ok"  # "ok (cached)": run twice above


def test_mixed_dir_and_odd_entries(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "v040", "portmap")
    fake(bin_dir, "v110", "bridge")
    fake(bin_dir, "legacy-020", "old")
    fake(bin_dir, "silent", "wrapper")
    (bin_dir / "LICENSE").write_text("Apache License\n")  # release tarballs ship it into bin
    (bin_dir / "dangling").symlink_to(tmp_path / "nowhere")
    # exit 1: the silent wrapper's empty reply is an error (CNI501)
    report = plugins_json("--bin-dir", str(bin_dir), "--bin-dir", str(tmp_path / "missing"), "--no-cache", exit_code=1)
    status = {Path(r["path"]).name: r["status"] for r in report["plugins"]}
    assert status == {
        "LICENSE": "not-a-plugin",
        "bridge": "ok",
        "dangling": "not-regular",
        "old": "legacy",
        "portmap": "ok",
        "wrapper": "probe-failed",
    }
    codes = sorted((f["code"], f["severity"]) for f in report["findings"])
    # 408 missing dir; 409: 0.4.0 vs 1.1.0 vs 0.2.0 replies; 503 legacy reply; 501 empty reply.
    assert codes == [("CNI408", "warning"), ("CNI409", "warning"), ("CNI501", "error"), ("CNI503", "warning")]
    assert not (tmp_path / "cache").exists()  # --no-cache


def test_shadowed_copy_reported(tmp_path: Path) -> None:
    fake(tmp_path / "a", "v040", "bridge")
    fake(tmp_path / "b", "v040", "bridge")
    report = plugins_json("--bin-dir", str(tmp_path / "a"), "--bin-dir", str(tmp_path / "b"))
    rows = {r["path"]: r for r in report["plugins"]}
    assert rows[str(tmp_path / "a" / "bridge")]["status"] == "ok"
    assert rows[str(tmp_path / "b" / "bridge")]["status"] == "shadowed"
    assert rows[str(tmp_path / "b" / "bridge")]["shadowedBy"] == str(tmp_path / "a" / "bridge")


def test_unexecutable_elf_not_probed(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    trap = fake(bin_dir, "trap", "bridge")
    trap.chmod(0o644)
    trap.write_bytes(b"\x7fELF" + trap.read_bytes())  # ELF-looking, so it counts as a plugin
    report = plugins_json("--bin-dir", str(bin_dir), exit_code=1)  # CNI404 is an error
    assert [r["status"] for r in report["plugins"]] == ["not-executable"]
    assert [f["code"] for f in report["findings"]] == ["CNI404"]
    assert report["findings"][0]["predicts"] == (
        f"netplugin failed with no error message: fork/exec {bin_dir}/bridge: permission denied"
    )
    assert not (tmp_path / "trap-invocations.log").exists()


def test_empty_and_missing_dir(tmp_path: Path) -> None:
    result = run_cli(["plugins", "--bin-dir", str(tmp_path / "nope")])
    assert result.exit_code == 0
    assert "CNI408" in result.stdout and "no files in" in result.stdout
