"""Settings: ``.cnidoctor.toml`` or ``[tool.cnidoctor]`` in pyproject.toml, plus command-line flags.

Discovery walks up from the working directory; in each directory ``.cnidoctor.toml`` wins over a
``pyproject.toml`` that has a ``[tool.cnidoctor]`` table (a pyproject without one is skipped, as
ruff does). ``--config`` names the file explicitly. A file that cannot be read or is not valid
TOML is a usage error (:class:`SettingsError`, exit 2): running with half the user's intent would
be worse than stopping. An entry that is well-formed TOML but wrong (unknown code, unknown
severity, ignore without a reason) becomes a CNI902 finding and is not applied.

Keys::

    select = ["CNI3", "CNI401"]          # only these codes or prefixes
    ignore = [                           # codes/prefixes everywhere, or per path with a reason
      "CNI009",
      {path = "net.d/99-legacy.conf", codes = ["CNI301"], reason = "removed in Q3"},
    ]
    fail-on = "warning"                  # error | warning | info | never
    [severity]
    CNI007 = "info"                      # per code or prefix; the longest prefix wins
    [[ignore]]                           # same as the inline table form above
    path = "net.d/**/*.conflist"
    codes = ["CNI307"]
    reason = "plugin X reads this key; see TICKET-1"
    [[ignore]]                           # no path: these codes everywhere (with a reason)
    codes = ["CNI012"]
    reason = "the installer keeps .bak copies"

TOML does not allow both ``ignore = [...]`` and ``[[ignore]]`` in one file; use one form.

Per-path ``path`` is a glob relative to the settings file's directory (``*`` and ``?`` stay inside
one path segment, ``**/`` spans directories); a pattern without ``/`` matches a file name at any
depth and a pattern that names a directory covers everything in it, as in .gitignore.
"""

from __future__ import annotations

import os
import re
from dataclasses import field, replace
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from .frozen import dataclass
from .gojson import escape_token
from .model import FAIL_ON_VALUES, FailOn, Finding, Severity
from .rules.tool import INVALID_SETTINGS, UNUSED_IGNORE

SETTINGS_FILE = ".cnidoctor.toml"
PYPROJECT = "pyproject.toml"
SEVERITY_VALUES = ("error", "warning", "info")
KNOWN_KEYS = ("select", "ignore", "severity", "fail-on")
ENTRY_KEYS = ("path", "codes", "reason")
CODE_OR_PREFIX = re.compile(r"^CNI[0-9]{0,3}$")
UNKNOWN_CODE_FIX = "Use a code or prefix listed by `cnidoctor rules` (e.g. CNI301 or CNI3), or remove it."
SEVERITY_FIX = 'Write [severity] entries as CNI007 = "info"; severities are error, warning and info.'


class SettingsError(Exception):
    """The settings file is missing (when named), unreadable or not TOML: a usage error (exit 2)."""


@dataclass(frozen=True)
class PathIgnore:
    """One ignore entry. ``codes`` empty: every code in the matching files; ``path`` empty: the
    codes everywhere (node-level findings included)."""

    path: str
    codes: Tuple[str, ...]
    reason: str
    pointer: str
    line: int
    column: int
    pattern: re.Pattern[str] = field(compare=False, repr=False, default=re.compile(r"(?!)"))

    def covers_code(self, code: str) -> bool:
        return not self.codes or any(code.startswith(c) for c in self.codes)


@dataclass(frozen=True)
class Settings:
    """What to report and how severe; ``apply`` is a pure function of findings and files.

    ``source`` is the settings file as shown in findings (None: defaults, no file). ``root`` is the
    directory per-path globs are relative to; ``cwd`` is where finding paths are relative to.
    ``problems`` are the CNI902 findings found while loading.
    """

    select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    severity: Tuple[Tuple[str, Severity], ...] = ()
    fail_on: Optional[FailOn] = None
    path_ignores: Tuple[PathIgnore, ...] = ()
    source: Optional[str] = None
    root: str = "."
    cwd: str = "."
    problems: Tuple[Finding, ...] = ()

    # -- applying -------------------------------------------------------------------------------

    def apply(self, findings: Iterable[Finding], files: Sequence[str]) -> List[Finding]:
        """Drop unselected, ignored and path-ignored findings, apply severity overrides, and add
        CNI902 (settings problems) and CNI901 (ignore entries that matched nothing)."""
        used = [False] * len(self.path_ignores)
        kept: List[Finding] = []
        for finding in list(findings) + list(self.problems):
            hits = [i for i, entry in enumerate(self.path_ignores) if self._entry_matches(entry, finding)]
            for i in hits:
                used[i] = True
            if not hits and self.is_selected(finding.code):
                kept.append(self.override(finding))
        for entry, was_used in zip(self.path_ignores, used):
            if not was_used and self._judgeable(entry, files) and self.is_selected(UNUSED_IGNORE.code):
                kept.append(self.override(self._unused(entry)))
        return kept

    def is_selected(self, code: str) -> bool:
        if self.select and not any(code.startswith(s) for s in self.select):
            return False
        return not any(code.startswith(s) for s in self.ignore)

    def override(self, finding: Finding) -> Finding:
        """The finding with its severity overridden by the longest matching code prefix."""
        matches = [(len(prefix), sev) for prefix, sev in self.severity if finding.code.startswith(prefix)]
        if not matches:
            return finding
        return replace(finding, severity=max(matches, key=lambda m: m[0])[1])

    def _entry_matches(self, entry: PathIgnore, finding: Finding) -> bool:
        if not entry.covers_code(finding.code):
            return False
        if not entry.path:
            return True  # no path: these codes everywhere, node-level findings included
        return finding.file is not None and self._path_matches(entry, finding.file)

    def _path_matches(self, entry: PathIgnore, path: str) -> bool:
        absolute = os.path.normpath(os.path.join(self.cwd, path))
        if entry.path.startswith("/"):
            return _matches_with_parents(entry.pattern, absolute)
        relative = os.path.relpath(absolute, self.root).replace(os.sep, "/")
        if relative == ".." or relative.startswith("../"):
            return False
        return _matches_with_parents(entry.pattern, relative)

    def _judgeable(self, entry: PathIgnore, files: Sequence[str]) -> bool:
        """Whether this run can tell that ``entry`` is stale. pre-commit passes only changed files,
        so an entry for a file that exists but was not checked is not judged; an entry matching a
        checked file, or no file at all on disk, is. An entry without a path (codes everywhere) is
        never judged: like a plain code in `ignore`, it is policy, not a pointer at a problem."""
        if not entry.path:
            return False
        if any(self._path_matches(entry, f) for f in files):
            return True
        return not self._exists_on_disk(entry)

    def _exists_on_disk(self, entry: PathIgnore) -> bool:
        base = "" if entry.path.startswith("/") else self.root
        pattern = entry.path.rstrip("/")
        if "/" not in pattern:
            pattern = "**/" + pattern
        import glob as globmod  # here, not at import: only an unmatched [[ignore]] path needs it

        for _ in globmod.iglob(os.path.join(base, pattern), recursive=True):
            return True
        return False

    def _unused(self, entry: PathIgnore) -> Finding:
        codes = ", ".join(entry.codes) if entry.codes else "any code"
        return UNUSED_IGNORE.at(
            self.source,
            entry.pointer,
            f'ignore entry for path "{entry.path}" ({codes}) matched no finding; it was added because: {entry.reason}',
            line=entry.line,
            column=entry.column,
        )

    # -- command-line flags ---------------------------------------------------------------------

    def with_flags(
        self, select: Tuple[str, ...] = (), ignore: Tuple[str, ...] = (), known_codes: Optional[Iterable[str]] = None
    ) -> Settings:
        """Flags on top of the file: ``--select`` replaces the file's select (like ruff),
        ``--ignore`` adds to its ignore. An unknown code on the command line is a usage error."""
        select, ignore = tuple(map(resolve_code, select)), tuple(map(resolve_code, ignore))
        # the catalog only when there is a code to check: it imports every rule family, which
        # a run without flags imports later, while its probes run (engine.start_probes)
        known = _known(known_codes) if select or ignore else frozenset()
        for code in select + ignore:
            if not is_known(code, known):
                raise SettingsError(f"unknown rule code, prefix or name {code!r}; `cnidoctor rules` lists them")
        return replace(self, select=tuple(select) or self.select, ignore=self.ignore + tuple(ignore))


# -- loading ------------------------------------------------------------------------------------


def load(explicit_path: Optional[str], cwd: str, known_codes: Optional[Iterable[str]] = None) -> Settings:
    """The settings for a run in ``cwd``: the explicit file, else the nearest one upwards, else defaults."""
    cwd = os.path.abspath(cwd)
    if explicit_path is not None:
        path = os.path.join(cwd, explicit_path)
        if not os.path.isfile(path):
            raise SettingsError(f"settings file {explicit_path} does not exist")
        table, text = _read_table(path, required=True)
        return _from_table(table or {}, text, explicit_path, path, cwd, _known(known_codes))
    for directory in _upwards(cwd):
        for name in (SETTINGS_FILE, PYPROJECT):
            path = os.path.join(directory, name)
            if not os.path.isfile(path):
                continue
            table, text = _read_table(path, required=False)
            if table is not None:
                return _from_table(table, text, _display(path, cwd), path, cwd, _known(known_codes))
    return Settings(root=cwd, cwd=cwd)


def _upwards(start: str) -> Iterable[str]:
    directory = start
    while True:
        yield directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def _toml() -> Any:
    """tomllib, imported when a settings file is found (most runs have none: a few ms saved)."""
    try:  # stdlib from Python 3.11; setup.cfg installs tomli (same API) before that
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - exercised only on Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib


def _read_table(path: str, required: bool) -> Tuple[Optional[Dict[str, Any]], str]:
    """The cnidoctor table of ``path`` and its text; None for a pyproject without one (unless
    ``required``, i.e. named with --config, which is then an error)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(1 << 20)
        text = raw.decode("utf-8")
        document = _toml().loads(text)
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"settings file {path} is not UTF-8 text") from None
    except _toml().TOMLDecodeError as exc:
        hint = ""
        if "immutable namespace" in str(exc) and "ignore" in str(exc):
            hint = (
                "; `ignore = [...]` and `[[ignore]]` cannot both appear (TOML): move the plain codes into "
                "an [[ignore]] entry with `codes` and `reason` but no `path`"
            )
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}{hint}") from None
    if os.path.basename(path) != PYPROJECT:
        return document, text
    tool = document.get("tool")
    table = tool.get("cnidoctor") if isinstance(tool, dict) else None
    if isinstance(table, dict):
        return table, text
    if required:
        raise SettingsError(f"{path} has no [tool.cnidoctor] table")
    return None, text


def _display(path: str, cwd: str) -> str:
    return os.path.relpath(path, cwd).replace(os.sep, "/")


def _known(known_codes: Optional[Iterable[str]]) -> FrozenSet[str]:
    if known_codes is not None:
        return frozenset(known_codes)
    from .rules import catalog

    return frozenset(catalog())


def resolve_code(token: str) -> str:
    """A code or prefix as written (any case), or a rule's slug (``missing-cni-version``, the
    name ``cnidoctor rules`` shows and text output prints after each message) -> its code.
    Anything else comes back upper-cased, for is_known to reject."""
    text = token.strip()
    if CODE_OR_PREFIX.match(text.upper()):
        return text.upper()
    return _slug_codes().get(text.lower(), text.upper())


def _slug_codes() -> Dict[str, str]:
    from .rules import catalog

    return {rule.name: code for code, rule in catalog().items()}


def is_known(code: str, known: FrozenSet[str]) -> bool:
    """A full code in the catalog, or a prefix (``CNI3``, ``CNI40``) of at least one."""
    return bool(CODE_OR_PREFIX.match(code)) and any(k.startswith(code) for k in known)


class _Builder:
    """Collects valid entries and CNI902 problems while reading one settings table."""

    def __init__(self, text: str, source: str, prefix: str, known: FrozenSet[str]) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.source = source
        self.prefix = prefix  # "" for .cnidoctor.toml, "/tool/cnidoctor" for pyproject.toml
        self.known = known
        self.problems: List[Finding] = []

    def problem(self, pointer: str, message: str, needle: str, fix: str, occurrence: int = 0) -> None:
        line, column = self.position(needle, occurrence) or (1, 1)
        self.problems.append(
            INVALID_SETTINGS.at(self.source, self.prefix + pointer, message, line=line, column=column, fix=fix)
        )

    def position(self, needle: str, occurrence: int = 0) -> Optional[Tuple[int, int]]:
        """Where ``needle`` (a regex) matches for the ``occurrence``-th time; None if it does not.
        tomllib keeps no positions, so this finds the entry the way a reader would."""
        seen = 0
        for number, line in enumerate(self.lines, start=1):
            match = re.search(needle, line)
            if match:
                if seen == occurrence:
                    return number, match.start() + 1
                seen += 1
        return None

    def codes(self, values: Any, pointer: str, what: str) -> Tuple[str, ...]:
        """Valid codes/prefixes from a list; each bad one is a CNI902 and is dropped."""
        if not isinstance(values, list):
            self.problem(
                pointer,
                f"{what} must be a list of rule codes, not {_toml_type(values)}",
                _key_regex(pointer.rsplit("/", 1)[-1]),
                f'Write {what} = ["CNI301", "CNI4"].',
            )
            return ()
        out: List[str] = []
        for index, value in enumerate(values):
            if isinstance(value, dict) and what == "ignore":
                continue  # tables inside `ignore` are per-path entries, handled by the caller
            if not isinstance(value, str):
                self.problem(
                    f"{pointer}/{index}",
                    f"{what} entries must be rule codes, not {_toml_type(value)}",
                    _key_regex(what),
                    'Quote each code: "CNI301".',
                )
                continue
            code = resolve_code(value)
            if is_known(code, self.known):
                out.append(code)
            else:
                self.problem(
                    f"{pointer}/{index}",
                    f"unknown rule code {value!r} in {what}; not applied",
                    re.escape(value),
                    UNKNOWN_CODE_FIX,
                )
        return tuple(out)


def _from_table(table: Dict[str, Any], text: str, source: str, path: str, cwd: str, known: FrozenSet[str]) -> Settings:
    prefix = "/tool/cnidoctor" if os.path.basename(path) == PYPROJECT else ""
    build = _Builder(text, source, prefix, known)
    for key in table:
        if key not in KNOWN_KEYS:
            build.problem(
                f"/{escape_token(key)}",
                f"unknown settings key {key!r}; it is ignored",
                _key_regex(key),
                f"Use one of the known keys: {', '.join(KNOWN_KEYS)}.",
            )
    select = build.codes(table["select"], "/select", "select") if "select" in table else ()
    raw_ignore = table.get("ignore", [])
    ignore = build.codes(raw_ignore, "/ignore", "ignore") if "ignore" in table else ()
    entries = _path_ignores(raw_ignore if isinstance(raw_ignore, list) else [], build)
    return Settings(
        select=select,
        ignore=ignore,
        severity=_severities(table.get("severity", {}), build),
        fail_on=_fail_on(table.get("fail-on"), build),
        path_ignores=entries,
        source=source,
        root=os.path.dirname(os.path.abspath(path)),
        cwd=cwd,
        problems=tuple(build.problems),
    )


def _severities(value: Any, build: _Builder) -> Tuple[Tuple[str, Severity], ...]:
    if not isinstance(value, dict):
        build.problem(
            "/severity", f"severity must be a table, not {_toml_type(value)}", _key_regex("severity"), SEVERITY_FIX
        )
        return ()
    out: List[Tuple[str, Severity]] = []
    for code, level in value.items():
        pointer = f"/severity/{escape_token(code)}"
        if not is_known(code.strip().upper(), build.known):
            build.problem(
                pointer, f"unknown rule code {code!r} in severity; not applied", re.escape(code), UNKNOWN_CODE_FIX
            )
        elif not isinstance(level, str) or level.strip().lower() not in SEVERITY_VALUES:
            build.problem(pointer, f"unknown severity {level!r} for {code}; not applied", re.escape(code), SEVERITY_FIX)
        else:
            out.append((code.strip().upper(), Severity.parse(level)))
    return tuple(out)


def _fail_on(value: Any, build: _Builder) -> Optional[FailOn]:
    if value is None:
        return None
    lowered = value.strip().lower() if isinstance(value, str) else None
    for choice in FAIL_ON_VALUES:
        if lowered == choice:
            return choice
    build.problem(
        "/fail-on",
        f"fail-on {value!r} is not a severity; the default (error) applies",
        _key_regex("fail-on"),
        f"Use one of: {', '.join(FAIL_ON_VALUES)}.",
    )
    return None


def _path_ignores(values: List[Any], build: _Builder) -> Tuple[PathIgnore, ...]:
    out: List[PathIgnore] = []
    tables_seen = 0
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            continue
        pointer = f"/ignore/{index}"
        # An [[ignore]] header names the entry best; an inline table sits on the `ignore =` line.
        header = build.position(r"^\s*\[\[\s*(?:tool\s*\.\s*cnidoctor\s*\.\s*)?ignore\s*\]\]", tables_seen)
        line, column = header or build.position(_key_regex("ignore")) or (1, 1)
        tables_seen += 1
        entry = _path_ignore(value, pointer, line, column, build)
        if entry is not None:
            out.append(entry)
    return tuple(out)


def _path_ignore(
    value: Mapping[str, Any], pointer: str, line: int, column: int, build: _Builder
) -> Optional[PathIgnore]:
    def reject(message: str, fix: str) -> None:
        build.problems.append(
            INVALID_SETTINGS.at(
                build.source, build.prefix + pointer, message + "; entry not applied", line=line, column=column, fix=fix
            )
        )

    unknown = [k for k in value if k not in ENTRY_KEYS]
    if unknown:
        reject(
            f"ignore entry has unknown key(s) {', '.join(map(repr, unknown))}",
            "An ignore entry has only path, codes and reason.",
        )
        return None
    path, reason = value.get("path", ""), value.get("reason")
    if not isinstance(path, str):
        reject("`path` of the ignore entry is not a string", 'Write path = "net.d/10-x.conflist" (a glob).')
        return None
    where = f'for "{path}"' if path.strip() else "without a path"
    if not isinstance(reason, str) or not reason.strip():
        reject(
            f"ignore entry {where} has no `reason`",
            'Add reason = "..." saying why the finding is acceptable, so the next reader can judge it.',
        )
        return None
    if not path.strip() and "codes" not in value:
        reject(
            "ignore entry has neither `path` nor `codes`, so it would silence everything",
            'Add path = "net.d/10-x.conflist" (a glob) and/or codes = ["CNI301"].',
        )
        return None
    codes: Tuple[str, ...] = ()
    if "codes" in value:
        raw = value["codes"]
        if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
            reject(
                f"`codes` of the ignore entry {where} is not a non-empty list of rule codes",
                'Write codes = ["CNI301"], or leave codes out to ignore every code in that path.',
            )
            return None
        unknown_codes = [c for c in raw if not is_known(resolve_code(c), build.known)]
        if unknown_codes:
            reject(
                f"ignore entry {where} names unknown rule code(s) {', '.join(map(repr, unknown_codes))}",
                UNKNOWN_CODE_FIX,
            )
            return None
        codes = tuple(resolve_code(c) for c in raw)
    return PathIgnore(
        path=path.strip(),
        codes=codes,
        reason=reason.strip(),
        pointer=build.prefix + pointer,
        line=line,
        column=column,
        pattern=compile_glob(path.strip()),
    )


# -- globs --------------------------------------------------------------------------------------


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex over '/'-separated paths (see the module docstring)."""
    body = pattern.strip().rstrip("/")
    anchored = body.startswith("/") or "/" in body
    regex = _translate(body)
    return re.compile((regex if anchored else "(?:.*/)?" + regex) + r"\Z")


def _translate(pattern: str) -> str:
    out: List[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and _class_end(pattern, i) > 0:
            end = _class_end(pattern, i)
            inner = pattern[i + 1 : end]
            inner = "^" + inner[1:] if inner.startswith("!") else inner
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Index of the "]" closing the class opened at ``start`` (a leading "!" or "]" is part of
    the class, as in fnmatch); -1 when unclosed, and the "[" is then literal."""
    i = start + 1
    if pattern[i : i + 1] == "!":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    return pattern.find("]", i)


def _matches_with_parents(pattern: re.Pattern[str], path: str) -> bool:
    """The path or one of its parent directories matches (a directory pattern covers its files)."""
    candidate = path
    while candidate and candidate not in (".", "/"):
        if pattern.match(candidate):
            return True
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    return False


def _key_regex(key: str) -> str:
    """A line that sets ``key`` (``key = ...``) or opens its table (``[key]``, ``[tool.cnidoctor.key]``)."""
    name = r'"?' + re.escape(key) + r'"?'
    return r"^\s*(?:" + name + r"\s*=|\[\s*(?:tool\s*\.\s*cnidoctor\s*\.\s*)?" + name + r"\s*\])"


def _toml_type(value: Any) -> str:
    return {
        dict: "a table",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
    }.get(type(value), type(value).__name__)
