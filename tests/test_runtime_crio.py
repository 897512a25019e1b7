"""CRI-O's effective CNI settings from node roots (fixtures/node-crio-*) and from temp dirs.

Each fixture's expected-runtime.json was written from CRI-O/ocicni source at the cited tags
(see its README.md), not from this reader's output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from cnidoctor.runtime.crio import (
    NetworkFile,
    parse_crio_flags,
    plugin_dirs_finding,
    read_crio,
    read_crio_detail,
    select_default_network,
)
from cnidoctor.runtime.tomlsrc import load_toml, locate_key

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.name for p in FIXTURES.glob("node-crio-*") if (p / "expected-runtime.json").is_file())


def expected(case: str) -> Dict[str, Any]:
    return json.loads((FIXTURES / case / "expected-runtime.json").read_text())


def keys(findings: Any, with_position: bool = False) -> List[Tuple[Any, ...]]:
    out = []
    for f in findings:
        row: Tuple[Any, ...] = (f.code, f.file, f.pointer, f.severity.label)
        if with_position:
            row += (f.line, f.column)
        out.append(row)
    return sorted(out)


def expected_keys(items: List[Dict[str, Any]]) -> List[Tuple[Any, ...]]:
    return sorted((i["code"], i["file"], i["pointer"], i["severity"]) for i in items)


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: str) -> None:
    want = expected(case)
    config = read_crio(str(FIXTURES / case / "root"), want["release"])
    assert config.name == want["runtime"]
    assert config.config_file == want["config_file"]
    assert config.conf_dir == want["conf_dir"]
    assert list(config.bin_dirs) == want["bin_dirs"]
    assert config.default_network == want["default_network"]
    assert config.dirs_source == want["dirs_source"]
    assert config.max_conf_num is None
    if "files_read" in want:
        assert list(config.files_read) == want["files_read"]
    assert keys(config.findings) == expected_keys(want["findings"])
    for item in want["findings"]:
        if "line" in item:
            match = [
                f
                for f in config.findings
                if (f.code, f.file, f.pointer) == (item["code"], item["file"], item["pointer"])
            ]
            assert (match[0].line, match[0].column) == (item["line"], item["column"])


def test_cases_present() -> None:
    assert {
        "node-crio-defaults",
        "node-crio-dropins",
        "node-crio-old-plugin-dir",
        "node-crio-default-network",
        "node-crio-128-package",
        "node-crio-bad-toml",
    } <= set(CASES)


def test_old_release_ignores_plugin_dirs() -> None:
    want = expected("node-crio-old-plugin-dir")["release_1.13.0"]
    config = read_crio(str(FIXTURES / "node-crio-old-plugin-dir" / "root"), "1.13.0")
    assert list(config.bin_dirs) == want["bin_dirs"]
    assert keys(config.findings, True) == sorted(
        (i["code"], i["file"], i["pointer"], i["severity"], i["line"], i["column"]) for i in want["findings"]
    )


def write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_plugin_dir_is_a_list_in_1_14_0(tmp_path: Path) -> None:
    # lib/config.go@v1.14.0: PluginDir []string `toml:"plugin_dir"`
    write(tmp_path, "/etc/crio/crio.conf", '[crio.network]\nplugin_dir = ["/a", "/b"]\n')
    assert read_crio(str(tmp_path), "1.14.1").bin_dirs == ("/a", "/b")
    # ... and a string there is a decode error
    write(tmp_path, "/etc/crio/crio.conf", '[crio.network]\nplugin_dir = "/a"\n')
    assert [f.code for f in read_crio(str(tmp_path), "1.14.1").findings] == ["CNI630"]


def test_default_network_key_ignored_before_1_18(tmp_path: Path) -> None:
    write(tmp_path, "/etc/crio/crio.conf", '[crio.network]\ncni_default_network = "podnet"\n')
    config = read_crio(str(tmp_path), "1.17.5")
    assert config.default_network is None
    assert [(f.code, f.pointer, f.line) for f in config.findings] == [
        ("CNI634", "/crio/network/cni_default_network", 2)
    ]
    assert read_crio(str(tmp_path), "1.18.0").default_network == "podnet"


def test_drop_in_dir_not_read_before_1_17(tmp_path: Path) -> None:
    write(tmp_path, "/etc/crio/crio.conf.d/10.conf", '[crio.network]\nnetwork_dir = "/x/"\n')
    assert read_crio(str(tmp_path), "1.16.6").conf_dir == "/etc/cni/net.d/"
    assert [f.code for f in read_crio(str(tmp_path), "1.16.6").findings] == ["CNI634"]
    assert read_crio(str(tmp_path), "1.17.0").conf_dir == "/x/"


def test_explicit_config_missing_is_fatal_default_missing_is_not(tmp_path: Path) -> None:
    reading = read_crio_detail(str(tmp_path), None, ["crio", "--config", "/etc/crio/custom.conf"])
    assert reading.fatal and [f.code for f in reading.config.findings] == ["CNI631"]
    assert not read_crio_detail(str(tmp_path)).fatal


def test_config_flags_and_env(tmp_path: Path) -> None:
    write(tmp_path, "/srv/crio.toml", '[crio.network]\nplugin_dirs = ["/from/file"]\nnetwork_dir = "/file/net.d"\n')
    write(tmp_path, "/srv/drop/a.conf", '[crio.network]\nnetwork_dir = "/drop/net.d"\n')
    config = read_crio(str(tmp_path), None, ["/usr/bin/crio", "-c", "/srv/crio.toml", "--config-dir=/srv/drop"])
    assert config.config_file == "/srv/crio.toml"
    assert config.conf_dir == "/drop/net.d"
    assert config.bin_dirs == ("/from/file",)
    # --cni-plugin-dir replaces plugin_dirs, comma lists are split (criocli.go StringSliceTrySplit)
    config = read_crio(str(tmp_path), None, ["crio", "-c", "/srv/crio.toml", "--cni-plugin-dir", "/f1, /f2"])
    assert config.bin_dirs == ("/f1", "/f2") and config.dirs_source == "flag"
    # env fills in what the command line does not set; the command line wins
    env = {"CONTAINER_CONFIG": "/srv/crio.toml", "CONTAINER_CNI_CONFIG_DIR": "/env/net.d"}
    assert read_crio(str(tmp_path), None, ["crio"], env).conf_dir == "/env/net.d"
    assert read_crio(str(tmp_path), None, ["crio", "--cni-config-dir=/flag"], env).conf_dir == "/flag"
    # --config "" skips the main file
    assert read_crio(str(tmp_path), None, ["crio", "--config="], env).config_file is None


def test_flag_parsing_is_robust() -> None:
    assert parse_crio_flags(["crio", "--config"], {}) == {}
    assert parse_crio_flags(["crio", "--", "--config", "x"], {}) == {}
    assert parse_crio_flags(["crio", "-config=x", "--config", "y"], {})["config"] == "y"


def test_drop_in_walk_order_recursion_and_no_extension_filter(tmp_path: Path) -> None:
    # filepath.Walk: lexical per directory, subdirectories descended in place, every file applied
    write(tmp_path, "/etc/crio/crio.conf.d/10-a.conf", '[crio.network]\nnetwork_dir = "/a/"\n')
    write(tmp_path, "/etc/crio/crio.conf.d/20-sub/x.conf", '[crio.network]\nnetwork_dir = "/sub/"\n')
    write(tmp_path, "/etc/crio/crio.conf.d/30-b.conf.rpmsave", '[crio.network]\nnetwork_dir = "/rpmsave/"\n')
    write(tmp_path, "/etc/crio/crio.conf.d/2-late.conf", '[crio.network]\nnetwork_dir = "/late/"\n')
    config = read_crio(str(tmp_path))
    # Go sorts names by bytes: "2-late.conf" < "20-sub" ('-' 0x2d < '0' 0x30), so the
    # .rpmsave file, last in the walk, wins - it is applied although it is a backup.
    assert config.files_read == (
        "/etc/crio/crio.conf.d/10-a.conf",
        "/etc/crio/crio.conf.d/2-late.conf",
        "/etc/crio/crio.conf.d/20-sub/x.conf",
        "/etc/crio/crio.conf.d/30-b.conf.rpmsave",
    )
    assert config.conf_dir == "/rpmsave/"


def test_unreadable_entries_are_findings_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "etc/crio/crio.conf.d").mkdir(parents=True)
    os.symlink("/nowhere", tmp_path / "etc/crio/crio.conf.d/10-dangling.conf")
    (tmp_path / "etc/crio/crio.conf.d/20-dir").mkdir()
    os.symlink("/etc/crio/crio.conf.d/20-dir", tmp_path / "etc/crio/crio.conf.d/30-dirlink.conf")
    os.mkfifo(tmp_path / "etc/crio/crio.conf.d/40-fifo.conf")
    write(tmp_path, "/etc/crio/crio.conf", "\x00\xff not toml")
    reading = read_crio_detail(str(tmp_path))
    assert reading.fatal
    assert sorted((f.code, f.file) for f in reading.config.findings) == [
        ("CNI630", "/etc/crio/crio.conf"),
        ("CNI630", "/etc/crio/crio.conf.d/10-dangling.conf"),
        ("CNI630", "/etc/crio/crio.conf.d/30-dirlink.conf"),
        ("CNI630", "/etc/crio/crio.conf.d/40-fifo.conf"),
    ]


def test_absolute_symlinks_resolve_inside_the_host_root(tmp_path: Path) -> None:
    write(tmp_path, "/usr/share/crio/crio.conf", '[crio.network]\nnetwork_dir = "/shared/"\n')
    (tmp_path / "etc/crio").mkdir(parents=True)
    os.symlink("/usr/share/crio/crio.conf", tmp_path / "etc/crio/crio.conf")
    assert read_crio(str(tmp_path)).conf_dir == "/shared/"


def test_wrong_table_type_is_a_decode_error(tmp_path: Path) -> None:
    write(tmp_path, "/etc/crio/crio.conf", '[crio]\nnetwork = "x"\n')
    findings = read_crio(str(tmp_path)).findings
    assert [(f.code, f.pointer, f.line) for f in findings] == [("CNI630", "/crio/network", 2)]


def test_replacement_without_loss_is_not_reported(tmp_path: Path) -> None:
    write(tmp_path, "/etc/crio/crio.conf", '[crio.network]\nplugin_dirs = ["/opt/cni/bin/"]\n')
    write(tmp_path, "/etc/crio/crio.conf.d/10.conf", '[crio.network]\nplugin_dirs = ["/opt/cni/bin", "/x"]\n')
    config = read_crio(str(tmp_path))
    assert config.bin_dirs == ("/opt/cni/bin", "/x") and config.findings == ()


def test_default_network_selection_follows_ocicni() -> None:
    root = str(FIXTURES / "node-crio-default-network" / "root")
    reading = read_crio_detail(root, "1.28.2")
    assert reading.default_network_fixed
    files = [
        NetworkFile("/etc/cni/net.d/10-calico.conflist", "k8s-pod-network", True),
        NetworkFile("/etc/cni/net.d/20-podnet.conflist", "podnet", True),
    ]
    chosen = select_default_network(reading, files)
    assert (chosen.name, chosen.file, chosen.fixed, chosen.findings) == (
        "podnet",
        "/etc/cni/net.d/20-podnet.conflist",
        True,
        (),
    )
    # podnet's plugins are missing: ValidateNetworkList fails, the file is skipped, no fallback
    broken = [files[0], NetworkFile(files[1].path, "podnet", False)]
    chosen = select_default_network(reading, broken)
    assert chosen.file is None
    assert [(f.code, f.file, f.pointer, f.line, f.column) for f in chosen.findings] == [
        ("CNI636", "/etc/crio/crio.conf.d/05-podnet.conf", "/crio/network/cni_default_network", 2, 1)
    ]
    assert "Has your network provider started?" in chosen.findings[0].message


def test_default_network_without_setting_is_first_usable_sorted_file(tmp_path: Path) -> None:
    reading = read_crio_detail(str(tmp_path))
    files = [
        NetworkFile("/etc/cni/net.d/20-b.conf", "b", True),
        NetworkFile("/etc/cni/net.d/10-a.conflist", "a", False),
        NetworkFile("/etc/cni/net.d/15-empty.conflist", "e", True, has_plugins=False),
        NetworkFile("/etc/cni/net.d/30-noname.conf", None, True),
    ]
    chosen = select_default_network(reading, files)
    assert (chosen.name, chosen.file, chosen.fixed) == ("b", "/etc/cni/net.d/20-b.conf", False)
    # an empty name becomes the file's base name (ocicni loadNetworks)
    chosen = select_default_network(reading, files[3:])
    assert chosen.name == "30-noname.conf"
    assert select_default_network(reading, []).name is None


def test_plugin_dirs_lacking_provider_dir() -> None:
    reading = read_crio_detail(str(FIXTURES / "node-crio-dropins" / "root"), "1.28.2")
    finding = plugin_dirs_finding(reading, "/opt/cni/bin", "calico")
    assert finding is not None
    assert (finding.code, finding.file, finding.pointer, finding.line) == (
        "CNI637",
        "/etc/crio/crio.conf.d/20-gpu.conf",
        "/crio/network/plugin_dirs",
        6,
    )
    assert plugin_dirs_finding(reading, "/usr/libexec/cni") is None


def test_locate_key_handles_headers_dotted_and_quoted_keys() -> None:
    text = '# c\n[crio]\n  "net.work".plugin_dirs = [\n  "a", # ]\n]\n[crio.network]\nnetwork_dir = "x"\n'
    assert load_toml(text).data is not None
    assert locate_key(text, ("crio", "net.work", "plugin_dirs")) == (3, 3)
    assert locate_key(text, ("crio", "network", "network_dir")) == (7, 1)
    assert locate_key(text, ("crio", "network", "cni_default_network")) == (6, 1)
    assert locate_key("", ("a",)) == (None, None)
