"""Issue 10, "Exits and errors" and "Output people can read and grep": usage errors exit 2,
summaries add up, the concise format, paths and wrapping, slugs, the NPD root cause, plugins."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest
from conftest import run_cli

from cnidoctor.model import Finding as F
from cnidoctor.model import ModelledRuntime, Prediction, Report, Severity, Step
from cnidoctor.report import npd

EXAMPLE = Path(__file__).resolve().parents[1] / "cnidoctor" / "example" / "net.d"
FLANNEL = '{"cniVersion": "0.4.0", "name": "cbr0", "plugins": [{"type": "flannel"}]}'


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(tmp_path / "cache"))


# -- exits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["docker@20", "containerd@9.9", "containrd@1.7"])
def test_bad_runtime_is_a_usage_error(spec: str, tmp_path: Path) -> None:
    (tmp_path / "10-a.conflist").write_text(FLANNEL)
    result = run_cli(["check", "--no-probe", "--runtime", spec, str(tmp_path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and spec in result.stderr


def test_missing_named_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["check", "--no-probe", str(tmp_path / "nope")])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"cnidoctor: error: {tmp_path / 'nope'}: no such file or directory\n"


def test_missing_default_config_dir_stays_a_finding(tmp_path: Path) -> None:
    """The runtime's own config dir missing is CNI002, not a usage error: libcni's ConfFiles
    returns no files for a missing dir (containernetworking/cni:libcni/conf.go@v1.3.0), so
    containerd says `no network config found in /etc/cni/net.d: cni plugin not initialized`
    (containerd/go-cni:opts.go@v1.1.13 loadFromConfDir) and CRI-O `no CNI configuration file in
    /etc/cni/net.d/` (cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1). An empty node root: no PATHS."""
    root = tmp_path / "node"
    root.mkdir()
    result = run_cli(["check", "--no-probe", "--format", "json", "--host-root", str(root)], cwd=tmp_path)
    assert result.exit_code == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["severity"]) for f in findings] == [("CNI002", "error")]
    assert os.path.relpath(findings[0]["file"], root) == os.path.join("etc", "cni", "net.d")


def test_summary_adds_up_for_a_directory_finding(tmp_path: Path) -> None:
    empty = tmp_path / "net.d"
    empty.mkdir()
    text = run_cli(["check", "--no-probe", "--format", "text", str(empty)]).stdout
    summary = next(line for line in text.splitlines() if line.startswith("1 error"))
    assert "(0 files checked)" not in summary and "in 1 file" not in summary
    assert "no config file checked" in summary


def test_summary_adds_up_for_files(tmp_path: Path) -> None:
    text = run_cli(["check", "--no-probe", str(EXAMPLE)], cwd=tmp_path).stdout
    # 05-calico, 10-flannel and 20-bridge all have findings; the dir holds three configs.
    assert any(line.endswith("in 3 of 3 files checked.") for line in text.splitlines())


# -- concise, quiet, statistics ------------------------------------------------------------------

CONCISE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>CNI\d{3}) \[(error|warning|info)\] \S")


def test_concise_one_line_per_finding(tmp_path: Path) -> None:
    full = json.loads(run_cli(["check", "--no-probe", "--format", "json", str(EXAMPLE)], cwd=EXAMPLE.parent).stdout)
    result = run_cli(["check", "--no-probe", "--format", "concise", "--quiet", "net.d"], cwd=EXAMPLE.parent)
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert len(lines) == len(full["findings"])
    assert all(CONCISE.match(line) for line in lines), lines
    assert lines[0].startswith("net.d/05-calico.conf:1:1: CNI006 [error] 05-calico.conf fails to load")
    assert any(line.startswith("net.d/05-calico.conf:6:1: CNI104 [error] ") for line in lines)


def test_quiet_text_has_findings_only() -> None:
    text = run_cli(["check", "--quiet", str(EXAMPLE)], cwd=EXAMPLE.parent).stdout
    assert "Prediction" not in text and "Runtime" not in text and "checked" not in text
    assert "CNI104" in text


def test_statistics_counts_per_code() -> None:
    full = json.loads(run_cli(["check", "--format", "json", str(EXAMPLE)]).stdout)
    counts = {}
    for finding in full["findings"]:
        counts[finding["code"]] = counts.get(finding["code"], 0) + 1
    lines = run_cli(["check", "--statistics", str(EXAMPLE)]).stdout.splitlines()
    got = {line.split()[1]: int(line.split()[0]) for line in lines}
    assert got == counts
    assert any(line.split()[1:] == ["CNI104", "trailing-comma"] for line in lines)


def test_quiet_with_json_is_a_usage_error() -> None:
    result = run_cli(["check", "--quiet", "--format", "json", str(EXAMPLE)])
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1


# -- paths, width ------------------------------------------------------------------------------


def _blocks(text: str) -> List[str]:
    return text.split("\n\n")


@pytest.mark.parametrize("width", [80, 120])
def test_readme_first_command_fits_and_names_the_dir_once(width: int, tmp_path: Path) -> None:
    """What a new user sees running `cnidoctor check --example` outside the checkout."""
    result = run_cli(["check", "--example"], cwd=tmp_path, env={"COLUMNS": str(width)})
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width, [line for line in lines if len(line) > width]
    directory = str(EXAMPLE)
    for block in _blocks(result.stdout):
        assert block.count(directory) <= 1, block
    assert result.stdout.count(directory) <= 5  # was 17 in 77 lines


def test_paths_relative_below_cwd() -> None:
    text = run_cli(["check", str(EXAMPLE)], cwd=EXAMPLE.parent.parent).stdout
    assert str(EXAMPLE) not in text
    assert "\nexample/net.d/05-calico.conf\n" in text


def test_prediction_never_breaks_mid_word() -> None:
    text = run_cli(["check", "--example"], env={"COLUMNS": "80"}).stdout
    words = set(re.findall(r"\S+", json.dumps(json.loads(run_cli(["check", "--example", "--format", "json"]).stdout))))
    prediction = _blocks(text)[1]
    assert prediction.startswith("Prediction")
    for line in prediction.splitlines():
        assert len(line) <= 80
    assert "invalid character '}' looking for beginning of object key string" in " ".join(prediction.split())
    assert words  # the JSON really has text to compare with


def test_slug_on_text_lines_and_accepted_by_flags() -> None:
    text = run_cli(["check", "--example"], env={"COLUMNS": "200"}).stdout
    assert "(trailing-comma)" in text and "(missing-cni-version)" in text
    by_slug = run_cli(["check", "--example", "--format", "json", "--ignore", "missing-cni-version,trailing-comma"])
    codes = {f["code"] for f in json.loads(by_slug.stdout)["findings"]}
    assert "CNI301" not in codes and "CNI104" not in codes and "CNI006" in codes
    selected = run_cli(["check", "--example", "--format", "json", "--select", "Trailing-Comma"])
    assert {f["code"] for f in json.loads(selected.stdout)["findings"]} == {"CNI104"}
    assert run_cli(["check", "--example", "--ignore", "no-such-rule"]).exit_code == 2


def test_explain_by_slug_renders_for_terminal() -> None:
    by_code = run_cli(["explain", "CNI301"], env={"COLUMNS": "80"})
    by_slug = run_cli(["explain", "missing-cni-version"], env={"COLUMNS": "80"})
    assert by_code.exit_code == by_slug.exit_code == 0 and by_code.stdout == by_slug.stdout
    lines = by_code.stdout.splitlines()
    assert not any(line.startswith("#") or line.startswith("```") for line in lines)
    assert max(len(line) for line in lines if not line.startswith("    ")) <= 80
    markdown = run_cli(["explain", "CNI301", "--format", "markdown"]).stdout
    assert markdown.startswith("# CNI301 missing-cni-version") and "## Fix" in markdown


@pytest.mark.parametrize("width", [80, 120])
def test_rules_fit_the_terminal(width: int) -> None:
    text = run_cli(["rules"], env={"COLUMNS": str(width)}).stdout
    assert max(len(line) for line in text.splitlines()) <= width
    assert "CNI301  missing-cni-version" in text


def test_silence_hint() -> None:
    text = run_cli(["check", "--example"]).stdout
    assert "--ignore CNI" in text and "reason" in text


def test_completion_script() -> None:
    result = run_cli(["completion", "bash"])
    assert result.exit_code == 0 and "_CNIDOCTOR_COMPLETE=bash_complete" in result.stdout


# -- NPD root cause ------------------------------------------------------------------------------


def test_npd_names_the_error_that_breaks_the_default_network() -> None:
    """An error in a file that sorts first but is not loaded must not hide the selected file's
    ADD failure (the prediction names the error; the finding that predicts it is the root cause)."""
    add_error = 'failed to find plugin "flannel" in path [/opt/cni/bin]'
    runtime = ModelledRuntime("containerd", "2.0.0", "1.2.0", "2.0", "go-cni")
    prediction = Prediction(
        runtime=runtime,
        selected_file="/n/10-flannel.conflist",
        selection="first-loadable",  # type: ignore[arg-type]
        list_version="0.4.0",
        steps=(("load", Step("ok")), ("add", Step("fail", error=add_error))),
    )
    early = F("CNI312", Severity.ERROR, "portmap first", "/n/05-other.conflist", line=1, column=1)
    missing = F("CNI401", Severity.ERROR, "flannel binary missing", None, plugin="flannel", predicts=add_error)
    report = Report(inputs=("/n",), selected=None, findings=(early, missing), prediction=prediction)
    assert npd.one_line(report).startswith("CNI401 flannel: flannel binary missing")


# -- plugins ---------------------------------------------------------------------------------


def test_plugins_exit_1_on_error_binary(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    trap = bin_dir / "bridge"
    trap.write_bytes(b"\x7fELF" + b"\0" * 60)
    trap.chmod(0o644)  # not executable: CNI404 error
    result = run_cli(["plugins", "--bin-dir", str(bin_dir)])
    assert result.exit_code == 1, result.output
    assert "CNI404 error" in result.stdout


def test_plugins_host_root_uses_the_runtime_bin_dirs(tmp_path: Path) -> None:
    root = tmp_path / "host"
    (root / "etc/containerd").mkdir(parents=True)
    (root / "etc/containerd/config.toml").write_text(
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/libexec/cni"\n'
    )
    (root / "usr/libexec/cni").mkdir(parents=True)
    (root / "usr/libexec/cni/README").write_text("x")
    report = json.loads(run_cli(["plugins", "--host-root", str(root), "--format", "json"]).stdout)
    assert report["binDirs"] == [str(root / "usr/libexec/cni")]


GO = shutil.which("go")


@pytest.mark.skipif(GO is None, reason="no Go toolchain")
def test_plugins_release_column_from_go_build_info(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.com/fake\n\ngo 1.19\n")
    (src / "main.go").write_text('package main\n\nvar Version = "dev"\n\nfunc main() { println(Version) }\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", GOCACHE=str(tmp_path / "gocache"), CGO_ENABLED="0")
    subprocess.run(
        [GO, "build", "-ldflags", "-X main.Version=v9.8.7", "-o", str(bin_dir / "fake"), "."],  # type: ignore[list-item]
        cwd=src,
        env=env,
        check=True,
        timeout=300,
    )
    # Ground truth: what `go version -m` prints for the binary.
    shown = subprocess.run([GO, "version", "-m", str(bin_dir / "fake")], capture_output=True, text=True).stdout  # type: ignore[list-item]
    assert "main.Version=v9.8.7" in shown
    report = json.loads(run_cli(["plugins", "--bin-dir", str(bin_dir), "--format", "json"]).stdout)
    assert [p["release"] for p in report["plugins"]] == ["v9.8.7"]
    table = run_cli(["plugins", "--bin-dir", str(bin_dir)]).stdout
    assert "release" in table.splitlines()[1] and "v9.8.7" in table
