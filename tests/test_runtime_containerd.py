"""containerd's effective CNI settings (cnidoctor.runtime.containerd) against fixture node roots,
the loader's release boundaries, and - where Debian's containerd 1.6.20 is installed - against
the real binary's ``config dump``. Expectations come from containerd's source at the tags cited in
each fixture's README.md, not from this reader's output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from runtime_fixture_helpers import actual_view, expected_view, node_fixtures, run_reader

from cnidoctor.rules import runtime_containerd as rules
from cnidoctor.runtime.containerd import read_containerd, rejects_version_3
from cnidoctor.runtime.releases import Release, parse_release
from cnidoctor.runtime.tomlsrc import json_pointer, locate_key

CASES = node_fixtures(("node-containerd-",))
CT = "/etc/containerd/config.toml"


def test_fixture_set_is_complete() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path) -> None:
    config, expected = run_reader(case)
    assert actual_view(config, expected) == expected_view(expected)
    for finding in config.findings:
        assert finding.code in {r.code for r in rules.RULES}


def make_root(tmp_path: Path, files: dict) -> str:
    for path, text in files.items():
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(tmp_path)


# --- releases and version gates ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1.6.20~ds1-1+deb12u3", Release(1, 6, 20)),
        ("v1.7.13", Release(1, 7, 13)),
        ("2.0.2-k3s2", Release(2, 0, 2)),
        ("1.7.27", Release(1, 7, 27)),
        ("2.1", Release(2, 1, 0)),
        ("unknown", None),
        (None, None),
    ],
)
def test_parse_release(text, expected) -> None:
    assert parse_release(text) == expected


@pytest.mark.parametrize(
    "release, rejects",
    [
        ("1.6.31", False),
        ("1.6.32", True),
        ("1.6.39", True),
        ("1.7.16", False),
        ("1.7.17", True),
        ("1.7.34", True),
        ("2.0.0", False),
    ],
)
def test_version_3_boundary(release: str, rejects: bool) -> None:
    # ValidateV2's `version > 2` check first appears in v1.6.32 and v1.7.17 (services/server/config/config.go).
    parsed = parse_release(release)
    assert parsed is not None and rejects_version_3(parsed) is rejects


# --- which file -------------------------------------------------------------------------------


def test_no_config_file_means_defaults_and_no_file(tmp_path: Path) -> None:
    config = read_containerd(str(tmp_path), "1.7.34")
    assert config.config_file is None and config.files_read == ()
    assert (config.conf_dir, config.bin_dirs, config.max_conf_num, config.dirs_source) == (
        "/etc/cni/net.d",
        ("/opt/cni/bin",),
        1,
        "default",
    )
    assert config.findings == ()


def test_explicit_missing_config_is_fatal(tmp_path: Path) -> None:
    config = read_containerd(str(tmp_path), "1.7.34", "/etc/k3s-containerd.toml")
    assert [(f.code, f.file) for f in config.findings] == [("CNI613", "/etc/k3s-containerd.toml")]


def test_explicit_config_path_is_read_instead_of_default(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            CT: 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/default/bin"\n',
            "/srv/c.toml": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/given/bin"\n',
        },
    )
    assert read_containerd(root, "1.7.34", "/srv/c.toml").bin_dirs == ("/given/bin",)


def test_missing_non_glob_import_is_fatal_with_position(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            CT: 'version = 2\nimports = ["a.toml", "/etc/containerd/nvidia.toml"]\n',
            "/etc/containerd/a.toml": "version = 2\n",
        },
    )
    (finding,) = read_containerd(root, "1.7.34").findings
    assert (finding.code, finding.file, finding.pointer, finding.line) == ("CNI613", CT, "/imports/1", 2)


def test_glob_import_matching_nothing_is_fine(tmp_path: Path) -> None:
    root = make_root(tmp_path, {CT: 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'})
    assert read_containerd(root, "1.7.34").findings == ()


def test_imports_order_relative_paths_and_cycles(tmp_path: Path) -> None:
    # Breadth first; relative to the importing file; each path once (resolveImports/LoadConfig).
    root = make_root(
        tmp_path,
        {
            CT: 'version = 2\nimports = ["conf.d/*.toml", "/etc/containerd/config.toml"]\n',
            "/etc/containerd/conf.d/20-b.toml": 'version = 2\nimports = ["../extra/x.toml"]\n',
            "/etc/containerd/conf.d/10-a.toml": "version = 2\n",
            "/etc/containerd/extra/x.toml": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "/x/net.d"\n',
        },
    )
    config = read_containerd(root, "2.0.11")
    assert config.files_read == (
        CT,
        "/etc/containerd/conf.d/10-a.toml",
        "/etc/containerd/conf.d/20-b.toml",
        "/etc/containerd/extra/x.toml",
    )
    assert config.conf_dir == "/x/net.d"


# --- syntax errors never crash ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["version = 2\n[plugins\n", 'bin_dir = "unterminated\n', "a = 1\na = 2\n", "\x00\xff"])
def test_toml_error_is_a_finding(tmp_path: Path, text: str) -> None:
    root = make_root(tmp_path, {CT: text})
    config = read_containerd(root, "2.2.7")
    assert [f.code for f in config.findings] == ["CNI601"]
    assert config.bin_dirs == ("/opt/cni/bin",)


def test_toml_error_position(tmp_path: Path) -> None:
    root = make_root(
        tmp_path, {CT: 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = /opt/cni/bin\n'}
    )
    (finding,) = read_containerd(root, "1.7.34").findings
    assert finding.line == 4


# --- merge and migration details -------------------------------------------------------------


def test_1x_drop_in_without_cni_keys_still_wipes_cni(tmp_path: Path) -> None:
    # containerd#5837 / #7982: a registry-only drop-in replaces the whole CRI table on 1.x.
    root = make_root(
        tmp_path,
        {
            CT: 'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n',
            "/etc/containerd/conf.d/registry.toml": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n',
        },
    )
    on_17 = read_containerd(root, "1.7.34")
    assert on_17.bin_dirs == ("/opt/cni/bin",)
    assert [f.code for f in on_17.findings] == ["CNI608"]
    on_20 = read_containerd(root, "2.0.11")
    assert on_20.bin_dirs == ("/usr/lib/cni",) and on_20.findings == ()


def test_v2_bin_dir_becomes_bin_dirs_on_21(tmp_path: Path) -> None:
    # plugin.go@v2.1.9 migrateConfig: bin_dir -> bin_dirs = [bin_dir]; no deprecation then.
    root = make_root(tmp_path, {CT: 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/d2/bin"\n'})
    config = read_containerd(root, "2.2.7")
    assert config.bin_dirs == ("/d2/bin",) and config.findings == ()


def test_v3_main_v2_import_migrates_and_v3_keys_win(tmp_path: Path) -> None:
    # Verified outcome on 2.2.7: bin_dirs from the v2 import, conf_dir from the v3 main file.
    root = make_root(
        tmp_path,
        {
            CT: 'version = 3\nimports = ["/etc/containerd/conf.d/*.toml"]\n[plugins."io.containerd.cri.v1.runtime".cni]\n  conf_dir = "/m/net.d"\n',
            "/etc/containerd/conf.d/h.toml": 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/h/bin"\n  conf_dir = "/h/net.d"\n',
        },
    )
    config = read_containerd(root, "2.2.7")
    assert (config.bin_dirs, config.conf_dir) == (("/h/bin",), "/m/net.d")
    assert [f.code for f in config.findings] == ["CNI607"]


def test_v2_main_with_no_version_import_on_2x_applies_both(tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        {
            CT: 'version = 2\nimports = ["f.toml"]\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/v2/bin"\n',
            "/etc/containerd/f.toml": '[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "/f/net.d"\n',
        },
    )
    config = read_containerd(root, "2.0.11")
    assert (config.bin_dirs, config.conf_dir, config.findings) == (("/v2/bin",), "/f/net.d", ())


def test_v1_uri_keys_ignored_on_1x(tmp_path: Path) -> None:
    root = make_root(tmp_path, {CT: '[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/usr/lib/cni"\n'})
    config = read_containerd(root, "1.6.20")
    assert config.bin_dirs == ("/opt/cni/bin",)
    assert sorted(f.code for f in config.findings) == ["CNI603", "CNI604"]
    ignored = next(f for f in config.findings if f.code == "CNI604")
    assert (ignored.pointer, ignored.line, ignored.column) == ("/plugins/io.containerd.grpc.v1.cri/cni", 1, 1)


def test_short_plugin_id_in_v2_file_is_fatal_on_1x(tmp_path: Path) -> None:
    root = make_root(tmp_path, {CT: 'version = 2\n[plugins.cri.cni]\n  bin_dir = "/usr/lib/cni"\n'})
    codes = [f.code for f in read_containerd(root, "1.7.34").findings]
    assert codes == ["CNI612"]


def test_bin_dirs_unsupported_before_21(tmp_path: Path) -> None:
    root = make_root(
        tmp_path, {CT: 'version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dirs = ["/usr/lib/cni"]\n'}
    )
    on_20 = read_containerd(root, "2.0.11")
    assert on_20.bin_dirs == ("/opt/cni/bin",) and [f.code for f in on_20.findings] == ["CNI611"]
    on_21 = read_containerd(root, "2.1.0")
    assert on_21.bin_dirs == ("/usr/lib/cni",) and on_21.findings == ()


def test_bin_dir_with_explicit_default_bin_dirs_is_accepted_on_21(tmp_path: Path) -> None:
    # ValidateRuntimeConfig: an explicit default bin_dirs is indistinguishable from the default.
    root = make_root(
        tmp_path,
        {
            CT: 'version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dir = "/x"\n  bin_dirs = ["/opt/cni/bin"]\n'
        },
    )
    config = read_containerd(root, "2.1.9")
    assert config.bin_dirs == ("/x",) and [f.code for f in config.findings] == ["CNI610"]


def test_unknown_release_models_from_version_and_says_so(tmp_path: Path) -> None:
    root = make_root(tmp_path, {CT: '[plugins.cri.cni]\n  bin_dir = "/usr/lib/cni"\n'})
    config = read_containerd(root, None)
    assert config.bin_dirs == ("/usr/lib/cni",)
    assert [f.code for f in config.findings] == ["CNI602"]
    assert any("release unknown" in e.detail for e in config.evidence)


def test_max_conf_num_is_exposed(tmp_path: Path) -> None:
    root = make_root(tmp_path, {CT: 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  max_conf_num = 0\n'})
    assert read_containerd(root, "1.7.34").max_conf_num == 0


# --- the key locator --------------------------------------------------------------------------


def test_locator_headers_dotted_keys_and_multiline_values() -> None:
    text = (
        "version = 3\n"
        'note = """\n'
        'bin_dir = "not a key"\n'
        '"""\n'
        "[plugins.'io.containerd.cri.v1.runtime'.cni]\n"
        "  bin_dirs = [\n"
        '    "/a",\n'
        "  ]\n"
        '  conf_dir = "/c"\n'
        "[plugins]\n"
        '  "io.containerd.grpc.v1.cri".cni.bin_dir = "/b"\n'
    )
    assert locate_key(text, ("version",)) == (1, 1)
    assert locate_key(text, ("bin_dir",)) == (None, None)
    assert locate_key(text, ("plugins", "io.containerd.cri.v1.runtime", "cni", "bin_dirs")) == (6, 3)
    assert locate_key(text, ("plugins", "io.containerd.cri.v1.runtime", "cni", "conf_dir")) == (9, 3)
    assert locate_key(text, ("plugins", "io.containerd.grpc.v1.cri", "cni", "bin_dir")) == (11, 3)
    assert json_pointer(("plugins", "a/b~c")) == "/plugins/a~1b~0c"


def test_rules_are_in_range_and_cite_upstream() -> None:
    codes = [r.code for r in rules.RULES]
    assert len(set(codes)) == len(codes)
    for rule in rules.RULES:
        assert re.fullmatch(r"CNI6(0[1-9]|1\d|2\d)", rule.code), rule.code
        assert rule.references and rule.example and rule.fix
        assert not any(".md" in ref and "github.com" not in ref for ref in rule.references), rule.code


# --- against the real containerd (Debian 1.6.20), when installed -----------------------------

CONTAINERD = shutil.which("containerd")
needs_containerd = pytest.mark.skipif(
    CONTAINERD is None, reason="containerd not installed (apt-get install containerd)"
)

DUMP_CASES = {
    "debian-packaged": 'version = 2\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n    [plugins."io.containerd.grpc.v1.cri".cni]\n      bin_dir = "/usr/lib/cni"\n      conf_dir = "/etc/cni/net.d"\n',
    "v1-short-id": '[plugins.cri.cni]\n  bin_dir = "/v1/bin"\n  max_conf_num = 3\n',
    "v1-uri-keys-ignored": '[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/ignored/bin"\n',
    "v3-ignored-on-1.6.20": 'version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  bin_dirs = ["/v3/bin"]\n  conf_dir = "/v3/net.d"\n',
    "handler-and-template": (
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "/c/net.d"\n  max_conf_num = 0\n'
        '  conf_template = "/etc/containerd/t.tmpl"\n'
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]\n  runtime_type = "io.containerd.kata.v2"\n  cni_conf_dir = "/k/net.d"\n'
    ),
}
IMPORT_MAIN = (
    'version = 2\nimports = ["conf.d/*.toml"]\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/main/bin"\n'
)
IMPORT_DROPIN = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_dir = "/d/net.d"\n'


def containerd_version() -> str:
    out = subprocess.run([CONTAINERD, "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.split()[2]  # "containerd <package> <version> <revision>" (cmd/containerd/command/main.go)


def dump_cni(config_file: Path) -> dict:
    """``containerd --config FILE config dump``: loads and merges the config, prints it; no daemon.

    The dump shows the CRI plugin's decoded config (defaults filled in) under
    [plugins."io.containerd.grpc.v1.cri".cni] and its runtimes. --config is always explicit, so
    the machine's /etc/containerd is never read.
    """
    try:
        import tomllib
    except ImportError:  # pragma: no cover
        import tomli as tomllib  # type: ignore[no-redef]
    result = subprocess.run(
        [CONTAINERD, "--config", str(config_file), "config", "dump"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert result.returncode == 0, result.stderr
    cri = tomllib.loads(result.stdout)["plugins"]["io.containerd.grpc.v1.cri"]
    return {"cni": cri["cni"], "runtimes": cri["containerd"]["runtimes"]}


def assert_matches_dump(root: Path, config_file: Path, node_path: str) -> None:
    dumped = dump_cni(config_file)
    ours = read_containerd(str(root), containerd_version(), node_path)
    cni = dumped["cni"]
    assert (ours.bin_dirs, ours.conf_dir, ours.max_conf_num, ours.conf_template or "") == (
        (cni["bin_dir"],),
        cni["conf_dir"],
        cni["max_conf_num"],
        cni["conf_template"],
    )
    handlers = tuple((n, r["cni_conf_dir"]) for n, r in dumped["runtimes"].items() if r.get("cni_conf_dir"))
    assert ours.handler_conf_dirs == handlers


@needs_containerd
@pytest.mark.parametrize("case", sorted(DUMP_CASES))
def test_matches_real_containerd_config_dump(tmp_path: Path, case: str) -> None:
    config_file = tmp_path / "etc" / "containerd" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(DUMP_CASES[case])
    assert_matches_dump(tmp_path, config_file, "/etc/containerd/config.toml")


@needs_containerd
def test_matches_real_containerd_imports_replace(tmp_path: Path) -> None:
    # An absolute glob (the temp dir's real path, so containerd never looks at the machine's
    # /etc): the drop-in re-declares the CRI table and the main file's bin_dir is lost.
    etc = tmp_path / "etc" / "containerd"
    (etc / "conf.d").mkdir(parents=True)
    main = etc / "config.toml"
    main.write_text(IMPORT_MAIN.replace('"conf.d/*.toml"', f'"{etc}/conf.d/*.toml"'))
    (etc / "conf.d" / "10-cni.toml").write_text(IMPORT_DROPIN)
    dumped = dump_cni(main)
    ours = read_containerd("/", containerd_version(), str(main))
    assert (ours.bin_dirs, ours.conf_dir) == ((dumped["cni"]["bin_dir"],), dumped["cni"]["conf_dir"])
    assert (ours.bin_dirs, ours.conf_dir) == (("/opt/cni/bin",), "/d/net.d")
    assert [f.code for f in ours.findings] == ["CNI608"]


@needs_containerd
def test_matches_real_containerd_relative_glob(tmp_path: Path) -> None:
    # containerd 1.6.20 globs "conf.d/*.toml" from its working directory, not next to the main
    # file (resolveImports@v1.6.20): run it from an empty directory, as systemd runs it from /.
    etc = tmp_path / "etc" / "containerd"
    (etc / "conf.d").mkdir(parents=True)
    (etc / "config.toml").write_text(IMPORT_MAIN)
    (etc / "conf.d" / "10-cni.toml").write_text(IMPORT_DROPIN)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = subprocess.run(
        [CONTAINERD, "--config", str(etc / "config.toml"), "config", "dump"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    version = containerd_version()
    ours = read_containerd(str(tmp_path), version)
    if parse_release(version) and not parse_release(version).at_least(1, 6, 29):
        assert 'bin_dir = "/main/bin"' in result.stdout and 'conf_dir = "/d/net.d"' not in result.stdout
        assert ours.bin_dirs == ("/main/bin",) and ours.conf_dir == "/etc/cni/net.d"
        assert [f.code for f in ours.findings] == ["CNI614"]


def test_relative_glob_on_old_and_new_1x(tmp_path: Path) -> None:
    root = make_root(tmp_path, {CT: IMPORT_MAIN, "/etc/containerd/conf.d/10-cni.toml": IMPORT_DROPIN})
    old = read_containerd(root, "1.6.28")
    assert (old.bin_dirs, old.conf_dir, [f.code for f in old.findings]) == (
        ("/main/bin",),
        "/etc/cni/net.d",
        ["CNI614"],
    )
    assert (old.findings[0].pointer, old.findings[0].line) == ("/imports/0", 2)
    new = read_containerd(root, "1.6.29")
    assert (new.bin_dirs, new.conf_dir, [f.code for f in new.findings]) == (("/opt/cni/bin",), "/d/net.d", ["CNI608"])


@needs_containerd
def test_real_containerd_refuses_what_we_call_unparseable(tmp_path: Path) -> None:
    config_file = tmp_path / "etc" / "containerd" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = /opt/cni/bin\n')
    result = subprocess.run(
        [CONTAINERD, "--config", str(config_file), "config", "dump"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "failed to load TOML" in result.stderr
    assert [f.code for f in read_containerd(str(tmp_path), containerd_version()).findings] == ["CNI601"]


@needs_containerd
def test_real_containerd_refuses_short_plugin_id_in_v2_file(tmp_path: Path) -> None:
    config_file = tmp_path / "c.toml"
    config_file.write_text('version = 2\n[plugins.cri.cni]\n  bin_dir = "/x"\n')
    result = subprocess.run(
        [CONTAINERD, "--config", str(config_file), "config", "dump"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and 'invalid plugin key URI "cri"' in result.stderr
    assert [f.code for f in read_containerd("/", containerd_version(), str(config_file)).findings] == ["CNI612"]


@needs_containerd
def test_matches_real_containerd_v2_main_with_v3_drop_in(tmp_path: Path) -> None:
    # On 1.6.20 the merged version becomes 3 (not refused before 1.6.32); 1.x still reads the CRI
    # plugin by its URI, so the v2 table applies and the v3 table is ignored.
    etc = tmp_path / "etc"
    (etc / "conf.d").mkdir(parents=True)
    main = etc / "config.toml"
    main.write_text(
        f'version = 2\nimports = ["{etc}/conf.d/*.toml"]\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/v2/bin"\n'
    )
    (etc / "conf.d" / "g.toml").write_text(
        'version = 3\n[plugins."io.containerd.cri.v1.runtime".cni]\n  conf_dir = "/v3/net.d"\n'
    )
    dumped = dump_cni(main)
    version = containerd_version()
    ours = read_containerd("/", version, str(main))
    assert (ours.bin_dirs, ours.conf_dir) == ((dumped["cni"]["bin_dir"],), dumped["cni"]["conf_dir"])
    if not rejects_version_3(parse_release(version) or Release(0, 0, 0)):
        assert sorted(f.code for f in ours.findings) == ["CNI606", "CNI607"]
