"""Offline evaluation with the paper's step metrics, on held-out step samples.

Per step: object accuracy (the control chosen is the expert's, by label or by name), operation
accuracy (function), args accuracy, status accuracy (CONTINUE/FINISH), step success (object,
operation and status right); per task: task success (every step right). The model sees the
same ranked top-k controls as in training, but without the expert's control forced in: if the
ranking drops it, the step is wrong — that is what k costs. A malformed answer is wrong.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from lamforge.core import StepSample
from lamforge.train.formats import parse_action, step_prompt

METRICS = ("object", "operation", "args", "status", "step_success")


def _norm_args(args: Any) -> Any:
    if not isinstance(args, dict):
        return args
    return {k: str(v).strip().lower() for k, v in args.items()}


def score_step(sample: StepSample, answer: dict[str, Any] | None) -> dict[str, bool]:
    if answer is None:
        return dict.fromkeys(METRICS, False) | {"malformed": True}
    label, name = answer.get("control_label"), answer.get("control_name")
    obj = (sample.control_label is None and not label) or (
        label is not None and str(label) == sample.control_label) or (
        bool(name) and name == sample.control_name)
    op = answer.get("function") == sample.function
    args = _norm_args(answer.get("args", {})) == _norm_args(sample.args)
    status = answer.get("status") == sample.status
    return {"object": obj, "operation": op, "args": args, "status": status,
            "step_success": obj and op and status, "malformed": False}


def evaluate(samples: list[StepSample], answers: list[str]) -> dict[str, Any]:
    """Metrics of the answers (raw model text, one per sample)."""
    per_task: dict[str, list[bool]] = defaultdict(list)
    totals = dict.fromkeys((*METRICS, "malformed"), 0)
    for sample, text in zip(samples, answers, strict=True):
        s = score_step(sample, parse_action(text))
        for k in totals:
            totals[k] += int(s[k])
        per_task[sample.task_id].append(s["step_success"])
    n = max(1, len(samples))
    out = {k: round(v / n, 4) for k, v in totals.items()}
    out["task_success"] = round(sum(all(v) for v in per_task.values()) / max(1, len(per_task)), 4)
    out["steps"], out["tasks"] = len(samples), len(per_task)
    return out


def evaluate_model(model_dir: Path, samples: list[StepSample], k: int) -> dict[str, Any]:
    from lamforge.train.sft import generate

    answers = generate(model_dir, [step_prompt(s, k) for s in samples])
    return evaluate(samples, answers)


def write(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
