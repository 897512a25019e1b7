"""CNI9xx: problems with cnidoctor's own configuration (.cnidoctor.toml / [tool.cnidoctor])."""

from __future__ import annotations

from typing import Tuple

from ..model import Rule, Severity

UNUSED_IGNORE = Rule(
    code="CNI901",
    name="unused-ignore",
    severity=Severity.WARNING,
    summary="A per-path ignore entry in the settings file matched no finding.",
    meaning=(
        "Every per-path ignore (`[[ignore]]` with `path`, `codes` and `reason`) must still be "
        "needed. An entry that suppresses nothing is stale: the problem was fixed, the file was "
        "renamed or deleted, or the glob is wrong; a later, real problem in a similarly named file "
        "could then hide behind it, and the `reason` no longer describes anything. The entry is "
        "reported when its glob matches a file checked in this run but no finding there, or when "
        "it matches no file on disk at all. An entry for a file that exists but was not checked "
        "(pre-commit passes only changed files) is not judged. Ruff's RUF100 (unused `noqa`) and "
        "pre-commit's `check-useless-excludes` hook apply the same idea."
    ),
    example=(
        "# .cnidoctor.toml\n"
        "[[ignore]]\n"
        'path = "net.d/10-old.conflist"   # file was deleted last quarter\n'
        'codes = ["CNI301"]\n'
        'reason = "legacy flannel config, removed in Q3"'
    ),
    correct_example='# .cnidoctor.toml: only entries that still match something\n[[ignore]]\npath = "net.d/10-flannel.conflist"\ncodes = ["CNI301"]\nreason = "flannel config rewritten by the operator on upgrade"',
    when_to_ignore="When the same settings file serves several nodes and the entry matches on some of them.",
    fix="Delete the ignore entry, or correct its `path`/`codes` so it matches what it was meant to silence.",
    references=(
        "cnidoctor settings: the `cnidoctor.settings` module docstring (keys and glob rules)",
        "ruff RUF100 unused-noqa",
        "pre-commit meta hook check-useless-excludes",
    ),
)

INVALID_SETTINGS = Rule(
    code="CNI902",
    name="invalid-settings",
    severity=Severity.ERROR,
    summary="A settings entry is malformed and was not applied.",
    meaning=(
        "cnidoctor reads `.cnidoctor.toml`, or the `[tool.cnidoctor]` table of pyproject.toml, "
        "found by walking up from the working directory (`--config` names one explicitly). Known "
        "keys are `select`, `ignore`, `severity` and `fail-on`. An entry with an unknown key, an "
        "unknown rule code or prefix, an unknown severity, or an `[[ignore]]` entry without the "
        "required `reason` (or with neither `path` nor `codes`) is not applied, so the run does not do what the file says: "
        "a finding meant to be silenced is still reported, or one meant to fail the build passes. "
        "It is an error so that CI notices. A file that is not valid TOML, or a `--config` file "
        "that does not exist, stops the run instead (exit 2)."
    ),
    example=(
        "# .cnidoctor.toml\n"
        'ignores = ["CNI009"]        # unknown key: the setting is "ignore"\n'
        "[severity]\n"
        'CNI007 = "low"              # severities are error, warning, info\n'
        "[[ignore]]\n"
        'path = "net.d/*.conf"\n'
        'codes = ["CNI999"]          # no such rule, and no reason'
    ),
    correct_example=(
        "# .cnidoctor.toml\n"
        "[severity]\n"
        'CNI007 = "info"\n'
        "[[ignore]]\n"
        'path = "net.d/*.conf"\n'
        'codes = ["CNI009"]\n'
        'reason = "sample configs shipped by the distribution"'
    ),
    when_to_ignore="Never: cnidoctor cannot apply the entry as written.",
    fix=(
        "Correct the entry: keys select, ignore, severity, fail-on; codes listed by `cnidoctor rules`; "
        "severities error, warning, info; every [[ignore]] entry with a `reason` and a `path`, `codes` or both."
    ),
    references=("cnidoctor settings: the `cnidoctor.settings` module docstring (keys and glob rules)",),
)

RULES: Tuple[Rule, ...] = (UNUSED_IGNORE, INVALID_SETTINGS)
