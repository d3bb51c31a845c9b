"""The paper's four phases for a ranker LAM (`model.kind: ranker`).

1. **Task–plan knowledge.** The encoder learns which plan goes with which task (the mined and
   evolved pairs; test_family help pages left out), contrastively: a task and its plan are
   pulled together, the other plans of the batch pushed away. LAM1 keeps the pairs, so a
   request that comes without a plan gets the plan of the closest known task (LAM2-4 keep
   them only when the steps they imitate carry plans: `retrieval_pairs`).
2. **Imitation.** From LAM1, a listwise loss over each expert step's candidates
   (`lamforge.ranker.listwise`): LAM2.
3. **Self-boosting exploration** (`lamforge.ranker.explore`): LAM2 retries the train tasks the
   expert failed (verified successes join the data), and recovers from its own mistakes on
   train tasks it knows: where it leaves the expert's path, the action that returns to it
   (close the menu, cancel the dialog, undo) and the expert's remaining steps, kept only when
   the checks pass. LAM2 fine-tuned on all of it: LAM3.
4. **Reward model, then policy improvement.** The same encoder regressed to +1/−1 per (state,
   action) from expert steps, verified successes, failed runs and the mistakes of phase 3;
   then, on logged states, the KL-anchored improvement of LAM3 over the state's finite
   candidate set, π ∝ π_LAM3 · exp(R/β), distilled into LAM4.

Every phase's model is judged on a validation split taken from the train tasks (never a test
split), by offline step success; a phase that is worse than the one before is not shipped:
its `lamN/model` is the previous phase's, and `phaseN.json` says so and why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any

from lamforge.core import DataError, StepSample, Task, TaskPlan, read_jsonl
from lamforge.ranker.model import META, PLANS, Ranker, load_encoder, write_meta
from lamforge.ranker.state import CONTEXT_TOKENS

log = logging.getLogger(__name__)
PLAN_TOKENS = 64
"""Phase 1 reads a task's plan up to here (its first steps name the menus; a plan's tail
costs time and tells the task apart no better)."""


# ---- data ---------------------------------------------------------------------------------
def flow_env(cfg: Any) -> str:
    from lamforge.dataflow.flow import FlowConfig, load_settings

    return load_settings(FlowConfig(out_dir=cfg.data.flow_dir)).env


def env_cls(cfg: Any) -> Any:
    from lamforge.envs.registry import env_class

    return env_class(flow_env(cfg))


def is_validation(task_id: str, share: float, seed: int) -> bool:
    """Whether a train task is held out for validation (a seeded hash of its id)."""
    h = int(hashlib.sha1(f"val:{seed}:{task_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return h < share


def split_train(cfg: Any) -> tuple[list[StepSample], list[StepSample]]:
    """The flow's train samples, as (training, validation) by task."""
    from lamforge.train.phases import _samples

    samples = _samples(cfg, "train")
    val = [s for s in samples if is_validation(s.task_id, cfg.ranker.validation, cfg.seed)]
    train = [s for s in samples if not is_validation(s.task_id, cfg.ranker.validation,
                                                     cfg.seed)]
    if not train:
        raise DataError(f"{cfg.data.flow_dir}: no train samples left after the validation "
                        "split")
    return train, val


def plan_pairs(cfg: Any) -> list[dict[str, Any]]:
    """Phase 1's task-plan pairs: the configured pair files (help pages of test_family left
    out), else the flow's train tasks with their plans."""
    from lamforge.train.phases import _held_out_pages

    held = _held_out_pages(cfg)
    out: list[dict[str, Any]] = []
    if cfg.data.plans:
        for f in cfg.data.plans:
            for p in read_jsonl(f, TaskPlan):
                partner = p.meta.get("evolution", {}).get("partner_source", "")
                sources = {p.source, p.source.split("#")[0], partner, partner.split("#")[0]}
                if p.plan and not sources & held:
                    out.append({"task": p.task, "plan": p.plan, "source": p.source})
    else:
        for t in read_jsonl(cfg.data.flow_dir / "tasks" / "train.jsonl", Task):
            plan = t.plan or t.meta.get("plan") or []
            if plan:
                out.append({"task": t.request, "plan": plan, "source": t.meta.get("family", "")})
    if not out:
        raise DataError("phase 1 has no task-plan pairs to learn from")
    return list({p["task"]: p for p in reversed(out)}.values())[::-1]  # one pair per task


def plan_text(pair: dict[str, Any]) -> str:
    page = str(pair.get("source") or "").split("#")[0].rsplit("/", 1)[-1]
    return "plan: " + " | ".join(pair["plan"]) + (f" (help page {page})" if page else "")


# ---- saving and judging -------------------------------------------------------------------
def save_ranker(encoder: Any, out: Path, env: str, pairs_file: Path | None, **fields: Any
                ) -> Path:
    """`out/model`: the encoder, its lamforge.json and, with `pairs_file`, the task-plan
    pairs it retrieves plans from (their tasks embedded by this encoder)."""
    import numpy as np

    model_dir = out / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    encoder.save(str(model_dir))
    if pairs_file is not None and pairs_file.is_file():
        shutil.copy(pairs_file, model_dir / PLANS)
        rows = [json.loads(x) for x in pairs_file.read_text().splitlines() if x.strip()]
        encoder.max_seq_length = CONTEXT_TOKENS  # as PlanIndex reads a request
        vectors = encoder.encode([r["task"] for r in rows], normalize_embeddings=True,
                                 batch_size=128, convert_to_numpy=True, show_progress_bar=False)
        np.save(model_dir / "plans.npy", vectors.astype(np.float32))
    write_meta(model_dir, env, **fields)
    return model_dir


def validate(model_dir: Path, samples: list[StepSample]) -> dict[str, Any]:
    """Offline metrics of a ranker on `samples` (the paper's step metrics)."""
    from lamforge.eval.offline import evaluate_model

    return evaluate_model(model_dir, samples, 0)


def gate(cfg: Any, n: int, trained: Path, val: list[StepSample],
         metrics: dict[str, Any]) -> dict[str, Any]:
    """Ship LAM`n` only if it is not worse than LAM`n-1` on validation (step success, then
    task success); otherwise LAM`n`'s model is LAM`n-1`'s and the metrics say why."""
    score = validate(trained / "model", val) if val else None
    metrics["validation"] = score
    prev = cfg.output_dir / f"phase{n - 1}.json"
    before = json.loads(prev.read_text()).get("validation") if prev.is_file() else None
    if score and before and _rank_key(score) < _rank_key(before):
        rejected = trained / "rejected-model"
        if rejected.exists():
            shutil.rmtree(rejected)
        (trained / "model").rename(rejected)
        shutil.copytree(cfg.output_dir / f"lam{n - 1}" / "model", trained / "model")
        meta = json.loads((trained / "model" / META).read_text())
        (trained / "model" / META).write_text(json.dumps(meta | {"shipped_from": f"lam{n - 1}"},
                                                         indent=2))
        metrics["shipped"] = f"lam{n - 1}"
        metrics["why"] = (f"validation step success {score['step_success']:.1%} / task "
                          f"{score['task_success']:.1%} is below LAM{n - 1}'s "
                          f"{before['step_success']:.1%} / {before['task_success']:.1%}; "
                          f"the trained model is kept in {rejected.name}/")
        metrics["validation"] = before
        metrics["validation_rejected"] = score
        log.warning("LAM%d not shipped: %s", n, metrics["why"])
    else:
        metrics["shipped"] = f"lam{n}"
    return metrics


def _rank_key(m: dict[str, Any]) -> tuple[float, float]:
    return m["step_success"], m["task_success"]


def retrieval_pairs(cfg: Any, samples: list[StepSample]) -> Path | None:
    """The task-plan pairs LAM2-4 retrieve a plan from at run time (LAM1's), or None when the
    steps they imitate carry no plan. Such a ranker never read a plan in training, and the
    nearest known task's plan is another instance's: on MiniWoB++ (whose search ways have no
    plan in their steps) "Click '14'" where the 28th is asked. LAM4 of 2026-12-07 chose 916
    of its 1035 train steps right as trained, 643 with the retrieved plans."""
    pairs = cfg.output_dir / "lam1" / "model" / PLANS
    return pairs if any(s.previous_plan for s in samples) else None


def _load(cfg: Any, name: str) -> Path:
    path = cfg.output_dir / name / "model"
    if not (path / META).is_file():
        raise DataError(f"{path}: no {name.upper()} checkpoint (run `lamforge train "
                        f"phase{name[-1]}` first)")
    return path


def _card(out: Path, title: str, summary: str, metrics: dict[str, Any]) -> None:
    from lamforge.train.sft import _model_card

    _model_card(out, metrics, {"title": title, "summary": summary,
                               "data": metrics.get("data", "")})


# ---- the phases ---------------------------------------------------------------------------
def phase1(cfg: Any) -> dict[str, Any]:
    """Contrastive task ↔ plan training of the base encoder (sentence-transformers' trainer
    and its multiple-negatives ranking loss); LAM1 keeps the pairs for plan retrieval."""
    import time

    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import (
        BatchSamplers,
        SentenceTransformerTrainingArguments,
    )

    from lamforge.ranker.listwise import training_args
    from lamforge.train.sft import fit

    pairs = plan_pairs(cfg)
    out = cfg.output_dir / "lam1"
    out.mkdir(parents=True, exist_ok=True)
    pairs_file = out / PLANS
    pairs_file.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    encoder = load_encoder(cfg.model.path)
    encoder.max_seq_length = PLAN_TOKENS
    p = cfg.phase1
    args = training_args(SentenceTransformerTrainingArguments, out, p, cfg.seed,
                         batch_sampler=BatchSamplers.NO_DUPLICATES)
    data = Dataset.from_list([{"anchor": x["task"], "positive": plan_text(x)} for x in pairs])
    trainer = SentenceTransformerTrainer(model=encoder, args=args, train_dataset=data,
                                         loss=MultipleNegativesRankingLoss(encoder))
    t0 = time.perf_counter()
    metrics = fit(trainer, out, len(pairs), cfg.seed, p, cfg.model.path or "minilm")
    encoder.max_seq_length = load_encoder().max_seq_length
    save_ranker(encoder, out, flow_env(cfg), pairs_file, trained_by="lamforge train phase1",
                config=cfg.name)
    metrics |= plan_quality(out / "model", cfg)
    metrics["seconds_total"] = round(time.perf_counter() - t0, 1)
    metrics["data"] = f"{len(pairs)} task-plan pairs (test_family help pages excluded)"
    _, val = split_train(cfg)
    metrics["validation"] = validate(out / "model", val) if val else None
    metrics["shipped"] = "lam1"
    _card(out, f"LAM1 ({cfg.name}): task-plan knowledge (ranker)",
          "Phase 1: MiniLM trained contrastively on task-plan pairs; a request without a plan "
          "gets the plan of the closest known task.", metrics)
    return metrics


def plan_quality(model_dir: Path, cfg: Any) -> dict[str, Any]:
    """Plan step precision/recall of retrieved plans on the flow's held-out tasks, per split
    (as for a generative LAM1's written plans). test_instance tasks' own pairs may be among
    the known ones (only test_family's help pages are left out), so test_family is the honest
    figure."""
    from lamforge.eval.offline import evaluate_plans

    out: dict[str, Any] = {}
    for split in ("test_instance", "test_family"):
        path = cfg.data.flow_dir / "tasks" / f"{split}.jsonl"
        tasks = [t for t in read_jsonl(path, Task) if t.plan] if path.is_file() else []
        if tasks:
            out[f"plans_{split}"] = evaluate_plans(model_dir, tasks)
    return out


def phase2(cfg: Any) -> dict[str, Any]:
    from lamforge.ranker.data import listwise_rows
    from lamforge.ranker.listwise import train_listwise

    lam1 = _load(cfg, "lam1")
    train, val = split_train(cfg)
    built = listwise_rows(train, env_cls(cfg), max_candidates=cfg.ranker.max_candidates or
                          10_000, plan_dropout=cfg.ranker.plan_dropout, seed=cfg.seed,
                          slot_candidates=cfg.ranker.slot_candidates)
    out = cfg.output_dir / "lam2"
    encoder = load_encoder(lam1)
    rows = built.rows + built.slot_rows
    random.Random(cfg.seed).shuffle(rows)
    metrics = train_listwise(encoder, rows, out, cfg.phase2, cfg.seed,
                             Ranker(lam1).scale, str(lam1), cfg.ranker.freeze_layers)
    save_ranker(encoder, out, flow_env(cfg), retrieval_pairs(cfg, train),
                trained_by="lamforge train phase2", config=cfg.name)
    metrics |= {"uncovered": dict(built.uncovered), "validation_steps": len(val),
                "data": f"{len(built.rows)} expert steps" + (
                    f" and {len(built.slot_rows)} of their arguments" if built.slot_rows
                    else "") + f" of {cfg.data.flow_dir} (train split, "
                        f"{len(val)} steps held out for validation)"}
    metrics = gate(cfg, 2, out, val, metrics)
    _card(out, f"LAM2 ({cfg.name}): learning from experts (ranker)",
          "Phase 2: a listwise loss over each expert step's candidate actions, from LAM1.",
          metrics)
    return metrics


def phase3(cfg: Any, progress: Any = None) -> dict[str, Any]:
    from lamforge.ranker.data import listwise_rows
    from lamforge.ranker.explore import explore_and_recover
    from lamforge.ranker.listwise import train_listwise

    lam2 = _load(cfg, "lam2")
    out = cfg.output_dir / "lam3"
    summary = explore_and_recover(cfg, lam2, out / "explore", progress)
    new = read_jsonl(out / "explore" / "samples_pass.jsonl", StepSample) \
        if (out / "explore" / "samples_pass.jsonl").is_file() else []
    train, val = split_train(cfg)
    expert = listwise_rows(train, env_cls(cfg), max_candidates=cfg.ranker.max_candidates or
                           10_000, plan_dropout=cfg.ranker.plan_dropout, seed=cfg.seed + 3,
                           slot_candidates=cfg.ranker.slot_candidates)
    found = listwise_rows(new, env_cls(cfg), max_candidates=cfg.ranker.max_candidates or 10_000,
                          plan_dropout=cfg.ranker.plan_dropout, seed=cfg.seed + 4,
                          slot_candidates=cfg.ranker.slot_candidates)
    rows = expert.rows + expert.slot_rows + (found.rows + found.slot_rows) * \
        cfg.phase3.new_weight
    random.Random(cfg.seed).shuffle(rows)
    encoder = load_encoder(lam2)
    metrics = train_listwise(encoder, rows, out, cfg.phase3, cfg.seed, Ranker(lam2).scale,
                             str(lam2), cfg.ranker.freeze_layers)
    save_ranker(encoder, out, flow_env(cfg), retrieval_pairs(cfg, train),
                trained_by="lamforge train phase3", config=cfg.name)
    metrics |= {"explore": summary, "data": f"expert steps + {len(new)} new steps (weight "
                                             f"{cfg.phase3.new_weight})"}
    metrics = gate(cfg, 3, out, val, metrics)
    _card(out, f"LAM3 ({cfg.name}): self-boosting exploration (ranker)",
          f"Phase 3: LAM2 retried {summary['tasks']} failed train tasks ({summary['recovered']} "
          f"verified) and recovered from its own mistakes on {summary['recovery_kept']} runs.",
          metrics)
    return metrics


def phase4(cfg: Any) -> dict[str, Any]:
    from lamforge.ranker.improve import improve

    lam3 = _load(cfg, "lam3")
    out = cfg.output_dir / "lam4"
    train, val = split_train(cfg)
    metrics = improve(cfg, lam3, out, train)
    save_ranker(metrics.pop("encoder"), out, flow_env(cfg), retrieval_pairs(cfg, train),
                trained_by="lamforge train phase4", config=cfg.name)
    metrics = gate(cfg, 4, out, val, metrics)
    _card(out, f"LAM4 ({cfg.name}): reward model and policy improvement (ranker)",
          "Phase 4: a reward model on (state, action), then LAM3's policy improved against it "
          "with a KL anchor to LAM3 and distilled.", metrics)
    return metrics


PHASES = {"phase1": phase1, "phase2": phase2, "phase3": phase3, "phase4": phase4}
