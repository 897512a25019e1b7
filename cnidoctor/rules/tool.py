"""CNI9xx: problems with cnidoctor's own configuration (.cnidoctor.toml)."""
from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

UNUSED_IGNORE = Rule(
    code="CNI901",
    name="unused-ignore",
    severity=Severity.WARNING,
    summary="An ignore entry in .cnidoctor.toml matched no finding.",
    meaning=(
        "Every per-path ignore in `.cnidoctor.toml` must still be needed. An entry that "
        "suppresses nothing is stale: the problem was fixed, the file was renamed, or the "
        "path pattern is wrong, and a later real problem could hide behind a similar entry. "
        "pre-commit's `check-useless-excludes` hook applies the same idea to excludes."
    ),
    example=(
        '[[tool.cnidoctor.ignore]]\n'
        'path = "net.d/10-old.conflist"   # file no longer exists\n'
        'codes = ["CNI301"]\n'
        'reason = "legacy config, removed in Q3"'
    ),
    fix="Delete the ignore entry, or correct its `path`/`codes` so it matches what it was meant to silence.",
)

INVALID_SETTINGS = Rule(
    code="CNI902",
    name="invalid-settings",
    severity=Severity.ERROR,
    summary="A .cnidoctor.toml entry is malformed and was not applied.",
    meaning=(
        "cnidoctor reads `.cnidoctor.toml` (or `[tool.cnidoctor]` in pyproject.toml) found by "
        "walking up from the working directory. An entry with an unknown rule code, an unknown "
        "severity, or an ignore without the required `reason` is not applied, so the run does "
        "not do what the file says."
    ),
    example='[[ignore]]\npath = "net.d/*.conf"\ncodes = ["CNI999"]   # no such rule, and no reason',
    fix="Correct the entry: use codes listed by `cnidoctor rules`, severities error|warning|info, and give every ignore a `reason`.",
)

RULES: Tuple[Rule, ...] = (UNUSED_IGNORE, INVALID_SETTINGS)
