"""One renderer for `cnidoctor explain CODE` (rule documentation) and `cnidoctor explain "<error>"`.

Both are turned into the same small document model (headings, paragraphs, code blocks, bullet
lists) and printed by ``render_blocks``; the Markdown catalog (docs/rules.md) uses it too. JSON
output is a plain dict for both. Pure functions: nothing here prints or touches the node.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..model import Rule
from .matcher import Explanation, Match, fill
from .nodecheck import NodeView

Block = Tuple[str, Union[str, Sequence[str]]]  # ("h1".."h3" | "p" | "code" | "list", content)


def render_blocks(blocks: Sequence[Block]) -> str:
    """Blocks as Markdown-flavoured text: readable in a terminal, valid as a Markdown page."""
    out: List[str] = []
    for kind, content in blocks:
        if out:
            out.append("")
        if kind.startswith("h"):
            out.append("#" * int(kind[1:]) + " " + str(content))
        elif kind == "code":
            out += ["```", str(content), "```"]
        elif kind == "list":
            out += [f"- {item}" for item in content]
        else:
            out.append(str(content))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- rules
def rule_blocks(rule: Rule, heading: str = "#") -> List[Block]:
    level = len(heading)
    h, sub = f"h{level}", f"h{level + 1}"
    blocks: List[Block] = [
        (h, f"{rule.code} {rule.name} ({rule.severity.label})"),
        ("p", rule.summary),
        (sub, "What it means"),
        ("p", rule.meaning),
        (sub, "Problematic example"),
        ("code", rule.example),
    ]
    if rule.correct_example:
        blocks += [(sub, "Correct example"), ("code", rule.correct_example)]
    blocks += [(sub, "Fix"), ("p", rule.fix)]
    if rule.when_to_ignore:
        blocks += [(sub, "When to ignore"), ("p", rule.when_to_ignore)]
    if rule.runtime_errors:
        blocks += [(sub, "Runtime errors"), ("list", [f"`{e}`" for e in rule.runtime_errors])]
    families = _families_for(rule.code)
    if families:
        blocks += [(sub, 'Recognised by `cnidoctor explain "<error>"`'), ("list", families)]
    if rule.references:
        blocks += [(sub, "References"), ("list", list(rule.references))]
    return blocks


def _families_for(code: str) -> List[str]:
    from .kb import for_code

    try:
        return [f"{e.title} (`{e.patterns[0].template}`)" for e in for_code(code)]
    except (OSError, ValueError):  # a broken KB must not break the rule docs
        return []


def rule_dict(rule: Rule) -> Dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.label,
        "summary": rule.summary,
        "meaning": rule.meaning,
        "example": rule.example,
        "correct_example": rule.correct_example,
        "fix": rule.fix,
        "when_to_ignore": rule.when_to_ignore,
        "runtime_errors": list(rule.runtime_errors),
        "references": list(rule.references),
        "help": f"cnidoctor explain {rule.code}",
    }


# --------------------------------------------------------------------------- error texts
def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"' if value == "" else str(value)


def _codes(codes: Sequence[str]) -> str:
    return f" [{', '.join(codes)}]" if codes else ""


def _present(match: Match, node: Optional[NodeView]) -> Dict[int, List[str]]:
    """For each cause of the top match, what the node check found that confirms it."""
    if node is None or not node.confirmed:
        return {}
    out: Dict[int, List[str]] = {}
    for index, cause in enumerate(match.causes):
        here = [c["text"] for c in node.confirmed if c["code"] in cause.codes or c.get("cause_text") == cause.text]
        if here:
            out[index] = here
    return out


def explanation_blocks(explanation: Explanation, node: Optional[NodeView] = None) -> List[Block]:
    if not explanation.matches:
        return _unrecognised_blocks(explanation, node)
    top = explanation.matches[0]
    entry = top.entry
    head = [f"printed by: {entry.component}"]
    wrappers = " > ".join(w.entry.component for w in explanation.context.wrappers)
    if wrappers:
        step = f" (step: {explanation.context.step})" if explanation.context.step else ""
        head.append(f"wrapped by: {wrappers}{step}")
    shown = {
        k: v
        for k, v in top.variables.items()
        if not k.endswith("_all") and k not in ("supported_min", "supported_max", "detail")
    }
    if shown:
        head.append("variables: " + "  ".join(f"{k}={_value(v)}" for k, v in shown.items()))
    if not top.complete:
        head.append("(the message looks cut off; causes that need the missing part are not claimed)")
    present = _present(top, node)
    causes = []
    for index, cause in enumerate(top.causes):
        mark = "  <- present on this node: " + "; ".join(present[index]) if index in present else ""
        causes.append(f"{index + 1}. {cause.text}{_codes(cause.codes)}{mark}")
    blocks: List[Block] = [
        ("h1", f"Recognised: {entry.title}"),
        ("p", "\n".join(head)),
        ("h2", "Causes (most likely first)"),
        ("p", "\n".join(causes)),
        ("h2", "Fix"),
        ("p", fill(entry.fix, top.variables)),
    ]
    if entry.runtimes:
        blocks += [("h2", "Applies to"), ("list", list(entry.runtimes))]
    if node is not None:
        blocks += [("h2", f"On this node ({node.conf_dir})"), ("p", _node_text(node))]
    if len(explanation.matches) > 1:
        blocks += [
            ("h2", "Also in this message"),
            ("list", [f"{m.entry.title}{_codes(m.codes)}" for m in explanation.matches[1:]]),
        ]
    more = [f"cnidoctor explain {code}" for code in top.codes[:3]] + list(entry.references[:2])
    blocks += [("p", "More: " + " | ".join(more))]
    return blocks


def _node_text(node: NodeView) -> str:
    if not node.checked:
        return f"not checked: {node.reason}"
    lines: List[str] = []
    if node.verdict == "cause-present":
        lines.append("The cause is present here:")
        lines += [f"  {c['text']}{_codes(c['code'].split())}" for c in node.confirmed]
    elif node.verdict == "does-not-match":
        lines.append(f"This error does not match this node's current {node.subject}:")
        lines += [f"  {n}" for n in node.notes]
        lines.append("  (it may come from another node, an earlier state, or the runtime's built-in config)")
    else:
        lines.append(
            "None of the named causes shows in the configs here; it may be on the runtime side "
            "(its version, its bin dir setting) or already fixed."
        )
    if node.selected:
        lines.append(
            f"default network here: {node.selected.get('file')} (cniVersion {_value(node.selected.get('cni_version'))})"
        )
    if node.other_errors:
        lines.append("other errors here: " + "; ".join(f"{e['text']} [{e['code']}]" for e in node.other_errors))
    return "\n".join(lines)


def _unrecognised_blocks(explanation: Explanation, node: Optional[NodeView]) -> List[Block]:
    from .matcher import GENERAL_CHECKS

    lines = ["This text matches no CNI error family cnidoctor knows, so it names no cause."]
    wrappers = explanation.context.wrappers
    if wrappers:
        step = f", step: {explanation.context.step}" if explanation.context.step else ""
        lines.append(
            "It was passed on by "
            + " > ".join(w.entry.component for w in wrappers)
            + step
            + "; the inner error comes from a plugin or the network add-on itself: read it, or the add-on's logs."
        )
    blocks: List[Block] = [("h1", "Not recognised"), ("p", "\n".join(lines))]
    if explanation.closest:
        blocks += [
            ("h2", "Closest known families (not matches)"),
            ("list", [f"{e.title}: `{e.patterns[0].template}`" for e in explanation.closest]),
        ]
    blocks += [("h2", "General checks"), ("code", "\n".join(GENERAL_CHECKS))]
    if node is not None:
        blocks += [("h2", f"On this node ({node.conf_dir})"), ("p", _node_text(node))]
    return blocks


def match_dict(match: Match, node: Optional[NodeView] = None, top: bool = False) -> Dict[str, Any]:
    present = _present(match, node) if top else {}
    return {
        "id": match.entry.id,
        "title": match.entry.title,
        "component": match.entry.component,
        "variables": dict(match.variables),
        "causes": [
            {"text": c.text, "codes": list(c.codes), "present_here": present.get(i, [])}
            for i, c in enumerate(match.causes)
        ],
        "fix": fill(match.entry.fix, match.variables),
        "codes": list(match.codes),
        "family_codes": list(match.entry.codes),
        "runtimes": list(match.entry.runtimes),
        "references": list(match.entry.references),
        "complete": match.complete,
    }


def explanation_dict(explanation: Explanation, node: Optional[NodeView] = None) -> Dict[str, Any]:
    from .matcher import GENERAL_CHECKS

    context = explanation.context
    return {
        "input": explanation.text,
        "recognised": explanation.recognised,
        "matches": [match_dict(m, node, top=(i == 0)) for i, m in enumerate(explanation.matches)],
        "context": {
            "runtimes": list(context.runtimes),
            "step": context.step,
            "wrappers": [
                {
                    "id": w.entry.id,
                    "title": w.entry.title,
                    "component": w.entry.component,
                    "variables": dict(w.variables),
                }
                for w in context.wrappers
            ],
        },
        "closest": [{"id": e.id, "title": e.title} for e in explanation.closest],
        "general_checks": [] if explanation.recognised else list(GENERAL_CHECKS),
        "node": node.as_dict() if node is not None else None,
    }
