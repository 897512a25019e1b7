"""Shared test helpers: run the CLI in-process through click's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
from click.testing import CliRunner, Result

from cnidoctor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"


def run_cli(args: Sequence[str], cwd: Path | None = None, env: Dict[str, str] | None = None) -> Result:
    """Invoke cnidoctor in-process; exceptions propagate so a crash fails the test loudly."""
    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        # The default report format follows GITHUB_ACTIONS; tests choose it explicitly.
        merged: Dict[str, Optional[str]] = {"GITHUB_ACTIONS": None, **(env or {})}
        return runner.invoke(cli, list(args), catch_exceptions=False, env=merged)
    finally:
        os.chdir(old)


def finding_keys(report: Dict[str, Any]) -> List[Tuple[str, str, str, str]]:
    """Findings as (code, file, pointer, severity), sorted: what fixtures assert on."""
    return sorted((f["code"], f["file"] or "", f["pointer"], f["severity"]) for f in report["findings"])


@pytest.fixture
def shared_corpus() -> Path:
    corpus = SHARED / "corpus" / "real-world"
    if not (corpus / "SOURCES.tsv").is_file():
        pytest.skip("../shared/corpus/real-world is not present (fresh clone)")
    return corpus


def load_json(text: str) -> Any:
    return json.loads(text)
