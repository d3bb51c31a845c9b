"""The paper's four training phases on the dataflow's data.

1. task → plan pre-training gives LAM1 (task-plan pairs; test_family help pages left out, so
   no test wording leaks into pre-training);
2. imitation of the expert's verified steps (state → action), from LAM1, gives LAM2;
3. self-boosting exploration: LAM2 acts in the app on train tasks the expert failed; verified
   successes join the expert data and LAM2 is fine-tuned on both, giving LAM3;
4. a reward model on (state, action), +1 for steps of successful trajectories and -1 for steps
   of failed ones (expert and phase 3), then GRPO of LAM3 against it on logged states, giving
   LAM4.

Each phase writes `<output_dir>/lamN/` (model/, metrics.json, README.md model card) and
`<output_dir>/phaseN.json`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from lamforge.core import DataError, StepSample, Task, TaskPlan, Trajectory, iter_jsonl, read_jsonl
from lamforge.train.config import TrainConfig
from lamforge.train.formats import (
    plan_completion,
    plan_prompt,
    step_completion,
    step_prompt,
    with_target,
)
from lamforge.train.sft import train_sft

log = logging.getLogger(__name__)


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
    pages.discard("")  # a task of no help page (a suite's) holds none out
    return pages


def plan_rows(cfg: TrainConfig) -> list[dict[str, str]]:
    """Phase 1 rows: the task-plan pairs (config `data.plans`, else the flow's train tasks)."""
    held = _held_out_pages(cfg)
    rows = []
    if cfg.data.plans:
        for f in cfg.data.plans:
            for p in read_jsonl(f, TaskPlan):
                # a family is a help page (Writer) or one documented function (tools)
                partner = p.meta.get("evolution", {}).get("partner_source", "")
                sources = {p.source, p.source.split("#")[0], partner, partner.split("#")[0]}
                if not sources & held and p.plan:
                    rows.append({"prompt": plan_prompt(p.task), "completion": plan_completion(
                        p.plan)})
    else:
        path = cfg.data.flow_dir / "tasks" / "train.jsonl"
        for t in read_jsonl(path, Task):
            # a suite's task has the plan its verified search found (meta.plan)
            plan = t.plan or t.meta.get("plan") or []
            rows.append({"prompt": plan_prompt(t.request), "completion": plan_completion(plan)})
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
    from lamforge.train.launch import main_first

    with main_first():  # under a launch the main process builds it, the others read it
        if (out / "config.json").is_file():
            return out
        from lamforge.train.tiny import build_tiny

        texts = [r["prompt"] + r["completion"] for r in plan_rows(cfg)]
        texts += [r["prompt"] + r["completion"]
                  for r in step_rows(cfg, _samples(cfg, "train"))]
        return build_tiny(texts, out, cfg.model.tiny, cfg.seed)


def phase1(cfg: TrainConfig) -> dict[str, Any]:
    rows = plan_rows(cfg)
    return train_sft(base_model(cfg), rows, cfg.output_dir / "lam1", cfg.phase1, cfg.seed,
                     cfg.model.lora, card={
                         "title": f"LAM1 ({cfg.name}): task-plan pre-training",
                         "summary": "Phase 1 of the LAM workflow: from a task, write its plan.",
                         "data": "task-plan pairs, test_family help pages excluded"})


def _checkpoint(cfg: TrainConfig, name: str) -> Path:
    path = cfg.output_dir / name / "model"
    if not (path / "config.json").is_file():
        raise DataError(f"{path}: no {name.upper()} checkpoint (run `lamforge train "
                        f"phase{name[-1]}` first)")
    return path


def phase2(cfg: TrainConfig) -> dict[str, Any]:
    lam1 = _checkpoint(cfg, "lam1")
    rows = step_rows(cfg, _samples(cfg, "train"))
    return train_sft(lam1, rows, cfg.output_dir / "lam2", cfg.phase2, cfg.seed, cfg.model.lora,
                     card={"title": f"LAM2 ({cfg.name}): learning from experts",
                           "summary": "Phase 2: imitation of verified expert steps "
                                      "(state → action), starting from LAM1.",
                           "data": f"step samples of {cfg.data.flow_dir} (train split)"})


def expert_failures(cfg: TrainConfig) -> list[Trajectory]:
    """The expert's failed and unsure trajectories of train tasks (never a test split's)."""
    from lamforge.dataflow.flow import FlowConfig, load_settings, split_of
    from lamforge.envs.registry import env_class

    flow = load_settings(FlowConfig(out_dir=cfg.data.flow_dir))
    judged = env_class(flow.env).judges_itself  # no checks needed: the app says
    out = []
    for kind in ("fail", "unsure"):
        path = cfg.data.flow_dir / "execution" / f"{kind}.jsonl"
        if path.is_file():
            out += [t for t in iter_jsonl(path, Trajectory)
                    if (t.task.checks or judged) and split_of(t.task, flow) == "train"
                    and not t.task.id.startswith("malformed:")]
    return out


def explore_phase3(cfg: TrainConfig, progress: Any = None) -> dict[str, Any]:
    """Phase 3's exploration (LAM2 in the app on the failed train tasks), or its summary when
    it is done. Under a multi-process launch it is the driver's job, done before the launch."""
    from lamforge.train.explore import explore
    from lamforge.train.launch import distributed

    explore_dir = cfg.output_dir / "lam3" / "explore"
    summary_path = explore_dir / "summary.json"
    if summary_path.is_file():  # resuming: the exploration is done, only training is left
        return json.loads(summary_path.read_text())
    if distributed():
        raise DataError(f"{summary_path}: phase 3 has not explored yet, and the training "
                        "processes must not each explore: run `lamforge train phase3 "
                        "--accelerate CFG` (it explores, then launches)")
    lam2 = _checkpoint(cfg, "lam2")
    tasks = [t.task for t in expert_failures(cfg)]
    if not tasks:  # nothing the expert failed: LAM3 is LAM2 tuned on the expert data
        log.warning("%s/execution: no failed train tasks to explore", cfg.data.flow_dir)
    from lamforge.dataflow.flow import FlowConfig, env_settings, load_settings

    flow = load_settings(FlowConfig(out_dir=cfg.data.flow_dir,
                                    templates_dir=cfg.data.templates_dir))
    return explore(tasks, lam2, cfg.phase3.explore, cfg.controls_top_k, explore_dir,
                   cfg.seed, flow.env, env_settings(flow), progress)


def phase3(cfg: TrainConfig, progress: Any = None) -> dict[str, Any]:
    summary = explore_phase3(cfg, progress)
    lam2 = _checkpoint(cfg, "lam2")
    out_dir = cfg.output_dir / "lam3"
    explore_dir = out_dir / "explore"
    new = read_jsonl(explore_dir / "samples_pass.jsonl", StepSample)
    rows = step_rows(cfg, _samples(cfg, "train")) + step_rows(cfg, new) * cfg.phase3.new_weight
    metrics = train_sft(lam2, rows, out_dir, cfg.phase3, cfg.seed, cfg.model.lora, card={
        "title": f"LAM3 ({cfg.name}): self-boosting exploration",
        "summary": f"Phase 3: LAM2 explored {summary['tasks']} train tasks the expert failed "
                   f"({summary['episodes']} episodes); {summary['recovered']} passed their "
                   "checks and their steps were added to the expert data.",
        "data": f"expert step samples + {len(new)} new steps (weight "
                f"{cfg.phase3.new_weight})"})
    metrics["explore"] = summary
    _write(out_dir / "metrics.json", metrics)
    return metrics


def _negatives(cfg: TrainConfig) -> list[StepSample]:
    from lamforge.dataflow.flow import step_samples

    out = [s for t in expert_failures(cfg) for s in step_samples(t)]
    # actions the app itself judged wrong during a verified search (suite flows)
    refuted = cfg.data.flow_dir / "samples" / "refuted.jsonl"
    out += read_jsonl(refuted, StepSample) if refuted.is_file() else []
    path = cfg.output_dir / "lam3" / "explore" / "samples_fail.jsonl"
    return out + (read_jsonl(path, StepSample) if path.is_file() else [])


def phase4(cfg: TrainConfig) -> dict[str, Any]:
    import random

    from lamforge.train.optimize import train_policy
    from lamforge.train.reward import reward_rows, train_reward

    lam3 = _checkpoint(cfg, "lam3")
    new = cfg.output_dir / "lam3" / "explore" / "samples_pass.jsonl"
    positives = _samples(cfg, "train") + (read_jsonl(new, StepSample) if new.is_file() else [])
    negatives = _negatives(cfg)
    if not negatives:
        raise DataError("phase 4 has no failed steps for the reward model (the dataflow's "
                        "execution/fail.jsonl and phase 3's attempts are empty)")
    out_dir = cfg.output_dir / "lam4"
    rows = reward_rows(positives, negatives, cfg.controls_top_k, cfg.phase4.reward, cfg.seed)
    rm = train_reward(lam3, rows, out_dir / "reward", cfg.phase4.reward, cfg.seed, card={
        "title": f"Reward model ({cfg.name})",
        "summary": "Phase 4: scores (state, action); +1 for steps of verified successes, -1 for "
                   "steps of failures and for another control in a successful state.",
        "data": f"{len(positives)} positive and {len(negatives)} negative steps available"})
    logged = positives + negatives
    states = random.Random(cfg.seed).sample(logged, min(cfg.phase4.policy.max_prompts,
                                                        len(logged)))
    prompts = [step_prompt(s, cfg.controls_top_k) for s in states]
    metrics = train_policy(lam3, out_dir / "reward" / "model", prompts, out_dir,
                           cfg.phase4.policy, cfg.seed, card={
                               "title": f"LAM4 ({cfg.name}): reward-guided optimisation",
                               "summary": "Phase 4: GRPO of LAM3 against the reward model on "
                                          "logged states, KL-anchored to LAM3.",
                               "data": "logged states of the expert and phase 3 runs"})
    metrics["reward_model"] = rm
    _write(out_dir / "metrics.json", metrics)
    return metrics


PHASES = {"phase1": phase1, "phase2": phase2, "phase3": phase3, "phase4": phase4}


def done(cfg: TrainConfig, phase: str) -> bool:
    lam = cfg.output_dir / f"lam{phase[-1]}"
    return (cfg.output_dir / f"{phase}.json").is_file() and (lam / "model" / "config.json"
                                                             ).is_file()


def phases_of(cfg: TrainConfig) -> dict[str, Any]:
    """The four phases of the configured kind of model (`model.kind`)."""
    if cfg.model.kind == "ranker":
        from lamforge.ranker.phases import PHASES as RANKER_PHASES

        return RANKER_PHASES
    return PHASES


def run(cfg: TrainConfig, phase: str, progress: Any = None) -> dict[str, Any]:
    """One phase, or `all` four in order (a phase already finished in output_dir is kept, so a
    stopped `all` resumes where it stopped)."""
    phases = phases_of(cfg)
    if phase == "all":
        out: dict[str, Any] = {}
        for name in phases:
            if done(cfg, name):
                out[name] = json.loads((cfg.output_dir / f"{name}.json").read_text())
            else:
                out[name] = run(cfg, name, progress)
        return out
    if phase not in phases:
        raise DataError(f"unknown phase '{phase}' (use phase1, phase2, phase3, phase4 or all)")
    kwargs = {"progress": progress} if phase == "phase3" else {}
    out = phases[phase](cfg, **kwargs)
    if cfg.model.kind != "ranker":  # a ranker's lamforge.json is written with its model
        record_prompt_settings(cfg, phase)
    _write(cfg.output_dir / f"{phase}.json", out)  # last: the phase is done when it exists
    return out


def record_prompt_settings(cfg: TrainConfig, phase: str) -> None:
    """Beside the phase's checkpoint, what its prompts were like: the controls it saw and
    how long an answer may be (the longest training answer in its tokens, plus a margin),
    so inference is never cut shorter than what the model learnt to write."""
    from lamforge.train.launch import is_main
    from lamforge.train.sft import DEFAULT_ANSWER_TOKENS, PROMPT_FILE

    if not is_main():
        return
    model = cfg.output_dir / f"lam{phase[-1]}" / "model"
    answer_tokens = DEFAULT_ANSWER_TOKENS
    if (cfg.data.flow_dir / "samples" / "train.jsonl").is_file():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model)
        longest = max((len(tok(step_completion(s))["input_ids"])
                       for s in _samples(cfg, "train")), default=0)
        answer_tokens = max(DEFAULT_ANSWER_TOKENS, longest + 16)
    _write(model / PROMPT_FILE,
           {"controls_top_k": cfg.controls_top_k, "max_new_tokens": answer_tokens,
            "trained_by": f"lamforge train {phase}", "config": cfg.name})


def _write(path: Path, data: dict[str, Any]) -> None:
    """JSON written by the main process only (every process of a launch gets here)."""
    from lamforge.train.launch import is_main

    if is_main():
        path.write_text(json.dumps(data, indent=2))
