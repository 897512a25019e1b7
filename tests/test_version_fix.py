"""Issue 9: a legacy VERSION reply on ADD/DEL (class 3), and CNI511's fix. The fix names a cniVersion that really works (issue 9): the newest one every executed
plugin lists, as libcni decodes its VERSION reply, and every affected runtime's libcni can type
as a result; or says that none exists.

Expected versions are read off the plugins' replies and libcni's result types
(containernetworking/cni:pkg/version/plugin.go@v1.3.0 (PluginDecoder): a bare 0.2.0 reply is
["0.1.0" "0.2.0"]; containernetworking/cni:pkg/types/100/types.go@v1.1.2: libcni 1.1.2 types results up
to 1.0.0, v1.2.0 adds 1.1.0), not from cnidoctor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Mapping, Sequence

from conftest import run_cli
from plugin_helpers import fake

from cnidoctor.config.parse import parse
from cnidoctor.crosscheck import predict
from cnidoctor.crosscheck.compare import BinaryFacts
from cnidoctor.model import Candidate
from cnidoctor.runtime import matrix as runtimes


def _script(bin_dir: Path, name: str, reply: str) -> None:
    """A plugin whose VERSION reply is ``reply`` (the verbs are not run by these tests)."""
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\necho '{reply}'\n")
    path.chmod(0o755)


def _fixes(tmp_path: Path, doc: Mapping[str, object], runtime: str) -> List[Mapping[str, str]]:
    conf = tmp_path / "net.d"
    conf.mkdir()
    (conf / "10-net.conflist").write_text(json.dumps(doc))
    args = ["check", "--format", "json", "--fail-on", "never", "--no-cache", "--runtime", runtime]
    result = run_cli([*args, "--bin-dir", str(tmp_path / "bin"), str(conf)])
    assert result.exit_code == 0, result.output
    findings: Sequence[Mapping[str, str]] = json.loads(result.stdout)["findings"]
    return [f for f in findings if f["code"] == "CNI511"]


def _doc(version: str, *types: str) -> Mapping[str, object]:
    return {"cniVersion": version, "name": "x", "plugins": [{"type": t} for t in types]}


def test_legacy_replier_counts_with_the_list_libcni_decodes(tmp_path: Path) -> None:
    # the repro of issue 9: old-vendor-cni lists only 0.1.0/0.2.0, so 1.1.0 would be refused too
    fake(tmp_path / "bin", "legacy-020", "old-vendor-cni")
    (finding,) = _fixes(tmp_path, _doc("0.3.1", "old-vendor-cni"), "crio@1.28")
    assert finding["fix"].startswith('Set cniVersion to "0.2.0", the newest version every executed plugin lists')


def test_no_common_version_says_so_and_names_the_plugin(tmp_path: Path) -> None:
    # bandwidth of plugins v1.0.0 lists ["0.3.0" "0.3.1" "1.0.0"] (containernetworking/plugins:
    # plugins/meta/bandwidth/main.go@v1.0.0): nothing in common with a bare 0.2.0 replier
    fake(tmp_path / "bin", "legacy-020", "old-vendor-cni")
    _script(tmp_path / "bin", "bandwidth", '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","1.0.0"]}')
    (finding,) = _fixes(tmp_path, _doc("0.3.1", "old-vendor-cni", "bandwidth"), "crio@1.28")
    assert finding["fix"].startswith("No cniVersion is listed by every executed plugin and accepted by libcni ")
    assert finding["fix"].endswith(': upgrade old-vendor-cni to a release that lists "0.3.1".')


def test_suggestion_stays_within_what_the_runtime_libcni_types(tmp_path: Path) -> None:
    # both plugins list 1.1.0, but libcni 1.1.2 (containerd 1.7) types results up to 1.0.0 only:
    # 1.1.0 would fail every ADD with `unsupported CNI result version "1.1.0"`
    fake(tmp_path / "bin", "v110", "a")
    _script(tmp_path / "bin", "b", '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}')
    doc = _doc("0.4.0", "a", "b")
    (old,) = _fixes(tmp_path, doc, "containerd@1.7")
    assert old["fix"].startswith(
        'Set cniVersion to "1.0.0", the newest version every executed plugin lists and libcni 1.1.2 accepts'
    )
    (tmp_path / "net.d" / "10-net.conflist").unlink()
    (tmp_path / "net.d").rmdir()
    (new,) = _fixes(tmp_path, doc, "containerd@2.2")
    assert new["fix"].startswith(
        'Set cniVersion to "1.1.0", the newest version every executed plugin lists and libcni 1.3.0 accepts'
    )


# ---------------------------------------------------------------------------------------------
# ADD/DEL of a legacy replier on every modelled runtime generation (issue 9, class 3)


def _all_releases() -> List[runtimes.Modelled]:
    return [runtimes.Modelled(row, row.last) for rows in runtimes.RELEASES.values() for row in rows]


def _legacy_steps(tmp_path: Path, info: BinaryFacts, modelled: runtimes.Modelled) -> Mapping[str, predict.Step]:
    path = tmp_path / "10-net.conflist"
    data = json.dumps(_doc("0.3.1", "old-vendor-cni")).encode()
    path.write_bytes(data)
    parsed = parse(Candidate(str(path), "conflist", data, directory=str(tmp_path)))
    loopback = BinaryFacts(
        "loopback", "/opt/cni/bin/loopback", probed=True, probe_ok=True, supported=ALL, reply_version="1.0.0"
    )
    return predict.predict(parsed, modelled, {"old-vendor-cni": info, "loopback": loopback}, probed=True)


ALL = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0")
PATH = "/opt/cni/bin/old-vendor-cni"
# {"cniVersion":"0.2.0"}: skel of cni@63755d7..536cb5b, no version check before the plugin runs
BARE = BinaryFacts(
    "old-vendor-cni", PATH, probed=True, probe_ok=True, supported=("0.1.0", "0.2.0"), reply_version="0.2.0", legacy=True
)
# {"cniVersion":"0.2.0","supportedVersions":["0.1.0","0.2.0"]}: skel v0.4.0 with version.Legacy
LISTED = BinaryFacts(
    "old-vendor-cni", PATH, probed=True, probe_ok=True, supported=("0.1.0", "0.2.0"), reply_version="0.2.0"
)
REFUSAL = 'incompatible CNI versions; config is "0.3.1", plugin supports ["0.1.0" "0.2.0"]'


def test_a_bare_020_replier_is_not_refused_on_add_or_del_anywhere(tmp_path: Path) -> None:
    for modelled in _all_releases():
        out = _legacy_steps(tmp_path, BARE, modelled)
        for verb in ("add", "del"):
            assert REFUSAL not in (out[verb].error or ""), (modelled.release.display, verb)


def test_a_listed_020_replier_refuses_add_and_del_where_they_run(tmp_path: Path) -> None:
    checked = 0
    for modelled in _all_releases():
        out = _legacy_steps(tmp_path, LISTED, modelled)
        if out["load"].outcome != "ok":  # CRI-O/dockershim validate the list at load and skip it
            continue
        for verb in ("add", "del"):
            assert out[verb].outcome == "fail" and (out[verb].error or "").endswith(REFUSAL), (
                modelled.release.display,
                verb,
                out[verb],
            )
        checked += 1
    assert checked > 5
