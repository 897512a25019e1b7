"""Binary resolution (libcni FindInPath) and exec-failure prediction, checked against the kernel.

Expected texts come from cni-facts.md §3.2 #17-#22, §5 and §10.8 and cni@v1.1.2
pkg/invoke/find.go; every predicted errno is also compared with what execve really returns
for the same (test-generated) file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plugin_helpers import HOST_MACHINE, REAL, fake, foreign_machine, kernel_exec_error, real_plugins_present, write_elf

from cnidoctor.model import Severity
from cnidoctor.plugins.elfinfo import _binfmt_emulator, inspect
from cnidoctor.plugins.resolve import find_in_path, go_clean, go_join, noexec_mount
from cnidoctor.rules.binaries import bin_dir_findings, resolution_findings

PREFIX = "netplugin failed with no error message: "


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(tmp_path / "cache"))


def codes(findings) -> list:  # type: ignore[no-untyped-def]
    return sorted((f.code, f.severity.label) for f in findings)


@pytest.mark.parametrize(
    "elements, joined",
    [
        (("/opt/cni/bin", "bridge"), "/opt/cni/bin/bridge"),
        (("/opt/cni/bin/", "bridge"), "/opt/cni/bin/bridge"),
        (("bin", "bridge"), "bin/bridge"),
        (("", "bridge"), "bridge"),
        (("//opt//cni/./bin", "bridge"), "/opt/cni/bin/bridge"),
        (("a/b/..", "c"), "a/c"),
    ],
)
def test_go_join_matches_filepath_join(elements: tuple, joined: str) -> None:
    # Go filepath.Join/Clean semantics (the path libcni prints in fork/exec errors).
    assert go_join(*elements) == joined


def test_go_clean_edge_cases() -> None:
    assert go_clean("") == "."
    assert go_clean("/..") == "/"
    assert go_clean("../x/..") == ".."


@pytest.mark.skipif(not real_plugins_present(), reason="reference plugins not installed at /usr/lib/cni")
def test_real_plugin_found_after_missing_dir(tmp_path: Path) -> None:
    res = find_in_path("bridge", [str(tmp_path / "missing"), str(REAL)])
    assert res.path == str(REAL / "bridge")
    assert res.problem is None and res.error is None
    assert res.exec_info is not None and res.exec_info.kind == "elf"
    assert resolution_findings(res, "net.d/10.conflist", "/plugins/0/type") == ()


def test_not_found_exact_libcni_text(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    res = find_in_path("portmap", [str(a), str(b)])
    assert res.problem == "not-found" and res.path is None
    assert res.error == f'failed to find plugin "portmap" in path [{a} {b}]'
    found = resolution_findings(res, "f.conflist", "/plugins/1/type")
    assert [(f.code, f.file, f.pointer, f.severity) for f in found] == [
        ("CNI401", "f.conflist", "/plugins/1/type", Severity.ERROR)
    ]
    assert found[0].predicts == res.error


@pytest.mark.parametrize(
    "plugin_type, error",
    [
        ("", "no plugin name provided"),
        ("../../tmp/evil", "invalid plugin name: ../../tmp/evil"),
        ("sub/bridge", "invalid plugin name: sub/bridge"),
    ],
)
def test_invalid_names_are_never_joined(tmp_path: Path, plugin_type: str, error: str) -> None:
    # CVE-2021-20206: a type with '/' must not resolve even when the target exists.
    (tmp_path / "bin" / "sub").mkdir(parents=True)
    fake(tmp_path / "bin" / "sub", "trap", "bridge")
    res = find_in_path(plugin_type, [str(tmp_path / "bin")])
    assert (res.path, res.problem, res.error) == (None, "invalid-name", error)
    assert resolution_findings(res, None, "") == ()  # CNI311 owns it


def test_no_paths_provided() -> None:
    res = find_in_path("bridge", [])
    assert res.error == "no paths provided" and res.path is None


def test_no_exec_bit_does_not_fall_back(tmp_path: Path) -> None:
    # §10.8: a non-executable file in an earlier dir is "found" and then fails; no fallback.
    first = fake(tmp_path / "a", "v040", "bridge")
    first.chmod(0o644)
    second = fake(tmp_path / "b", "v040", "bridge")
    res = find_in_path("bridge", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert res.path == str(first)
    assert res.problem == "not-executable"
    assert res.exec_error == f"fork/exec {first}: permission denied"
    assert res.error == PREFIX + res.exec_error
    assert res.shadowed == (str(second),)
    assert kernel_exec_error(first) == "permission denied"
    assert codes(resolution_findings(res, None, "")) == [("CNI402", "info"), ("CNI404", "error")]


def test_dangling_symlink_falls_back(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bridge").symlink_to(tmp_path / "nowhere")
    second = fake(tmp_path / "b", "v040", "bridge")
    res = find_in_path("bridge", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert res.path == str(second) and res.problem is None
    assert [p for p, _ in res.skipped] == [str(tmp_path / "a" / "bridge")]
    assert codes(resolution_findings(res, None, "")) == [("CNI403", "warning")]


def test_directory_only_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "a" / "bridge").mkdir(parents=True)
    res = find_in_path("bridge", [str(tmp_path / "a")])
    assert res.problem == "not-found"
    assert res.skipped == ((str(tmp_path / "a" / "bridge"), "directory"),)
    found = resolution_findings(res, None, "")
    assert codes(found) == [("CNI403", "error")]
    assert found[0].predicts == f'failed to find plugin "bridge" in path [{tmp_path / "a"}]'


def test_shadowed_different_copy_is_warning(tmp_path: Path) -> None:
    fake(tmp_path / "a", "v040", "bridge")
    fake(tmp_path / "b", "v110", "bridge")
    res = find_in_path("bridge", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert codes(resolution_findings(res, None, "")) == [("CNI402", "warning")]


def test_foreign_architecture_elf(tmp_path: Path) -> None:
    if HOST_MACHINE is None:
        pytest.skip("host architecture not modelled in the test")
    (tmp_path / "bin").mkdir()
    path = write_elf(tmp_path / "bin" / "bridge", foreign_machine())
    if _binfmt_emulator(inspect(str(path)).arch or "") is not None:
        pytest.skip("a binfmt_misc emulator for the foreign architecture is registered")
    res = find_in_path("bridge", [str(tmp_path / "bin")])
    assert res.problem == "wrong-arch"
    assert res.error == f"{PREFIX}fork/exec {path}: exec format error"
    assert kernel_exec_error(path) == "exec format error"
    assert codes(resolution_findings(res, None, "")) == [("CNI405", "error")]


def test_elf_with_missing_loader(tmp_path: Path) -> None:
    if HOST_MACHINE is None:
        pytest.skip("host architecture not modelled in the test")
    (tmp_path / "bin").mkdir()
    path = write_elf(tmp_path / "bin" / "bridge", HOST_MACHINE, interp="/lib/ld-cnidoctor-missing.so.1")
    res = find_in_path("bridge", [str(tmp_path / "bin")])
    assert res.problem == "missing-loader"
    assert res.exec_error == f"fork/exec {path}: no such file or directory"
    assert kernel_exec_error(path) == "no such file or directory"
    assert codes(resolution_findings(res, None, "")) == [("CNI406", "error")]


@pytest.mark.parametrize(
    "content, problem, errno_text",
    [
        (b"#!/nonexistent/bash\necho hi\n", "missing-interpreter", "no such file or directory"),
        (b"#!/bin/sh\r\necho hi\r\n", "missing-interpreter", "no such file or directory"),
        (b"echo no shebang\n", "unknown-format", "exec format error"),
        (b"", "unknown-format", "exec format error"),
        (b"<html>404 Not Found</html>\n", "unknown-format", "exec format error"),
    ],
)
def test_script_and_unknown_formats(tmp_path: Path, content: bytes, problem: str, errno_text: str) -> None:
    (tmp_path / "bin").mkdir()
    path = tmp_path / "bin" / "wrapper"
    path.write_bytes(content)
    path.chmod(0o755)
    res = find_in_path("wrapper", [str(tmp_path / "bin")])
    assert (res.problem, res.exec_error) == (problem, f"fork/exec {path}: {errno_text}")
    assert kernel_exec_error(path) == errno_text  # the kernel agrees


def test_crlf_shebang_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "w"
    path.write_bytes(b"#!/bin/sh\r\n")
    assert "carriage return" in inspect(str(path)).detail


def test_working_script_is_fine(tmp_path: Path) -> None:
    path = fake(tmp_path / "bin", "v040")
    res = find_in_path("v040", [str(tmp_path / "bin")])
    assert res.path == str(path) and res.problem is None


MOUNTINFO = (
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "30 22 0:40 / /opt/cni rw,nosuid,noexec,relatime - tmpfs tmpfs rw\n"
    "31 22 0:41 / /srv/my\\040plugins rw,noexec - tmpfs tmpfs rw\n"
    "32 30 0:42 / /opt/cni/bin2 rw,relatime - tmpfs tmpfs rw\n"
)


def test_noexec_mount_parsing() -> None:
    assert noexec_mount("/opt/cni/bin/bridge", MOUNTINFO) == "/opt/cni"
    assert noexec_mount("/opt/cni/bin2/bridge", MOUNTINFO) is None  # exec mount stacked below
    assert noexec_mount("/srv/my plugins/x", MOUNTINFO) == "/srv/my plugins"
    assert noexec_mount("/opt/cnix/bridge", MOUNTINFO) is None


def test_bin_dir_findings(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    found = bin_dir_findings([str(tmp_path), str(tmp_path / "missing"), str(tmp_path / "file")])
    assert [(f.code, f.file) for f in found] == [("CNI408", None), ("CNI408", None)]
    assert "does not exist" in found[0].message and "not a directory" in found[1].message


def test_resolution_reads_nothing_it_should_not(tmp_path: Path) -> None:
    # Resolution only stats and reads; it never runs the trap.
    fake(tmp_path / "bin", "trap", "bridge")
    find_in_path("bridge", [str(tmp_path / "bin")])
    assert not (tmp_path / "trap-invocations.log").exists()
    assert os.listdir(tmp_path / "bin") == ["bridge"]


def test_exec_verdicts_are_cached_across_runs_and_rechecked_when_the_loader_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm run reuses the ELF verdict from the cache dir (no parsing); a verdict that depends
    on another file (the #! interpreter) is looked at again."""
    from cnidoctor.plugins import elfinfo

    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(elfinfo, "_SEEN", {})
    script = tmp_path / "plugin"
    interpreter = tmp_path / "interp"
    interpreter.write_text("")
    interpreter.chmod(0o755)
    script.write_text(f"#!{interpreter}\n")
    elfinfo.enable_disk_cache()
    first = elfinfo.inspect(str(script))
    assert first.problem is None and first.interpreter == str(interpreter)
    elfinfo.save_disk_cache()
    assert (tmp_path / "cache" / "exec.json").is_file()

    calls = []
    monkeypatch.setattr(elfinfo, "_SEEN", {})
    monkeypatch.setattr(elfinfo, "_inspect", lambda *a: calls.append(a) or first)
    elfinfo.enable_disk_cache()
    assert elfinfo.inspect(str(script)) == first and calls == []  # served from the cache
    interpreter.unlink()
    monkeypatch.setattr(elfinfo, "_SEEN", {})
    elfinfo.inspect(str(script))
    assert len(calls) == 1  # the interpreter vanished: inspected again
