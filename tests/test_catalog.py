"""The catalog is the documentation: every rule complete, codes permanent and well-formed,
every code exercised by at least one fixture scenario, docs/rules.md current."""

from __future__ import annotations

import json
import re
from typing import Set

import pytest
from conftest import FIXTURES, ROOT, run_cli

from cnidoctor.model import Severity
from cnidoctor.report import catalog as catalog_render
from cnidoctor.rules import CODE_PATTERN, FAMILIES, catalog

RULES = list(catalog().values())

# The design's code ranges (docs/design.md): family module -> first digit(s) of the code.
RANGES = ("CNI0", "CNI1", "CNI2", "CNI3", "CNI4", "CNI50", "CNI5", "CNI9")


# Codes no fixture scenario can show when the suite runs as root (as CI does), each with the
# test that exercises it instead.
EXERCISED_ELSEWHERE = {
    "CNI505": ROOT / "tests" / "test_probe_not_run.py",  # root may exec any file with an x bit
}


def fixture_codes() -> Set[str]:
    codes: Set[str] = set()
    for expected in FIXTURES.glob("*/expected.json"):
        codes.update(item["code"] for item in json.loads(expected.read_text()))
    return codes


def test_codes_are_well_formed_and_unique() -> None:
    codes = [rule.code for family in FAMILIES for rule in family]
    assert len(codes) == len(set(codes))
    assert all(CODE_PATTERN.match(code) for code in codes)
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9.]+)*", name) for name in names)


def test_each_family_stays_in_its_range() -> None:
    for family, prefix in zip(FAMILIES, RANGES):
        for rule in family:
            assert rule.code.startswith(prefix), (rule.code, prefix)


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
