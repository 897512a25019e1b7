"""Settings: discovery, validation (CNI902), application, unused ignores (CNI901), CLI wiring."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Iterable, List, Tuple

import pytest
from conftest import run_cli

from cnidoctor import settings
from cnidoctor.model import Finding, Severity
from cnidoctor.settings import Settings, SettingsError, compile_glob

KNOWN = frozenset({"CNI007", "CNI009", "CNI012", "CNI101", "CNI301", "CNI307", "CNI401", "CNI901", "CNI902"})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(tmp_path: Path, cwd: Path | None = None, explicit: str | None = None) -> Settings:
    return settings.load(explicit, str(cwd or tmp_path), known_codes=KNOWN)


def f(code: str, file: str | None = "net.d/10-a.conflist", severity: Severity = Severity.ERROR) -> Finding:
    return Finding(code=code, severity=severity, message="m", file=file)


def keys(findings: Iterable[Finding]) -> List[Tuple[str, str, str, str]]:
    return sorted((x.code, x.file or "", x.pointer, x.severity.label) for x in findings)


# -- discovery ------------------------------------------------------------------------------------


def test_no_settings_file_gives_defaults(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    assert loaded.source is None and loaded.problems == () and loaded.fail_on is None
    assert loaded.apply([f("CNI301")], []) == [f("CNI301")]


def test_found_by_walking_up_and_paths_shown_relative_to_cwd(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", 'ignore = ["CNI3"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    loaded = load(tmp_path, cwd=deep)
    assert loaded.source == "../../.cnidoctor.toml" and loaded.ignore == ("CNI3",)
    assert loaded.root == str(tmp_path)


def test_nearest_wins_and_dotfile_beats_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", 'ignore = ["CNI101"]\n')
    write(tmp_path / "sub" / "pyproject.toml", '[tool.cnidoctor]\nignore = ["CNI301"]\n')
    assert load(tmp_path, cwd=tmp_path / "sub").ignore == ("CNI301",)
    write(tmp_path / "sub" / ".cnidoctor.toml", 'ignore = ["CNI401"]\n')
    assert load(tmp_path, cwd=tmp_path / "sub").ignore == ("CNI401",)


def test_pyproject_without_a_cnidoctor_table_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", 'ignore = ["CNI101"]\n')
    write(tmp_path / "sub" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    assert load(tmp_path, cwd=tmp_path / "sub").ignore == ("CNI101",)


def test_pyproject_pointers_name_the_tool_table(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
        [tool.cnidoctor]
        select = ["CNI3", "CNI777"]
        """,
    )
    loaded = load(tmp_path)
    assert [(p.code, p.pointer, p.line, p.column) for p in loaded.problems] == [
        ("CNI902", "/tool/cnidoctor/select/1", 2, 20)
    ]  # at the code itself


def test_explicit_config_wins_and_must_exist(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", 'ignore = ["CNI101"]\n')
    write(tmp_path / "ci" / "strict.toml", 'fail-on = "warning"\n')
    loaded = load(tmp_path, explicit="ci/strict.toml")
    assert loaded.fail_on == "warning" and loaded.ignore == () and loaded.source == "ci/strict.toml"
    with pytest.raises(SettingsError, match="does not exist"):
        load(tmp_path, explicit="missing.toml")


def test_explicit_pyproject_needs_the_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(SettingsError, match=r"no \[tool.cnidoctor\] table"):
        load(tmp_path, explicit="pyproject.toml")


@pytest.mark.parametrize("text", ['select = ["CNI3"\n', "ignore = \n", "[severity\n", "a = 1\na = 2\n"])
def test_invalid_toml_is_a_usage_error(tmp_path: Path, text: str) -> None:
    write(tmp_path / ".cnidoctor.toml", text)
    with pytest.raises(SettingsError, match="not valid TOML"):
        load(tmp_path)


def test_non_utf8_settings_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ".cnidoctor.toml").write_bytes(b'ignore = ["\xff"]\n')
    with pytest.raises(SettingsError, match="not UTF-8"):
        load(tmp_path)


# -- validation: CNI902 ---------------------------------------------------------------------------


def test_invalid_entries_are_cni902_at_their_line_and_not_applied(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        select = ["CNI3", 7]
        ignores = ["CNI009"]
        fail-on = "sometimes"

        [severity]
        CNI007 = "low"
        CNI999 = "info"
        CNI307 = "info"

        [[ignore]]
        path = "net.d/10-a.conflist"
        codes = ["CNI301"]

        [[ignore]]
        reason = "neither path nor codes"

        [[ignore]]
        path = "net.d/*"
        codes = ["CNI123"]
        reason = "unknown code"

        [[ignore]]
        path = "net.d/*"
        reason = "typo"
        code = ["CNI301"]
        """,
    )
    loaded = load(tmp_path)
    found = [(p.code, p.pointer, p.line) for p in loaded.problems]
    assert sorted(found) == sorted(
        [
            ("CNI902", "/select/1", 1),
            ("CNI902", "/ignores", 2),
            ("CNI902", "/fail-on", 3),
            ("CNI902", "/severity/CNI007", 6),
            ("CNI902", "/severity/CNI999", 7),
            ("CNI902", "/ignore/0", 10),
            ("CNI902", "/ignore/1", 14),
            ("CNI902", "/ignore/2", 17),
            ("CNI902", "/ignore/3", 22),
        ]
    )
    assert all(p.severity is Severity.ERROR and p.file == ".cnidoctor.toml" for p in loaded.problems)
    assert loaded.select == ("CNI3",) and loaded.fail_on is None
    assert loaded.severity == (("CNI307", Severity.INFO),)
    assert loaded.path_ignores == ()  # none of the four entries is applied...
    kept = loaded.apply([f("CNI301")], ["net.d/10-a.conflist"])
    assert ("CNI301", "net.d/10-a.conflist", "", "error") in keys(kept)  # ...so the finding stays


def test_missing_reason_message_and_fix_say_what_to_do(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", '[[ignore]]\npath = "net.d/x.conf"\ncodes = ["CNI301"]\n')
    (problem,) = load(tmp_path).problems
    assert "no `reason`" in problem.message and problem.fix and "reason" in problem.fix


def test_entry_without_path_ignores_its_codes_everywhere_and_is_never_stale(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        [[ignore]]
        codes = ["CNI4"]
        reason = "plugins are installed by the CNI DaemonSet after this check runs"
        """,
    )
    loaded = load(tmp_path)
    assert loaded.problems == ()
    out = loaded.apply([f("CNI401", None), f("CNI402"), f("CNI301")], ["net.d/10-a.conflist"])
    assert [x.code for x in out] == ["CNI301"]
    assert loaded.apply([], ["net.d/10-a.conflist"]) == []  # matched nothing, still no CNI901


def test_plain_ignore_list_next_to_ignore_tables_explains_the_toml_rule(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        ignore = ["CNI012"]
        [[ignore]]
        path = "net.d/99-loopback.conf"
        codes = ["CNI301"]
        reason = "r"
        """,
    )
    with pytest.raises(SettingsError, match=r"cannot both appear.*no `path`"):
        load(tmp_path)


def test_inline_table_entries_in_the_ignore_array(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        ignore = [
          "CNI009",
          {path = "net.d/99-legacy.conf", codes = ["CNI301"], reason = "removed in Q3"},
        ]
        """,
    )
    loaded = load(tmp_path)
    assert loaded.problems == () and loaded.ignore == ("CNI009",)
    (entry,) = loaded.path_ignores
    assert entry.path == "net.d/99-legacy.conf" and entry.codes == ("CNI301",) and entry.line == 1


# -- application ----------------------------------------------------------------------------------


def test_select_ignore_and_severity_overrides() -> None:
    s = Settings(
        select=("CNI3", "CNI4"), ignore=("CNI40",), severity=(("CNI3", Severity.WARNING), ("CNI307", Severity.INFO))
    )
    out = s.apply([f("CNI301"), f("CNI307"), f("CNI401"), f("CNI101")], [])
    assert keys(out) == [
        ("CNI301", "net.d/10-a.conflist", "", "warning"),
        ("CNI307", "net.d/10-a.conflist", "", "info"),
    ]  # longest prefix wins


def test_path_ignore_silences_only_its_codes_in_its_files(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        [[ignore]]
        path = "net.d/99-*.conf"
        codes = ["CNI3"]
        reason = "vendor file, fixed upstream in 2.1"
        """,
    )
    files = ["net.d/10-a.conflist", "net.d/99-vendor.conf"]
    out = load(tmp_path).apply([f("CNI301", files[0]), f("CNI301", files[1]), f("CNI101", files[1])], files)
    assert keys(out) == [("CNI101", files[1], "", "error"), ("CNI301", files[0], "", "error")]


def test_paths_outside_the_cwd_and_absolute_paths_are_matched(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        [[ignore]]
        path = "net.d/10-a.conflist"
        reason = "r"
        """,
    )
    absolute = str(tmp_path / "net.d" / "10-a.conflist")
    loaded = load(tmp_path, cwd=tmp_path)
    assert loaded.apply([f("CNI301", absolute)], [absolute]) == []
    (tmp_path / "sub").mkdir()
    from_sub = load(tmp_path, cwd=tmp_path / "sub")
    assert from_sub.apply([f("CNI301", "../net.d/10-a.conflist")], ["../net.d/10-a.conflist"]) == []


def test_unused_ignore_is_cni901_at_the_entry(tmp_path: Path) -> None:
    write(tmp_path / "net.d" / "10-a.conflist", "{}")
    write(
        tmp_path / ".cnidoctor.toml",
        """
        # comment

        [[ignore]]
        path = "net.d/10-a.conflist"
        codes = ["CNI301"]
        reason = "was missing cniVersion"

        [[ignore]]
        path = "net.d/05-gone.conflist"
        reason = "deleted file"
        """,
    )
    out = load(tmp_path).apply([f("CNI101")], ["net.d/10-a.conflist"])
    unused = [x for x in out if x.code == "CNI901"]
    assert [(x.pointer, x.line, x.column, x.severity) for x in unused] == [
        ("/ignore/0", 3, 1, Severity.WARNING),
        ("/ignore/1", 8, 1, Severity.WARNING),
    ]
    assert "was missing cniVersion" in unused[0].message  # the reason is quoted back


def test_entry_for_an_existing_file_not_checked_this_run_is_not_judged(tmp_path: Path) -> None:
    """pre-commit passes only changed files: an ignore for an untouched file is not stale."""
    write(tmp_path / "net.d" / "99-vendor.conf", "{}")
    write(tmp_path / ".cnidoctor.toml", '[[ignore]]\npath = "99-vendor.conf"\nreason = "vendor"\n')
    assert load(tmp_path).apply([], ["net.d/10-other.conflist"]) == []
    (tmp_path / "net.d" / "99-vendor.conf").unlink()
    assert [x.code for x in load(tmp_path).apply([], ["net.d/10-other.conflist"])] == ["CNI901"]


def test_unused_ignore_respects_select_and_severity(tmp_path: Path) -> None:
    write(
        tmp_path / ".cnidoctor.toml",
        """
        [severity]
        CNI901 = "error"
        [[ignore]]
        path = "gone.conf"
        reason = "r"
        """,
    )
    assert keys(load(tmp_path).apply([], [])) == [("CNI901", ".cnidoctor.toml", "/ignore/0", "error")]
    silenced = load(tmp_path).with_flags(ignore=("CNI901",), known_codes=KNOWN)
    assert silenced.apply([], []) == []


def test_node_level_findings_are_not_path_ignored(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", '[[ignore]]\npath = "**"\nreason = "everything"\n')
    out = load(tmp_path).apply([f("CNI401", None), f("CNI301")], ["net.d/10-a.conflist"])
    assert [x.code for x in out] == ["CNI401"]  # CNI301 silenced, so the entry is used


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.conf", "net.d/sub/99-x.conf", True),  # no slash: any depth, like .gitignore
        ("net.d/*.conf", "net.d/99-x.conf", True),
        ("net.d/*.conf", "net.d/sub/99-x.conf", False),  # * stays in one segment
        ("net.d/**/*.conf", "net.d/a/b/99-x.conf", True),
        ("net.d/**/*.conf", "net.d/99-x.conf", True),
        ("legacy", "legacy/net.d/10.conf", True),  # a directory covers its files
        ("net.d/[0-4]?-*.conflist", "net.d/05-a.conflist", True),
        ("net.d/[!0-4]?-*.conflist", "net.d/05-a.conflist", False),
        ("net.d/10-a.conf", "net.d/10-a.conflist", False),
        ("net.d/[bad", "net.d/[bad", True),  # an unclosed [ is literal
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    candidate = path
    found = False
    while candidate:
        found = found or bool(compile_glob(pattern).match(candidate))
        candidate = candidate.rpartition("/")[0]
    assert found is matches


# -- command-line flags ---------------------------------------------------------------------------


def test_flags_replace_select_and_extend_ignore() -> None:
    base = Settings(select=("CNI3",), ignore=("CNI009",))
    merged = base.with_flags(select=("CNI4",), ignore=("CNI101",), known_codes=KNOWN)
    assert merged.select == ("CNI4",) and merged.ignore == ("CNI009", "CNI101")
    assert base.with_flags(known_codes=KNOWN).select == ("CNI3",)
    with pytest.raises(SettingsError, match="CNI999"):
        base.with_flags(ignore=("CNI999",), known_codes=KNOWN)


# -- through the CLI ------------------------------------------------------------------------------


def test_cli_invalid_toml_exits_2_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", "select = [\n")
    (tmp_path / "net.d").mkdir()
    result = run_cli(["check", "--no-probe", "net.d"], cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_config_and_unknown_flag_code_exit_2(tmp_path: Path) -> None:
    (tmp_path / "net.d").mkdir()
    missing = run_cli(["check", "--no-probe", "--config", "nope.toml", "net.d"], cwd=tmp_path)
    assert missing.exit_code == 2 and "nope.toml does not exist" in missing.stderr
    unknown = run_cli(["check", "--no-probe", "--ignore", "CNI999", "net.d"], cwd=tmp_path)
    assert unknown.exit_code == 2 and "CNI999" in unknown.stderr


def test_cli_fail_on_from_settings_and_flag_wins(tmp_path: Path) -> None:
    """A CNI902 (error) finding; settings say fail-on = never, the flag says error."""
    write(tmp_path / ".cnidoctor.toml", 'fail-on = "never"\nunknown-key = 1\n')
    (tmp_path / "net.d").mkdir()
    from_settings = run_cli(["check", "--no-probe", "--format", "json", "net.d"], cwd=tmp_path)
    codes = [x["code"] for x in json.loads(from_settings.stdout)["findings"]]
    assert "CNI902" in codes and from_settings.exit_code == 0
    flag = run_cli(["check", "--no-probe", "--fail-on", "error", "net.d"], cwd=tmp_path)
    assert flag.exit_code == 1


def test_cli_settings_finding_is_located_in_the_settings_file(tmp_path: Path) -> None:
    write(tmp_path / ".cnidoctor.toml", '# strict\n\n[severity]\nCNI999 = "info"\n')
    (tmp_path / "net.d").mkdir()
    result = run_cli(["check", "--no-probe", "--format", "json", "--fail-on", "never", "net.d"], cwd=tmp_path)
    mine = [x for x in json.loads(result.stdout)["findings"] if x["code"] == "CNI902"]
    assert [(x["file"], x["pointer"], x["line"], x["column"]) for x in mine] == [
        (".cnidoctor.toml", "/severity/CNI999", 4, 1)
    ]
