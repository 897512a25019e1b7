"""cnidoctor.runtime.version: release and libcni of a runtime from a host root, no exec needed.

Real inputs where the machine has them: Debian's containerd package (its binary, its dpkg
status stanza and file list, copied into a temporary host root at test time and checked
against ``dpkg-query``), and its real ``--version`` output. Hand-written host roots cover
``containerd.io``, CRI-O's version file, RKE2's data dir and the exec sandbox. The machine's
own /var/lib/dpkg and /etc are never the product's input here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

from cnidoctor.child import OUTPUT_CAP
from cnidoctor.runtime import version as rv
from cnidoctor.runtime.model import RuntimeVersion

DEBIAN_CONTAINERD = Path("/usr/bin/containerd")
DPKG_STATUS = Path("/var/lib/dpkg/status")


def _dpkg_query(package: str, field: str) -> Optional[str]:
    if shutil.which("dpkg-query") is None:
        return None
    done = subprocess.run(["dpkg-query", "-W", "-f", "${" + field + "}", package], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def _real_stanza(package: str) -> Optional[str]:
    """The package's paragraph of the machine's dpkg status, copied verbatim."""
    try:
        text = DPKG_STATUS.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for paragraph in text.split("\n\n"):
        if paragraph.startswith(f"Package: {package}\n"):
            return paragraph.strip("\n") + "\n"
    return None


def _place(root: Path, node_path: str, source: Path) -> Path:
    """Put ``source`` at ``node_path`` in the host root (hard link when possible, else copy)."""
    target = root / node_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def _write(root: Path, node_path: str, text: str, mode: int = 0o644) -> Path:
    target = root / node_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)
    return target


needs_debian_containerd = pytest.mark.skipif(
    not DEBIAN_CONTAINERD.is_file() or _real_stanza("containerd") is None,
    reason="Debian's containerd package is not installed (apt-get install containerd)",
)


# ---------------------------------------------------------------------------------------------
# Debian's real containerd: binary without module info + dpkg Built-Using


@pytest.fixture
def debian_root(tmp_path: Path) -> Path:
    stanza = _real_stanza("containerd")
    assert stanza is not None
    _write(
        tmp_path,
        "/var/lib/dpkg/status",
        "Package: unrelated\nStatus: install ok installed\nVersion: 1.0-1\n\n" + stanza,
    )
    listing = Path("/var/lib/dpkg/info/containerd.list")
    if listing.is_file():
        _place(tmp_path, str(listing), listing)
    _place(tmp_path, "/usr/bin/containerd", DEBIAN_CONTAINERD)
    return tmp_path


@needs_debian_containerd
def test_debian_containerd_from_dpkg(debian_root: Path) -> None:
    got = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(debian_root), allow_exec=False)
    debian_version = _dpkg_query("containerd", "Version")
    built_using = _dpkg_query("containerd", "Built-Using")
    assert debian_version and built_using
    # Expected values come from dpkg-query, not from the code under test.
    upstream = debian_version.split(":")[-1].rsplit("-", 1)[0].split("~")[0]
    cni = [part.strip() for part in built_using.split(",") if part.strip().startswith("golang-github-appc-cni ")]
    assert len(cni) == 1
    cni_version = cni[0].split("(= ")[1].rstrip(")").rsplit("-", 1)[0]
    assert (got.version, got.libcni, got.source, got.libcni_source) == (upstream, cni_version, "package", "package")
    assert (upstream, cni_version) == ("1.6.20", "1.1.2")  # Debian 12's package, as recorded
    kinds = [e.kind for e in got.evidence]
    assert kinds == ["binary", "package"]
    assert "no module information (GOPATH-mode build)" in got.evidence[0].detail
    assert "Built-Using golang-github-appc-cni (= 1.1.2-1)" in got.evidence[1].detail
    # The matrix would have said 1.1.1 for 1.6.20: the package's own record wins, without a note.
    assert rv.libcni_for_release("containerd", "1.6.20")[0] == "1.1.1"
    assert got.notes == ()


@needs_debian_containerd
def test_debian_containerd_exec_only_when_nothing_else_answers(tmp_path: Path) -> None:
    _place(tmp_path, "/usr/bin/containerd", DEBIAN_CONTAINERD)
    real = subprocess.run([str(DEBIAN_CONTAINERD), "--version"], capture_output=True, text=True, timeout=30).stdout
    assert real.startswith("containerd github.com/containerd/containerd 1.6.20~ds1 ")
    got = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(tmp_path))
    assert (got.version, got.source) == ("1.6.20", "exec")
    assert got.evidence[-1] == rv.Evidence("exec", "/usr/bin/containerd", "--version: " + real.strip())
    # No libcni source on the node: the support matrix's row, and the note says it is the matrix.
    assert (got.libcni, got.libcni_source) == ("1.1.1", "matrix")
    assert got.notes == ("containerd 1.6.5-1.6.39 vendors libcni 1.1.1 (support matrix)",)

    refused = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(tmp_path), allow_exec=False)
    assert (refused.version, refused.libcni, refused.source) == (None, None, "default")
    assert refused.notes == ("/usr/bin/containerd --version not run (--no-probe)",)
    assert [e.kind for e in refused.evidence] == ["binary"]


@needs_debian_containerd
def test_dpkg_package_that_does_not_own_the_binary_is_not_used(debian_root: Path) -> None:
    if not (debian_root / "var/lib/dpkg/info/containerd.list").is_file():
        pytest.skip("dpkg file list absent")
    _place(debian_root, "/usr/local/bin/containerd", DEBIAN_CONTAINERD)  # an upstream tarball's place
    got = rv.read_runtime_version("containerd", "/usr/local/bin/containerd", str(debian_root), allow_exec=False)
    assert got.version is None
    assert any("does not own /usr/local/bin/containerd" in e.detail for e in got.evidence)


# ---------------------------------------------------------------------------------------------
# Hand-written dpkg stanzas


FIXTURE_STATUS = """Package: containernetworking-plugins
Status: install ok installed
Architecture: amd64
Version: 1.1.1+ds1-3+b2
Built-Using: golang-1.19 (= 1.19.8-2), golang-github-appc-cni (= 1.1.2-1)

Package: cri-o
Status: deinstall ok config-files
Architecture: amd64
Version: 1.25.0~ds1-1

Package: containerd.io
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 1.7.27-1
Description: An open and reliable container runtime
 containerd manages the complete container lifecycle of its host system.
Built-Using: golang-github-containernetworking-plugins (= 1.1.1+ds1-3), golang-1.23 (= 1.23.8-1)
"""


def test_hand_written_stanzas(tmp_path: Path) -> None:
    _write(tmp_path, "/var/lib/dpkg/status", FIXTURE_STATUS)
    got = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(tmp_path), allow_exec=False)
    assert (got.version, got.source) == ("1.7.27", "package")
    # Built-Using names the *plugins* source package only: not a libcni, so the matrix answers.
    assert (got.libcni, got.libcni_source) == ("1.1.2", "matrix")
    assert got.notes == ("containerd 1.7-1.7.34 vendors libcni 1.1.2 (support matrix)",)
    # A removed package (config-files only) is not installed.
    crio = rv.read_runtime_version("crio", None, str(tmp_path), allow_exec=False)
    assert (crio.version, crio.source) == (None, "default")
    package = rv.read_dpkg_package(str(tmp_path), ["containernetworking-plugins"])
    assert package is not None and dict(package.built_using)["golang-github-appc-cni"] == "1.1.2-1"


RPM_SPEC = """Name: containerd.io
Version: 1.7.27
Release: 3.1.el9
Epoch: 1
Summary: cnidoctor test package
License: Apache-2.0
%description
A stand-in for Docker's containerd.io rpm (file list only).
%install
mkdir -p %{buildroot}/usr/bin
printf '#!/bin/sh\\nexit 0\\n' > %{buildroot}/usr/bin/containerd
chmod 755 %{buildroot}/usr/bin/containerd
%files
/usr/bin/containerd
"""


@pytest.fixture(scope="module")
def real_rpmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real sqlite rpmdb: a package built by rpmbuild, recorded by ``rpm -i --justdb``."""
    if shutil.which("rpmbuild") is None or shutil.which("rpm") is None:
        pytest.skip("rpm/rpmbuild absent (apt-get install rpm)")
    top = tmp_path_factory.mktemp("rpm")
    (top / "SPECS").mkdir()
    (top / "SPECS/c.spec").write_text(RPM_SPEC)
    env = dict(os.environ, HOME=str(top))
    subprocess.run(
        ["rpmbuild", "--define", f"_topdir {top}", "-bb", str(top / "SPECS/c.spec")],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    package = next((top / "RPMS").rglob("*.rpm"))
    db = top / "db"
    db.mkdir()
    for args in (["--initdb"], ["-i", "--justdb", "--nodeps", "--ignorearch", "--ignoreos", str(package)]):
        subprocess.run(
            ["rpm", "--dbpath", str(db), "--define", "_db_backend sqlite", *args],
            check=True,
            capture_output=True,
            env=env,
            timeout=120,
        )
    if not (db / "rpmdb.sqlite").is_file():
        pytest.skip("this rpm does not write the sqlite backend")
    return db


def _rpm_query(db: Path, *args: str) -> str:
    return subprocess.run(
        ["rpm", "--dbpath", str(db), *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()


def test_real_sqlite_rpmdb(real_rpmdb: Path, tmp_path: Path) -> None:
    shutil.copytree(real_rpmdb, tmp_path / "var/lib/rpm")
    package, db, error = rv.read_rpm_package(str(tmp_path), ["cri-o", "containerd.io"], "/usr/bin/containerd")
    # Expected values from rpm itself, run on the same database.
    name, epoch, version, release = _rpm_query(
        real_rpmdb, "-q", "--qf", "%{NAME} %{EPOCH} %{VERSION} %{RELEASE}", "containerd.io"
    ).split()
    assert _rpm_query(real_rpmdb, "-qf", "/usr/bin/containerd").startswith("containerd.io-1.7.27-3.1.el9")
    assert package == rv.RpmPackage(name, version, release, int(epoch), True)
    assert (db, error) == ("/var/lib/rpm/rpmdb.sqlite", "")
    got = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(tmp_path), allow_exec=False)
    assert (got.version, got.source, got.libcni, got.libcni_source) == ("1.7.27", "package", "1.1.2", "matrix")
    assert got.evidence[-1] == rv.Evidence("package", "/var/lib/rpm/rpmdb.sqlite", "containerd.io 1.7.27-3.1.el9 (rpm)")
    # Not the owner of an upstream tarball's /usr/local/bin/containerd.
    other = rv.read_runtime_version("containerd", "/usr/local/bin/containerd", str(tmp_path), allow_exec=False)
    assert other.version is None and "does not own /usr/local/bin/containerd" in other.evidence[-1].detail
    # Without its -wal/-shm/lock files (a copied database) it still reads.
    for extra in ("rpmdb.sqlite-shm", "rpmdb.sqlite-wal", ".rpm.lock"):
        (tmp_path / "var/lib/rpm" / extra).unlink(missing_ok=True)
    assert rv.read_rpm_package(str(tmp_path), ["containerd.io"], "/usr/bin/containerd")[0] == package


def test_unreadable_or_other_rpm_databases(tmp_path: Path) -> None:
    _write(tmp_path, "/var/lib/rpm/rpmdb.sqlite", "SQLite format 3\x00 but not really")
    got = rv.read_runtime_version("crio", None, str(tmp_path), allow_exec=False)
    assert got.version is None
    assert got.notes[0].startswith("/var/lib/rpm/rpmdb.sqlite: cannot be read (")
    (tmp_path / "var/lib/rpm/rpmdb.sqlite").unlink()
    _write(tmp_path, "/var/lib/rpm/Packages", "\x00" * 64)
    got = rv.read_runtime_version("crio", None, str(tmp_path), allow_exec=False)
    assert got.evidence == (
        rv.Evidence(
            "package",
            "/var/lib/rpm/Packages",
            "rpm database in the Berkeley DB/ndb format; not read (cnidoctor does not run rpm)",
        ),
    )


def test_rpm_header_bounds() -> None:
    for blob in (b"", b"\x00\x00\x00\x01", struct_pack(1, 10) + b"\x00" * 4, struct_pack(-1, 0)):
        with pytest.raises(ValueError):
            rv.rpm_header_fields(blob)


def struct_pack(index_count: int, data_length: int) -> bytes:
    import struct

    return struct.pack(">ii", index_count, data_length)


# ---------------------------------------------------------------------------------------------
# CRI-O's version file, RKE2's data dir (absolute symlinks resolve inside the host root)


def test_crio_version_file_through_var_run_symlink(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var/run").symlink_to("/run")  # as on real nodes: must not leave the host root
    _write(tmp_path, "/run/crio/version", '"1.28.2+bd6ab3a2e0b6a1d1c07e2ff7b0f0f09d28ea41f4"')
    got = rv.read_runtime_version("crio", None, str(tmp_path), allow_exec=False)
    assert (got.version, got.source) == ("1.28.2", "version-file")
    assert (got.libcni, got.libcni_source) == ("1.1.2", "matrix")
    assert got.evidence[0].path == "/var/run/crio/version"


def test_crio_newer_than_the_matrix_is_modelled_and_said(tmp_path: Path) -> None:
    _write(tmp_path, "/run/crio/version", '"1.36.3"')
    got = rv.read_runtime_version("crio", None, str(tmp_path), allow_exec=False)
    assert (got.version, got.libcni) == ("1.36.3", "1.3.0")
    assert got.notes == (
        "CRI-O 1.36.3 is not in the support matrix; modelled as the nearest release, CRI-O 1.35 (libcni 1.3.0)",
    )


def test_rke2_data_dir_name(tmp_path: Path) -> None:
    data = "/var/lib/rancher/rke2/data"
    (tmp_path / data.lstrip("/") / "v1.29.9-rke2r1-aaaaaaaaaaaa/bin").mkdir(parents=True)
    (tmp_path / data.lstrip("/") / "v1.30.4-rke2r1-0123456789ab/bin").mkdir(parents=True)
    link = tmp_path / "var/lib/rancher/rke2/bin"
    link.symlink_to(f"{data}/v1.29.9-rke2r1-aaaaaaaaaaaa/bin")  # absolute, as RKE2 writes it
    got = rv.read_runtime_version("rke2", None, str(tmp_path), allow_exec=False)
    assert (got.version, got.source) == ("v1.29.9+rke2r1", "data-dir")
    assert got.libcni is None  # the RKE2 release alone does not name its containerd
    link.unlink()
    newest = rv.read_runtime_version("rke2", None, str(tmp_path), allow_exec=False)
    assert newest.version == "v1.30.4+rke2r1"
    assert "the newest, v1.30.4-rke2r1-0123456789ab, is assumed" in newest.notes[0]


def test_resolve_in_root_never_leaves_the_root(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/up").symlink_to("../../../../etc")
    (tmp_path / "a/loop").symlink_to("/a/loop")
    assert rv.resolve_in_root(str(tmp_path), "/a/up/passwd") == str(tmp_path / "etc/passwd")
    assert rv.resolve_in_root(str(tmp_path), "/a/loop").startswith(str(tmp_path))


# ---------------------------------------------------------------------------------------------
# The --version sandbox


def test_version_outputs() -> None:
    # Shapes from the runtimes' version printers (containerd cmd/containerd/command/main.go,
    # urfave/cli for crio/k3s/rke2, cri-dockerd cmd/server.go).
    cases = [
        (
            "containerd",
            "containerd github.com/containerd/containerd/v2 v2.1.1 cb1076646aa3740577fafbf3d914198b7fe8e3f7\n",
            "2.1.1",
        ),
        ("containerd", "containerd containerd.io 1.7.27 05044ec0a9a75232cad458027ca83437aae3f4da\n", "1.7.27"),
        ("containerd", "containerd github.com/k3s-io/containerd/v2 v2.0.2-k3s2 \n", "2.0.2-k3s2"),
        ("crio", "INFO[0000] RDT is not enabled\ncrio version 1.25.0\nVersion:        1.25.0\n", "1.25.0"),
        ("k3s", "k3s version v1.32.3+k3s1 (079ffa8d)\ngo version go1.23.6\n", "v1.32.3+k3s1"),
        ("rke2", "rke2 version v1.34.3+rke2r3 (7598946e)\ngo version go1.24.11 X:boringcrypto\n", "v1.34.3+rke2r3"),
        ("cri-dockerd", "cri-dockerd 0.4.3 (55d6e1a)\n", "0.4.3"),
        ("containerd", "Usage: containerd [flags]\n", None),
    ]
    for runtime, text, expected in cases:
        assert rv.parse_version_output(runtime, text) == expected, text  # type: ignore[arg-type]


def test_exec_sandbox_env_and_cap(tmp_path: Path) -> None:
    script = _write(
        tmp_path,
        "/usr/bin/crio",
        "#!/bin/sh\necho \"crio version 1.31.2\"\nenv | sort >&2\nhead -c 1000000 /dev/zero | tr '\\0' x >&2\n",
        0o755,
    )
    assert script.is_file()
    text, why = rv._run_capped([str(script), "--version"], 10)
    assert text is not None and why == ""
    assert len(text) <= 2 * OUTPUT_CAP + 1
    env_lines = [line for line in text.split("\n") if "=" in line and not line.startswith("x")]
    names = {line.split("=", 1)[0] for line in env_lines}
    assert names <= {"PATH", "LC_ALL", "PWD", "SHLVL", "_", "OLDPWD"}  # sh adds PWD/SHLVL/_ itself
    got = rv.read_runtime_version("crio", "/usr/bin/crio", str(tmp_path))
    assert (got.version, got.source, got.libcni) == ("1.31.2", "exec", "1.2.3")


def test_exec_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    _write(
        tmp_path,
        "/usr/bin/containerd",
        f"#!/bin/sh\nsleep 60 &\necho $! > {pidfile}\necho containerd x 1.7.1 abc\nwait\n",
        0o755,
    )
    start = time.monotonic()
    got = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(tmp_path), timeout=1.0)
    assert time.monotonic() - start < 10
    assert got.version is None
    assert got.notes == ("/usr/bin/containerd --version: no answer within 1s",)
    child = int(pidfile.read_text())
    time.sleep(0.2)
    try:
        state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        state = "gone"
    assert state in ("gone", "Z")


def test_exec_refused_for_a_foreign_or_broken_binary(tmp_path: Path) -> None:
    _write(tmp_path, "/usr/bin/containerd", "\x7fELF garbage", 0o755)
    got = rv.read_runtime_version("containerd", "/usr/bin/containerd", str(tmp_path))
    assert got.version is None
    assert got.notes[0].startswith("cannot run /usr/bin/containerd --version from here (exec format error")


# ---------------------------------------------------------------------------------------------
# The support matrix, and libcni versions it does not know


def test_modelled_libcni() -> None:
    assert rv.modelled_libcni("v1.1.2") == ("1.1.2", "")
    assert rv.modelled_libcni("1.2.4")[0] == "1.2.3"
    assert rv.modelled_libcni("1.4.0") == (
        "1.3.0",
        "libcni 1.4.0 is not a release cnidoctor models; modelled as the nearest, libcni 1.3.0",
    )
    assert rv.modelled_libcni("v1.2.0-rc1")[0] == "1.1.2"  # a pre-release sorts below 1.2.0
    assert rv.modelled_libcni("v1.1.3-0.20230101000000-0123456789ab")[0] == "1.1.2"
    assert rv.modelled_libcni("0.5.0")[0] == "0.6.0"


def test_libcni_for_release() -> None:
    assert rv.libcni_for_release("containerd", "1.6.3")[0] == "1.0.1"
    assert rv.libcni_for_release("containerd", "2.0.11")[0] == "1.2.3"
    libcni, note = rv.libcni_for_release("containerd", "2.3.4")
    assert libcni == "1.3.0" and "not in the support matrix" in note
    assert rv.libcni_for_release("cri-dockerd", "0.4.3") == (None, "no support-matrix entry for cri-dockerd 0.4.3")


def test_result_type() -> None:
    got = rv.read_runtime_version("containerd", None, "/nonexistent-root", allow_exec=False)
    assert got == RuntimeVersion(None, None, "default")
