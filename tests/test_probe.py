"""The VERSION probe and libcni's decoding of the reply.

Expected values: cni-facts.md §2.3 (decoder table, [LAB] on libcni v0.7.1/v0.8.1/v1.1.2), §3.2
#23-#26, §6.2 (reference plugin support lists; Debian ships plugins 1.1.1) and the Go source
cni@v1.1.2 pkg/version/plugin.go, pkg/invoke/raw_exec.go, exec.go.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from plugin_helpers import REAL, REAL_NAMES, fake, real_plugins_present

from cnidoctor import cache as probecache
from cnidoctor.plugins.probe import probe_all, probe_one
from cnidoctor.plugins.probedecode import decode_version_reply, go_quote, go_syntax_error, plugin_error
from cnidoctor.rules.binaries import generation_findings
from cnidoctor.rules.replies import probe_findings

ALL = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CNIDOCTOR_CACHE_DIR", str(cache))
    return cache


def invocations(tmp_path: Path) -> list:
    log = tmp_path / "trap-invocations.log"
    return log.read_text().splitlines() if log.exists() else []


# --- real reference plugins (Debian containernetworking-plugins 1.1.1) ----------------------


@pytest.mark.skipif(not real_plugins_present(), reason="reference plugins not installed at /usr/lib/cni")
def test_real_plugins_versions() -> None:
    results = probe_all([str(REAL / n) for n in REAL_NAMES], cni_version="1.1.0", timeout=10, use_cache=False)
    assert len(results) == 16
    assert all(r.ok and r.cni_version == "1.0.0" and r.error is None for r in results.values())
    by_name = {Path(p).name: r.supported for p, r in results.items()}
    # cni-facts §6.2, plugins v1.0.1-v1.1.1: VersionsStartingFrom for bandwidth/firewall/vrf.
    assert by_name["firewall"] == ("0.4.0", "1.0.0")
    assert by_name["bandwidth"] == ("0.3.0", "0.3.1", "0.4.0", "1.0.0")
    assert by_name["vrf"] == ("0.3.1", "0.4.0", "1.0.0")
    for name in set(REAL_NAMES) - {"firewall", "bandwidth", "vrf"}:
        assert by_name[name] == ALL, name
    assert all(probe_findings(r, Path(p).name, None, "") == () for p, r in results.items())
    assert generation_findings(str(REAL), results) == ()


# --- decoder: cni-facts §2.3 table row by row ------------------------------------------------


@pytest.mark.parametrize(
    "reply, supported, error",
    [
        (b'{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}\n', ("0.4.0", "1.0.0"), None),
        (b'{"cniVersion":"0.2.0"}', ("0.1.0", "0.2.0"), None),
        (b'{"cniVersion":"0.4.0"}', None, "decoding version info: missing field supportedVersions"),
        (b'{"supportedVersions":["0.4.0"]}', None, "decoding version info: missing field cniVersion"),
        (b"", None, "decoding version info: unexpected end of JSON input"),
        (b"   \n", None, "decoding version info: unexpected end of JSON input"),
        (b"OK", None, "decoding version info: invalid character 'O' looking for beginning of value"),
        (b'{"cniVersion":"1.0.0"', None, "decoding version info: unexpected end of JSON input"),
        (
            b'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]} x',
            None,
            "decoding version info: invalid character 'x' after top-level value",
        ),
        (
            b'{"cniVersion":1.0,"supportedVersions":["1.0.0"]}',
            None,
            "decoding version info: json: cannot unmarshal number into Go struct field pluginInfo.cniVersion of type string",
        ),
        (
            b'["1.0.0"]',
            None,
            "decoding version info: json: cannot unmarshal array into Go value of type version.pluginInfo",
        ),
        (b"null", None, "decoding version info: missing field cniVersion"),
        # Go matches keys case-insensitively; the strings themselves are not validated.
        (b'{"CNIVersion":"1.0.0","SupportedVersions":["1.0"]}', ("1.0",), None),
        # Duplicate keys: the last one wins, as in encoding/json.
        (
            b'{"cniVersion":"0.2.0","supportedVersions":[],"cniVersion":"0.3.1"}',
            None,
            "decoding version info: missing field supportedVersions",
        ),
    ],
)
def test_decoder(reply: bytes, supported: tuple, error: str) -> None:
    info, text = decode_version_reply(reply)
    assert text == error
    assert (info.supported if info else None) == supported


def test_plugin_error_texts() -> None:
    # cni@v0.8.0-v1.3.0 raw_exec.go pluginErr; types.Error.Error() joins msg and details.
    assert plugin_error(b"", b"", "exit status 1") == "netplugin failed with no error message: exit status 1"
    assert plugin_error(b"", b"boom\n", "exit status 2") == 'netplugin failed: "boom\\n"'
    assert plugin_error(b"oops", b"", "exit status 1") == (
        'netplugin failed but error parsing its diagnostic message "oops": '
        "invalid character 'o' looking for beginning of value"
    )
    assert (
        plugin_error(b'{"code":100,"msg":"unknown CNI_COMMAND: VERSION"}', b"", "exit status 1")
        == "unknown CNI_COMMAND: VERSION"
    )
    assert plugin_error(b'{"code":7,"msg":"m","details":"d"}', b"", "exit status 1") == "m; d"


def test_go_quote_and_syntax() -> None:
    assert go_quote(b'a"b\\c\n\t\x00\x7f') == '"a\\"b\\\\c\\n\\t\\x00\\x7f"'
    assert go_quote(b"\xff") == '"\\xff"'
    assert go_quote("é") == '"é"'
    assert go_syntax_error(b'{"a":tru}') == "invalid character '}' in literal true (expecting 'e')"
    assert go_syntax_error(b'{"a":1,}') == "invalid character '}' looking for beginning of object key string"
    assert go_syntax_error(b"[1,]") == "invalid character ']' looking for beginning of value"
    assert go_syntax_error(b'{"a":-}') == "invalid character '}' in numeric literal"
    assert go_syntax_error(b'"\x01"') == "invalid character '\\x01' in string literal"


# --- fake plugins for behaviour the real ones cannot show -----------------------------------


@pytest.mark.parametrize(
    "name, ok, cni_version, supported, error",
    [
        ("legacy-020", True, "0.2.0", ("0.1.0", "0.2.0"), None),
        ("unknown-command", True, None, ("0.1.0",), None),
        ("v031", True, "0.3.1", ALL[:4], None),
        ("v040", True, "0.4.0", ALL[:5], None),
        ("reads-stdin", True, "0.3.1", ALL[:4], None),
        ("silent", False, None, (), "decoding version info: unexpected end of JSON input"),
        ("garbage", False, None, (), "decoding version info: invalid character 's' looking for beginning of value"),
        ("error-object", False, None, (), "decoding version info: missing field cniVersion"),
        ("missing-list", False, None, (), "decoding version info: missing field supportedVersions"),
        (
            "crash",
            False,
            None,
            (),
            'netplugin failed: "panic: runtime error: invalid memory address or nil pointer dereference\\n"',
        ),
        ("exit-silent", False, None, (), "netplugin failed with no error message: exit status 1"),
        ("error-exit", False, None, (), "cannot read config; open /etc/fake.conf: no such file"),
    ],
)
def test_fake_replies(tmp_path: Path, name: str, ok: bool, cni_version: str, supported: tuple, error: str) -> None:
    result = probe_one(str(fake(tmp_path / "bin", name)), timeout=10)
    assert (result.ok, result.cni_version, result.supported, result.error) == (ok, cni_version, supported, error)
    assert result.executed and not result.timed_out


@pytest.mark.parametrize(
    "name, codes",
    [
        ("legacy-020", ["CNI503"]),
        ("unknown-command", ["CNI504"]),
        ("silent", ["CNI501"]),
        ("crash", ["CNI501"]),
        ("v040", []),
    ],
)
def test_probe_findings(tmp_path: Path, name: str, codes: list) -> None:
    result = probe_one(str(fake(tmp_path / "bin", name)), timeout=10)
    found = probe_findings(result, "bridge", "net.d/a.conflist", "/plugins/0/type")
    assert [(f.code, f.file, f.pointer) for f in found] == [(c, "net.d/a.conflist", "/plugins/0/type") for c in codes]
    if codes == ["CNI501"]:
        assert found[0].predicts == result.error


def test_hang_times_out(tmp_path: Path) -> None:
    result = probe_one(str(fake(tmp_path / "bin", "hang")), timeout=0.5)
    assert result.timed_out and not result.ok
    assert result.error == "netplugin failed with no error message: signal: killed"
    assert [f.code for f in probe_findings(result, "hang", None, "")] == ["CNI502"]


def test_nonstandard_versions(tmp_path: Path) -> None:
    path = tmp_path / "odd"
    path.write_text('#!/bin/sh\necho \'{"cniVersion":"1.0.0","supportedVersions":["0.4","1.0.0"]}\'\n')
    path.chmod(0o755)
    result = probe_one(str(path))
    assert result.ok and result.supported == ("0.4", "1.0.0")
    assert [f.code for f in probe_findings(result, "odd", None, "")] == ["CNI506"]


# --- once per run, cache across runs -------------------------------------------------------


def test_probed_once_per_run(tmp_path: Path) -> None:
    trap = fake(tmp_path / "bin", "trap")
    alias = tmp_path / "bin" / "alias"
    alias.symlink_to(trap)
    results = probe_all([str(trap), str(trap), str(alias)], use_cache=False)
    assert set(results) == {str(trap), str(alias)}
    assert invocations(tmp_path) == ["CNI_COMMAND=VERSION"]


def test_cache_hit_executes_nothing(tmp_path: Path, _private_cache: Path) -> None:
    trap = fake(tmp_path / "bin", "trap")
    first = probe_all([str(trap)])[str(trap)]
    second = probe_all([str(trap)])[str(trap)]
    assert invocations(tmp_path) == ["CNI_COMMAND=VERSION"]
    assert not first.from_cache and second.from_cache
    assert (second.ok, second.cni_version, second.supported) == (first.ok, first.cni_version, first.supported)
    assert [p.name for p in _private_cache.iterdir()] == ["probes.json"]  # no temp files left


def test_cache_invalidated_by_identity_change(tmp_path: Path) -> None:
    trap = fake(tmp_path / "bin", "trap")
    probe_all([str(trap)])
    stat = trap.stat()
    os.utime(trap, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not probe_all([str(trap)])[str(trap)].from_cache
    assert len(invocations(tmp_path)) == 2


def test_no_cache_reads_and_writes_nothing(tmp_path: Path, _private_cache: Path) -> None:
    trap = fake(tmp_path / "bin", "trap")
    probe_all([str(trap)], use_cache=False)
    probe_all([str(trap)], use_cache=False)
    assert len(invocations(tmp_path)) == 2
    assert not _private_cache.exists()


@pytest.mark.parametrize(
    "garbage", ["{not json", '{"format": 1, "entries": []}', "[]", '{"format": 99, "entries": {}}']
)
def test_corrupt_cache_is_ignored(tmp_path: Path, _private_cache: Path, garbage: str) -> None:
    _private_cache.mkdir()
    (_private_cache / "probes.json").write_text(garbage)
    trap = fake(tmp_path / "bin", "trap")
    assert probe_all([str(trap)])[str(trap)].ok
    assert json.loads((_private_cache / "probes.json").read_text())["format"] == probecache.FORMAT


def test_timeouts_are_not_cached(tmp_path: Path) -> None:
    hang = fake(tmp_path / "bin", "hang")
    probe_all([str(hang)], timeout=0.3)
    assert not probe_all([str(hang)], timeout=0.3)[str(hang)].from_cache


# --- mixed generations (CNI409) -----------------------------------------------------------


def test_mixed_generations(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    paths = [fake(bin_dir, "v040", "portmap"), fake(bin_dir, "v110", "bridge"), fake(bin_dir, "v110", "host-local")]
    results = probe_all([str(p) for p in paths], use_cache=False)
    found = generation_findings(str(bin_dir), results)
    assert [(f.code, f.severity.label) for f in found] == [("CNI409", "warning")]
    assert "0.4.0: portmap" in found[0].message and "1.1.0: bridge, host-local" in found[0].message


def test_one_generation_is_fine(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    paths = [fake(bin_dir, "v040", "portmap"), fake(bin_dir, "v040", "bridge")]
    assert generation_findings(str(bin_dir), probe_all([str(p) for p in paths], use_cache=False)) == ()
