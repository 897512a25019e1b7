"""`cnidoctor explain`: the KB's consistency with the rule catalog, the CLI, and --check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import pytest
from conftest import ROOT, run_cli

from cnidoctor.explain import explain, scan_log
from cnidoctor.explain.kb import entries
from cnidoctor.explain.nodecheck import check_node
from cnidoctor.rules import catalog

# --------------------------------------------------------------------------- KB <-> catalog

# What a Go verb in a rule's runtime_errors text can stand for in a real message.
VERB_VALUES = ("x", "/etc/cni/net.d/10-x.conflist", "'x'", "array")
# Texts other software prints too are only recognised next to a CNI marker; a runtime always
# prints them inside its wrapper, e.g. libcni's `plugin type="X" failed (add): ...`.
CNI_WRAPPER = 'plugin type="bridge" failed (add): {}'


def _instances(text: str) -> Iterator[str]:
    for value in VERB_VALUES:
        filled = (
            text.replace("%q", '"x"')
            .replace("%s", value)
            .replace("%d", "0")
            .replace("%T", "float64")
            .replace("%v", value)
        )
        yield filled
        yield CNI_WRAPPER.format(filled)


RULE_TEXTS = [(code, text) for code, rule in catalog().items() for text in rule.runtime_errors]


@pytest.mark.parametrize("code,text", RULE_TEXTS, ids=[f"{c}:{t[:40]}" for c, t in RULE_TEXTS])
def test_every_rule_runtime_error_is_recognised_and_maps_back(code: str, text: str) -> None:
    """A rule's predicted runtime text and the explain KB cannot drift apart."""
    for instance in _instances(text):
        result = explain(instance)
        if any(code in m.entry.codes for m in result.matches):
            return
    pytest.fail(f"{code}: {text!r} is not recognised as a family that lists {code}")


def _allocated_codes() -> set:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    codes = set()
    for prefix, block in re.findall(r"\((CNI\d)xx\): (.*?)(?:\n\n)", design, flags=re.S):
        codes |= {f"CNI{prefix[3]}{num[-2:]}" if len(num) == 3 else num for num in re.findall(r"\b(\d{3})\b", block)}
    return codes


def test_kb_codes_are_allocated_or_in_the_catalog() -> None:
    allocated = _allocated_codes()
    assert {"CNI001", "CNI119", "CNI301", "CNI516", "CNI902"} <= allocated  # the parser read the table
    known = allocated | set(catalog())  # families may add codes inside their own range
    for entry in entries():
        for code in entry.codes:
            assert code in known, f"{entry.id} maps to unallocated {code}"


def test_kb_entries_are_complete() -> None:
    for entry in entries():
        assert entry.title and entry.component and entry.patterns
        if entry.role != "wrapper":
            assert entry.causes and entry.fix and entry.runtimes, entry.id
            assert entry.references, entry.id


def test_unknown_condition_in_kb_would_be_reported() -> None:
    from cnidoctor.explain.matcher import Context, _holds

    with pytest.raises(ValueError):
        _holds(("no-such-condition", "x"), {"x": "1"}, Context(), "")


# --------------------------------------------------------------------------- recognition
def test_unknown_message_is_not_given_a_cause_but_closest_families() -> None:
    result = explain('plugin type="bridge" failed (add): failed to allocate a VLAN tag for the bridge port')
    assert not result.recognised
    assert [w.entry.id for w in result.context.wrappers] == ["libcni-plugin-failed"]


def test_closest_families_offered_for_a_near_miss() -> None:
    result = explain("incompatible CNI versions")  # the message without its variables
    assert not result.recognised
    assert "incompatible-versions" in [e.id for e in result.closest]


def test_loopback_skew_is_the_first_cause_only_for_loopback() -> None:
    text = 'plugin type="{}" failed (add): incompatible CNI versions; config is "1.0.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0"]'
    assert explain(text.format("loopback")).matches[0].codes[0] == "CNI516"
    assert "CNI516" not in explain(text.format("bridge")).matches[0].codes


def test_step_is_taken_from_the_wrapper() -> None:
    assert (
        explain('failed to destroy network for sandbox "a": invalid version "": the version is empty').context.step
        == "delete"
    )
    assert explain('plugin type="ptp" failed (check): missing containerID').context.step == "check"


# --------------------------------------------------------------------------- CLI
def test_explain_code_still_renders_rule_docs() -> None:
    # The terminal gets the rule docs rendered (no Markdown `#`); --format markdown keeps the source.
    result = run_cli(["explain", "cni901"])
    assert result.exit_code == 0
    assert result.output.startswith("CNI901 unused-ignore (warning)\n")
    assert not any(line.startswith("#") for line in result.output.splitlines())
    markdown = run_cli(["explain", "cni901", "--format", "markdown"])
    assert markdown.exit_code == 0
    assert markdown.output.startswith("# CNI901 unused-ignore")


def test_explain_unknown_code_is_usage_error() -> None:
    assert run_cli(["explain", "CNI999"]).exit_code == 2


def test_rule_docs_list_the_error_families_that_map_to_it() -> None:
    if "CNI301" not in catalog():
        pytest.skip("CNI301 not in the catalog yet")
    output = run_cli(["explain", "CNI301"]).output
    assert 'cnidoctor explain "<error>"' in output
    assert 'invalid version "": the version is empty' in output


def test_explain_text_json_shape() -> None:
    result = run_cli(
        [
            "explain",
            "--no-check",
            "--format",
            "json",
            'failed to destroy network for sandbox "c0ffee": invalid version "": the version is empty',
        ]
    )
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["recognised"] is True and data["node"] is None
    top = data["matches"][0]
    assert {"title", "component", "variables", "causes", "fix", "codes", "runtimes"} <= set(top)
    assert top["variables"]["sandbox"] == "c0ffee"
    assert "CNI301" in top["codes"]


def test_explain_reads_stdin() -> None:
    from click.testing import CliRunner

    from cnidoctor.cli import cli

    result = CliRunner().invoke(cli, ["explain", "--no-check"], input="cni config uninitialized\n")
    assert result.exit_code == 0
    assert "Recognised: kubelet has no valid CNI config" in result.output


def test_unrecognised_text_exits_1_with_general_checks() -> None:
    result = run_cli(["explain", "--no-check", "the flux capacitor is unaligned"])
    assert result.exit_code == 1
    assert "Not recognised" in result.output and "cnidoctor check" in result.output


def test_log_mode_picks_and_groups_cni_lines(tmp_path: Path) -> None:
    log = tmp_path / "containerd.log"
    log.write_text(
        'time="t1" level=info msg="starting containerd"\n'
        'time="t2" level=error msg="StopPodSandbox failed" error="failed to destroy network for sandbox \\"a1\\": invalid version \\"\\": the version is empty"\n'
        'time="t3" level=info msg="pulling image nginx"\n'
        'time="t4" level=error msg="StopPodSandbox failed" error="failed to destroy network for sandbox \\"b2\\": invalid version \\"\\": the version is empty"\n'
        'time="t5" level=error msg="failed to setup network for sandbox \\"c3\\": failed to find plugin \\"portmap\\" in path [/opt/cni/bin]"\n',
        encoding="utf-8",
    )
    result = run_cli(["explain", "--no-check", "--format", "json", "--log", str(log)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    groups = {g["explanation"]["matches"][0]["id"]: g["lines"] for g in data["groups"]}
    assert groups == {"version-empty": [2, 4], "plugin-not-found": [5]}


def test_scan_log_ignores_unrelated_lines() -> None:
    assert scan_log(["hello", "x509: certificate signed by unknown authority"]) == []


# --------------------------------------------------------------------------- --check
def _conf_dir(tmp_path: Path, name: str, text: str) -> Path:
    conf = tmp_path / "net.d"
    conf.mkdir()
    (conf / name).write_text(text, encoding="utf-8")
    return conf


def test_check_never_crashes_without_a_config_dir(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run_cli(
        [
            "explain",
            "--check",
            "--conf-dir",
            str(missing),
            "--format",
            "json",
            'incompatible CNI versions; config is "1.0.0", plugin supports ["0.4.0"]',
        ]
    )
    data = json.loads(result.output)
    assert data["node"]["checked"] is False and data["node"]["verdict"] == "not-checked"


def test_missing_config_dir_confirms_a_no_config_error(tmp_path: Path) -> None:
    node = check_node(explain("no network config found in /x: cni plugin not initialized"), str(tmp_path / "nope"))
    assert node.verdict == "cause-present"


def test_check_says_when_the_error_does_not_match_this_node(tmp_path: Path) -> None:
    conf = _conf_dir(
        tmp_path, "10-mynet.conflist", '{"cniVersion": "0.3.1", "name": "mynet", "plugins": [{"type": "bridge"}]}'
    )
    result = explain(
        'plugin type="bridge" failed (add): incompatible CNI versions; config is "1.0.0", plugin supports ["0.4.0"]'
    )
    node = check_node(result, str(conf), probe=False)
    assert node.checked
    assert node.verdict == "does-not-match"
    assert any('"1.0.0"' in note for note in node.notes)


def test_check_confirms_missing_cni_version_on_this_node(tmp_path: Path) -> None:
    if "CNI301" not in catalog():
        pytest.skip("CNI301 (semantics) not implemented yet")
    conf = _conf_dir(
        tmp_path,
        "10-flannel.conflist",
        '{"name": "cbr0", "plugins": [{"type": "flannel", "delegate": {"isDefaultGateway": true}}]}',
    )
    result = run_cli(
        [
            "explain",
            "--check",
            "--no-probe",
            "--conf-dir",
            str(conf),
            "--format",
            "json",
            'failed to destroy network for sandbox "a": invalid version "": the version is empty',
        ]
    )
    node = json.loads(result.output)["node"]
    assert node["verdict"] == "cause-present"
    assert any(c["code"] == "CNI301" and c["file"].endswith("10-flannel.conflist") for c in node["confirmed"])


def test_check_text_output_names_the_file(tmp_path: Path) -> None:
    if "CNI301" not in catalog():
        pytest.skip("CNI301 (semantics) not implemented yet")
    conf = _conf_dir(tmp_path, "10-flannel.conflist", '{"name": "cbr0", "plugins": [{"type": "flannel"}]}')
    output = run_cli(
        ["explain", "--check", "--no-probe", "--conf-dir", str(conf), 'invalid version "": the version is empty']
    ).output
    assert "your 10-flannel.conflist" in output


# --------------------------------------------------------------------------- runtime configuration (CNI6xx)
def _runtime_config_records() -> list:
    from test_explain_corpus import records

    return records("runtime-config.txt")


RUNTIME_CONFIG = _runtime_config_records()
RUNTIME_CONFIG_FAMILIES = {r["family"] for r in RUNTIME_CONFIG} - {"plugin-not-found"}


@pytest.mark.parametrize("record", RUNTIME_CONFIG, ids=[f"{r['family']}:{r['codes']}" for r in RUNTIME_CONFIG])
def test_runtime_config_log_line_recognised(record: dict) -> None:
    from test_explain_corpus import check_record

    check_record(record)


def test_runtime_config_lines_name_an_upstream_source() -> None:
    upstream = re.compile(r"^[\w.-]+/[\w.-]+:[\w./-]+@[\w.-]+$")
    assert len(RUNTIME_CONFIG) >= 15
    for record in RUNTIME_CONFIG:
        assert upstream.match(record["source"]) and record["kind"] == "format", record["source"]


def test_runtime_config_families_do_not_claim_cni_field_errors() -> None:
    from test_explain_corpus import records

    for record in records("field.txt") + records("field-lookalikes.txt"):
        claimed = {m.entry.id for m in explain(record["text"]).matches} & RUNTIME_CONFIG_FAMILIES
        assert not claimed, (claimed, record["text"])


def test_runtime_config_file_missing_claims_only_runtime_config_paths() -> None:
    flannel = "open /run/flannel/subnet.env: no such file or directory"
    assert explain(flannel).matches[0].entry.id == "flannel-subnet-env"
    assert not explain("open /etc/hosts: no such file or directory").recognised


def test_containerd_load_wrapper_gives_way_to_the_specific_error() -> None:
    result = explain("containerd: failed to load TOML from /etc/containerd/config.toml: unsupported config version `3`")
    assert [m.entry.id for m in result.matches] == ["containerd-config-version-unsupported"]
    alone = explain("containerd: failed to load TOML: /x.toml: permission denied")
    assert alone.matches[0].entry.id == "containerd-config-load-failed"
