"""What the LAM reads and writes: prompts and completions for each training phase.

Phase 1 (task → plan) and phase 2 (state → action) use the paper's fields. The state is kept
short enough for a small model: the controls are ranked by how well their names match the
request and the remaining plan, and only the top `k` are shown (the paper's agent filters
controls too; Mind2Web ranks candidates the same way). The completion is one JSON object, so a
model's answer is parsed with the same repairing parser as every LLM answer, and a malformed
answer is reported, never raised.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lamforge.core import Control, StepSample

_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def rank_controls(sample: StepSample, k: int) -> list[dict[str, Any]]:
    """The k enabled controls whose names share most words with the request and plan; the
    dialog's own controls and the target always first. Order is stable (display order breaks
    ties), so the same state always gives the same prompt."""
    want = _words(sample.request + " " + " ".join(sample.previous_plan[:2] or sample.plan[:2]))
    scored = []
    for i, c in enumerate(sample.controls):
        if not c.enabled:
            continue
        score = len(want & _words(c.name)) + (2 if c.group == "dialog" else 0)
        scored.append((-score, i, c))
    scored.sort(key=lambda x: (x[0], x[1]))
    keep = sorted(scored[:k], key=lambda x: x[1])
    return [_shown(c) for _, _, c in keep]


def _shown(c: Control) -> dict[str, Any]:
    return {"label": c.label, "name": c.name, "type": c.type, "group": c.group or "other"}


def with_target(sample: StepSample, k: int) -> list[dict[str, Any]]:
    """Training prompts must contain the expert's control, or the model learns to invent
    one: the ranked top k, with the target swapped in for the last if it was cut."""
    shown = rank_controls(sample, k)
    if sample.control_label and all(c["label"] != sample.control_label for c in shown):
        target = next((c for c in sample.controls if c.label == sample.control_label), None)
        if target is not None:
            shown = [*shown[:-1], _shown(target)]
            shown.sort(key=lambda c: int(c["label"]) if c["label"].isdigit() else 0)
    return shown


def step_prompt(sample: StepSample, k: int = 16, controls: list[dict] | None = None) -> str:
    shown = controls if controls is not None else rank_controls(sample, k)
    return state_prompt(sample.request, shown, sample.previous_actions, sample.previous_plan)


def state_prompt(request: str, shown: list[dict[str, Any]], previous: list[dict[str, Any]],
                 plan: list[str]) -> str:
    """The state as the LAM reads it, offline (a step sample) and online (a live observation).
    Controls are grouped by where they are (an open dialog, a menu, the menu bar, a toolbar):
    the group says what is on screen, which the names alone do not."""
    groups: dict[str, list[str]] = {}
    for c in shown:
        groups.setdefault(c.get("group") or "other", []).append(_control_line(c))
    lines = [f"Request: {request}",
             *(f"{g.capitalize()}: " + "; ".join(items) for g, items in groups.items()),
             "Done: " + (" > ".join(_done(a) for a in previous[-3:]) or "nothing"),
             "Plan: " + " | ".join(plan[:3])]
    return "\n".join(lines) + "\nAction:"


def _control_line(c: dict[str, Any]) -> str:
    """`label name (type)`; a name that already starts with its label (a function's
    signature, `mv(source: string, …)`) is not repeated, which keeps a tools prompt of 40
    functions inside a small model's context."""
    name = c["name"] or ""
    head = name if name.startswith(f"{c['label']}(") else f"{c['label']} {name}"
    return f"{head} ({c['type']})"


PROMPT_RESULT_CHARS = 120
"""Of a previous action's result (a function's answer), what the prompt shows."""


def _done(a: dict[str, Any]) -> str:
    args = " ".join(str(v) for v in (a.get("args") or {}).values())
    text = " ".join(x for x in (a.get("function"), a.get("control_name"), args) if x)
    if a.get("result"):  # what a function answered: the next call often needs it (an id)
        text += " = " + a["result"][:PROMPT_RESULT_CHARS]
    return text + ("" if a.get("ok", True) else " (failed)")


def step_completion(sample: StepSample) -> str:
    """The expert's action; `advance` is how many plan steps it completes, so an agent can
    keep its plan up to date (the paper's output carries the updated plan)."""
    advance = max(0, len(sample.previous_plan) - len(sample.plan)) if sample.status == \
        "CONTINUE" else len(sample.previous_plan)
    return action_text({"control_label": sample.control_label,
                        "control_name": sample.control_name, "function": sample.function,
                        "args": sample.args, "status": sample.status, "advance": advance})


def action_text(action: dict[str, Any]) -> str:
    """One action as the completion the LAM writes (and the reward model reads)."""
    keys = ("control_label", "control_name", "function", "args", "status", "advance")
    return " " + json.dumps({k: action.get(k) for k in keys if k in action},
                            ensure_ascii=False)


def plan_prompt(task: str) -> str:
    return f"Task: {task}\nPlan:"


def plan_completion(plan: list[str]) -> str:
    return " " + " | ".join(plan)


def parse_action(text: str) -> dict[str, Any] | None:
    """A model's answer as an action dict, or None if it is not one (counted as wrong)."""
    from lamforge.llm.client import parse_json

    start = text.find("{")
    if start < 0:
        return None
    try:
        data = parse_json(text[start:].split("\n")[0])
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("function"), str):
        return None
    if not isinstance(data.get("args", {}), dict):
        return None
    return data
