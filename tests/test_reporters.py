"""Reporters are pure functions of a Report: build Reports directly and check each format's
contract (text for people; JSON against its shipped schema; SARIF against GitHub's documented
requirements and, when available, the official SARIF 2.1.0 schema; GitHub workflow commands;
the node-problem-detector one-liner)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Tuple

import jsonschema
import pytest
from conftest import ROOT

from cnidoctor.model import (
    Finding,
    ModelledRuntime,
    PluginStatus,
    Prediction,
    Report,
    Selection,
    Severity,
    Step,
    StepName,
)
from cnidoctor.report import FORMATS, RenderOptions, renderer
from cnidoctor.report import github as github_report
from cnidoctor.report import npd as npd_report
from cnidoctor.report.jsonreport import load_schema
from cnidoctor.rules import catalog

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CODES = list(catalog())  # real catalog codes, so SARIF ruleIndex can be checked
CODE_A, CODE_B = CODES[0], CODES[-1]

CONTAINERD = ModelledRuntime("containerd", "1.6.3", "1.1.2", "containerd 1.6.x", "go-cni")
MISSING_FLANNEL = 'failed to find plugin "flannel" in path [/opt/cni/bin]'
STEPS_FAIL: Tuple[Tuple[StepName, Step], ...] = (
    ("load", Step("ok")),
    ("add", Step("fail", MISSING_FLANNEL)),
    ("check", Step("unknown")),
    ("del", Step("ok")),
)
PREDICTION_FAIL = Prediction(CONTAINERD, "net.d/10-bridge.conflist", "first-file", "1.0.0", STEPS_FAIL)
# The same prediction as the JSON report's schema ($defs/prediction) describes it.
PREDICTION_FAIL_JSON: Dict[str, Any] = {
    "runtime": {
        "name": "containerd",
        "version": "1.6.3",
        "libcni": "1.1.2",
        "release": "containerd 1.6.x",
        "glue": "go-cni",
    },
    "selected_file": "net.d/10-bridge.conflist",
    "selection": "first-file",
    "list_version": "1.0.0",
    "steps": {
        "load": {"outcome": "ok", "error": None},
        "add": {"outcome": "fail", "error": MISSING_FLANNEL},
        "check": {"outcome": "unknown", "error": None},
        "del": {"outcome": "ok", "error": None},
    },
}
BRIDGE = PluginStatus("bridge", "/opt/cni/bin/bridge", None, None, "1.0.0", ("0.4.0", "1.0.0"), None, False)


def with_steps(steps: Dict[StepName, Step]) -> Prediction:
    return replace(PREDICTION_FAIL, steps=tuple(steps.items()))


def finding(
    code: str = CODE_A,
    severity: Severity = Severity.ERROR,
    message: str = "cniVersion is missing",
    file: str | None = "net.d/10-bridge.conflist",
    pointer: str = "",
    line: int | None = 1,
    column: int | None = 1,
    **extra: Any,
) -> Finding:
    return Finding(
        code=code, severity=severity, message=message, file=file, pointer=pointer, line=line, column=column, **extra
    )


def busy_report(**overrides: Any) -> Report:
    findings = (
        finding(predicts='invalid version "": the version is empty', fix='Add "cniVersion": "1.0.0".'),
        finding(CODE_B, Severity.WARNING, 'duplicate key "type"', pointer="/plugins/0/type", line=7, column=9),
        finding(CODE_B, Severity.INFO, "shadowed", file="net.d/99-loopback.conf", line=1, column=1),
        finding(
            CODE_A,
            Severity.ERROR,
            'plugin "flannel" not found',
            file=None,
            line=None,
            column=None,
            plugin="flannel",
            predicts='failed to find plugin "flannel" in path [/opt/cni/bin]',
        ),
    )
    fields: Dict[str, Any] = dict(
        inputs=("net.d",),
        selected=Selection("net.d/10-bridge.conflist", "cbr0", "1.0.0"),
        findings=findings,
        files=("net.d/10-bridge.conflist", "net.d/99-loopback.conf", "net.d/50-x.json"),
        prediction=PREDICTION_FAIL,
        plugins=(BRIDGE,),
    )
    fields.update(overrides)
    return Report(**fields)


def clean_report() -> Report:
    return Report(
        inputs=("net.d",),
        selected=Selection("net.d/10-bridge.conflist", "cbr0", "1.0.0"),
        findings=(),
        files=("net.d/10-bridge.conflist",),
    )


def render(fmt: str, report: Report, **options: Any) -> str:
    return renderer(fmt)(report, RenderOptions(tool_version="0.1.0", **options))


# Wide enough that no line of busy_report() wraps: the tests that read one line's content use it
# (wrapping to the terminal is tests/test_output.py's subject).
WIDE = 200


def slug(code: str) -> str:
    """The rule's name as the text report appends it to a message (yamllint's ``(trailing-spaces)``)."""
    return re.escape(f"({catalog()[code].name})")


# -- registry -------------------------------------------------------------------------------------


def test_every_format_renders_both_a_busy_and_a_clean_report() -> None:
    for fmt in FORMATS:
        assert render(fmt, busy_report()).endswith("\n")
        assert render(fmt, clean_report()).endswith("\n")


def test_cli_offers_exactly_the_registered_formats() -> None:
    from cnidoctor.cli import check_command

    option = next(p for p in check_command.params if p.name == "fmt")
    assert sorted(option.type.choices) == sorted(FORMATS)  # type: ignore[attr-defined]


# -- text -----------------------------------------------------------------------------------------


def test_text_leads_with_the_prediction_then_the_selected_file() -> None:
    out = render("text", busy_report())
    lines = out.splitlines()
    assert lines[0].startswith("Prediction: containerd 1.6.3 (libcni 1.1.2)")
    assert "net.d/10-bridge.conflist" in lines[0]
    add = next(line for line in lines if line.strip().startswith("ADD"))
    assert "FAILS" in add and 'failed to find plugin "flannel"' in add
    assert next(line for line in lines if line.strip().startswith("CHECK")).rstrip().endswith("unknown")
    selected_at = next(i for i, line in enumerate(lines) if line.startswith("Runtime will use"))
    first_table = next(i for i, line in enumerate(lines) if line.startswith("net.d/"))
    assert selected_at < first_table
    assert 'network "cbr0"' in lines[selected_at] and 'cniVersion "1.0.0"' in lines[selected_at]


def test_text_prediction_all_ok_is_one_line() -> None:
    ok = with_steps({name: Step("ok") for name in ("load", "add", "check", "del")})
    lines = render("text", busy_report(prediction=ok), width=160).splitlines()
    # The whole prediction fits one 160-column line; then what the node-state checks read, and the
    # blank between blocks. Issue 10 point 9: node state (flannel's subnet.env) is not what the
    # prediction checks, so no step "succeeds".
    assert lines[0].startswith("Prediction: ")
    assert lines[0].endswith("no config or version problem predicted for LOAD, ADD, CHECK, DEL.")
    assert "succeed" not in lines[0]
    assert lines[1].strip().startswith("node state not checked")
    # issue 9, class 8: a result or a hang on ADD alone never shows in VERSION
    assert lines[2] == (
        "  not checked: what the plugins do on ADD beyond VERSION (results, timeouts); run a test pod to confirm"
    )
    assert lines[3] == ""


def test_text_prediction_omits_the_unchecked_line_when_add_already_fails() -> None:
    # the line tells what an ok/unknown ADD leaves open; a predicted failure leaves nothing to confirm
    text = render("text", busy_report(prediction=PREDICTION_FAIL), width=WIDE)
    assert "not checked: what the plugins do on ADD" not in text
    unknown = with_steps({"load": Step("ok"), "add": Step("unknown"), "del": Step("ok")})
    assert "not checked: what the plugins do on ADD" in render("text", busy_report(prediction=unknown), width=WIDE)


def test_text_prediction_says_which_steps_are_never_sent() -> None:
    steps: Dict[StepName, Step] = {
        "load": Step("ok"),
        "add": Step("ok"),
        "check": Step("not_sent", called=False, detail="containerd never sends CNI CHECK"),
        "del": Step("ok"),
    }
    first = render("text", busy_report(prediction=with_steps(steps)), width=WIDE).splitlines()[0]
    assert first.endswith("no config or version problem predicted for LOAD, ADD, DEL; CHECK is not sent.")


def test_text_prediction_failure_shows_runtime_wrapping_and_reason() -> None:
    steps = dict(STEPS_FAIL)
    steps["check"] = Step("not_sent", called=False, detail="containerd never sends CNI CHECK")
    steps["status"] = Step(
        "fail",
        "missing containerID",
        wrapped="Network plugin returns error: missing containerID",
        detail="bridge predates STATUS",
    )
    lines = render("text", busy_report(prediction=with_steps(steps))).splitlines()
    assert lines[3] == "  CHECK  not sent (containerd never sends CNI CHECK)"
    assert lines[5:8] == [
        "  STATUS FAILS: missing containerID",
        "         runtime shows: Network plugin returns error: missing containerID",
        "         why: bridge predates STATUS",
    ]


def test_text_names_both_files_when_the_runtime_reads_another_first() -> None:
    """containerd reads the lexically first file even when CRI-O would skip it (go-cni)."""
    other = replace(PREDICTION_FAIL, selected_file="net.d/05-broken.conf")
    lines = render("text", busy_report(prediction=other), width=WIDE).splitlines()
    line = next(line for line in lines if line.startswith("Default network"))
    # Both files sit in net.d/, named in full just before: the second one by its base name.
    assert line.startswith("Default network: net.d/10-bridge.conflist ")
    assert line.endswith("containerd reads 05-broken.conf first")


def test_text_tables_show_location_severity_code_message_fix_and_runtime_error() -> None:
    out = render("text", busy_report(), width=WIDE)
    assert re.search(rf"^  1:1\s+error\s+{CODE_A}\s+cniVersion is missing {slug(CODE_A)}$", out, re.M)
    assert re.search(rf"^  7:9\s+warning\s+{CODE_B}\s+duplicate key \"type\" {slug(CODE_B)}$", out, re.M)
    assert re.search(r"^\s+fix: Add \"cniVersion\": \"1.0.0\".$", out, re.M)
    assert re.search(r'^\s+runtime error: invalid version "": the version is empty$', out, re.M)
    # Each finding ends with how to learn more about its code.
    assert out.count("see: cnidoctor explain ") == 4
    assert f"see: cnidoctor explain {CODE_A}" in out and f"see: cnidoctor explain {CODE_B}" in out


def test_text_groups_by_file_marks_the_selected_one_and_puts_node_findings_last() -> None:
    out = render("text", busy_report(), width=WIDE)
    headings = [
        line
        for line in out.splitlines()
        if line
        and not line.startswith(" ")
        and not line.startswith(("Prediction", "Runtime will use", "2 errors", "To silence a finding"))
    ]
    assert headings == [
        "net.d/10-bridge.conflist (used by the runtime)",
        "net.d/99-loopback.conf",
        "node (plugin binaries, runtime)",
    ]
    assert re.search(rf"^  flannel\s+error\s+{CODE_A}\s+plugin \"flannel\" not found {slug(CODE_A)}$", out, re.M)


def test_text_summary_line_counts_by_severity_and_files() -> None:
    summary, hint = render("text", busy_report(), width=WIDE).splitlines()[-2:]
    # 10-bridge and 99-loopback of the three checked files have findings, flannel's is on the node.
    assert summary == "2 errors, 1 warning, 1 info in 2 of 3 files checked and on the node."
    # Then how to silence one on purpose (kubeadm's preflight says how to skip a check).
    assert hint == (
        f"To silence a finding: --ignore {CODE_A}, or an [[ignore]] entry with codes and a reason in .cnidoctor.toml."
    )


def test_text_clean_run_is_quiet_and_short() -> None:
    out = render("text", clean_report())
    assert out.splitlines() == [
        'Runtime will use: net.d/10-bridge.conflist (network "cbr0", cniVersion "1.0.0")',
        "No problems found in 1 file checked.",
    ]


def test_text_colour_only_when_asked() -> None:
    assert not ANSI.search(render("text", busy_report(), color=False))
    coloured = render("text", busy_report(), color=True)
    assert "\x1b[31m" in coloured  # errors in red
    assert ANSI.sub("", coloured) == render("text", busy_report(), color=False)


def test_text_wraps_long_messages_to_the_width() -> None:
    long = "word " * 60
    out = render("text", busy_report(findings=(finding(message=long.strip()),)), width=80)
    table_lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(table_lines) > 3 and all(len(line) <= 80 for line in table_lines)


# -- json -----------------------------------------------------------------------------------------


def test_json_matches_its_shipped_schema() -> None:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for report in (busy_report(), clean_report(), busy_report(selected=None, prediction=None, plugins=())):
        document = json.loads(render("json", report))
        jsonschema.Draft202012Validator(schema).validate(document)


def test_json_schema_rejects_what_it_should() -> None:
    """The schema is not vacuous: a wrong severity, a missing summary, a bad help all fail."""
    validator = jsonschema.Draft202012Validator(load_schema())
    good = json.loads(render("json", busy_report()))
    bad_severity = json.loads(json.dumps(good))
    bad_severity["findings"][0]["severity"] = "fatal"
    no_summary = {k: v for k, v in good.items() if k != "summary"}
    bad_help = json.loads(json.dumps(good))
    bad_help["findings"][0]["help"] = "see the docs"
    bad_step = json.loads(json.dumps(good))
    bad_step["prediction"]["steps"]["add"]["outcome"] = "broken"
    for document in (bad_severity, no_summary, bad_help, bad_step):
        assert not validator.is_valid(document)


def test_json_content() -> None:
    document = json.loads(render("json", busy_report()))
    assert document["version"] == 2
    assert document["tool"] == {"name": "cnidoctor", "version": "0.1.0"}
    assert document["inputs"] == ["net.d"]
    assert document["selected"] == {"file": "net.d/10-bridge.conflist", "network": "cbr0", "cniVersion": "1.0.0"}
    assert document["summary"] == {"error": 2, "warning": 1, "info": 1}
    assert document["prediction"] == PREDICTION_FAIL_JSON
    assert document["plugins"] == [
        {
            "type": "bridge",
            "path": "/opt/cni/bin/bridge",
            "problem": None,
            "error": None,
            "cni_version": "1.0.0",
            "supported": ["0.4.0", "1.0.0"],
            "probe_error": None,
            "from_cache": False,
        }
    ]
    first = document["findings"][0]
    assert first == {
        "code": CODE_A,
        "severity": "error",
        "message": "cniVersion is missing",
        "file": "net.d/10-bridge.conflist",
        "line": 1,
        "column": 1,
        "pointer": "",
        "plugin": None,
        "predicts": 'invalid version "": the version is empty',
        "fix": 'Add "cniVersion": "1.0.0".',
        "help": f"cnidoctor explain {CODE_A}",
    }
    node = document["findings"][3]
    assert node["file"] is None and node["plugin"] == "flannel"


def test_json_clean_has_null_selection_when_nothing_loads() -> None:
    document = json.loads(render("json", Report(inputs=("x",), selected=None, findings=())))
    assert document["selected"] is None and document["findings"] == [] and document["prediction"] is None


# -- sarif ----------------------------------------------------------------------------------------


def sarif(report: Report, base_dir: str = ".") -> Dict[str, Any]:
    document: Dict[str, Any] = json.loads(render("sarif", report, base_dir=base_dir))
    return document


def test_sarif_top_level_and_driver() -> None:
    document = sarif(busy_report())
    assert document["version"] == "2.1.0"
    assert document["$schema"].startswith("https://") and "sarif-2.1.0" in document["$schema"]
    assert len(document["runs"]) == 1
    driver = document["runs"][0]["tool"]["driver"]
    assert driver["name"] == "cnidoctor"
    assert driver["version"] == driver["semanticVersion"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")


def _github_anchors(markdown: str) -> Dict[str, str]:
    """Heading text -> the id github.com gives it (Flet/github-slugger: lower-case, keep letters,
    digits, ``-``, ``_`` and spaces, then each space becomes ``-``)."""
    anchors = {}
    for heading in re.findall(r"^##+ (.+)$", markdown, re.M):
        kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in "-_ ")
        anchors[heading.strip()] = kept.replace(" ", "-")
    return anchors


def test_sarif_help_uri_is_the_rules_section_in_the_repository() -> None:
    import configparser

    metadata = configparser.ConfigParser()
    metadata.read(ROOT / "setup.cfg")
    base = metadata["metadata"]["url"] + "/blob/main/docs/rules.md#"
    assert base == "https://github.com/cnidoctor/cnidoctor/blob/main/docs/rules.md#"
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    anchors = _github_anchors(docs)
    # worked by hand from GitHub's rule: "(", ")" and "." dropped
    assert anchors["CNI313 chaining-before-0.3.0 (warning)"] == "cni313-chaining-before-030-warning"
    rules = sarif(busy_report())["runs"][0]["tool"]["driver"]["rules"]
    for rule, entry in zip(catalog().values(), rules):
        heading = f"{rule.code} {rule.name} ({rule.severity.label})"
        assert heading in anchors, f"docs/rules.md has no section {heading!r}"
        assert entry["helpUri"] == base + anchors[heading]
    # The index table at the top of docs/rules.md links to the same sections.
    for target in re.findall(r"^\| \[CNI\d{3}\]\(#([^)]+)\)", docs, re.M):
        assert target in anchors.values(), target


def test_sarif_rules_are_the_whole_catalog_with_githubs_required_texts() -> None:
    rules = sarif(busy_report())["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == CODES
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for rule, entry in zip(catalog().values(), rules):
        assert entry["name"] == rule.name
        for key in ("shortDescription", "fullDescription"):
            assert 0 < len(entry[key]["text"]) <= 1024
        assert entry["help"]["text"] and entry["help"]["markdown"]
        assert f"cnidoctor explain {rule.code}" in entry["help"]["text"]
        assert entry["defaultConfiguration"]["level"] == levels[rule.severity.label]
        assert len(entry["properties"]["tags"]) <= 20


def test_sarif_results_reference_their_rules_and_map_levels() -> None:
    run = sarif(busy_report())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
    assert 'Runtime error: invalid version ""' in results[0]["message"]["text"]


def test_sarif_locations_are_repo_relative_forward_slash_and_always_have_a_region(tmp_path: Path) -> None:
    inside = tmp_path / "deploy dir" / "net.d" / "10-a.conflist"
    report = Report(
        inputs=(str(tmp_path),),
        selected=None,
        findings=(
            finding(file=str(inside), line=None, column=None),
            finding(file="/etc/cni/net.d/10-b.conf", line=3, column=5),
        ),
        files=(str(inside),),
    )
    results = sarif(report, base_dir=str(tmp_path))["runs"][0]["results"]
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "deploy%20dir/net.d/10-a.conflist"
    assert first["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert first["region"] == {"startLine": 1, "startColumn": 1}
    outside = results[1]["locations"][0]["physicalLocation"]
    assert outside["artifactLocation"]["uri"] == "file:///etc/cni/net.d/10-b.conf"
    assert outside["region"] == {"startLine": 3, "startColumn": 5}
    base = sarif(report, base_dir=str(tmp_path))["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")


def test_sarif_node_findings_are_pinned_to_the_selected_config() -> None:
    node = sarif(busy_report())["runs"][0]["results"][3]["locations"][0]
    assert node["physicalLocation"]["artifactLocation"]["uri"] == "net.d/10-bridge.conflist"
    assert node["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 1}
    assert node["logicalLocations"] == [{"name": "plugin flannel", "kind": "module"}]


def test_sarif_fingerprint_survives_line_moves_but_not_a_different_place() -> None:
    def fingerprint(**changes: Any) -> str:
        report = Report(inputs=("net.d",), selected=None, findings=(finding(**changes),))
        value: str = sarif(report)["runs"][0]["results"][0]["partialFingerprints"]["cnidoctorFinding/v1"]
        return value

    assert fingerprint(line=3) == fingerprint(line=30)
    assert fingerprint(pointer="/plugins/0") != fingerprint(pointer="/plugins/1")
    assert fingerprint(file="net.d/a.conf") != fingerprint(file="net.d/b.conf")


def official_sarif_schema(cache_dir: Path) -> Dict[str, Any]:
    """The OASIS SARIF 2.1.0 (rtm.5) schema, as shipped in Microsoft's @microsoft/jest-sarif npm
    package (MIT); fetched with npm into the pytest cache. CNIDOCTOR_SARIF_SCHEMA may name a copy."""
    explicit = os.environ.get("CNIDOCTOR_SARIF_SCHEMA")
    if explicit:
        return dict(json.loads(Path(explicit).read_text()))
    target = cache_dir / "sarif-2.1.0-rtm.5.json"
    if not target.is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm not available to fetch the official SARIF schema")
        done = subprocess.run(
            [npm, "pack", "@microsoft/jest-sarif@1.0.0-beta.0", "--pack-destination", str(cache_dir)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=cache_dir,
        )
        tarballs = list(cache_dir.glob("microsoft-jest-sarif-*.tgz"))
        if done.returncode != 0 or not tarballs:
            pytest.skip(f"could not fetch the official SARIF schema with npm: {done.stderr.strip()[-200:]}")
        with tarfile.open(tarballs[0]) as archive:
            member = archive.extractfile("package/lib/schemas/sarif-2.1.0-rtm.5.json")
            assert member is not None
            target.write_bytes(member.read())
    return dict(json.loads(target.read_text()))


def test_sarif_validates_against_the_official_schema(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    schema = official_sarif_schema(Path(request.config.cache.mkdir("sarif-schema")))
    validator = jsonschema.Draft4Validator(schema)
    for report in (busy_report(), clean_report(), busy_report(selected=None, files=())):
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(sarif(report, str(tmp_path)))]
        assert errors == []
    broken = sarif(busy_report())
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(broken)


# -- github ---------------------------------------------------------------------------------------


def test_github_annotations_per_finding_with_severity_and_title() -> None:
    lines = render("github", busy_report()).splitlines()
    annotations = [line for line in lines if re.match(r"^::(error|warning|notice) ", line)]
    assert len(annotations) == 4
    assert annotations[0].startswith(f"::error file=net.d/10-bridge.conflist,line=1,col=1,title={CODE_A}::")
    assert annotations[1].startswith(f"::warning file=net.d/10-bridge.conflist,line=7,col=9,title={CODE_B}::")
    assert annotations[2].startswith(f"::notice file=net.d/99-loopback.conf,line=1,col=1,title={CODE_B}::")
    assert annotations[3].startswith(f"::error title={CODE_A}::plugin flannel: ")  # no file: job-level
    assert annotations[0].endswith(f"%0Asee: cnidoctor explain {CODE_A}")


def test_github_escaping_follows_actions_core() -> None:
    assert github_report.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github_report.escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    odd = finding(message="50% of\nplugins: a,b", file="net.d/x,y:z.conf")
    line = github_report.annotation(odd, RenderOptions())
    assert line.startswith("::error file=net.d/x%2Cy%3Az.conf,line=1,col=1,title=")
    assert "::50%25 of%0Aplugins: a,b%0A" in line
    assert "\n" not in line


def test_github_full_report_follows_with_commands_paused() -> None:
    """A config value quoted in a message must not become a workflow command."""
    hostile = finding(file="net.d/x\n::add-mask::secret.conf")  # Linux allows LF in names
    out = render("github", busy_report(findings=(hostile,)))
    lines = out.splitlines()
    start = lines.index("::group::cnidoctor report")
    token = lines[start + 1].split("::stop-commands::", 1)[1]
    assert len(token) >= 16 and token not in out.replace(f"::{token}::", "").replace(f"::stop-commands::{token}", "")
    assert lines[-2] == f"::{token}::" and lines[-1] == "::endgroup::"
    inside = [i for i, line in enumerate(lines) if line.startswith("::add-mask::")]
    assert inside and all(start + 1 < i < len(lines) - 2 for i in inside)
    assert "file=net.d/x%0A%3A%3Aadd-mask%3A%3Asecret.conf," in lines[0]
    assert "Runtime will use" in out and not ANSI.search(out)


# -- npd ------------------------------------------------------------------------------------------


def test_npd_one_line_within_80_bytes_worst_first() -> None:
    out = render("npd", busy_report())
    assert out.endswith("\n") and out.count("\n") == 1
    line = out.strip()
    assert len(line.encode()) <= 80
    assert line.startswith(f"{CODE_A} flannel:")  # an error (node-level, sorts first), not the warning or info
    assert line.endswith("(+3 more)")


def test_npd_cuts_long_and_multibyte_messages_whole() -> None:
    long = finding(message="ü" * 200)
    many = busy_report(findings=(long,) * 12)
    line = npd_report.one_line(many)
    assert len(line.encode("utf-8")) <= 80
    line.encode("utf-8").decode("utf-8")  # never split inside a character
    assert line.endswith("... (+11 more)")


def test_npd_clean_says_ok_and_names_the_selected_network() -> None:
    assert render("npd", clean_report()) == "OK 10-bridge.conflist network=cbr0 cniVersion=1.0.0\n"
    assert render("npd", Report(inputs=(), selected=None, findings=(), files=("a", "b"))).startswith("OK 2 ")


def test_summary_counts_consistent_across_formats() -> None:
    report = busy_report()
    counts = report.counts()
    assert json.loads(render("json", report))["summary"] == dict(counts)
    levels: List[str] = [r["level"] for r in sarif(report)["runs"][0]["results"]]
    assert levels.count("error") == counts["error"] and levels.count("note") == counts["info"]


# -- real runs through the CLI --------------------------------------------------------------------

REAL_PLUGINS = Path("/usr/lib/cni")


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])  # 1.1.0: newer than the Debian plugins
def test_real_probed_run_matches_the_schemas(tmp_path: Path, request: pytest.FixtureRequest, version: str) -> None:
    """Prediction and plugin records come from the node stage: check the real shapes, not ours."""
    from conftest import FIXTURES, run_cli

    if not (REAL_PLUGINS / "bridge").is_file():
        pytest.skip("real plugins not installed at /usr/lib/cni")
    net_d = tmp_path / "net.d"
    net_d.mkdir()
    source = (FIXTURES / "clean-bridge" / "net.d" / "10-bridge.conflist").read_text()
    (net_d / "10-bridge.conflist").write_text(source.replace('"1.0.0"', f'"{version}"'))
    args = ["check", "--bin-dir", str(REAL_PLUGINS), "--no-cache", "--fail-on", "never", "net.d"]
    document = json.loads(run_cli(args + ["--format", "json"], cwd=tmp_path).stdout)
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert document["prediction"] is not None and document["plugins"]
    text = run_cli(args, cwd=tmp_path).stdout.splitlines()
    # PATHS only: the runtime is an assumption and the first line says so; the prediction follows
    assert text[0].startswith("Runtime: containerd") and "assumed: not read from a node" in text[0]
    # the Runtime line wraps to 80 columns; its continuation lines are indented
    assert next(line for line in text[1:] if line and not line.startswith(" ")).startswith("Prediction: ")
    official = official_sarif_schema(Path(request.config.cache.mkdir("sarif-schema")))
    log = json.loads(run_cli(args + ["--format", "sarif"], cwd=tmp_path).stdout)
    assert list(jsonschema.Draft4Validator(official).iter_errors(log)) == []


@pytest.mark.parametrize(
    ("flag", "env", "coloured"),
    [
        ("auto", {}, False),  # CliRunner's stdout is not a TTY
        ("auto", {"FORCE_COLOR": "1"}, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # no-color.org wins
        ("always", {}, True),
        ("never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_cli_colour_decision_reaches_the_output(tmp_path: Path, flag: str, env: Dict[str, str], coloured: bool) -> None:
    from conftest import run_cli

    (tmp_path / ".cnidoctor.toml").write_text("unknown-key = 1\n")  # one CNI902 finding to colour
    (tmp_path / "net.d").mkdir()
    environment = {"NO_COLOR": "", "FORCE_COLOR": "", **env}
    result = run_cli(["check", "--no-probe", "--color", flag, "net.d"], cwd=tmp_path, env=environment)
    assert "CNI902" in result.stdout
    assert bool(ANSI.search(result.stdout)) is coloured


def test_default_format_is_github_annotations_inside_github_actions(tmp_path: Path) -> None:
    from conftest import run_cli

    conf = tmp_path / "10-x.conflist"
    conf.write_text('{"cniVersion": "1.0.0", "plugins": [{"type": "bridge"}]}')  # no list name: CNI114
    inside = run_cli(["check", "--no-probe", str(conf)], env={"GITHUB_ACTIONS": "true"})
    assert inside.output.startswith("::error ") and "title=CNI114" in inside.output
    outside = run_cli(["check", "--no-probe", str(conf)])
    assert not outside.output.startswith("::")
    explicit = run_cli(["check", "--no-probe", "--format", "json", str(conf)], env={"GITHUB_ACTIONS": "true"})
    assert explicit.output.lstrip().startswith("{")
