"""What command a systemd service really runs: unit file, drop-ins, Environment, EnvironmentFile.

Semantics follow systemd's documentation (systemd/systemd:man/systemd.unit.xml,
man/systemd.service.xml "Command lines", man/systemd.exec.xml "Environment"):
* the unit file is the first one found in the search path (``/etc`` before ``/run`` before the
  vendor dirs); a unit linked to ``/dev/null`` is masked;
* drop-ins ``<unit>.d/*.conf`` from every search dir are applied in file-name order, whatever
  their directory; a same-named drop-in in a higher-priority dir replaces the lower one;
* ``ExecStart=``, ``Environment=`` and ``EnvironmentFile=`` accumulate; an empty assignment resets
  the list (kubeadm's ``10-kubeadm.conf`` starts with ``ExecStart=`` for this reason);
* variables from ``EnvironmentFile=`` override ``Environment=``; files are read in order, later
  settings win; a ``-`` prefix makes a missing file harmless;
* in the command, a word that is exactly ``$VAR`` expands to zero or more words split at
  whitespace, ``${VAR}`` is substituted inside its word.
Every word of the resulting command keeps the file, line and column it was written at, so a
finding can point at the flag the user must edit.
"""

from __future__ import annotations

import posixpath
import re
from typing import Dict, List, Optional, Sequence, Tuple, TypeVar

from ..frozen import dataclass
from .hostfs import HostFS
from .model import Evidence

UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
)

_VAR_WORD = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
_VAR_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXEC_PREFIXES = "-@:+!"

T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Where a piece of text was written on the node (1-based line and column)."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Word:
    """One argument of a command, with where it was written (None: not traceable)."""

    text: str
    origin: Optional[Origin] = None


@dataclass(frozen=True)
class ServiceCommand:
    """The effective ``ExecStart`` of a service after drop-ins and variable expansion."""

    unit: str  # unit name as found, e.g. "crio.service"
    fragment: str  # the unit file's node path
    files: Tuple[str, ...]  # fragment, then drop-ins in the order applied
    argv: Tuple[Word, ...]  # empty when no ExecStart remains
    environment: Tuple[Tuple[str, str], ...]  # final variables, sorted by name
    env_files: Tuple[str, ...]  # environment files actually read
    evidence: Tuple[Evidence, ...]

    @property
    def args(self) -> Tuple[str, ...]:
        return tuple(word.text for word in self.argv)


@dataclass(frozen=True)
class _Assignment:
    """One `Key=value` of a unit file, with where each character of the value came from."""

    key: str
    value: str
    positions: Tuple[Tuple[int, int], ...]  # (line, column) of each character of value
    file: str


def find_fragment(fs: HostFS, name: str) -> Tuple[Optional[str], bool]:
    """(node path of the unit file, masked) for unit ``name``; (None, False) when not installed."""
    for directory in UNIT_DIRS:
        path = f"{directory}/{name}"
        if not fs.lexists(path):
            continue
        target = fs.readlink(path)
        if target is not None and posixpath.normpath(target) == "/dev/null":
            return path, True
        if fs.is_file(path):
            return path, False
    return None, False


def drop_in_paths(fs: HostFS, name: str) -> Tuple[str, ...]:
    """``<name>.d/*.conf`` across the search path: by file name; earlier dirs shadow later ones."""
    chosen: Dict[str, str] = {}
    for directory in UNIT_DIRS:
        folder = f"{directory}/{name}.d"
        for entry in fs.listdir(folder):
            if entry.endswith(".conf") and entry not in chosen:
                chosen[entry] = f"{folder}/{entry}"
    return tuple(chosen[key] for key in sorted(chosen))


def _logical_lines(text: str) -> List[Tuple[str, List[Tuple[int, int]]]]:
    """Join backslash continuations; keep each character's (line, column)."""
    result: List[Tuple[str, List[Tuple[int, int]]]] = []
    chars: List[str] = []
    positions: List[Tuple[int, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not chars and (not stripped or stripped[0] in "#;"):
            continue
        if chars and stripped[:1] in ("#", ";"):
            continue  # comment lines inside a continuation are skipped (systemd.syntax(7))
        continued = line.rstrip().endswith("\\")
        body = line.rstrip()[:-1] if continued else line
        for column, char in enumerate(body, start=1):
            chars.append(char)
            positions.append((number, column))
        if continued:
            chars.append(" ")
            positions.append((number, len(body) + 1))
            continue
        result.append(("".join(chars), positions))
        chars, positions = [], []
    if chars:
        result.append(("".join(chars), positions))
    return result


def parse_unit(text: str, file: str, section: str = "Service") -> List[_Assignment]:
    """Assignments of one section, in file order."""
    current = None
    found: List[_Assignment] = []
    for line, positions in _logical_lines(text):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1].strip()
            continue
        if current != section or "=" not in line:
            continue
        key, _, _ = line.partition("=")
        start = line.index("=") + 1
        while start < len(line) and line[start] in " \t":
            start += 1
        value = line[start:].rstrip()
        found.append(_Assignment(key.strip(), value, tuple(positions[start : start + len(value)]), file))
    return found


def split_words(value: str) -> List[Tuple[str, int, bool]]:
    """systemd's word splitting: quotes and backslash escapes. (word, start index, was_quoted)."""
    words: List[Tuple[str, int, bool]] = []
    i = 0
    n = len(value)
    while i < n:
        while i < n and value[i] in " \t\n":
            i += 1
        if i >= n:
            break
        start = i
        chars: List[str] = []
        quoted = False
        while i < n and value[i] not in " \t\n":
            char = value[i]
            if char in "\"'":
                quoted = True
                end = value.find(char, i + 1)
                end = n if end < 0 else end
                chars.append(value[i + 1 : end].replace("\\" + char, char) if char == '"' else value[i + 1 : end])
                i = end + 1
                continue
            if char == "\\" and i + 1 < n:
                chars.append(value[i + 1])
                i += 2
                continue
            chars.append(char)
            i += 1
        words.append(("".join(chars), start, quoted))
    return words


def parse_env_file(text: str, file: str) -> List[Tuple[str, str, Origin]]:
    """``KEY=VALUE`` lines of an EnvironmentFile (comments ``#``/``;``, quotes, continuations)."""
    result: List[Tuple[str, str, Origin]] = []
    for line, positions in _logical_lines(text):
        if "=" not in line:
            continue
        key, _, raw = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        if not _ENV_NAME.match(key):
            continue
        offset = line.index("=") + 1
        while offset < len(line) and line[offset] in " \t":
            offset += 1
        raw = line[offset:].rstrip()
        value = raw
        if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            value = raw[1:-1]
            offset += 1
        lineno, column = positions[offset] if offset < len(positions) else positions[-1]
        result.append((key, value, Origin(file, lineno, column)))
    return result


def _parse_environment(assignment: _Assignment) -> List[Tuple[str, str, Origin]]:
    found: List[Tuple[str, str, Origin]] = []
    for word, start, _ in split_words(assignment.value):
        if "=" not in word:
            continue
        key, _, value = word.partition("=")
        if not _ENV_NAME.match(key):
            continue
        line, column = assignment.positions[start] if start < len(assignment.positions) else (0, 0)
        # The value starts after "KEY=" (plus an opening quote when the word was quoted).
        value_at = start + len(key) + 1 + (1 if assignment.value[start : start + 1] in "\"'" else 0)
        if value_at < len(assignment.positions):
            line, column = assignment.positions[value_at]
        found.append((key, value, Origin(assignment.file, line, column)))
    return found


def expand_command(assignment: _Assignment, variables: Dict[str, Tuple[str, Origin]]) -> Tuple[Word, ...]:
    """The argv of one ExecStart line, with ``$VAR``/``${VAR}`` expanded."""
    value = assignment.value
    words: List[Word] = []
    for index, (text, start, quoted) in enumerate(split_words(value)):
        if index == 0:
            text = text.lstrip(_EXEC_PREFIXES)
        origin = _origin_at(assignment, start)
        match = _VAR_WORD.match(text) if not quoted else None
        if match:
            words.extend(_split_variable(variables.get(match.group(1))))
            continue
        expanded = _VAR_BRACED.sub(lambda m: variables[m.group(1)][0] if m.group(1) in variables else "", text)
        words.append(Word(expanded, origin))
    return tuple(words)


def _origin_at(assignment: _Assignment, index: int) -> Optional[Origin]:
    if index < len(assignment.positions):
        line, column = assignment.positions[index]
        return Origin(assignment.file, line, column)
    return None


def _split_variable(entry: Optional[Tuple[str, Origin]]) -> List[Word]:
    if entry is None:
        return []
    value, origin = entry
    words: List[Word] = []
    for text, start, _ in split_words(value):
        words.append(Word(text, Origin(origin.file, origin.line, origin.column + start)))
    return words


def read_service(fs: HostFS, names: Sequence[str]) -> Optional[ServiceCommand]:
    """The effective command of the first of ``names`` that is installed and not masked."""
    for name in names:
        fragment, masked = find_fragment(fs, name)
        if fragment is None or masked:
            continue
        return _load_service(fs, name, fragment)
    return None


def _load_service(fs: HostFS, name: str, fragment: str) -> ServiceCommand:
    files = (fragment,) + drop_in_paths(fs, name)
    exec_start: List[_Assignment] = []
    environment: List[_Assignment] = []
    env_files: List[str] = []
    evidence: List[Evidence] = [Evidence("unit", fragment, name)]
    for path in files:
        result = fs.read_text(path)
        if result.text is None:
            evidence.append(Evidence("unit", path, f"unreadable: {result.error}"))
            continue
        if path != fragment:
            evidence.append(Evidence("unit", path, "drop-in"))
        for assignment in parse_unit(result.text, path):
            _apply(assignment, exec_start, environment, env_files)
    variables: Dict[str, Tuple[str, Origin]] = {}
    for assignment in environment:
        for key, value, origin in _parse_environment(assignment):
            variables[key] = (value, origin)
    read_files = _read_env_files(fs, env_files, variables, evidence)
    argv = expand_command(exec_start[-1], variables) if exec_start else ()
    return ServiceCommand(
        unit=name,
        fragment=fragment,
        files=files,
        argv=argv,
        environment=tuple(sorted((key, value[0]) for key, value in variables.items())),
        env_files=read_files,
        evidence=tuple(evidence),
    )


def _apply(
    assignment: _Assignment,
    exec_start: List[_Assignment],
    environment: List[_Assignment],
    env_files: List[str],
) -> None:
    """One assignment onto the accumulated lists; an empty value resets the list."""
    if assignment.key == "ExecStart":
        _append_or_reset(exec_start, assignment, assignment.value)
    elif assignment.key == "Environment":
        _append_or_reset(environment, assignment, assignment.value)
    elif assignment.key == "EnvironmentFile":
        _append_or_reset(env_files, assignment.value, assignment.value)


def _append_or_reset(target: List[T], item: T, value: str) -> None:
    if value:
        target.append(item)
    else:
        target.clear()


def _read_env_files(
    fs: HostFS,
    env_files: Sequence[str],
    variables: Dict[str, Tuple[str, Origin]],
    evidence: List[Evidence],
) -> Tuple[str, ...]:
    read: List[str] = []
    for spec in env_files:
        for word, _, _ in split_words(spec):
            path = word[1:] if word.startswith("-") else word
            result = fs.read_text(path)
            if result.text is None:
                detail = "missing (optional)" if word.startswith("-") else f"unreadable: {result.error}"
                evidence.append(Evidence("config", path, f"EnvironmentFile {detail}"))
                continue
            read.append(path)
            evidence.append(Evidence("config", path, "EnvironmentFile"))
            for key, value, origin in parse_env_file(result.text, path):
                variables[key] = (value, origin)
    return tuple(read)
