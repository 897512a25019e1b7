"""runtimes.py against the support matrix tables of cni-facts.md §6.1/§6.3."""

from __future__ import annotations

import pytest

from cnidoctor.runtime import matrix as runtimes
from cnidoctor.runtime.matrix import Libcni, RuntimeSpecError, compact_ranges, parse_spec


def lib_of(spec: str) -> str:
    return parse_spec(spec)[0].release.libcni.version


@pytest.mark.parametrize(
    "spec, lib",
    [
        # cni-facts §6.3 containerd table
        ("containerd@1.3.4", "0.7.1"),
        ("containerd@1.4.0", "0.7.1"),
        ("containerd@1.4.13", "0.8.0"),
        ("containerd@1.5.0", "0.8.1"),
        ("containerd@1.6.2", "1.0.1"),
        ("containerd@1.6.3", "1.0.1"),
        ("containerd@1.6.4", "1.1.0"),
        ("containerd@1.6.20", "1.1.1"),
        ("containerd@1.7.3", "1.1.2"),
        ("containerd@2.0.0", "1.2.3"),
        ("containerd@2.1.1", "1.3.0"),
        # CRI-O table
        ("crio@1.17.0", "0.7.1"),
        ("crio@1.18", "0.7.2-pre"),
        ("crio@1.20.1", "0.8.0"),
        ("cri-o@1.22", "0.8.1"),
        ("crio@1.23.3", "1.0.1"),
        ("crio@1.23.4", "1.1.1"),
        ("crio@1.24.1", "1.1.0"),
        ("crio@1.24.2", "1.1.1"),
        ("crio@1.28", "1.1.2"),
        ("crio@1.31", "1.2.3"),
        ("crio@1.33", "1.3.0"),
        ("libcni@1.1.2", "1.1.2"),
        ("dockershim@1.20", "0.8.0"),
    ],
)
def test_runtime_to_libcni(spec: str, lib: str) -> None:
    assert lib_of(spec) == lib


@pytest.mark.parametrize(
    "lib, current, empty_breaks, wraps, cni_versions",
    [
        # cni-facts §6.1: Current(), ParseVersion("") (§3.1), error wrapping (§10.2), cniVersions
        ("0.6.0", "0.3.1", False, False, False),
        ("0.7.1", "0.4.0", True, False, False),
        ("0.8.1", "0.4.0", True, False, False),
        ("1.0.1", "1.0.0", True, True, False),
        ("1.1.0", "1.0.0", False, True, False),
        ("1.1.2", "1.0.0", False, True, False),
        ("1.2.0", "1.1.0", False, True, True),
        ("1.3.0", "1.1.0", False, True, True),
    ],
)
def test_libcni_behaviour(lib: str, current: str, empty_breaks: bool, wraps: bool, cni_versions: bool) -> None:
    release = Libcni(lib)
    assert release.current == current
    assert release.empty_version_breaks_teardown is empty_breaks
    assert release.wraps_plugin_errors is wraps
    assert release.reads_cni_versions is cni_versions


def test_disable_check_string_support() -> None:
    # cni-facts §1.2: <= v1.1.x bool only; v1.2.0 "true"/"false"; >= v1.2.1 readBool
    assert Libcni("1.1.2").disable_check_strings == "reject"
    assert Libcni("1.2.0").disable_check_strings == "true-false"
    assert Libcni("1.2.3").disable_check_strings == "readbool"


def test_validate_maps_empty() -> None:
    # cni-facts §2.1/§6.3: v0.7.1 rejects "", the CRI-O 1.17.5 snapshot and v0.8.0 map it to 0.1.0
    assert not Libcni("0.7.1").validate_maps_empty
    assert Libcni("0.7.2-pre").validate_maps_empty
    assert Libcni("0.8.0").validate_maps_empty


def test_runtime_behaviour_flags() -> None:
    assert parse_spec("containerd@1.6.3")[0].release.loopback_version == "1.0.0"  # §4.2 go-cni v1.1.4
    assert parse_spec("containerd@1.6.4")[0].release.loopback_version == "0.3.1"
    assert not parse_spec("containerd@1.7.0")[0].release.calls_check  # §4.2: never CHECK
    assert parse_spec("crio@1.28")[0].release.calls_check  # §4.3: CHECK after ADD
    assert not parse_spec("containerd@2.0.0")[0].release.runs_status
    assert parse_spec("containerd@2.0.1")[0].release.runs_status  # §4.2 go-cni v1.1.11
    assert parse_spec("crio@1.32")[0].release.runs_gc and not parse_spec("crio@1.31")[0].release.runs_gc
    assert not parse_spec("crio@1.17.0")[0].release.validates_on_load  # §6.3 note
    assert parse_spec("crio@1.18")[0].release.validates_on_load


def test_compact_ranges_empty_version_example() -> None:
    # the example: libcni 0.7.0-1.0.1 = containerd 1.3-1.6.3, CRI-O 1.17-1.23.3 (§8 #10)
    rows = [
        m.release for m in runtimes.select(("containerd", "crio")) if m.release.libcni.empty_version_breaks_teardown
    ]
    assert compact_ranges(rows) == "containerd 1.3-1.6.3, CRI-O 1.17-1.23.3"


def test_compact_ranges_result_version() -> None:
    # 1.1.0 configs fail on libcni <= 1.1.x (§6.4): containerd up to 1.7, CRI-O up to 1.30
    rows = [
        m.release for m in runtimes.select(("containerd", "crio")) if "1.1.0" not in m.release.libcni.result_versions
    ]
    assert compact_ranges(rows) == "containerd 1.3-1.7.34, CRI-O 1.17-1.30"


def test_default_scope_is_the_lines_in_use() -> None:
    # without --runtime: containerd 1.7 and 2.x, CRI-O from 1.31 (runtimes.DEFAULT_SCOPE_FROM)
    rows = [m.release for m in runtimes.select(())]
    assert compact_ranges(rows) == "containerd 1.7-2.2.7, CRI-O 1.31-1.35"


def test_compact_ranges_split() -> None:
    rows = [parse_spec("containerd@1.6.3")[0].release, parse_spec("containerd@1.7")[0].release]
    assert compact_ranges(rows) == "containerd 1.6.3, 1.7-1.7.34"


@pytest.mark.parametrize("spec", ["containrd@1.6", "containerd@9.9", "crio@latest"])
def test_bad_spec(spec: str) -> None:
    with pytest.raises(RuntimeSpecError):
        parse_spec(spec)


def test_name_only_selects_all_rows() -> None:
    assert len(parse_spec("containerd")) == len(runtimes.RELEASES["containerd"])


def test_default_runtime(tmp_path) -> None:
    assert runtimes.default_runtime(str(tmp_path)).release.runtime == "containerd"
    (tmp_path / "etc/crio").mkdir(parents=True)
    assert runtimes.default_runtime(str(tmp_path)).release.runtime == "crio"
    (tmp_path / "etc/containerd").mkdir()
    (tmp_path / "etc/containerd/config.toml").write_text("")
    assert runtimes.default_runtime(str(tmp_path)).release.runtime == "containerd"
