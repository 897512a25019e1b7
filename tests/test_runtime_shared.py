"""The helpers every runtime reader shares: node paths under a host root (hostfs), TOML with
key positions (tomlsrc) and release comparison (releases).

Path expectations are checked against the kernel itself (``os.path.realpath`` on a tree whose
links are relative, so the host root and ``/`` agree); glob order is Go's ``filepath.Glob``
(sort.Strings: byte order, dot files not special - go/src/path/filepath/match.go@go1.22).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from cnidoctor.runtime.containerd import read_containerd
from cnidoctor.runtime.hostfs import MAX_BYTES, HostFS
from cnidoctor.runtime.k3s import find_data_dir
from cnidoctor.runtime.releases import Release, before, parse_release, release_number
from cnidoctor.runtime.tomlsrc import load_toml, locate_key, written_keys


def _write(root: Path, path: str, text: str = "") -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


# --- hostfs -----------------------------------------------------------------------------------


def test_dotdot_after_a_symlink_goes_up_from_the_target_as_the_kernel_does(tmp_path: Path) -> None:
    _write(tmp_path, "/x/f", "x")
    _write(tmp_path, "/a/f", "a")
    (tmp_path / "x/y").mkdir()
    os.symlink("../x/y", tmp_path / "a/link")
    kernel = os.path.realpath(str(tmp_path / "a/link/../f"))
    assert HostFS(str(tmp_path)).real("/a/link/../f") == kernel == str(tmp_path / "x/f")


def test_absolute_link_stays_inside_the_root(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/real.conf", "inside")
    os.symlink("/etc/real.conf", tmp_path / "etc/alias.conf")
    fs = HostFS(str(tmp_path))
    assert fs.read_text("/etc/alias.conf").text == "inside"
    assert fs.link_target("/etc/alias.conf") == "/etc/real.conf"
    assert fs.link_target("/etc/real.conf") is None


def test_relative_link_target_is_made_absolute(tmp_path: Path) -> None:
    (tmp_path / "data/abc").mkdir(parents=True)
    os.symlink("abc", tmp_path / "data/current")
    assert HostFS(str(tmp_path)).link_target("/data/current/") == "/data/abc"


def test_symlink_loop_is_an_error_not_a_hang(tmp_path: Path) -> None:
    os.symlink("/b", tmp_path / "a")
    os.symlink("/a", tmp_path / "b")
    result = HostFS(str(tmp_path)).read_text("/a")
    assert result.text is None and result.error and not result.missing


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.mkfifo(tmp_path / "etc/config.yaml")
    result = HostFS(str(tmp_path)).read_text("/etc/config.yaml")
    assert result.text is None and result.error == "not a regular file"


def test_oversized_file_is_not_read(tmp_path: Path) -> None:
    _write(tmp_path, "/big", "#" * (MAX_BYTES + 1))
    _write(tmp_path, "/small", "#" * MAX_BYTES)
    fs = HostFS(str(tmp_path))
    assert fs.read_text("/big").text is None
    assert fs.read_text("/small").text == "#" * MAX_BYTES


def test_missing_file_says_missing(tmp_path: Path) -> None:
    result = HostFS(str(tmp_path)).read_text("/etc/nothing")
    assert result.missing and result.text is None


def test_glob_is_go_ordered_includes_dot_files_and_dangling_links(tmp_path: Path) -> None:
    for name in ("b.toml", "B.toml", ".hidden.toml", "a.conf"):
        _write(tmp_path, f"/etc/conf.d/{name}")
    os.symlink("/nowhere.toml", tmp_path / "etc/conf.d/dangling.toml")
    fs = HostFS(str(tmp_path))
    assert fs.glob("/etc/conf.d/*.toml") == [
        "/etc/conf.d/.hidden.toml",
        "/etc/conf.d/B.toml",
        "/etc/conf.d/b.toml",
        "/etc/conf.d/dangling.toml",
    ]
    assert fs.glob("/etc/*/a.conf") == ["/etc/conf.d/a.conf"]
    assert fs.glob("/etc/missing/*.toml") == []


def test_glob_through_a_linked_directory_stays_in_the_root(tmp_path: Path) -> None:
    _write(tmp_path, "/srv/conf/x.toml")
    (tmp_path / "etc").mkdir()
    os.symlink("/srv/conf", tmp_path / "etc/conf.d")
    assert HostFS(str(tmp_path)).glob("/etc/conf.d/*.toml") == ["/etc/conf.d/x.toml"]


def test_containerd_config_too_large_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    _write(tmp_path, "/etc/containerd/config.toml", "version = 2\n" + "#" * MAX_BYTES)
    config = read_containerd(str(tmp_path), "1.7.34")
    assert [f.code for f in config.findings] == ["CNI601"]
    assert config.bin_dirs == ("/opt/cni/bin",)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_k3s_config_yaml_fifo_falls_back_to_the_default_data_dir(tmp_path: Path) -> None:
    (tmp_path / "etc/rancher/k3s").mkdir(parents=True)
    os.mkfifo(tmp_path / "etc/rancher/k3s/config.yaml")
    assert find_data_dir(str(tmp_path), "k3s")[0] == "/var/lib/rancher/k3s"


# --- tomlsrc ----------------------------------------------------------------------------------


def test_key_after_a_multiline_string_closing_inside_an_array() -> None:
    text = 'a = ["""x\ny""",\n  "z"]\nb = 1\n'
    assert load_toml(text).data == {"a": ["x\ny", "z"], "b": 1}
    assert locate_key(text, ("b",)) == (4, 1)
    assert written_keys(text) == {("a",), ("b",)}


def test_inline_table_over_lines_hides_its_keys() -> None:
    # Multi-line inline tables are TOML 1.1 (tomllib rejects them); the scan must still not
    # take their contents for top-level keys.
    text = "a = { x = [\n  1 ], y = 2 }\nb = 1\n"
    assert ("y",) not in written_keys(text)
    assert locate_key(text, ("b",)) == (3, 1)


def test_escaped_quote_in_a_key_and_in_a_value() -> None:
    text = '"q\\"k" = "v\\" # not a comment"\nafter = 1\n'
    assert load_toml(text).data == {'q"k': 'v" # not a comment', "after": 1}
    assert locate_key(text, ('q"k',)) == (1, 1)
    assert locate_key(text, ("after",)) == (2, 1)


def test_triple_quote_ending_with_extra_quotes() -> None:
    text = 'a = """x""""\nb = 1\n'
    assert load_toml(text).data == {"a": 'x"', "b": 1}
    assert locate_key(text, ("b",)) == (2, 1)


def test_end_of_document_error_gets_a_position() -> None:
    document = load_toml('a = "x')
    assert document.data is None and document.error_line == 1


def test_deep_nesting_is_an_error_not_a_traceback() -> None:
    document = load_toml("a = " + "[" * (sys.getrecursionlimit() * 2))
    assert document.data is None and document.error


# --- releases ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "release, boundary, expected",
    [
        ("1.14.2", (1, 14, 3), True),
        ("1.14.3-rc1", (1, 14, 3), False),
        ("v1.28.2", (1, 28, 2), False),
        ("0.2.4", (0, 3, 0), True),
        (None, (9, 9, 9), False),  # unknown = newest
        ("main", (9, 9, 9), False),
    ],
)
def test_before(release, boundary, expected) -> None:
    assert before(release, boundary) is expected


def test_release_orders_numerically() -> None:
    assert parse_release("1.10.0") > parse_release("1.9.9")  # type: ignore[operator]
    assert Release(2, 1, 0).at_least(2, 1) and not Release(2, 0, 9).at_least(2, 1)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("v1.32.3+k3s1", "1.32.3"),  # k3s's own tag; its containerd is "v2.0.2-k3s2"
        ("v2.0.2-k3s2", "2.0.2"),
        ("1.6.20~ds1", "1.6.20"),  # Debian's containerd package version
        ("1.28", "1.28"),  # no patch stays so: --runtime crio@1.28 is reported as "1.28"
        ("unknown", None),
        (None, None),
    ],
)
def test_release_number_is_the_leading_number_as_written(text, expected) -> None:
    assert release_number(text) == expected
