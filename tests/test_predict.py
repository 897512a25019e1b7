"""Predictions per modelled runtime; every expected text is from cni-facts.md (section cited).

Stand-in BinaryFacts describe plugin releases whose VERSION replies are listed in cni-facts §6.2;
the real Debian plugins (1.1.1) at /usr/lib/cni are used where they show the behaviour.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import pytest

from cnidoctor.config.parse import parse
from cnidoctor.crosscheck import facts as node
from cnidoctor.crosscheck import predict
from cnidoctor.crosscheck.compare import BinaryFacts
from cnidoctor.engine import Options
from cnidoctor.model import Candidate, Finding, ParsedFile, Selection, Severity
from cnidoctor.report.jsonreport import prediction_as_dict
from cnidoctor.runtime import matrix as runtimes

REAL_BIN = "/usr/lib/cni"
ALL = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0")  # plugins v1.0.1-v1.5.1 (§6.2)
ALL_040 = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0")  # plugins v0.8.x-v0.9.x (§6.2)


def conflist(tmp_path: Path, doc: Mapping[str, Any], name: str = "10-net.conflist") -> ParsedFile:
    path = tmp_path / name
    data = json.dumps(doc).encode()
    path.write_bytes(data)
    return parse(Candidate(str(path), "conflist", data, directory=str(tmp_path)))


def facts(type_: str, supported=ALL, reply: Optional[str] = "1.0.0", **kw: Any) -> BinaryFacts:
    return BinaryFacts(
        type=type_,
        path=f"/opt/cni/bin/{type_}",
        probed=True,
        probe_ok=True,
        supported=tuple(supported),
        reply_version=reply,
        **kw,
    )


def steps(
    parsed: ParsedFile, spec: str, by_type: Mapping[str, BinaryFacts], probed: bool = True
) -> Dict[str, predict.Step]:
    return predict.predict(parsed, runtimes.parse_spec(spec)[-1], by_type, probed=probed)


BRIDGE = {"type": "bridge", "ipam": {"type": "host-local", "subnet": "10.1.0.0/16"}}


def test_missing_version_delete_on_containerd_163(tmp_path: Path) -> None:
    # §3.1 / §10.3: libcni 0.7.0-1.0.1 DEL stops before any plugin, no prefix; containerd wrapper §3.2 #54
    parsed = conflist(tmp_path, {"name": "k8s", "plugins": [BRIDGE]})
    out = steps(parsed, "containerd@1.6.3", {}, probed=False)
    assert out["del"].outcome == "fail"
    assert out["del"].error == 'invalid version "": the version is empty'
    assert (
        out["del"].wrapped
        == 'failed to destroy network for sandbox "<sandbox-id>": invalid version "": the version is empty'
    )
    assert out["check"].outcome == "not_sent" and not out["check"].called  # containerd never CHECKs (§4.2)


def test_missing_version_fine_on_containerd_164(tmp_path: Path) -> None:
    parsed = conflist(tmp_path, {"name": "k8s", "plugins": [BRIDGE]})
    out = steps(parsed, "containerd@1.6.4", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["del"].outcome == "ok" and out["add"].outcome == "ok"


def test_result_version_on_containerd_150(tmp_path: Path) -> None:
    # §10.1: libcni <= 0.8.1, 1.0.0 config: ADD fails, bare text, after the plugin ran
    parsed = conflist(tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [BRIDGE]})
    out = steps(parsed, "containerd@1.5.0", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["add"].outcome == "fail"
    assert out["add"].error == 'unsupported CNI result version "1.0.0"'


def test_result_version_110_on_crio_128(tmp_path: Path) -> None:
    # §6.3 CRI-O 1.25-1.30 vendor libcni 1.1.2: 1.1.0 fails; lib >= 1.0 wraps (cni@v1.0.1 api.go:424)
    parsed = conflist(tmp_path, {"cniVersion": "1.1.0", "name": "k8s", "plugins": [BRIDGE]})
    all_110 = ALL + ("1.1.0",)
    by_type = {"bridge": facts("bridge", all_110, "1.1.0"), "host-local": facts("host-local", all_110, "1.1.0")}
    out = steps(parsed, "crio@1.28", by_type)
    assert out["load"].outcome == "ok"
    assert out["add"].error == 'plugin type="bridge" failed (add): unsupported CNI result version "1.1.0"'
    assert out["add"].wrapped.startswith("failed to create pod network sandbox k8s_<pod>(<sandbox-id>): ")


def test_crio_check_after_add_empty_version(tmp_path: Path) -> None:
    # §3.1: CRI-O 1.17-1.23.3 fails pod creation via the post-ADD status check
    parsed = conflist(tmp_path, {"name": "k8s", "plugins": [BRIDGE]})
    out = steps(parsed, "crio@1.23.3", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["check"].error == 'invalid version "": the version is empty'
    assert out["check"].wrapped == (
        "failed to get network status for pod sandbox k8s_<pod>(<sandbox-id>): error checking pod "
        '<namespace>_<pod> for CNI network "k8s": invalid version "": the version is empty'
    )


def test_libcni_112_check_empty_version(tmp_path: Path) -> None:
    # §10.3: 1.1.x treats "" as 0.1.0 and CHECK says so, even with disableCheck: true
    parsed = conflist(tmp_path, {"name": "k8s", "disableCheck": True, "plugins": [BRIDGE]})
    out = steps(parsed, "libcni@1.1.2", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["check"].error == 'configuration version "" does not support the CHECK command'


def test_ipam_skew_blamed_on_main_plugin(tmp_path: Path) -> None:
    # §10.5: host-local from plugins 0.9.x inside a 1.0.0 list
    parsed = conflist(tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [BRIDGE]})
    by_type = {"bridge": facts("bridge"), "host-local": facts("host-local", ALL_040, "0.4.0")}
    out = steps(parsed, "containerd@1.7", by_type)
    assert out["add"].error == (
        'plugin type="bridge" failed (add): incompatible CNI versions; config is "1.0.0", plugin supports '
        '["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"]'
    )
    assert out["del"].error.startswith('plugin type="bridge" failed (delete): incompatible CNI versions')


def test_del_runs_in_reverse(tmp_path: Path) -> None:
    # §10.2: the plugin named on DEL can differ from the one named on ADD; plugins v1.0.0 lists (§6.2)
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "1.0.0",
            "name": "k8s",
            "plugins": [BRIDGE, {"type": "firewall"}, {"type": "vrf", "vrfname": "x"}],
        },
    )
    by_type = {
        "bridge": facts("bridge"),
        "host-local": facts("host-local"),
        "firewall": facts("firewall", ("0.4.0",)),
        "vrf": facts("vrf", ("0.3.1", "0.4.0")),
    }
    out = steps(parsed, "containerd@1.7", by_type)
    assert out["add"].plugin == "firewall"
    assert (
        out["add"].error
        == 'plugin type="firewall" failed (add): incompatible CNI versions; config is "1.0.0", plugin supports ["0.4.0"]'
    )
    assert out["del"].plugin == "vrf"
    assert out["del"].error.startswith('plugin type="vrf" failed (delete): ')


def test_old_libcni_has_no_prefix(tmp_path: Path) -> None:
    parsed = conflist(tmp_path, {"cniVersion": "0.4.0", "name": "k8s", "plugins": [BRIDGE, {"type": "bandwidth"}]})
    by_type = {
        "bridge": facts("bridge"),
        "host-local": facts("host-local"),
        "bandwidth": facts("bandwidth", ("0.3.0", "0.3.1", "1.0.0")),
    }  # plugins v1.0.0 bandwidth
    out = steps(parsed, "containerd@1.5", by_type)
    assert out["add"].error == 'incompatible CNI versions; config is "0.4.0", plugin supports ["0.3.0" "0.3.1" "1.0.0"]'


def test_chain_prev_result_from_legacy_plugin(tmp_path: Path) -> None:
    # A 2016 skel plugin (VERSION reply only {"cniVersion":"0.2.0"}) prints its ADD result without
    # cniVersion. libcni v1.0.0-v1.1.0 type it as 0.1.0 and portmap refuses it; v1.1.1+ label it with
    # the list's version (fixupResultVersion); 0.x re-type it by the list version. Texts measured with
    # libcni 1.1.0 / 1.1.2 and Debian's portmap 1.1.1 (fixtures/skew-chain-result-{unversioned,version}).
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "0.4.0",
            "name": "k8s",
            "plugins": [{"type": "vendor"}, {"type": "portmap", "capabilities": {"portMappings": True}}],
        },
    )
    by_type = {"vendor": facts("vendor", ("0.1.0", "0.2.0"), "0.2.0", legacy=True), "portmap": facts("portmap")}
    unlabelled = steps(parsed, "containerd@1.6.4", by_type)
    assert unlabelled["add"].error == (
        'plugin type="portmap" failed (add): failed to parse config: could not parse prevResult: could not '
        'parse prevResult: result type supports [0.3.0 0.3.1 0.4.0] but unmarshalled CNIVersion is "0.1.0"'
    )
    assert unlabelled["add"].exact
    assert steps(parsed, "containerd@1.6.5", by_type)["add"].outcome == "ok"
    assert steps(parsed, "containerd@1.7", by_type)["add"].outcome == "ok"
    assert steps(parsed, "containerd@1.5", by_type)["add"].outcome == "ok"


def test_chain_prev_result_unknown_next_plugin_is_inexact(tmp_path: Path) -> None:
    # a next plugin outside the measured reference meta plugins may wrap ParsePrevResult's error
    parsed = conflist(
        tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "vendor"}, {"type": "other-meta"}]}
    )
    by_type = {
        "vendor": facts("vendor", ("0.1.0", "0.2.0"), "0.2.0", legacy=True),
        "other-meta": facts("other-meta"),
    }
    out = steps(parsed, "libcni@1.0.0", by_type)
    assert out["add"].error == (
        'plugin type="other-meta" failed (add): could not parse prevResult: result type supports [1.0.0] '
        'but unmarshalled CNIVersion is "0.1.0"'
    )
    assert out["add"].exact is False


def test_chain_unknowable(tmp_path: Path) -> None:
    # §10.6: unknown-VERSION replier: ADD not gated, result version unknowable -> unknown
    parsed = conflist(
        tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "vendor"}, {"type": "portmap"}]}
    )
    by_type = {"vendor": facts("vendor", ("0.1.0",), None, legacy=True), "portmap": facts("portmap")}
    out = steps(parsed, "containerd@1.7", by_type)
    assert out["add"].outcome == "unknown"


def test_loopback_skew_containerd_163(tmp_path: Path) -> None:
    # §8 #37: go-cni v1.1.4 loopback at 1.0.0, loopback binary < v1.0.0
    parsed = conflist(tmp_path, {"cniVersion": "0.4.0", "name": "k8s", "plugins": [BRIDGE]})
    by_type = {
        "bridge": facts("bridge"),
        "host-local": facts("host-local"),
        "loopback": facts("loopback", ALL_040, "0.4.0"),
    }
    out = steps(parsed, "containerd@1.6.3", by_type)
    assert out["add"].error == (
        'plugin type="loopback" failed (add): incompatible CNI versions; config is "1.0.0", '
        'plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"]'
    )
    assert steps(parsed, "containerd@1.6.4", by_type)["add"].outcome == "ok"


def test_validation_rejects_empty_on_libcni_071(tmp_path: Path) -> None:
    # §2.1: v0.7.x validatePlugin does not map "" -> every plugin "does not support" ""
    parsed = conflist(tmp_path, {"name": "k8s", "plugins": [BRIDGE]})
    out = steps(parsed, "dockershim@1.16", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["load"].outcome == "fail"
    assert out["load"].error.endswith('[plugin bridge does not support config version ""]')


def test_crio_validation_skips_file(tmp_path: Path) -> None:
    parsed = conflist(tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [BRIDGE, {"type": "firewall"}]})
    by_type = {"bridge": facts("bridge"), "host-local": facts("host-local"), "firewall": facts("firewall", ("0.4.0",))}
    out = steps(parsed, "crio@1.28", by_type)
    assert out["load"].error == (
        f'Error validating CNI config file {parsed.path}: [plugin firewall does not support config version "1.0.0"]'
    )


def test_disable_check_string_load(tmp_path: Path) -> None:
    # §3.2 #13: string disableCheck fails to load on libcni <= 1.1.x, go-cni wrapping #49
    parsed = conflist(tmp_path, {"cniVersion": "0.4.0", "name": "k8s", "disableCheck": "true", "plugins": [BRIDGE]})
    out = steps(parsed, "containerd@1.7", {}, probed=False)
    assert out["load"].error == (
        f"failed to load CNI config list file {parsed.path}: error parsing configuration "
        "list: invalid disableCheck type string: invalid cni config"
    )
    assert steps(parsed, "containerd@2.0", {}, probed=False)["load"].outcome == "ok"


def test_status_old_plugin_containerd_201(tmp_path: Path) -> None:
    # §3.2 #41: skel 0.8-1.1 answers STATUS with `missing containerID`; cniVersions picks 1.1.0 on lib >= 1.2
    parsed = conflist(
        tmp_path, {"cniVersion": "1.0.0", "cniVersions": ["1.0.0", "1.1.0"], "name": "k8s", "plugins": [BRIDGE]}
    )
    by_type = {
        "bridge": facts("bridge", ALL + ("1.1.0",), "1.0.0"),
        "host-local": facts("host-local", ALL + ("1.1.0",)),
    }
    out = steps(parsed, "containerd@2.0.1", by_type)
    assert out["status"].error == "missing containerID"
    assert "status" not in steps(parsed, "containerd@1.7", by_type)


# --------------------------------------------------------------------------------------------- real plugins


needs_real = pytest.mark.skipif(not os.path.isfile(os.path.join(REAL_BIN, "bridge")), reason="no /usr/lib/cni")


def run_node(tmp_path: Path, doc: Mapping[str, Any], runtimes_: tuple = ()) -> node.NodeResult:
    parsed = conflist(tmp_path, doc)
    options = Options(paths=(str(tmp_path),), probe=True, bin_dirs=(REAL_BIN,), runtimes=runtimes_, use_cache=False)
    return node.probe_node([parsed], Selection(parsed.path, "k8s", doc.get("cniVersion")), options)


@needs_real
def test_real_100_chain_ok(tmp_path: Path) -> None:
    result = run_node(
        tmp_path,
        {
            "cniVersion": "1.0.0",
            "name": "k8s",
            "plugins": [BRIDGE, {"type": "firewall"}, {"type": "portmap", "capabilities": {"portMappings": True}}],
        },
        ("containerd@1.7",),
    )
    assert result.prediction is not None
    assert {k: v["outcome"] for k, v in prediction_as_dict(result.prediction)["steps"].items()} == {
        "load": "ok",
        "add": "ok",
        "check": "not_sent",  # containerd never sends CHECK
        "del": "ok",
    }
    assert not [f for f in result.findings if f.code.startswith("CNI51")]


@needs_real
def test_real_031_firewall_fails(tmp_path: Path) -> None:
    # plugins 1.1.1 firewall supports >= 0.4.0 (§6.2 VersionsStartingFrom)
    result = run_node(
        tmp_path, {"cniVersion": "0.3.1", "name": "k8s", "plugins": [BRIDGE, {"type": "firewall"}]}, ("containerd@1.7",)
    )
    assert result.prediction is not None
    add = prediction_as_dict(result.prediction)["steps"]["add"]
    assert add["error"] == (
        'plugin type="firewall" failed (add): incompatible CNI versions; config is "0.3.1", '
        'plugin supports ["0.4.0" "1.0.0"]'
    )
    assert [(f.code, f.pointer) for f in result.findings if f.code == "CNI511"] == [("CNI511", "/plugins/1/type")]


@needs_real
def test_real_missing_ipam(tmp_path: Path) -> None:
    # §3.2 #17: a missing IPAM binary fails inside the main plugin, CNI_PATH as the list
    result = run_node(
        tmp_path,
        {"cniVersion": "1.0.0", "name": "k8s", "plugins": [{"type": "bridge", "ipam": {"type": "whereabouts"}}]},
        ("containerd@1.7",),
    )
    assert result.prediction is not None
    assert prediction_as_dict(result.prediction)["steps"]["add"]["error"] == (
        f'plugin type="bridge" failed (add): failed to find plugin "whereabouts" in path [{REAL_BIN}]'
    )


@needs_real
def test_real_flannel_default_delegate(tmp_path: Path) -> None:
    # flannel is not in plugins >= 1.0.0 (§6.2); its implied delegates bridge/host-local are found
    result = run_node(
        tmp_path, {"cniVersion": "0.3.1", "name": "k8s", "plugins": [{"type": "flannel"}]}, ("containerd@1.7",)
    )
    assert result.prediction is not None
    assert prediction_as_dict(result.prediction)["steps"]["add"]["error"] == (
        f'plugin type="flannel" failed (add): failed to find plugin "flannel" in path [{REAL_BIN}]'
    )
    types = {p.type for p in result.plugins}
    assert {"flannel", "bridge", "host-local", "loopback"} <= types


# --------------------------------------------------------------------------------------------- which file


def predict_dir(directory: Path, spec: str) -> Optional[Mapping[str, Any]]:
    """Discover + parse + select as the engine does, then the static prediction for ``spec``."""
    from cnidoctor.config import discover
    from cnidoctor.rules import directory as discovery

    found = discover.discover([str(directory)])
    parsed = [parse(c) for c in found.candidates]
    selection = discovery.check_directories(parsed, found.directories, found.subdirectories).selection
    options = Options(paths=(str(directory),), runtimes=(spec,))
    prediction = node.check_configs_only(parsed, selection, options).prediction
    return prediction_as_dict(prediction) if prediction is not None else None


GOOD = {"cniVersion": "1.0.0", "name": "k8s", "plugins": [BRIDGE]}


def test_broken_first_file_containerd_vs_crio(tmp_path: Path) -> None:
    # §4.2/§4.5/§10.9: go-cni stops at the lexically first file; ocicni skips it (§4.3).
    # Texts: §3.2 #1 (libcni), #49 (go-cni wrapper), #50 (Load wrapper)
    (tmp_path / "00-broken.conflist").write_text(json.dumps({"cniVersion": "1.0.0", "plugins": [BRIDGE]}))
    (tmp_path / "10-good.conflist").write_text(json.dumps(GOOD))
    first = os.path.abspath(tmp_path / "00-broken.conflist")
    containerd = predict_dir(tmp_path, "containerd@1.7")
    assert containerd is not None and containerd["selected_file"].endswith("00-broken.conflist")
    assert containerd["selection"] == "first-file"
    load = containerd["steps"]["load"]
    assert load["outcome"] == "fail"
    assert load["error"] == (
        f"failed to load CNI config list file {first}: error parsing configuration list: no name: invalid cni config"
    )
    assert load["wrapped"] == f"cni config load failed: {load['error']}: failed to load cni config"
    assert containerd["steps"]["add"]["outcome"] == "fail"  # not reached
    libcni = predict_dir(tmp_path, "libcni@1.1.2")
    assert libcni is not None and libcni["steps"]["load"]["error"] == "error parsing configuration list: no name"
    crio = predict_dir(tmp_path, "crio@1.28")
    assert crio is not None and crio["selected_file"].endswith("10-good.conflist")
    assert crio["selection"] == "first-loadable" and crio["steps"]["load"]["outcome"] != "fail"


def test_nothing_loads_still_predicts_go_cni_failure(tmp_path: Path) -> None:
    # go-cni reads the first file even when no file loads (§4.2); CRI-O has no network at all
    (tmp_path / "10-x.conflist").write_text('{"name": "x",}')
    containerd = predict_dir(tmp_path, "containerd@1.7")
    assert containerd is not None and containerd["steps"]["load"]["outcome"] == "fail"
    assert containerd["steps"]["load"]["error"].startswith("failed to load CNI config list file ")
    # CRI-O skips the broken file and has no default network: ocicni <= v0.4.1's text (issue 9 class 1;
    # cri-o/ocicni:pkg/ocicni/ocicni.go@v0.5.1 errMissingDefaultNetwork, capital `No` before v0.4.2)
    crio = predict_dir(tmp_path, "crio@1.28")
    assert crio is not None and crio["selected_file"] is None
    assert (
        crio["steps"]["load"]["error"] == f"No CNI configuration file in {tmp_path}. Has your network provider started?"
    )


def test_dangling_symlink_first(tmp_path: Path) -> None:
    # §3.2 #16 / §4.5: ReadFile on a dangling link: `error reading <p>: open <p>: no such file or directory`
    os.symlink(tmp_path / "gone.conflist", tmp_path / "05-flannel.conflist")
    (tmp_path / "10-good.conflist").write_text(json.dumps(GOOD))
    link = os.path.abspath(tmp_path / "05-flannel.conflist")
    out = predict_dir(tmp_path, "libcni@1.1.2")
    assert out is not None
    assert out["steps"]["load"]["error"] == f"error reading {link}: open {link}: no such file or directory"


def test_symlink_to_directory_first(tmp_path: Path) -> None:
    # §4.1: ConfFiles keeps a symlink to a directory; reading it fails with EISDIR on read
    (tmp_path / "saved").mkdir()
    os.symlink(tmp_path / "saved", tmp_path / "00-saved.conflist")
    (tmp_path / "10-good.conflist").write_text(json.dumps(GOOD))
    link = os.path.abspath(tmp_path / "00-saved.conflist")
    out = predict_dir(tmp_path, "libcni@1.1.2")
    assert out is not None
    assert out["steps"]["load"]["error"] == f"error reading {link}: read {link}: is a directory"


def test_fifo_first_is_unknown(tmp_path: Path) -> None:
    # os.ReadFile blocks on a FIFO until a writer appears: neither ok nor a text to predict
    os.mkfifo(tmp_path / "00-pipe.conflist")
    (tmp_path / "10-good.conflist").write_text(json.dumps(GOOD))
    out = predict_dir(tmp_path, "containerd@1.7")
    assert out is not None and out["selected_file"].endswith("00-pipe.conflist")
    outcomes = {name: s["outcome"] for name, s in out["steps"].items()}
    assert outcomes == {"load": "unknown", "add": "unknown", "check": "not_sent", "del": "unknown"}


# --------------------------------------------------------------------------------------------- the network name


def conf(tmp_path: Path, doc: Mapping[str, Any], name: str = "99-loopback.conf") -> ParsedFile:
    path = tmp_path / name
    data = json.dumps(doc).encode()
    path.write_bytes(data)
    return parse(Candidate(str(path), "conf", data, directory=str(tmp_path)))


LO = {"loopback": facts("loopback")}  # plugins v1.x: VERSION reply 1.0.0 = skel with validateConfig


def test_missing_name_add_libcni_del_skel(tmp_path: Path) -> None:
    # cni@v1.1.2 pkg/utils/utils.go:53 (ADD, libcni, with colon) vs pkg/skel/skel.go:185 (DEL, no colon)
    parsed = conf(tmp_path, {"cniVersion": "0.3.1", "type": "loopback"})
    out = steps(parsed, "libcni@1.1.2", LO)
    assert out["add"].error == 'plugin type="loopback" failed (add): missing network name:'
    assert out["del"].error == 'plugin type="loopback" failed (delete): missing network name'
    # ocicni names the network after the file (§4.3): nothing to refuse
    crio = steps(parsed, "crio@1.28", LO)
    assert crio["add"].outcome == "ok" and crio["del"].outcome == "ok"


def test_invalid_name_skel_on_del_and_check(tmp_path: Path) -> None:
    # ADD: libcni >= 0.8.0 checks before the first plugin; DEL (reverse) and CHECK: each plugin's skel (§3.2 #39)
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "1.0.0",
            "name": "bridge@123",
            "plugins": [BRIDGE, {"type": "portmap", "capabilities": {"portMappings": True}}],
        },
    )
    by_type = {"bridge": facts("bridge"), "host-local": facts("host-local"), "portmap": facts("portmap")}
    out = steps(parsed, "libcni@1.1.2", by_type)
    assert out["add"].error == 'plugin type="bridge" failed (add): invalid characters found in network name; bridge@123'
    assert (
        out["del"].error
        == 'plugin type="portmap" failed (delete): invalid characters found in network name; bridge@123'
    )
    assert out["check"].error == "invalid characters found in network name; bridge@123"
    assert out["check"].plugin == "bridge"


def test_invalid_name_old_libcni_left_to_skel(tmp_path: Path) -> None:
    # libcni 0.7.1 (containerd 1.4.0) has no ValidateNetworkName: the plugin's skel refuses, unwrapped
    parsed = conflist(tmp_path, {"cniVersion": "0.4.0", "name": "a b", "plugins": [BRIDGE]})
    out = steps(parsed, "containerd@1.4.0", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["add"].error == "invalid characters found in network name; a b"


def test_name_check_unknown_for_skel_07_or_08(tmp_path: Path) -> None:
    # a 0.4.0 VERSION reply fits skel 0.7 (no name check) and 0.8 (checks): only running it tells
    parsed = conflist(tmp_path, {"cniVersion": "0.4.0", "name": "bad/name", "plugins": [BRIDGE]})
    old = {"bridge": facts("bridge", ALL_040, "0.4.0"), "host-local": facts("host-local", ALL_040, "0.4.0")}
    out = steps(parsed, "libcni@1.1.2", old)
    assert out["add"].outcome == "fail"  # libcni's own check
    assert out["del"].outcome == "unknown"


def test_trailing_newline_name_is_invalid(tmp_path: Path) -> None:
    # Go's `$` without (?m) matches only at the end of the text: "k8s\n" is refused
    parsed = conflist(tmp_path, {"cniVersion": "1.0.0", "name": "k8s\n", "plugins": [BRIDGE]})
    out = steps(parsed, "libcni@1.1.2", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["add"].error == 'plugin type="bridge" failed (add): invalid characters found in network name; k8s\n'


# --------------------------------------------------------------------------------------------- CHECK answers


def test_check_config_newer_than_plugin(tmp_path: Path) -> None:
    # cni@v1.1.2 pkg/skel/skel.go:230-241: no supported version >= the config's
    parsed = conflist(tmp_path, {"cniVersion": "1.1.0", "name": "k8s", "plugins": [BRIDGE]})
    out = steps(parsed, "libcni@1.2.3", {"bridge": facts("bridge"), "host-local": facts("host-local")})
    assert out["check"].error == "plugin version does not allow CHECK"


def test_check_config_in_a_gap_is_incompatible(tmp_path: Path) -> None:
    # bandwidth v1.0.0 supports 0.3.0, 0.3.1, 1.0.0 (§6.2): 1.0.0 >= 0.4.0, so skel reconciles and refuses
    parsed = conflist(tmp_path, {"cniVersion": "0.4.0", "name": "k8s", "plugins": [BRIDGE, {"type": "bandwidth"}]})
    by_type = {
        "bridge": facts("bridge"),
        "host-local": facts("host-local"),
        "bandwidth": facts("bandwidth", ("0.3.0", "0.3.1", "1.0.0")),
    }
    out = steps(parsed, "libcni@1.1.2", by_type)
    assert (
        out["check"].error == 'incompatible CNI versions; config is "0.4.0", plugin supports ["0.3.0" "0.3.1" "1.0.0"]'
    )


# --------------------------------------------------------------------------------------------- static findings


def static_steps(parsed: ParsedFile, spec: str, by_type: Mapping[str, BinaryFacts]) -> Dict[str, predict.Step]:
    from cnidoctor.config import validate
    from cnidoctor.rules import semantics

    static = tuple(validate.validate(parsed)) + tuple(semantics.check(parsed))
    return predict.predict(parsed, runtimes.parse_spec(spec)[-1], by_type, probed=True, static=static)


BRIDGE_FACTS = {"bridge": facts("bridge"), "host-local": facts("host-local"), "portmap": facts("portmap")}


def test_plugin_config_decode_error_on_every_verb(tmp_path: Path) -> None:
    # CNI201: bridge's loadNetConf runs first in cmdAdd, cmdCheck, cmdDel (§3.2 #11 form, plugin side)
    parsed = conflist(tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [dict(BRIDGE, ipMasq="true")]})
    inner = "failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.ipMasq of type bool"
    out = static_steps(parsed, "libcni@1.1.2", BRIDGE_FACTS)
    assert out["add"].error == 'plugin type="bridge" failed (add): ' + inner
    assert out["check"].error == inner
    assert out["del"].error == 'plugin type="bridge" failed (delete): ' + inner
    assert steps(parsed, "libcni@1.1.2", BRIDGE_FACTS)["add"].outcome == "ok"  # without the findings: not known


def test_meta_plugin_first_breaks_add_only(tmp_path: Path) -> None:
    # §3.2 #44: portmap's cmdAdd needs prevResult; its cmdDel does not
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "1.0.0",
            "name": "k8s",
            "plugins": [{"type": "portmap", "capabilities": {"portMappings": True}}, BRIDGE],
        },
    )
    out = static_steps(parsed, "containerd@1.7", BRIDGE_FACTS)
    assert out["add"].error == 'plugin type="portmap" failed (add): must be called as chained plugin'
    assert out["del"].outcome == "ok"
    old = static_steps(parsed, "containerd@1.5", BRIDGE_FACTS)  # libcni 0.8.1: no prefix (§10.2)
    assert old["add"].error == "must be called as chained plugin"


def test_host_local_ranges_through_main_plugin(tmp_path: Path) -> None:
    # §3.2 #45: host-local's LoadIPAMConfig on ADD and DEL, relayed by bridge; the .conf's own
    # name shows in the wrapper (§3.2 #37)
    ipam = {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "10.2.0.0/24"}]]}
    parsed = conf(tmp_path, {"cniVersion": "0.2.0", "name": "mynet", "type": "bridge", "ipam": ipam}, "10-bridge.conf")
    out = static_steps(parsed, "libcni@1.1.2", BRIDGE_FACTS)
    text = "CNI version 0.2.0 does not support more than 1 address per family"
    assert out["add"].error == f'plugin type="bridge" name="mynet" failed (add): {text}'
    assert out["del"].error == f'plugin type="bridge" name="mynet" failed (delete): {text}'
    assert out["check"].error == 'configuration version "0.2.0" does not support the CHECK command'  # libcni gate first


def test_refusal_without_text_is_unknown(tmp_path: Path) -> None:
    finding = Finding("CNI201", Severity.ERROR, "m", "f", "/plugins/0/mtu", plugin="bridge")
    parsed = conflist(tmp_path, GOOD)
    assert parsed.network is not None
    known = predict.known_refusals(parsed.network, (finding,))
    assert len(known) == 1 and known[0].index == 0 and known[0].text is None
    out = predict.predict(parsed, runtimes.parse_spec("libcni@1.1.2")[-1], BRIDGE_FACTS, probed=True, static=(finding,))
    assert out["add"].outcome == "unknown" and out["del"].outcome == "unknown"


def test_option_decode_errors_stage_by_pointer(tmp_path: Path) -> None:
    # CNI205: an IPAM option error surfaces through the main plugin (host-local's `invalid IP address`,
    # fixtures/schema-plugin-option-invalid README); DEL runs tuning first and its decode fails too
    # (measured with libcni 1.1.2 + plugins 1.1.1 in tests/test_differential.py)
    ipam = {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.1"}]]}
    parsed = conflist(
        tmp_path,
        {
            "cniVersion": "0.4.0",
            "name": "podman",
            "plugins": [
                {"type": "bridge", "ipam": ipam},
                {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.rp_filter": 1}},
            ],
        },
    )
    by_type = dict(BRIDGE_FACTS, tuning=facts("tuning"))
    out = static_steps(parsed, "libcni@1.1.2", by_type)
    assert out["add"].error == 'plugin type="bridge" failed (add): invalid IP address: 10.88.1'
    assert out["del"].error == (
        'plugin type="tuning" failed (delete): failed to load netconf: json: cannot unmarshal '
        "number into Go struct field TuningConf.sysctl of type string"
    )


def test_plugin_side_findings_cover_every_rule_that_declares_one() -> None:
    """The prediction reads plugin-side refusals from the config-side families only; a rule of
    another family declaring one would be missed, so the whole catalog is checked here."""
    from cnidoctor.rules import catalog

    declared = {code: rule.plugin_side for code, rule in catalog().items() if rule.plugin_side is not None}
    assert dict(predict.PLUGIN_SIDE_FINDINGS) == declared
    assert set(declared) >= {"CNI201", "CNI205", "CNI312", "CNI317"}


def test_check_is_not_sent_by_containerd_even_when_the_load_fails(tmp_path: Path) -> None:
    """Issue 10 point 7: go-cni has no CheckNetworkList call (containerd/go-cni:cni.go@v1.1.13), so
    CHECK is "not sent" - not "FAILS" because the config does not load, and never "ok" in JSON."""
    path = tmp_path / "05-broken.conf"
    path.write_bytes(b'{"cniVersion": "0.3.1", "name": "x", "type": "bridge",}')
    parsed = parse(Candidate(str(path), "conf", path.read_bytes(), directory=str(tmp_path)))
    for spec in ("containerd@2.0.0", "containerd@1.6.3", "dockershim@1.20"):
        out = steps(parsed, spec, {})
        assert out["load"].outcome == "fail", spec
        assert (out["check"].outcome, out["check"].called) == ("not_sent", False), spec
    crio = steps(parsed, "crio@1.28", {})
    assert crio["check"].outcome == "fail"  # CRI-O does send CHECK: not reached here


def test_json_step_of_a_step_never_sent_is_not_ok(tmp_path: Path) -> None:
    parsed = conflist(tmp_path, {"cniVersion": "1.0.0", "name": "k8s", "plugins": [BRIDGE]})
    bridge = {"bridge": facts("bridge"), "host-local": facts("host-local")}
    doc = prediction_as_dict(predict.prediction(parsed, runtimes.parse_spec("containerd@1.7")[-1], bridge, probed=True))
    assert doc["steps"]["check"]["outcome"] == "not_sent"


@pytest.mark.parametrize(
    "runtime, lead",
    [("crio@1.27", "No"), ("crio@1.28", "No"), ("crio@1.29", "No"), ("crio@1.30", "no"), ("crio@1.31", "no")],
)
def test_crio_no_network_wording_follows_the_vendored_ocicni(runtime: str, lead: str) -> None:
    """cri-o/cri-o go.mod: v1.27.0 ocicni v0.4.0, v1.28.0 ad62f4e, v1.29.0 v0.4.1, v1.30.0 v0.4.2;
    errMissingDefaultNetwork became lowercase in cri-o/ocicni@a0ddd97, first tag v0.4.2."""
    from cnidoctor.crosscheck.predict import crio_no_network_text
    from cnidoctor.runtime import matrix

    release = matrix.modelled_for_prediction([runtime]).release
    text = crio_no_network_text(release, "/etc/cni/net.d")
    assert text == f"{lead} CNI configuration file in /etc/cni/net.d. Has your network provider started?"
