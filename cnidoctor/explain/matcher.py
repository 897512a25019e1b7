"""Recognise runtime error text: find every KB family in it, extract variables, rank, pick causes.

Families are searched anywhere in the (normalised) text, so any runtime's wrapping works without
knowing it in advance. Ranking: a family that names a cause beats a ``generic`` one (e.g. "cni
plugin not initialized" around a real load error), a complete match beats one cut short by
truncation, and more literal text matched beats less. A hit lying inside the span of a
better-ranked hit is dropped (``missing 'type'`` inside ``failed to parse plugin config 0: ...``).
Wrappers never become matches; they give the context: runtime, step, sandbox, pod, network.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import versions
from ..frozen import dataclass
from .kb import Cause, Entry, entries
from .normalise import normalise
from .template import Compiled, convert

# Text that shows a message is about CNI at all; families marked ``requires_context`` (short,
# generic-sounding texts such as "missing containerID") only count next to one of these.
CNI_CONTEXT = re.compile(
    r"(?i)\bcni\b|netplugin|plugin type=|/cni/|\bsandbox\b|networkplugin|\bCNI_|\bcni[A-Z]|conflist"
)

GENERAL_CHECKS: Tuple[str, ...] = (
    "cnidoctor check            # configs, plugin binaries and versions on this node",
    "crictl info | grep -A3 lastCNILoadStatus   # containerd's last config load result",
    "journalctl -u containerd -u crio -u kubelet --since -1h | grep -i cni",
    "ls -l /etc/cni/net.d /opt/cni/bin",
)

STEP_NAMES = {"add": "add", "del": "delete", "delete": "delete", "check": "check", "status": "status", "gc": "gc"}


@dataclass(frozen=True)
class Hit:
    """One knowledge-base entry found in the pasted text, with what its template captured."""

    entry: Entry
    variables: Mapping[str, Any]
    start: int
    end: int
    literal_length: int
    complete: bool

    def rank(self) -> Tuple[int, int, int, int]:
        role = {"cause": 2, "generic": 1, "wrapper": 0}[self.entry.role]
        return (role, self.entry.priority, int(self.complete), self.literal_length)


@dataclass(frozen=True)
class AppliedCause:
    """A cause with the captured values filled in."""

    text: str
    codes: Tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One recognised family in the text, with the causes that fit its variables."""

    entry: Entry
    variables: Mapping[str, Any]
    causes: Tuple[AppliedCause, ...]
    complete: bool

    @property
    def codes(self) -> Tuple[str, ...]:
        seen: Dict[str, None] = {}
        for cause in self.causes:
            for code in cause.codes:
                seen.setdefault(code, None)
        return tuple(seen)


@dataclass(frozen=True)
class Context:
    """What the wrappers say: who printed the message and at which step."""

    wrappers: Tuple[Hit, ...] = ()
    runtimes: Tuple[str, ...] = ()
    step: Optional[str] = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    alone: bool = False


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` recognised in one pasted text."""

    text: str
    normalised: str
    matches: Tuple[Match, ...]
    context: Context
    closest: Tuple[Entry, ...] = ()

    @property
    def recognised(self) -> bool:
        return bool(self.matches)


# --------------------------------------------------------------------------- finding hits
def _is_complete(compiled: Compiled, m: re.Match[str]) -> bool:
    """A template with a truncation tail is complete when its last placeholder (or, without
    placeholders in the tail, the whole tail) was matched."""
    if not compiled.kinds:
        return True
    last = compiled.kinds[-1][0]
    return m.group(last) is not None


def _tidy(value: str) -> str:
    """Free text captured to the end of a log line keeps the logger's closing quote: drop it."""
    value = value.strip()
    if value.endswith('"') and value.count('"') % 2 == 1:
        value = value[:-1].rstrip()
    return value


def _variables(compiled: Compiled, m: re.Match[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, kind in compiled.kinds:
        value = convert(kind, m.group(name))
        if value is not None:
            out[name] = _tidy(value) if kind == "text" else value
    return out


def find_hits(text: str) -> List[Hit]:
    """Every occurrence of every KB pattern in ``text`` (already normalised)."""
    has_context = bool(CNI_CONTEXT.search(text))
    hits: List[Hit] = []
    for entry in entries():
        if entry.requires_context and not has_context:
            continue
        for compiled in entry.patterns:
            if compiled.requires_context and not has_context:
                continue
            for m in compiled.regex.finditer(text):
                if m.end() == m.start():
                    continue
                hits.append(
                    Hit(
                        entry,
                        _variables(compiled, m),
                        m.start(),
                        m.end(),
                        compiled.literal_length,
                        _is_complete(compiled, m),
                    )
                )
    return hits


def _best_per_entry(hits: Sequence[Hit]) -> List[Hit]:
    """One hit per family (its best occurrence), remembering other values of its variables
    (``[plugin bridge does not support ... plugin portmap does not support ...]``)."""
    best: Dict[str, Hit] = {}
    values: Dict[str, Dict[str, List[Any]]] = {}
    for hit in hits:
        current = best.get(hit.entry.id)
        if current is None or hit.rank() > current.rank():
            best[hit.entry.id] = hit
        for name, value in hit.variables.items():
            bucket = values.setdefault(hit.entry.id, {}).setdefault(name, [])
            if value not in bucket:
                bucket.append(value)
    out = []
    for entry_id, hit in best.items():
        extra = {f"{name}_all": vals for name, vals in values.get(entry_id, {}).items() if len(vals) > 1}
        if extra:
            hit = Hit(hit.entry, {**hit.variables, **extra}, hit.start, hit.end, hit.literal_length, hit.complete)
        out.append(hit)
    return out


def _drop_nested(ranked: Sequence[Hit]) -> List[Hit]:
    """Drop a hit lying inside a better one, and a generic hit that only wraps a specific cause
    (``netplugin failed with no error message: fork/exec ...: exec format error``) unless the KB
    says the outer family adds meaning of its own (``keep_with_inner``: containerd aborts the
    whole load when one file fails)."""
    kept: List[Hit] = []
    for hit in ranked:
        inside_better = any(
            k.start <= hit.start and hit.end <= k.end and (k.end - k.start) > (hit.end - hit.start) for k in kept
        )
        wraps_cause = (
            hit.entry.role == "generic"
            and not hit.entry.keep_with_inner
            and any(k.entry.role == "cause" and hit.start <= k.start <= hit.end + 2 for k in kept)
        )
        if not inside_better and not wraps_cause:
            kept.append(hit)
    return kept


# --------------------------------------------------------------------------- causes
def _parse(value: Any) -> Optional[Tuple[int, int, int]]:
    return versions.try_parse(value) if isinstance(value, str) else None


def _bounds(values: Any) -> Tuple[Optional[Tuple[int, int, int]], Optional[Tuple[int, int, int]]]:
    parsed = [p for p in (_parse(v) for v in (values or [])) if p is not None and values]
    return (min(parsed), max(parsed)) if parsed else (None, None)


def _holds(condition: Sequence[Any], variables: Mapping[str, Any], context: Context, text: str) -> bool:
    """One ``when`` condition of a cause; a condition about a variable that was not extracted
    (e.g. cut off by truncation) is false, so no cause is claimed on missing evidence."""
    name, args = condition[0], condition[1:]
    if name == "context":
        return args[0] in context.runtimes
    if name == "alone":  # no other family explains the text: the outer one must list the options
        return context.alone
    if name == "text_contains":
        return str(args[0]).lower() in text.lower()
    if name == "unless":  # true when the variable is absent or differs
        return str(variables.get(args[0], "")).lower() != str(args[1]).lower() or args[0] not in variables
    if args[0] not in variables:
        return False
    value = variables[args[0]]
    if name == "empty":
        return value in ("", [])
    if name == "nonempty":
        return value not in ("", [])
    if name == "eq":
        return str(value).lower() == str(args[1]).lower()
    if name == "ne":
        return str(value).lower() != str(args[1]).lower()
    if name == "in":
        return str(value).lower() in [str(a).lower() for a in args[1]]
    if name == "contains":
        return str(args[1]).lower() in str(value).lower()
    if name == "not_spec":
        return not versions.is_spec_version(str(value))
    if name == "parses":
        return _parse(value) is not None
    if name == "not_parses":
        return _parse(value) is None
    if name in ("above", "below", "gap"):
        return _compare(name, value, variables.get(args[1]))
    raise ValueError(f"kb.json: unknown condition {name!r}")


def _compare(name: str, value: Any, listed: Any) -> bool:
    version = _parse(value)
    low, high = _bounds(listed)
    if version is None or low is None or high is None:
        return False
    if name == "above":
        return version > high
    if name == "below":
        return version < low
    return low < version < high and value not in listed


_SLOT = re.compile(r"\{([a-z_]+)\}")


def fill(text: str, variables: Mapping[str, Any]) -> str:
    """Put extracted values into a cause/fix text; a value that was not extracted stays a name."""

    def value(m: re.Match[str]) -> str:
        v = variables.get(m.group(1))
        if v is None:
            return f"<{m.group(1)}>"
        return " ".join(f'"{x}"' for x in v) if isinstance(v, list) else str(v)

    return _SLOT.sub(value, text)


def _derived(variables: Mapping[str, Any]) -> Dict[str, Any]:
    """Extra variables causes refer to: the lowest/highest entry of a supported-versions list."""
    out = dict(variables)
    listed = variables.get("supported")
    if isinstance(listed, list):
        parsed = [(versions.try_parse(v), v) for v in listed if versions.try_parse(v) is not None]
        if parsed:
            out["supported_min"] = min(parsed)[1]
            out["supported_max"] = max(parsed)[1]
    if "step" in out and isinstance(out["step"], str):
        out["step"] = STEP_NAMES.get(out["step"].lower(), out["step"].lower())
    return out


def applicable_causes(
    entry: Entry, variables: Mapping[str, Any], context: Context, text: str
) -> Tuple[AppliedCause, ...]:
    chosen: List[Cause] = []
    for cause in entry.causes:
        if cause.when == (("otherwise",),):
            if not chosen:  # a fallback: only when no more specific cause fits
                chosen.append(cause)
        elif all(_holds(w, variables, context, text) for w in cause.when):
            chosen.append(cause)
    if not chosen:  # every cause was conditional and none fits: say all, claim none
        chosen = list(entry.causes)
    return tuple(AppliedCause(fill(c.text, variables), c.codes) for c in chosen)


# --------------------------------------------------------------------------- context
def _context(wrappers: Sequence[Hit], causes: Sequence[Hit]) -> Context:
    runtimes: List[str] = []
    step: Optional[str] = None
    variables: Dict[str, Any] = {}
    for hit in sorted(wrappers, key=lambda h: h.start):
        if hit.entry.runtime and hit.entry.runtime not in runtimes:
            runtimes.append(hit.entry.runtime)
        plugin = hit.variables.get("plugin")
        if isinstance(plugin, str) and plugin.lower() == "multus" and "multus" not in runtimes:
            runtimes.append("multus")
        hit_step = hit.entry.step or hit.variables.get("step")
        if isinstance(hit_step, str) and step is None:
            step = STEP_NAMES.get(hit_step.lower(), hit_step.lower())
        for name, value in hit.variables.items():
            variables.setdefault(name, value)
    for hit in causes:  # file/dir paths named by an outer family help the node check
        for name in ("file", "conf_dir"):
            if name in hit.variables:
                variables.setdefault(name, hit.variables[name])
    if step is not None:
        variables["step"] = step
    return Context(tuple(sorted(wrappers, key=lambda h: h.start)), tuple(runtimes), step, variables, len(causes) == 1)


# --------------------------------------------------------------------------- public
def explain(text: str) -> Explanation:
    """Recognise ``text`` (one message, possibly wrapped, quoted, escaped or truncated)."""
    norm = normalise(text)
    hits = _best_per_entry(find_hits(norm))
    ranked = sorted(hits, key=lambda h: (h.rank(), -h.start), reverse=True)
    wrappers = [h for h in ranked if h.entry.role == "wrapper"]
    causes = _drop_nested([h for h in ranked if h.entry.role != "wrapper"])
    context = _context(wrappers, causes)
    matches = []
    for hit in causes:
        # the wrappers' variables (plugin, sandbox, network, step) belong to this message too
        variables = _derived({**context.variables, **hit.variables})
        matches.append(
            Match(hit.entry, variables, applicable_causes(hit.entry, variables, context, norm), hit.complete)
        )
    closest = () if matches else closest_families(norm)
    return Explanation(text, norm, tuple(matches), context, closest)


_WORD = re.compile(r"[a-z][a-z0-9_']{2,}")
_STOP = {"the", "for", "and", "not", "with", "from", "failed", "error", "found", "this", "that"}


def _words(text: str) -> set:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def closest_families(text: str, limit: int = 3) -> Tuple[Entry, ...]:
    """Families sharing the most words with an unrecognised text (never presented as a match)."""
    words = _words(text)
    if not words:
        return ()
    scored = []
    for entry in entries():
        if entry.role == "wrapper":
            continue
        template_words = _words(" ".join(re.sub(r"\{[^}]*\}", " ", p.template) for p in entry.patterns))
        if not template_words:
            continue
        score = len(words & template_words) / len(template_words)
        if score >= 0.34:
            scored.append((score, entry.id, entry))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return tuple(s[2] for s in scored[:limit])


def is_cni_related(line: str) -> bool:
    """For --log: a line any family (wrappers included) recognises, or that mentions CNI."""
    norm = normalise(line)
    return bool(CNI_CONTEXT.search(norm)) or bool(find_hits(norm))
