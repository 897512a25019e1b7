"""k3s / RKE2 (cnidoctor.runtime.k3s): data dir, rendered containerd config, templates, and the
bin dir that moves with each release. Fixture node roots cite k3s/RKE2 sources in their README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runtime_fixture_helpers import actual_view, expected_view, node_fixtures, run_reader

from cnidoctor.runtime.hostfs import HostFS
from cnidoctor.runtime.k3s import find_data_dir, read_k3s, read_rke2, yaml_top_level_scalar

CASES = node_fixtures(("node-k3s-", "node-rke2"))
K = "/var/lib/rancher/k3s"
RENDERED = f"{K}/agent/etc/containerd/config.toml"


def test_fixture_set_is_complete() -> None:
    assert {c.name for c in CASES} >= {
        "node-k3s-default",
        "node-k3s-data-dir-stale-bin-dir",
        "node-k3s-bin-dir-missing",
        "node-k3s-flannel-disabled",
        "node-rke2",
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Path) -> None:
    config, expected = run_reader(case)
    assert actual_view(config, expected) == expected_view(expected)


def write(root: Path, path: str, text: str = "") -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def link(root: Path, path: str, target: str) -> None:
    at = root / path.lstrip("/")
    at.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, at)


def v2_render(bin_dir: str, conf_dir: str = f"{K}/agent/etc/cni/net.d") -> str:
    return f'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "{bin_dir}"\n  conf_dir = "{conf_dir}"\n'


# --- config.yaml subset -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("data-dir: /srv/k3s\n", "/srv/k3s"),
        ('data-dir: "/srv/k3s dir"  # quoted\n', "/srv/k3s dir"),
        ("data-dir: '/srv/x'\n", "/srv/x"),
        ("data-dir: /a\ndata-dir: /b\n", "/b"),
        ("node-label:\n  - data-dir: /nested\n", None),
        ("  data-dir: /indented\n", None),
        ("# data-dir: /commented\n", None),
        ("data-dir: /srv/k3s # comment\n", "/srv/k3s"),
        ('"data-dir": /quoted-key\n', "/quoted-key"),
        ("data-dir-extra: /no\n", None),
    ],
)
def test_yaml_top_level_scalar(text: str, expected) -> None:
    assert yaml_top_level_scalar(text, "data-dir") == expected


def test_data_dir_precedence(tmp_path: Path) -> None:
    write(tmp_path, "/etc/rancher/k3s/config.yaml", "data-dir: /from/yaml\n")
    assert find_data_dir(str(tmp_path), "k3s", "/from/flag")[0] == "/from/flag"
    assert find_data_dir(str(tmp_path), "k3s")[0] == "/from/yaml"
    assert find_data_dir(str(tmp_path), "rke2")[0] == "/var/lib/rancher/rke2"


# --- rendered config and templates ------------------------------------------------------------


def test_rendered_config_missing(tmp_path: Path) -> None:
    config = read_k3s(str(tmp_path))
    assert [(f.code, f.file) for f in config.findings] == [("CNI623", RENDERED)]
    assert config.config_file is None and config.bin_dirs == ("/opt/cni/bin",)


def test_v3_template_preferred_over_v2(tmp_path: Path) -> None:
    write(tmp_path, RENDERED, v2_render(f"{K}/data/cni"))
    write(tmp_path, f"{K}/data/cni/host-local")
    write(tmp_path, f"{K}/agent/etc/containerd/config.toml.tmpl", "x")
    write(tmp_path, f"{K}/agent/etc/containerd/config-v3.toml.tmpl", "x")
    (finding,) = read_k3s(str(tmp_path), release="2.0.2-k3s2").findings
    assert (finding.code, finding.file) == ("CNI622", f"{K}/agent/etc/containerd/config-v3.toml.tmpl")


def test_explicit_data_dir_is_used(tmp_path: Path) -> None:
    write(
        tmp_path,
        "/data/k3s/agent/etc/containerd/config.toml",
        v2_render("/data/k3s/data/cni", "/data/k3s/agent/etc/cni/net.d"),
    )
    write(tmp_path, "/data/k3s/data/cni/host-local")
    config = read_k3s(str(tmp_path), data_dir="/data/k3s")
    assert (config.config_file, config.bin_dirs, config.findings) == (
        "/data/k3s/agent/etc/containerd/config.toml",
        ("/data/k3s/data/cni",),
        (),
    )


# --- the bin dir that moves -------------------------------------------------------------------


def test_relative_current_link_and_current_bin_are_fine(tmp_path: Path) -> None:
    write(tmp_path, RENDERED, v2_render(f"{K}/data/current/bin"))
    write(tmp_path, f"{K}/data/abc/bin/cni")
    link(tmp_path, f"{K}/data/current", "abc")
    assert read_k3s(str(tmp_path), release="1.7.23-k3s2").findings == ()


def test_hashed_bin_dir_of_current_release_is_fine(tmp_path: Path) -> None:
    write(tmp_path, RENDERED, v2_render(f"{K}/data/abc/bin"))
    write(tmp_path, f"{K}/data/abc/bin/cni")
    link(tmp_path, f"{K}/data/current", f"{K}/data/abc")
    assert read_k3s(str(tmp_path), release="1.7.23-k3s2").findings == ()


def test_bin_dir_via_previous_link_is_stale(tmp_path: Path) -> None:
    write(tmp_path, RENDERED, v2_render(f"{K}/data/previous/bin"))
    write(tmp_path, f"{K}/data/old/bin/cni")
    write(tmp_path, f"{K}/data/new/bin/cni")
    link(tmp_path, f"{K}/data/current", "new")
    link(tmp_path, f"{K}/data/previous", "old")
    (finding,) = read_k3s(str(tmp_path), release="1.7.23-k3s2").findings
    assert (finding.code, finding.pointer, finding.line, finding.column) == (
        "CNI621",
        "/plugins/io.containerd.grpc.v1.cri/cni/bin_dir",
        4,
        3,
    )


def test_absolute_links_resolve_inside_the_host_root(tmp_path: Path) -> None:
    # data/current -> /var/lib/rancher/k3s/data/abc must not be looked up on this machine.
    link(tmp_path, f"{K}/data/current", f"{K}/data/abc")
    write(tmp_path, f"{K}/data/abc/bin/cni")
    fs = HostFS(str(tmp_path))
    assert fs.is_dir(f"{K}/data/current/bin")
    assert fs.real(f"{K}/data/current/bin") == str(tmp_path / "var/lib/rancher/k3s/data/abc/bin")
    assert fs.real("/../../etc/passwd") == str(tmp_path / "etc/passwd")


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    link(tmp_path, "/a", "/b")
    link(tmp_path, "/b", "/a")
    assert not HostFS(str(tmp_path)).is_dir("/a/x")


def test_rke2_stale_data_dir(tmp_path: Path) -> None:
    r = "/var/lib/rancher/rke2"
    write(
        tmp_path,
        f"{r}/agent/etc/containerd/config.toml",
        v2_render(f"{r}/data/v1.30.4-rke2r1-aaaaaaaaaaaa/bin", "/etc/cni/net.d"),
    )
    write(tmp_path, f"{r}/data/v1.30.4-rke2r1-aaaaaaaaaaaa/bin/containerd")
    write(tmp_path, f"{r}/data/v1.31.1-rke2r1-bbbbbbbbbbbb/bin/containerd")
    link(tmp_path, f"{r}/bin", f"{r}/data/v1.31.1-rke2r1-bbbbbbbbbbbb/bin")
    config = read_rke2(str(tmp_path), "1.7.22-k3s1")
    assert config.name == "rke2"
    assert [f.code for f in config.findings] == ["CNI621"]


def test_bin_dir_outside_data_dir_is_not_judged_here(tmp_path: Path) -> None:
    write(tmp_path, RENDERED, v2_render("/opt/cni/bin"))
    assert read_k3s(str(tmp_path), release="1.7.23-k3s2").findings == ()
