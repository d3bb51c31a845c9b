"""Offline evaluation with the paper's step metrics, on held-out step samples.

Per step: object accuracy (the control chosen is the expert's, by label or by name), operation
accuracy (function), args accuracy, status accuracy (CONTINUE/FINISH), step success (object,
operation and status right); per task: task success (every step right); for the plans a
model writes (phase 1's task → plan), step precision and recall against the expert plan. The
model sees the same ranked top-k controls as in training, but without the expert's control
forced in: if the ranking drops it, the step is wrong — that is what k costs. A malformed
answer is wrong.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from lamforge.core import StepSample, Task
from lamforge.train.formats import parse_action, plan_prompt, step_prompt

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
    """A checkpoint's metrics: a generative LAM writes its answers to the top-k prompts; a
    ranker LAM (`lamforge.ranker`) chooses among each state's candidates, with its task's
    whole plan as it has online."""
    from lamforge.ranker.model import is_ranker

    if is_ranker(model_dir):
        from lamforge.ranker.data import state_of, task_plans
        from lamforge.ranker.model import Ranker

        ranker, plans = Ranker(model_dir), task_plans(samples)
        chosen = ranker.choose_many([state_of(s, plans) for s in samples])
        answers = [json.dumps(c.answer()) for c in chosen]
        return evaluate(samples, answers)
    from lamforge.train.sft import generate

    answers = generate(model_dir, [step_prompt(s, k) for s in samples])
    return evaluate(samples, answers)


def plan_steps(text: str) -> list[str]:
    """The steps of a written plan (" step | step | …" up to the end of the line)."""
    return [p.strip() for p in text.strip().split("\n")[0].split("|") if p.strip()]


def _same_step(a: str, b: str) -> bool:
    from rapidfuzz import fuzz

    return fuzz.ratio(a.lower(), b.lower()) >= 85


def plan_scores(tasks: list[Task], answers: list[str]) -> dict[str, Any]:
    """Micro-averaged plan step precision and recall: a written step counts if it matches an
    expert step not matched yet (case-insensitive, 85% similar), so paraphrase at the level of
    a word or two is accepted and a missing or invented step is not."""
    matched = written = expected = 0
    for task, text in zip(tasks, answers, strict=True):
        gold = list(task.plan)
        steps = plan_steps(text)
        written += len(steps)
        expected += len(gold)
        for step in steps:
            hit = next((g for g in gold if _same_step(step, g)), None)
            if hit is not None:
                gold.remove(hit)
                matched += 1
    return {"plan_precision": round(matched / max(1, written), 4),
            "plan_recall": round(matched / max(1, expected), 4), "plans": len(tasks)}


def evaluate_plans(model_dir: Path, tasks: list[Task]) -> dict[str, Any]:
    """Plan step precision/recall of the plans a model gives: written (a generative LAM) or
    retrieved from the task-plan pairs it learnt (a ranker; none when it has no pairs)."""
    from lamforge.ranker.model import PlanIndex, is_ranker, load_encoder

    if is_ranker(model_dir):
        index = PlanIndex.load(Path(model_dir), load_encoder(model_dir))
        if not index:
            return {}
        return plan_scores(tasks, [" | ".join(index.nearest(t.request) or [])  # type: ignore[union-attr]
                                   for t in tasks])
    from lamforge.train.sft import generate

    answers = generate(model_dir, [plan_prompt(t.request) for t in tasks], max_new_tokens=160)
    return plan_scores(tasks, answers)


def write(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
