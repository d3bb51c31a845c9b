"""The paper's training phases on the dataflow's data: phase 1 (task → plan) gives LAM1,
phase 2 (imitation of expert steps, from LAM1) gives LAM2.

Phase 1 learns from the task-plan pairs whose help page is not held out as test_family, so no
test wording leaks into pre-training; phase 2 learns from the `train` step samples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lamforge.core import DataError, StepSample, Task, TaskPlan, read_jsonl
from lamforge.train.config import TrainConfig
from lamforge.train.formats import (
    plan_completion,
    plan_prompt,
    step_completion,
    step_prompt,
    with_target,
)
from lamforge.train.sft import train_sft


def _samples(cfg: TrainConfig, split: str) -> list[StepSample]:
    path = cfg.data.flow_dir / "samples" / f"{split}.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: no step samples (run `lamforge data flow` first)")
    return read_jsonl(path, StepSample)


def _held_out_pages(cfg: TrainConfig) -> set[str]:
    path = cfg.data.flow_dir / "tasks" / "test_family.jsonl"
    pages: set[str] = set()
    if path.is_file():
        for t in read_jsonl(path, Task):
            pages.update(t.meta.get("families") or [t.meta.get("family", "")])
    return pages


def plan_rows(cfg: TrainConfig) -> list[dict[str, str]]:
    """Phase 1 rows: the task-plan pairs (config `data.plans`, else the flow's train tasks)."""
    held = _held_out_pages(cfg)
    rows = []
    if cfg.data.plans:
        for f in cfg.data.plans:
            for p in read_jsonl(f, TaskPlan):
                page = p.source.split("#")[0]
                partner = p.meta.get("evolution", {}).get("partner_source", "").split("#")[0]
                if page not in held and partner not in held and p.plan:
                    rows.append({"prompt": plan_prompt(p.task), "completion": plan_completion(
                        p.plan)})
    else:
        path = cfg.data.flow_dir / "tasks" / "train.jsonl"
        for t in read_jsonl(path, Task):
            rows.append({"prompt": plan_prompt(t.request), "completion": plan_completion(t.plan)})
    if not rows:
        raise DataError("phase 1 has no task-plan pairs to learn from")
    return rows


def step_rows(cfg: TrainConfig, samples: list[StepSample]) -> list[dict[str, str]]:
    k = cfg.controls_top_k
    return [{"prompt": step_prompt(s, controls=with_target(s, k)),
             "completion": step_completion(s)} for s in samples]


def base_model(cfg: TrainConfig) -> Path | str:
    """The starting point: the tiny preset (built once per run) or the configured model."""
    if cfg.model.path:
        return cfg.model.path
    out = cfg.output_dir / "base"
    if (out / "config.json").is_file():
        return out
    from lamforge.train.tiny import build_tiny

    texts = [r["prompt"] + r["completion"] for r in plan_rows(cfg)]
    texts += [r["prompt"] + r["completion"] for r in step_rows(cfg, _samples(cfg, "train"))]
    return build_tiny(texts, out, cfg.model.tiny, cfg.seed)


def phase1(cfg: TrainConfig) -> dict[str, Any]:
    rows = plan_rows(cfg)
    return train_sft(base_model(cfg), rows, cfg.output_dir / "lam1", cfg.phase1, cfg.seed,
                     cfg.model.lora, card={
                         "title": f"LAM1 ({cfg.name}): task-plan pre-training",
                         "summary": "Phase 1 of the LAM workflow: from a task, write its plan.",
                         "data": "task-plan pairs, test_family help pages excluded"})


def phase2(cfg: TrainConfig) -> dict[str, Any]:
    lam1 = cfg.output_dir / "lam1" / "model"
    if not (lam1 / "config.json").is_file():
        raise DataError(f"{lam1}: no LAM1 checkpoint (run `lamforge train phase1` first)")
    rows = step_rows(cfg, _samples(cfg, "train"))
    return train_sft(lam1, rows, cfg.output_dir / "lam2", cfg.phase2, cfg.seed, cfg.model.lora,
                     card={"title": f"LAM2 ({cfg.name}): learning from experts",
                           "summary": "Phase 2: imitation of verified expert steps "
                                      "(state → action), starting from LAM1.",
                           "data": f"step samples of {cfg.data.flow_dir} (train split)"})


PHASES = {"phase1": phase1, "phase2": phase2}


def run(cfg: TrainConfig, phase: str) -> dict[str, Any]:
    if phase in ("phase3", "phase4", "all"):
        raise DataError(f"{phase} is not implemented yet: phases 3 (self-boosting exploration) "
                        "and 4 (reward model + policy optimisation) are still to come (issue 5)")
    if phase not in PHASES:
        raise DataError(f"unknown phase '{phase}' (phase1, phase2, phase3, phase4, all)")
    out = PHASES[phase](cfg)
    (cfg.output_dir / f"{phase}.json").write_text(json.dumps(out, indent=2))
    return out
