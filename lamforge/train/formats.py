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

from lamforge.core import StepSample

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
    return [{"label": c.label, "name": c.name, "type": c.type} for _, _, c in keep]


def with_target(sample: StepSample, k: int) -> list[dict[str, Any]]:
    """Training prompts must contain the expert's control, or the model learns to invent
    one: the ranked top k, with the target swapped in for the last if it was cut."""
    shown = rank_controls(sample, k)
    if sample.control_label and all(c["label"] != sample.control_label for c in shown):
        target = next((c for c in sample.controls if c.label == sample.control_label), None)
        if target is not None:
            shown = [*shown[:-1], {"label": target.label, "name": target.name,
                                   "type": target.type}]
            shown.sort(key=lambda c: int(c["label"]) if c["label"].isdigit() else 0)
    return shown


def step_prompt(sample: StepSample, k: int = 16, controls: list[dict] | None = None) -> str:
    shown = controls if controls is not None else rank_controls(sample, k)
    lines = [f"Request: {sample.request}",
             "Controls: " + "; ".join(f"{c['label']} {c['name']} ({c['type']})" for c in shown),
             "Previous actions: " + json.dumps(sample.previous_actions[-3:]),
             "Plan: " + " | ".join(sample.previous_plan[:3])]
    return "\n".join(lines) + "\nAction:"


def step_completion(sample: StepSample) -> str:
    out = {"control_label": sample.control_label, "control_name": sample.control_name,
           "function": sample.function, "args": sample.args, "status": sample.status}
    return " " + json.dumps(out, ensure_ascii=False)


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
