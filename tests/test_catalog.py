"""The catalog is the documentation: every rule complete, codes permanent and well-formed,
every code exercised by at least one fixture scenario, docs/rules.md current."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Dict, List, Optional, Set

import pytest
from conftest import FIXTURES, ROOT, run_cli

from cnidoctor.model import Severity
from cnidoctor.report import catalog as catalog_render
from cnidoctor.rules import CODE_PATTERN, catalog, families

RULES = list(catalog().values())

# Codes no fixture scenario can show when the suite runs as root (as CI does), each with the
# test that exercises it instead.
EXERCISED_ELSEWHERE = {
    "CNI505": ROOT / "tests" / "test_probe_not_run.py",  # root may exec any file with an x bit
    # live interfaces: a real bridge in a throwaway network namespace
    "CNI702": ROOT / "tests" / "test_nodestate_netns.py",
    "CNI703": ROOT / "tests" / "test_nodestate_netns.py",
    # ownership and modes: git stores neither an owner nor a group/other write bit
    "CNI016": ROOT / "tests" / "test_permissions.py",
    "CNI411": ROOT / "tests" / "test_permissions.py",
}


def fixture_codes() -> Set[str]:
    codes: Set[str] = set()
    for expected in FIXTURES.glob("*/expected.json"):
        data = json.loads(expected.read_text())
        # node roots (tests/test_node_fixtures.py) wrap their findings with the runtime section
        items = data["findings"] if isinstance(data, dict) else data
        codes.update(item["code"] for item in items)
    return codes


def test_codes_are_well_formed_and_unique() -> None:
    codes = [rule.code for family in families() for rule in family.rules]
    assert len(codes) == len(set(codes))
    assert all(CODE_PATTERN.match(code) for code in codes)
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9.]+)*", name) for name in names)


def test_each_family_stays_in_its_range() -> None:
    # the ranges docs/design.md documents, in family order
    assert [f.prefix for f in families()] == [
        "CNI0",
        "CNI1",
        "CNI2",
        "CNI3",
        "CNI4",
        "CNI50",
        "CNI5",
        "CNI6",
        "CNI7",
        "CNI9",
    ]
    for family in families():
        for rule in family.rules:
            assert rule.code.startswith(family.prefix), (rule.code, family.prefix)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_documented(rule) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(rule.severity, Severity)
    assert rule.summary and "\n" not in rule.summary and len(rule.summary) <= 120
    for text in (rule.meaning, rule.example, rule.fix):
        assert len(text.strip()) >= 20, rule.code


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_exercised_by_a_fixture(rule) -> None:  # type: ignore[no-untyped-def]
    if rule.code in EXERCISED_ELSEWHERE:
        assert rule.code in EXERCISED_ELSEWHERE[rule.code].read_text()
        return
    assert rule.code in fixture_codes(), f"no fixtures/*/expected.json expects {rule.code}"


def test_node_fixtures_count_for_the_runtime_family() -> None:
    # the CNI6 family is exercised end to end by node roots, not by net.d scenarios
    node_codes: Set[str] = set()
    for expected in FIXTURES.glob("node-*/expected.json"):
        node_codes.update(item["code"] for item in json.loads(expected.read_text())["findings"])
    assert {r.code for r in RULES if r.code.startswith("CNI6")} - node_codes - set(EXERCISED_ELSEWHERE) == set()


def test_every_code_has_explain_output() -> None:
    for rule in RULES:
        result = run_cli(["explain", rule.code])
        assert result.exit_code == 0
        assert rule.code in result.output and rule.fix.split()[0] in result.output


def test_rules_json_lists_every_code() -> None:
    result = run_cli(["rules", "--format", "json"])
    assert [r["code"] for r in json.loads(result.output)] == [r.code for r in RULES]


def test_docs_rules_md_is_current() -> None:
    # Regenerate with: cnidoctor rules --format markdown > docs/rules.md
    assert (ROOT / "docs" / "rules.md").read_text() == catalog_render.render_catalog("markdown")


# The team's private notes are not in a clone: user-visible text cites upstream sources instead.
NOTES = re.compile(r"cni-facts|runtime-facts|ecosystem-anchors|aesthetics-anchors|shared/corpus", re.IGNORECASE)


def rule_texts(rule) -> List[str]:  # type: ignore[no-untyped-def]
    texts: List[str] = []
    for value in dataclasses.asdict(rule).values():
        texts += list(value) if isinstance(value, (tuple, list)) else [str(value)]
    return texts


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_text_cites_no_team_notes(rule) -> None:  # type: ignore[no-untyped-def]
    for text in rule_texts(rule):
        assert not NOTES.search(text), (rule.code, text)


def test_explain_knowledge_base_cites_no_team_notes() -> None:
    from cnidoctor.explain.kb import KB_PATH

    assert not NOTES.search(KB_PATH.read_text(encoding="utf-8"))


def test_docs_and_fixture_readmes_cite_no_team_notes() -> None:
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *FIXTURES.glob("*/README.md")]
    assert len(pages) > 50
    offenders = [str(p.relative_to(ROOT)) for p in pages if NOTES.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_rule_catalog_output_cites_no_team_notes(fmt: str) -> None:
    result = run_cli(["rules", "--format", fmt])
    assert result.exit_code == 0 and not NOTES.search(result.output)


def test_sarif_report_cites_no_team_notes() -> None:
    # The SARIF driver lists every rule (help text, references) whatever the findings.
    scenario = FIXTURES / "syntax-trailing-comma"
    result = run_cli(["check", "--no-probe", "--format", "sarif", "net.d"], cwd=scenario)
    assert result.exit_code in (0, 1) and '"ruleId"' in result.output
    assert not NOTES.search(result.output)


def mentioned_codes(text: str) -> Set[str]:
    return set(re.findall(r"\bCNI\d{3}\b", text))


# CNI902 (settings name an unknown code) shows an unknown code in its example, on purpose.
DELIBERATELY_UNKNOWN = {("CNI902", "CNI999")}


def test_every_code_a_rule_mentions_is_in_the_catalog() -> None:
    mentioned = {(rule.code, code) for rule in RULES for t in rule_texts(rule) for code in mentioned_codes(t)}
    assert {pair for pair in mentioned if pair[1] not in catalog()} == DELIBERATELY_UNKNOWN


def test_every_code_the_knowledge_base_mentions_is_in_the_catalog() -> None:
    from cnidoctor.explain.kb import KB_PATH, entries

    codes = mentioned_codes(KB_PATH.read_text(encoding="utf-8"))
    codes.update(code for entry in entries() for code in entry.codes)
    assert codes, "the knowledge base names no code at all"
    assert sorted(codes - set(catalog())) == []


def test_explanation_of_empty_version_points_only_at_explainable_codes() -> None:
    # This explanation used to end with `cnidoctor explain CNI514`, which exits 2.
    result = run_cli(
        ["explain", 'failed to destroy network for sandbox "abc": invalid version "": the version is empty']
    )
    assert result.exit_code == 0
    pointed = re.findall(r"cnidoctor explain (CNI\d{3})", result.output)
    assert pointed
    for code in pointed:
        assert run_cli(["explain", code]).exit_code == 0, code


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_has_correct_example_and_when_to_ignore(rule) -> None:  # type: ignore[no-untyped-def]
    assert len(rule.correct_example.strip()) >= 10, rule.code
    assert rule.correct_example != rule.example, rule.code
    assert len(rule.when_to_ignore.strip()) >= 20, rule.code


def config_in(example: str) -> Optional[Dict[str, Any]]:
    """The JSON config an example shows, without a leading file name or a trailing remark."""
    text = re.sub(r"^[\w./-]+\.(conf|conflist|json): ", "", example.strip())
    text = re.sub(r"\s+\(.*\)\s*$", "", text, flags=re.DOTALL)
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


JSON_CORRECT = [r for r in RULES if config_in(r.correct_example) is not None]


@pytest.mark.parametrize("rule", JSON_CORRECT, ids=[r.code for r in JSON_CORRECT])
def test_correct_example_is_not_reported_by_its_rule(rule, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = config_in(rule.correct_example)
    assert config is not None
    path = tmp_path / ("10-example.conflist" if "plugins" in config else "10-example.conf")
    path.write_text(json.dumps(config))
    result = run_cli(["check", "--no-probe", "--format", "json", str(path)])
    assert result.exit_code in (0, 1), result.output
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert rule.code not in codes, codes


def test_most_config_rules_have_a_checkable_correct_example() -> None:
    # The check above is only worth something if it covers the config families.
    assert len(JSON_CORRECT) >= 40, [r.code for r in JSON_CORRECT]
