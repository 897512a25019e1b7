"""The whole-result cache (cnidoctor.fastpath): a hit replays the slow path byte for byte, and
every kind of change to an input makes the next run run the pipeline again.

Each run is a real process (`python -X importtime -m cnidoctor ...`, the console script's path)
with its own cache dir. Whether the pipeline ran is observed from the outside: -X importtime
lists every module a process imports, and only a run that analyses anything imports
cnidoctor.engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pytest
from conftest import FIXTURES, ROOT
from plugin_helpers import FAKES

FORMATS = ("text", "json", "sarif", "github", "npd", "preflight")
BRIDGE = {
    "cniVersion": "1.0.0",
    "name": "pods",
    "plugins": [
        {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.85.0.0/16"}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


class Run:
    def __init__(self, stdout: bytes, code: int, ran_pipeline: bool) -> None:
        self.stdout, self.code, self.ran_pipeline = stdout, code, ran_pipeline


def cnidoctor(args: Sequence[str], cwd: Path, cache: Path, env: Optional[Dict[str, str]] = None) -> Run:
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS")}
    full_env.update(PYTHONPATH=str(ROOT), CNIDOCTOR_CACHE_DIR=str(cache), LC_ALL="C.UTF-8", CNIDOCTOR_DEBUG="1")
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cnidoctor", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        timeout=120,
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    print(" ".join(args), "|", "\n".join(line for line in stderr.splitlines() if "import time" not in line))
    return Run(proc.stdout, proc.returncode, "cnidoctor.engine" in stderr)


def node(tmp_path: Path) -> Tuple[Path, Path]:
    """A net.d with one conflist and a bin dir with the fake plugins it uses (+ loopback)."""
    netd, bins = tmp_path / "net.d", tmp_path / "bin"
    netd.mkdir()
    bins.mkdir()
    (netd / "10-pods.conflist").write_text(json.dumps(BRIDGE, indent=2))
    for name in ("bridge", "host-local", "portmap", "loopback"):
        shutil.copy2(FAKES / "v110", bins / name)
    return netd, bins


def prime_and_hit(args: Sequence[str], cwd: Path, cache: Path, env: Optional[Dict[str, str]] = None) -> Run:
    """Run until a hit: the first run after probing writes the probe cache (an input: the report
    says which answers came from it), so its result is stored by the next run. Returns the run
    whose output the hit replayed."""
    runs = [cnidoctor(args, cwd, cache, env)]
    assert runs[0].ran_pipeline
    for _ in range(2):
        run = cnidoctor(args, cwd, cache, env)
        if not run.ran_pipeline:
            assert (run.stdout, run.code) == (runs[-1].stdout, runs[-1].code)
            return runs[-1]
        runs.append(run)
    raise AssertionError("an unchanged node must be answered from the result cache")


def settle(args: Sequence[str], cwd: Path, cache: Path) -> Run:
    """After a miss: within two more runs the new state is answered from the cache."""
    for _ in range(2):
        run = cnidoctor(args, cwd, cache)
        if not run.ran_pipeline:
            return run
    raise AssertionError("the new state was never cached")


def later(path: Path) -> None:
    """Make sure a rewrite gets another mtime even on a coarse-grained file system clock."""
    time.sleep(0.01)


@pytest.fixture()
def fake_node(tmp_path: Path) -> Tuple[Path, Path, Path, List[str]]:
    if not (FAKES / "v110").exists():
        pytest.skip("fake plugins missing")
    netd, bins = node(tmp_path)
    args = ["check", "--bin-dir", str(bins), "--format", "json", "--fail-on", "never", str(netd)]
    return netd, bins, tmp_path / "cache", args


@pytest.mark.parametrize(
    "fixture", ["clean-bridge", "schema-violation", "discovery-shadowed-config", "tool-unused-ignore"]
)
def test_a_hit_replays_every_format_byte_for_byte(tmp_path: Path, fixture: str) -> None:
    src = FIXTURES / fixture
    work = tmp_path / fixture
    shutil.copytree(src, work, symlinks=True)
    netd = work / "net.d" if (work / "net.d").is_dir() else work
    for fmt in FORMATS:
        args = ["check", "--no-probe", "--format", fmt, str(netd)]
        slow = cnidoctor([*args[:1], "--no-cache", *args[1:]], work, tmp_path / "cache")
        assert slow.ran_pipeline
        cold = cnidoctor(args, work, tmp_path / "cache")
        warm = cnidoctor(args, work, tmp_path / "cache")
        assert cold.ran_pipeline and not warm.ran_pipeline, fmt
        assert warm.stdout == cold.stdout == slow.stdout, fmt
        assert warm.code == cold.code == slow.code, fmt


def test_colour_and_github_environment_are_part_of_the_key(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, bins, cache, _ = fake_node
    args = ["check", "--bin-dir", str(bins), "--color", "always", str(netd)]
    plain = prime_and_hit(["check", "--bin-dir", str(bins), str(netd)], netd.parent, cache)
    coloured = prime_and_hit(args, netd.parent, cache)
    assert coloured.stdout != plain.stdout
    github = cnidoctor(["check", "--bin-dir", str(bins), str(netd)], netd.parent, cache, {"GITHUB_ACTIONS": "true"})
    assert github.ran_pipeline and github.stdout != plain.stdout


def test_no_cache_bypasses_it(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, _bins, cache, args = fake_node
    prime_and_hit(args, netd.parent, cache)
    assert cnidoctor(["check", "--no-cache", *args[1:]], netd.parent, cache).ran_pipeline


def edits(netd: Path, bins: Path) -> Dict[str, object]:
    conf = netd / "10-pods.conflist"

    def touch() -> None:
        later(conf)
        os.utime(conf)

    def same_size_same_mtime() -> None:
        info = conf.stat()
        text = conf.read_text().replace("10.85.0.0/16", "10.86.0.0/16")
        conf.write_text(text)
        os.utime(conf, ns=(info.st_atime_ns, info.st_mtime_ns))  # only ctime tells

    def rename() -> None:
        conf.rename(netd / "20-pods.conflist")

    def new_file() -> None:
        (netd / "05-other.conf").write_text(json.dumps({"cniVersion": "1.0.0", "name": "x", "type": "ptp"}))

    def replace_binary() -> None:
        temp = bins / ".bridge.new"
        shutil.copy2(FAKES / "v040", temp)
        os.replace(temp, bins / "bridge")

    def chmod_binary() -> None:
        os.chmod(bins / "portmap", 0o644)

    def remove_binary() -> None:
        os.unlink(bins / "host-local")

    def retarget_symlink() -> None:
        os.replace(bins / "bridge", bins / "bridge-real")
        os.symlink("bridge-real", bins / "bridge")

    return {
        "touch": touch,
        "same size and mtime, new content": same_size_same_mtime,
        "rename": rename,
        "new file in net.d": new_file,
        "replace a binary": replace_binary,
        "chmod a binary": chmod_binary,
        "remove a binary": remove_binary,
        "binary becomes a symlink": retarget_symlink,
    }


@pytest.mark.parametrize(
    "edit",
    [
        "touch",
        "same size and mtime, new content",
        "rename",
        "new file in net.d",
        "replace a binary",
        "chmod a binary",
        "remove a binary",
        "binary becomes a symlink",
    ],
)
def test_each_edit_makes_the_next_run_analyse_again(fake_node: Tuple[Path, Path, Path, List[str]], edit: str) -> None:
    netd, bins, cache, args = fake_node
    before = prime_and_hit(args, netd.parent, cache)
    edits(netd, bins)[edit]()  # type: ignore[operator]
    after = cnidoctor(args, netd.parent, cache)
    assert after.ran_pipeline, edit
    if edit != "touch":
        assert after.stdout != before.stdout, f"{edit}: the fixture edit should change the report"
    settle(args, netd.parent, cache)  # and the new state is cached


def test_symlink_retargeted_misses(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, bins, cache, args = fake_node
    os.replace(bins / "bridge", bins / "bridge-a")
    shutil.copy2(FAKES / "v040", bins / "bridge-b")
    os.symlink("bridge-a", bins / "bridge")
    before = prime_and_hit(args, netd.parent, cache)
    os.unlink(bins / "bridge")
    os.symlink("bridge-b", bins / "bridge")
    after = cnidoctor(args, netd.parent, cache)
    assert after.ran_pipeline and after.stdout != before.stdout


def test_settings_file_created_and_changed(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, bins, cache, _ = fake_node
    args = ["check", "--bin-dir", str(bins), "--no-probe", "--format", "json", "net.d"]
    cwd = netd.parent
    (netd / "10-pods.conflist.bak").write_text("{}")  # CNI012-style directory finding to ignore
    before = prime_and_hit(args, cwd, cache)
    settings = cwd / ".cnidoctor.toml"
    settings.write_text('fail-on = "never"\n')
    created = cnidoctor(args, cwd, cache)
    assert created.ran_pipeline
    settle(args, cwd, cache)
    later(settings)
    settings.write_text('fail-on = "never"\nignore = [{codes = ["CNI0"], reason = "test"}]\n')
    changed = cnidoctor(args, cwd, cache)
    assert changed.ran_pipeline and changed.stdout != before.stdout


def test_relative_paths_from_another_cwd_miss(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for name, version in (("a", "1.0.0"), ("b", "0.4.0")):
        (tmp_path / name / "net.d").mkdir(parents=True)
        doc = dict(BRIDGE, cniVersion=version)
        (tmp_path / name / "net.d" / "10.conflist").write_text(json.dumps(doc))
    args = ["check", "--no-probe", "--format", "json", "--fail-on", "never", "net.d"]
    first = prime_and_hit(args, tmp_path / "a", cache)
    other = cnidoctor(args, tmp_path / "b", cache)
    assert other.ran_pipeline and other.stdout != first.stdout


def test_a_different_format_misses(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, _bins, cache, args = fake_node
    prime_and_hit(args, netd.parent, cache)
    sarif = cnidoctor([a if a != "json" else "sarif" for a in args], netd.parent, cache)
    assert sarif.ran_pipeline


def test_runtime_process_restarted_with_other_flags_misses(tmp_path: Path) -> None:
    """The node's processes are fingerprinted, never keyed by file identity (a real /proc has
    no useful mtimes): a same-size, same-mtime change of containerd's argv must miss."""
    root = tmp_path / "node"
    shutil.copytree(FIXTURES / "node-proc-containerd" / "root", root, symlinks=True)
    (root / "proc" / "self").mkdir()
    (root / "proc" / "self" / "stat").write_text("1 (cnidoctor) R\n")  # looks like a procfs
    cmdlines = [p for p in (root / "proc").glob("*/cmdline") if b"containerd" in p.read_bytes()]
    assert cmdlines
    args = ["check", "--no-probe", "--format", "json", "--fail-on", "never", "--host-root", str(root)]
    prime_and_hit(args, tmp_path, tmp_path / "cache")
    target = cmdlines[0]
    info = target.stat()
    raw = target.read_bytes()
    target.write_bytes(raw.replace(b"containerd", b"containerX", 1) if raw.count(b"containerd") > 1 else raw + b"x")
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert cnidoctor(args, tmp_path, tmp_path / "cache").ran_pipeline


def result_files(cache: Path) -> List[Path]:
    return sorted(cache.glob("result-*"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip a byte", "empty"])
def test_a_damaged_cache_file_is_ignored(fake_node: Tuple[Path, Path, Path, List[str]], damage: str) -> None:
    netd, _bins, cache, args = fake_node
    first = prime_and_hit(args, netd.parent, cache)
    (path,) = result_files(cache)
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) // 2],
        "garbage": os.urandom(len(data)),
        "flip a byte": data[:-10] + bytes([data[-10] ^ 0x55]) + data[-9:],
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    again = cnidoctor(args, netd.parent, cache)
    assert again.ran_pipeline and (again.stdout, again.code) == (first.stdout, first.code)


def test_an_entry_for_another_request_is_not_trusted(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    """A file under this request's name holding another request's result (a hash collision,
    or another version that named files alike) is ignored."""
    netd, _bins, cache, args = fake_node
    json_run = prime_and_hit(args, netd.parent, cache)
    (json_file,) = result_files(cache)
    text_args = [a if a != "json" else "text" for a in args]
    prime_and_hit(text_args, netd.parent, cache)
    (text_file,) = [p for p in result_files(cache) if p != json_file]
    shutil.copy2(json_file, text_file)
    text_again = cnidoctor(text_args, netd.parent, cache)
    assert text_again.ran_pipeline and text_again.stdout != json_run.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_file_owned_by_another_user_is_ignored(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, _bins, cache, args = fake_node
    prime_and_hit(args, netd.parent, cache)
    (path,) = result_files(cache)
    os.chown(path, 65534, 65534)
    assert cnidoctor(args, netd.parent, cache).ran_pipeline


def test_a_group_writable_file_is_ignored(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, _bins, cache, args = fake_node
    prime_and_hit(args, netd.parent, cache)
    (path,) = result_files(cache)
    os.chmod(path, 0o664)
    assert cnidoctor(args, netd.parent, cache).ran_pipeline


def test_an_unwritable_cache_location_still_answers(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, _bins, _, args = fake_node
    blocker = netd.parent / "not-a-dir"
    blocker.write_text("")
    reference = cnidoctor(["check", "--no-cache", *args[1:]], netd.parent, netd.parent / "c2")
    for _ in range(2):
        run = cnidoctor(args, netd.parent, blocker / "cache")
        assert run.ran_pipeline and (run.stdout, run.code) == (reference.stdout, reference.code)


def test_concurrent_runs_leave_a_valid_cache(fake_node: Tuple[Path, Path, Path, List[str]]) -> None:
    netd, _bins, cache, args = fake_node
    cnidoctor(args, netd.parent, cache)  # the probe cache, so that every run below reports alike
    for stale in result_files(cache):
        stale.unlink()
    env = dict(os.environ, PYTHONPATH=str(ROOT), CNIDOCTOR_CACHE_DIR=str(cache), LC_ALL="C.UTF-8")
    procs = [
        subprocess.Popen([sys.executable, "-m", "cnidoctor", *args], cwd=netd.parent, env=env, stdout=subprocess.PIPE)
        for _ in range(4)
    ]
    outputs = {p.communicate(timeout=120)[0] for p in procs}
    assert len(outputs) == 1
    assert len(result_files(cache)) == 1
    assert not list(cache.glob(".*.tmp"))
    warm = cnidoctor(args, netd.parent, cache)
    assert not warm.ran_pipeline and warm.stdout == outputs.pop()


def test_version_matches_click(tmp_path: Path) -> None:
    fast = cnidoctor(["--version"], tmp_path, tmp_path / "cache")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    click_out = subprocess.run(
        [sys.executable, "-c", "from cnidoctor.cli import main; main(['--version'])"],
        env=env,
        stdout=subprocess.PIPE,
        check=False,
    )
    assert not fast.ran_pipeline
    assert (fast.stdout, fast.code) == (click_out.stdout, click_out.returncode)


def test_mount_table_key_follows_the_mounts_that_hold_a_recorded_path(tmp_path: Path) -> None:
    """noexec on the bin dir's mount changes the key (plugins.resolve.noexec_mount decides by
    it); a pod's mount appearing elsewhere does not (proc(5) mountinfo fields 5 and 6)."""
    from cnidoctor.fastpath import mounts_key

    base = [
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "40 22 8:2 / /opt/cni\\040bin rw,relatime shared:2 - ext4 /dev/sda2 rw",
    ]
    table = tmp_path / "mountinfo"
    paths = ["/opt/cni bin/bridge", "/etc/cni/net.d/10.conflist"]
    table.write_text("\n".join(base) + "\n")
    before = mounts_key(str(table), paths)
    assert before == (("/", False), ("/opt/cni bin", False))
    table.write_text("\n".join([*base, "90 22 0:50 / /run/containerd/io.containerd/abc rw - overlay overlay rw"]))
    assert mounts_key(str(table), paths) == before
    table.write_text("\n".join([base[0], base[1].replace("rw,relatime", "rw,noexec,relatime")]))
    assert mounts_key(str(table), paths) == (("/", False), ("/opt/cni bin", True))


def _token(exp: int) -> str:
    """A service-account JWT carrying ``exp`` (RFC 7519 §4.1.4); header and signature are dummies."""
    import base64

    claims = base64.urlsafe_b64encode(json.dumps({"iss": "kubernetes/serviceaccount", "exp": exp}).encode())
    return "eyJhbGciOiAiUlMyNTYifQ." + claims.decode().rstrip("=") + ".c2ln"


def test_a_token_that_expires_after_the_run_ends_the_entry(tmp_path: Path) -> None:
    """The token check reads the clock: a hit stays valid only until the earliest expiry of a
    token the run saw, then the run is repeated and reports the expiry."""
    root = tmp_path / "node"
    shutil.copytree(FIXTURES / "node-state-calico-broken" / "root", root, symlinks=True)
    kubeconfig = root / "etc" / "cni" / "net.d" / "calico-kubeconfig"
    expires = int(time.time()) + 6
    kubeconfig.write_text(kubeconfig.read_text().replace(_token(1600000000), _token(expires)))
    assert _token(expires) in kubeconfig.read_text()
    args = ["check", "--no-probe", "--format", "json", "--fail-on", "never", "--host-root", str(root)]
    valid = prime_and_hit(args, tmp_path, tmp_path / "cache")
    assert b"CNI707" not in valid.stdout
    time.sleep(max(0.0, expires - time.time()) + 0.5)
    after = cnidoctor(args, tmp_path, tmp_path / "cache")
    assert after.ran_pipeline and b"CNI707" in after.stdout


def _containerd_dropin_changed(root: Path) -> None:
    dropin = root / "etc/containerd/conf.d/10-cni.toml"
    later(dropin)
    dropin.write_text(dropin.read_text().replace("/d/net.d", "/e/net.d"))


def _containerd_dropin_added(root: Path) -> None:
    # imports = ["conf.d/*.toml"]: a new file matching the glob is a new input
    (root / "etc/containerd/conf.d/20-bin.toml").write_text(
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/other/bin"\n'
    )


def _containerd_main_touched(root: Path) -> None:
    main = root / "etc/containerd/config.toml"
    later(main)
    os.utime(main)


def _crio_dropin_added(root: Path) -> None:
    (root / "etc/crio/crio.conf.d/30-netdir.conf").write_text('[crio.network]\nnetwork_dir = "/etc/cni/other.d/"\n')


def _crio_binary_replaced(root: Path) -> None:
    binary = root / "usr/bin/crio"
    temp = binary.with_name(".crio.new")
    temp.write_bytes(binary.read_bytes() + b"# another build\n")
    os.replace(temp, binary)


def _dpkg_version_changed(root: Path) -> None:
    status = root / "var/lib/dpkg/status"
    later(status)
    status.write_text(status.read_text().replace("1.6.20", "1.6.24", 1))


RUNTIME_EDITS = {
    "containerd drop-in edited": ("node-containerd-imports-1.7-replace", _containerd_dropin_changed, True),
    "containerd drop-in added to an imports glob": (
        "node-containerd-imports-1.7-replace",
        _containerd_dropin_added,
        True,
    ),
    "containerd main config touched": ("node-containerd-imports-1.7-replace", _containerd_main_touched, False),
    "CRI-O drop-in added": ("node-crio-dropins", _crio_dropin_added, True),
    "CRI-O binary replaced": ("node-crio-dropins", _crio_binary_replaced, False),
    "containerd package version changed": ("node-containerd-debian-1.6.20", _dpkg_version_changed, True),
}


@pytest.mark.parametrize("edit", sorted(RUNTIME_EDITS))
def test_a_change_to_the_runtimes_files_misses(tmp_path: Path, edit: str) -> None:
    """The runtime is read from the node (its config files, drop-ins, imports, binary, package
    database): each is an input of the cached result, so changing one makes the next run read
    the runtime again."""
    fixture, change, changes_report = RUNTIME_EDITS[edit]
    root = tmp_path / "node"
    shutil.copytree(FIXTURES / fixture / "root", root, symlinks=True)
    args = ["check", "--no-probe", "--format", "json", "--fail-on", "never", "--host-root", str(root)]
    before = prime_and_hit(args, tmp_path, tmp_path / "cache")
    change(root)
    after = cnidoctor(args, tmp_path, tmp_path / "cache")
    assert after.ran_pipeline, edit
    if changes_report:
        assert after.stdout != before.stdout, f"{edit}: the edit should change the report"
    settle(args, tmp_path, tmp_path / "cache")


def test_a_file_the_runtime_does_not_read_keeps_the_hit(tmp_path: Path) -> None:
    """The control for the test above: conf.d/README does not match containerd's imports glob
    (conf.d/*.toml), so rewriting it changes no input and the next run is still a hit."""
    root = tmp_path / "node"
    shutil.copytree(FIXTURES / "node-containerd-imports-1.7-replace" / "root", root, symlinks=True)
    args = ["check", "--no-probe", "--format", "json", "--fail-on", "never", "--host-root", str(root)]
    before = prime_and_hit(args, tmp_path, tmp_path / "cache")
    readme = root / "etc/containerd/conf.d/README"
    readme.write_text(readme.read_text() + "edited\n")
    after = cnidoctor(args, tmp_path, tmp_path / "cache")
    assert not after.ran_pipeline
    assert after.stdout == before.stdout
