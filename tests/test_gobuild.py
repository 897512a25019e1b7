"""cnidoctor.gobuild against the real Go toolchain: every binary read here is also read by
``go version -m`` and the two must agree line for line.

Real inputs: Debian's /usr/bin/containerd (1.6.20, a GOPATH-mode build: ``path`` and
``build`` lines only), Debian's reference plugins in /usr/lib/cni (same pattern), and binaries
built here with Debian's Go in module mode (``GOPROXY=off``; libcni replaced by a local copy of
Debian's libcni source), vendored with a versioned ``=>`` replacement, cross-built for 386
(4-byte pointers) and s390x (big endian), with section headers removed, and rewritten into the
pre-Go-1.18 pointer format (which Go 1.19's reader still reads). Skips cleanly without Go.
"""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from cnidoctor import gobuild
from cnidoctor.gobuild import BuildInfo, Module

CNI_SRC = Path("/usr/share/gocode/src/github.com/containernetworking/cni")
CNI = "github.com/containernetworking/cni"
DEBIAN_CONTAINERD = Path("/usr/bin/containerd")


def _go() -> Optional[str]:
    found = shutil.which("go")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/go*/bin/go"))
    return candidates[-1] if candidates else None


GO = _go()
needs_go = pytest.mark.skipif(GO is None, reason="no Go toolchain (apt-get install golang-go)")


def go_version_m(path: Path) -> List[str]:
    """``go version -m`` output lines without the first (``<file>: goX``) and without the tab."""
    assert GO is not None
    out = subprocess.run(
        [GO, "version", "-m", str(path)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    lines = out.split("\n")
    assert lines[0].startswith(f"{path}: go") and lines[-1] == ""
    assert all(line.startswith("\t") for line in lines[1:-1])
    return [line[1:] for line in lines[1:-1]]


def go_version_line(path: Path) -> str:
    assert GO is not None
    out = subprocess.run([GO, "version", str(path)], capture_output=True, text=True, timeout=60, check=True).stdout
    return out.strip().rsplit(": ", 1)[1]


def _quote(text: str, key: bool) -> str:
    """strconv.Quote for the ASCII texts these tests produce (runtime/debug quoteKey/Value)."""
    specials = '= \t\r\n"`' if key else ' \t\r\n"`'
    if (key and not text) or any(c in specials for c in text):
        assert all(" " <= c <= "~" for c in text), "test helper handles printable ASCII only"
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def render(info: BuildInfo) -> List[str]:
    """Our record printed the way runtime/debug.(*BuildInfo).String prints (minus ``go``)."""
    text = ""
    if info.path:
        text += f"path\t{info.path}\n"

    def mod(word: str, m: Module) -> str:
        out = f"{word}\t{m.path}\t{m.version}"
        out += f"\t{m.sum}" if m.replace is None else "\n" + mod("=>", m.replace)
        return out + "\n"

    if info.main is not None:
        text += mod("mod", info.main)
    for dep in info.deps:
        text += mod("dep", dep)
    for key, value in info.settings:
        text += f"build\t{_quote(key, True)}={_quote(value, False)}\n"
    return text.split("\n")[:-1]


def assert_agrees_with_go(path: Path) -> BuildInfo:
    info, reason = gobuild.inspect_build_info(str(path))
    assert info is not None, reason
    assert render(info) == go_version_m(path)
    assert info.go_version == go_version_line(path)
    return info


# ---------------------------------------------------------------------------------------------
# Debian's packaged binaries (GOPATH-mode builds: no module lines at all)


@needs_go
@pytest.mark.skipif(not DEBIAN_CONTAINERD.is_file(), reason="Debian's containerd is not installed")
def test_debian_containerd_matches_go_version_m() -> None:
    info = assert_agrees_with_go(DEBIAN_CONTAINERD)
    # What is really there (Debian 12, containerd 1.6.20~ds1): no mod/dep lines, no -ldflags.
    assert info.path == "github.com/containerd/containerd/cmd/containerd"
    assert info.main is None and info.deps == ()
    assert gobuild.setting(info, "-trimpath") == "true"
    assert gobuild.module_version(info, CNI) is None
    assert gobuild.ldflags_version(info, "github.com/containerd/containerd/version.Version") is None


DEBIAN_PLUGINS = [
    p for p in ("bridge", "host-local", "loopback", "portmap", "macvlan", "dhcp") if os.path.isfile(f"/usr/lib/cni/{p}")
]


@needs_go
@pytest.mark.skipif(not DEBIAN_PLUGINS, reason="Debian's containernetworking-plugins not installed")
@pytest.mark.parametrize("plugin", DEBIAN_PLUGINS)
def test_debian_plugins_match_go_version_m(plugin: str) -> None:
    info = assert_agrees_with_go(Path("/usr/lib/cni") / plugin)
    assert info.path.startswith("github.com/containernetworking/plugins/plugins/")
    assert info.path.endswith("/" + plugin)
    assert info.main is None  # GOPATH-mode build: the plugins' libcni is not recoverable


# ---------------------------------------------------------------------------------------------
# Module-mode binaries built here


PROBE_MAIN = """package main

import (
\t"fmt"

\t"github.com/containernetworking/cni/pkg/version"
)

var Version = "unset"
var Other = "unset"

func main() { fmt.Println(Version, Other, version.Current()) }
"""

LDFLAGS = (
    "-w -s -X main.Version=v1.7.13 -X 'main.Other=a b' "
    "-X github.com/containerd/containerd/version.Version=1.7.13 "
    "-X=main.Version=v1.7.14"
)


@pytest.fixture(scope="session")
def gobuild_env(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    if GO is None:
        pytest.skip("no Go toolchain")
    cache = tmp_path_factory.mktemp("gocache")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(
        GOCACHE=str(cache / "build"),
        GOPATH=str(cache / "path"),
        GOPROXY="off",
        GOFLAGS="-mod=mod",
        GO111MODULE="on",
        GOTOOLCHAIN="local",
        HOME=str(cache),
    )
    return env


def go_build(env: Dict[str, str], src: Path, out: Path, *args: str, **extra: str) -> Path:
    assert GO is not None
    run_env = dict(env, **extra)
    done = subprocess.run(
        [GO, "build", "-buildvcs=false", *args, "-o", str(out), "."],
        cwd=src,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="session")
def probe_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """example.com/probe requiring libcni v1.1.2, replaced by a copy of Debian's libcni source."""
    if not (CNI_SRC / "go.mod").is_file():
        pytest.skip("Debian's libcni source is absent (apt-get install golang-github-appc-cni-dev)")
    root = tmp_path_factory.mktemp("probe")
    shutil.copytree(CNI_SRC, root / "cni", symlinks=False)
    src = root / "probe"
    src.mkdir()
    (src / "go.mod").write_text(
        f"module example.com/probe\n\ngo 1.19\n\nrequire {CNI} v1.1.2\n\nreplace {CNI} => ../cni\n"
    )
    (src / "main.go").write_text(PROBE_MAIN)
    return src


@pytest.fixture(scope="session")
def module_binary(gobuild_env: Dict[str, str], probe_src: Path) -> Path:
    return go_build(gobuild_env, probe_src, probe_src.parent / "probe.bin", "-ldflags", LDFLAGS)


def test_module_build_matches_go_version_m(module_binary: Path) -> None:
    info = assert_agrees_with_go(module_binary)
    assert info.path == "example.com/probe"
    assert info.main == Module("example.com/probe", "(devel)", "")
    assert info.deps == (Module(CNI, "v1.1.2", "", Module("../cni", "(devel)", "")),)
    # A local-directory replacement has no version of its own: the required one is the answer.
    assert gobuild.module_version(info, CNI) == "v1.1.2"
    assert gobuild.module_version(info, "example.com/probe") is None  # only (devel)
    assert gobuild.module_version(info, "github.com/containerd/go-cni") is None


def test_module_build_ldflags(module_binary: Path) -> None:
    info = gobuild.read_build_info(str(module_binary))
    assert info is not None
    assert gobuild.setting(info, "-ldflags") == LDFLAGS
    # What the linker injected is what the program prints: the last -X for a symbol wins.
    printed = subprocess.run([str(module_binary)], capture_output=True, text=True, timeout=30).stdout
    assert printed.split() == ["v1.7.14", "a", "b", "1.0.0"]
    assert gobuild.ldflags_version(info, "main.Version") == "v1.7.14"
    assert gobuild.ldflags_version(info, "main.Other") == "a b"
    assert gobuild.ldflags_version(info, "github.com/containerd/containerd/version.Version") == "1.7.13"
    assert gobuild.ldflags_version(info, "main.Missing") is None


def test_trimpath_build_records_no_ldflags(gobuild_env: Dict[str, str], probe_src: Path) -> None:
    out = go_build(gobuild_env, probe_src, probe_src.parent / "trim.bin", "-trimpath", "-ldflags", "-X main.Version=v9")
    info = assert_agrees_with_go(out)
    assert gobuild.setting(info, "-trimpath") == "true"
    assert gobuild.setting(info, "-ldflags") is None
    assert gobuild.ldflags_version(info, "main.Version") is None


VENDORED_MAIN = """package main

import (
\t"fmt"

\t"github.com/containerd/containerd/version"
\tcni "github.com/containernetworking/cni/pkg/version"
)

func main() { fmt.Println(version.Version, cni.Current()) }
"""


@pytest.fixture(scope="session")
def vendored_binary(gobuild_env: Dict[str, str], probe_src: Path) -> Path:
    """A k3s-shaped vendored build: containerd replaced by a fork *version* (``=> path vX``)."""
    src = probe_src.parent / "k3s"
    vendor = src / "vendor"
    (vendor / "github.com/containerd/containerd/version").mkdir(parents=True)
    (vendor / "github.com/containerd/containerd/version/version.go").write_text(
        'package version\n\nvar Version = "1.7.0+unknown"\n'
    )
    shutil.copytree(CNI_SRC / "pkg", vendor / "github.com/containernetworking/cni/pkg")
    fork = "github.com/k3s-io/containerd v1.7.13-k3s1"
    (src / "go.mod").write_text(
        "module github.com/k3s-io/k3s\n\ngo 1.19\n\nrequire (\n"
        f"\tgithub.com/containerd/containerd v1.7.13\n\t{CNI} v1.1.2\n)\n\n"
        f"replace github.com/containerd/containerd => {fork}\n"
    )
    (vendor / "modules.txt").write_text(
        f"# github.com/containerd/containerd v1.7.13 => {fork}\n## explicit\n"
        "github.com/containerd/containerd/version\n"
        f"# {CNI} v1.1.2\n## explicit; go 1.14\n{CNI}/pkg/version\n"
        f"# github.com/containerd/containerd => {fork}\n"
    )
    (src / "main.go").write_text(VENDORED_MAIN)
    return go_build(
        gobuild_env,
        src,
        src.parent / "k3s.bin",
        "-ldflags",
        "-X github.com/containerd/containerd/version.Version=v1.7.13-k3s1 "
        "-X github.com/k3s-io/k3s/pkg/version.Version=v1.29.1+k3s2",
        GOFLAGS="-mod=vendor",
    )


def test_vendored_versioned_replacement(vendored_binary: Path) -> None:
    info = assert_agrees_with_go(vendored_binary)
    containerd = gobuild.find_module(info, "github.com/containerd/containerd")
    assert containerd == Module(
        "github.com/containerd/containerd", "v1.7.13", "", Module("github.com/k3s-io/containerd", "v1.7.13-k3s1", "")
    )
    assert gobuild.module_version(info, "github.com/containerd/containerd") == "v1.7.13-k3s1"
    assert gobuild.module_version(info, CNI) == "v1.1.2"  # vendored: empty sum
    assert gobuild.find_module(info, CNI) == Module(CNI, "v1.1.2", "")
    assert gobuild.ldflags_version(info, "github.com/k3s-io/k3s/pkg/version.Version") == "v1.29.1+k3s2"


# ---------------------------------------------------------------------------------------------
# Other layouts: 4-byte pointers, big endian, no section headers, the pre-1.18 pointer format


@pytest.fixture(scope="session")
def cross_binaries(gobuild_env: Dict[str, str], probe_src: Path) -> Dict[str, Path]:
    return {
        arch: go_build(
            gobuild_env,
            probe_src,
            probe_src.parent / f"probe-{arch}.bin",
            "-ldflags",
            "-X main.Version=v2",
            GOARCH=arch,
            CGO_ENABLED="0",
        )
        for arch in ("386", "s390x")
    }


@pytest.mark.parametrize("arch", ["386", "s390x"])
def test_cross_built_binaries(cross_binaries: Dict[str, Path], arch: str) -> None:
    info = assert_agrees_with_go(cross_binaries[arch])
    assert gobuild.setting(info, "GOARCH") == arch
    assert gobuild.module_version(info, CNI) == "v1.1.2"


def _strip_section_headers(src: Path, dst: Path) -> None:
    """Zero e_shoff/e_shnum/e_shstrndx (what sstrip-like tools leave): only segments remain."""
    data = bytearray(src.read_bytes())
    is64, big = data[4] == 2, data[5] == 2
    order = ">" if big else "<"
    if is64:
        struct.pack_into(order + "Q", data, 0x28, 0)
        struct.pack_into(order + "HH", data, 0x3C, 0, 0)
    else:
        struct.pack_into(order + "I", data, 0x20, 0)
        struct.pack_into(order + "HH", data, 0x30, 0, 0)
    dst.write_bytes(bytes(data))
    dst.chmod(0o755)  # `go version` skips files without an execute bit


@pytest.mark.parametrize("which", ["module", "386"])
def test_no_section_headers_uses_the_segment_scan(
    module_binary: Path, cross_binaries: Dict[str, Path], tmp_path: Path, which: str
) -> None:
    src = module_binary if which == "module" else cross_binaries["386"]
    stripped = tmp_path / "stripped.bin"
    _strip_section_headers(src, stripped)
    original = gobuild.read_build_info(str(src))
    assert assert_agrees_with_go(stripped) == original


INFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
INFO_END = bytes.fromhex("f932433186182072008242104116d8f2")
OLD_MODINFO = f"path\texample.com/old\nmod\texample.com/old\t(devel)\t\ndep\t{CNI}\tv0.8.1\th1:x=\n"


def _rewrite_pointer_format(src: Path, dst: Path) -> None:
    """Turn the inline (Go >= 1.18) blob into the older layout: header pointers to string
    headers {data, len}, laid out inside the same .go.buildinfo section."""
    from elftools.elf.elffile import ELFFile

    data = bytearray(src.read_bytes())
    with open(src, "rb") as handle:
        elf = ELFFile(handle)
        section = elf.get_section_by_name(".go.buildinfo")
        offset, addr, size = section["sh_offset"], section["sh_addr"], section["sh_size"]
        ptr, order = elf.elfclass // 8, "<" if elf.little_endian else ">"
    fmt = order + ("I" if ptr == 4 else "Q")
    version = b"go1.17.13"
    mod = INFO_START + OLD_MODINFO.encode() + INFO_END
    headers = 32
    v_hdr, m_hdr = addr + headers, addr + headers + 2 * ptr
    v_data = m_hdr + 2 * ptr
    m_data = v_data + len(version)
    blob = bytearray(data[offset : offset + 14])
    blob += bytes([ptr, 0 if order == "<" else 1])
    blob += struct.pack(fmt, v_hdr) + struct.pack(fmt, m_hdr)
    blob += bytes(headers - len(blob))
    blob += struct.pack(fmt, v_data) + struct.pack(fmt, len(version))
    blob += struct.pack(fmt, m_data) + struct.pack(fmt, len(mod))
    blob += version + mod
    assert len(blob) <= size, "section too small for the rewritten blob"
    data[offset : offset + len(blob)] = blob
    data[offset + len(blob) : offset + size] = bytes(size - len(blob))
    dst.write_bytes(bytes(data))
    dst.chmod(0o755)  # `go version` skips files without an execute bit


@pytest.mark.parametrize("which", ["module", "386", "s390x"])
def test_pointer_format(module_binary: Path, cross_binaries: Dict[str, Path], tmp_path: Path, which: str) -> None:
    src = module_binary if which == "module" else cross_binaries[which]
    old = tmp_path / "old.bin"
    _rewrite_pointer_format(src, old)
    info = assert_agrees_with_go(old)  # Go 1.19's debug/buildinfo still reads this format
    assert info.go_version == "go1.17.13"
    assert gobuild.module_version(info, CNI) == "v0.8.1"


# ---------------------------------------------------------------------------------------------
# Bad input: None and a reason, never an exception


def test_not_go_or_not_elf(tmp_path: Path) -> None:
    text = tmp_path / "script"
    text.write_text("#!/bin/sh\necho hi\n")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    fake = tmp_path / "fake-elf"
    fake.write_bytes(b"\x7fELF" + os.urandom(4000))
    cases = {
        str(text): "not an ELF file",
        str(empty): "not an ELF file",
        str(tmp_path / "missing"): "cannot stat the file",
        str(tmp_path): "cannot read",
    }
    for path, expected in cases.items():
        info, reason = gobuild.inspect_build_info(path)
        assert info is None and reason.startswith(expected), (path, reason)
    info, reason = gobuild.inspect_build_info(str(fake))
    assert info is None and reason
    ls = shutil.which("ls")
    if ls:
        assert gobuild.inspect_build_info(ls) == (None, "not a Go executable (no build info magic)")


@needs_go
@pytest.mark.skipif(not DEBIAN_PLUGINS, reason="no real Go plugin to truncate")
def test_truncated_and_corrupted_copies(tmp_path: Path) -> None:
    real = Path("/usr/lib/cni") / DEBIAN_PLUGINS[0]
    data = real.read_bytes()
    for size in (16, 64, 1000, len(data) // 3, len(data) // 2, len(data) - 100):
        cut = tmp_path / f"cut{size}"
        cut.write_bytes(data[:size])
        cut.chmod(0o755)
        info, reason = gobuild.inspect_build_info(str(cut))
        go = subprocess.run([GO or "go", "version", "-m", str(cut)], capture_output=True, text=True)
        # Where Go still finds the blob (it lies early in the data segment), so do we.
        if info is None:
            assert reason
            assert "go1." not in go.stdout.split("\n")[0]
        else:
            assert render(info) == go_version_m(cut)
    # A blob whose magic is there but whose strings run past the window.
    from elftools.elf.elffile import ELFFile

    with open(real, "rb") as handle:
        offset = ELFFile(handle).get_section_by_name(".go.buildinfo")["sh_offset"]
    broken = bytearray(data)
    broken[offset + 32 : offset + 42] = b"\xff" * 10  # an overflowing uvarint length
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(broken))
    assert gobuild.inspect_build_info(str(bad)) == (None, "not a Go executable (empty Go version)")


# ---------------------------------------------------------------------------------------------
# The module info grammar (runtime/debug.ParseBuildInfo), including its errors


def test_parse_modinfo_quoting_and_replacements() -> None:
    text = (
        "path\tx\nmod\tx\t(devel)\t\n=>\t../x\t(devel)\t\n\n"
        "dep\ta\tv1\th1:s\ndep\tb\tv2\n=>\tc\tv3-fork\th1:t\n\n"
        "build\t-ldflags=\"-X 'a.B=c d' -X a.V=\\x41\"\n"
        'build\t"we=ird"=`raw value`\nbuild\tCGO_CFLAGS=\ngarbage line\nbuild\tlast=dropped'
    )
    info = gobuild.parse_modinfo(text, "go1.22.0")
    assert info.main == Module("x", "(devel)", "", Module("../x", "(devel)", ""))
    assert info.deps == (Module("a", "v1", "h1:s"), Module("b", "v2", "", Module("c", "v3-fork", "h1:t")))
    assert info.settings == (("-ldflags", "-X 'a.B=c d' -X a.V=A"), ("we=ird", "raw value"), ("CGO_CFLAGS", ""))
    assert gobuild.ldflags_values(info) == {"a.B": "c d", "a.V": "A"}
    assert gobuild.module_version(info, "b") == "v3-fork"


@pytest.mark.parametrize(
    "text, error",
    [
        ("path\tx\n=>\ta\tb\tc\n", "line 2: replacement with no module on previous line"),
        ("dep\ta\n", "line 1: expected 2 or 3 columns; got 1"),
        ("dep\ta\tv1\n=>\tb\tv2\n", "line 2: expected 3 columns for replacement; got 2"),
        ("build\tkey\n", "line 1: build line missing '=' after key"),
        ("build\t=v\n", "line 1: build line with missing key"),
        ("build\tk=a b\n", "line 1: unquoted value 'a b' must be quoted"),
        ('build\tk="unterminated\n', "line 1: invalid quoted value in build line"),
        ('build\t"k"x\n', "line 1: unexpected character after quoted key: 'x'"),
    ],
)
def test_parse_modinfo_errors(text: str, error: str) -> None:
    with pytest.raises(
        gobuild.BuildInfoError, match="could not parse Go build info: " + error.replace("(", r"\(").replace(")", r"\)")
    ):
        gobuild.parse_modinfo(text)


def test_go_unquote() -> None:
    assert gobuild.go_unquote('"a\\tb\\u00e9\\101\\x42"') == "a\tbéAB"
    assert gobuild.go_unquote("`a\\n`") == "a\\n"
    for bad in ('"a', '"\\q"', "'a'", '"a"b"'):
        with pytest.raises(ValueError):
            gobuild.go_unquote(bad)


# ---------------------------------------------------------------------------------------------
# runtime/version.py on the binaries built above (build info is the first, no-exec source)


def _host_root(tmp_path: Path, node_path: str, binary: Path) -> Path:
    target = tmp_path / node_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, target)
    return tmp_path


def test_runtime_version_from_ldflags_and_dep(module_binary: Path, tmp_path: Path) -> None:
    from cnidoctor.runtime.version import read_runtime_version

    root = _host_root(tmp_path, "/usr/local/bin/containerd", module_binary)
    got = read_runtime_version("containerd", "/usr/local/bin/containerd", str(root))
    # -X github.com/containerd/containerd/version.Version=1.7.13 and dep cni v1.1.2 (go version -m above)
    assert (got.version, got.source, got.libcni, got.libcni_source) == ("1.7.13", "buildinfo", "1.1.2", "buildinfo")
    assert [e.kind for e in got.evidence] == ["binary"]  # nothing else consulted, nothing run
    assert "-X github.com/containerd/containerd/version.Version" in got.evidence[0].detail


def test_runtime_version_k3s_shaped_binary(vendored_binary: Path, tmp_path: Path) -> None:
    from cnidoctor.runtime.version import read_runtime_version

    root = _host_root(tmp_path, "/var/lib/rancher/k3s/data/0123abcd/bin/k3s", vendored_binary)
    (root / "var/lib/rancher/k3s/data/0123abcd/bin/containerd").symlink_to("k3s")
    (root / "var/lib/rancher/k3s/data/current").symlink_to("/var/lib/rancher/k3s/data/0123abcd")
    got = read_runtime_version("k3s", "/var/lib/rancher/k3s/data/current/bin/k3s", str(root))
    assert (got.version, got.source) == ("v1.29.1+k3s2", "buildinfo")
    assert (got.libcni, got.libcni_source, got.containerd_version) == ("1.1.2", "buildinfo", "1.7.13-k3s1")
    # Only the launcher known (here: a binary without build info): the data dir still answers.
    launcher = root / "usr/local/bin/k3s"
    launcher.parent.mkdir(parents=True)
    launcher.write_text("#!/bin/sh\nexit 1\n")
    launcher.chmod(0o755)
    got = read_runtime_version("k3s", "/usr/local/bin/k3s", str(root), allow_exec=False)
    assert (got.version, got.libcni, got.containerd_version) == (None, "1.1.2", "1.7.13-k3s1")


# ---------------------------------------------------------------------------------------------
# The disk cache (as elfinfo's): the same answers, and no ELF parsing on an unchanged node


def test_disk_cache_round_trip(vendored_binary: Path, tmp_path: Path) -> None:
    import sys

    env = dict(os.environ, CNIDOCTOR_CACHE_DIR=str(tmp_path / "cache"))
    script = (
        "import sys, json\n"
        "from cnidoctor import gobuild\n"
        "gobuild.enable_disk_cache()\n"
        f"paths = [{str(vendored_binary)!r}, '/nonexistent', {str(tmp_path)!r}]\n"
        "out = [repr(gobuild.inspect_build_info(p)) for p in paths]\n"
        "gobuild.save_disk_cache()\n"
        "print(json.dumps([out, 'elftools' in sys.modules]))\n"
    )
    import json

    repo = Path(__file__).resolve().parent.parent  # python -c puts the cwd first: this checkout
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script],
                env=env,
                capture_output=True,
                cwd=repo,
                text=True,
                timeout=60,
                check=True,
            ).stdout
        )
        for _ in range(2)
    ]
    assert runs[0][0] == runs[1][0]
    assert runs[0][0][0] == repr(gobuild.inspect_build_info(str(vendored_binary)))
    assert (runs[0][1], runs[1][1]) == (True, False)  # second run: answered from the cache
    assert (tmp_path / "cache" / "buildinfo.json").is_file()
    # A changed binary (new mtime/size) is read again.
    copy = tmp_path / "copy.bin"
    shutil.copy2(vendored_binary, copy)
    with open(copy, "ab") as handle:
        handle.write(b"\0")
    assert gobuild.read_build_info(str(copy)) == gobuild.read_build_info(str(vendored_binary))
