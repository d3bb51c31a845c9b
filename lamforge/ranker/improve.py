"""Phase 4 for a ranker: a reward model, then KL-anchored policy improvement.

**Reward model.** LAM3's encoder, regressed with sentence-transformers' cosine-similarity loss
so that cos(state, action) ≈ +1 for the steps of verified successes (the expert's, phase 3's)
and −1 for the steps of failed runs (the expert's failures, phase 3's failed attempts), the
mistakes LAM2 made beside the expert in phase 3, and actions the app refuted (a suite's
search).

**Policy improvement.** A ranker's policy is a softmax over a finite candidate set, so the
KL-regularised improvement has a closed form: on each logged state,
π*(a) ∝ π_LAM3(a) · exp(R(s, a) / β), the policy that maximises E[R] − β·KL(π ‖ π_LAM3) (the
paper's offline PPO optimises the same objective by gradient steps). R is the reward model's
score, except for the logged action of the state, whose outcome is known: it was verified, so
its reward is +1 (with the estimate alone, the improved policy drifted from it and LAM4 was
worse on validation, 92.2% step success against LAM3's 94.5%). LAM4 is LAM3 trained to
match π* with the listwise loss (soft targets over all the state's candidates). β
(`phase4.policy.beta`) is the KL anchor: large keeps LAM3, small follows the reward model.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from lamforge.core import StepSample, read_jsonl
from lamforge.train.sft import PhaseConfig


def _read(path: Path) -> list[StepSample]:
    return read_jsonl(path, StepSample) if path.is_file() else []


def _pairs(samples: list[StepSample], env_cls: Any, label: float) -> list[dict[str, Any]]:
    """(context, action text, label) of each sample's own action."""
    from lamforge.core import Action
    from lamforge.ranker.data import state_of, task_plans
    from lamforge.ranker.state import context_text

    plans = task_plans(samples)
    rows = []
    for s in samples:
        state = state_of(s, plans)
        action = Action(function=s.function, control_label=s.control_label, args=s.args)
        control = next((c for c in s.controls if c.label == s.control_label), None)
        rows.append({"sentence1": context_text(state, env_cls=env_cls),
                     "sentence2": env_cls.describe_candidate(action, control), "score": label})
    return rows


def reward_data(cfg: Any, train: list[StepSample]) -> tuple[list[StepSample], list[StepSample]]:
    """Positive and negative steps for the reward model (see the module doc)."""
    from lamforge.dataflow.flow import step_samples
    from lamforge.ranker.phases import is_validation
    from lamforge.train.phases import expert_failures

    explore = cfg.output_dir / "lam3" / "explore"
    positives = train + _read(explore / "samples_pass.jsonl")
    negatives = [s for t in expert_failures(cfg) for s in step_samples(t)
                 if not is_validation(t.task.id, cfg.ranker.validation, cfg.seed)]
    negatives += _read(explore / "samples_fail.jsonl") + _read(explore / "mistakes.jsonl")
    negatives += _read(cfg.data.flow_dir / "samples" / "refuted.jsonl")
    return positives, negatives


def train_reward(cfg: Any, lam3: Path, out: Path, positives: list[StepSample],
                 negatives: list[StepSample]) -> tuple[Any, dict[str, Any]]:
    """The reward model (sentence-transformers' trainer, cosine-similarity loss), balanced."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss
    from sentence_transformers.sentence_transformer.training_args import (
        SentenceTransformerTrainingArguments,
    )

    from lamforge.ranker.listwise import freeze_bottom, training_args
    from lamforge.ranker.model import load_encoder
    from lamforge.ranker.phases import env_cls
    from lamforge.ranker.state import CONTEXT_TOKENS
    from lamforge.train.sft import fit

    rc = cfg.phase4.reward
    rng = random.Random(cfg.seed)
    n = min(rc.max_rows // 2, len(positives), max(len(negatives), 1) * 3)
    pos = rng.sample(positives, min(n, len(positives)))
    neg = rng.sample(negatives, min(rc.max_rows // 2, len(negatives)))
    cls = env_cls(cfg)
    rows = _pairs(pos, cls, 1.0) + _pairs(neg, cls, -1.0)
    rng.shuffle(rows)
    encoder = load_encoder(lam3)
    freeze_bottom(encoder, cfg.ranker.freeze_layers)
    encoder.max_seq_length = CONTEXT_TOKENS  # as the ranker reads a context in training
    args = training_args(SentenceTransformerTrainingArguments, out, rc, cfg.seed)
    trainer = SentenceTransformerTrainer(model=encoder, args=args,
                                         train_dataset=Dataset.from_list(rows),
                                         loss=CosineSimilarityLoss(encoder))
    metrics = fit(trainer, out, len(rows), cfg.seed, rc, str(lam3))
    encoder.eval()
    sims = _cosines(encoder, [r["sentence1"] for r in rows], [r["sentence2"] for r in rows])
    right = sum((s > 0) == (r["score"] > 0) for s, r in zip(sims, rows, strict=True))
    metrics |= {"positives": len(pos), "negatives": len(neg),
                "train_accuracy": round(right / max(1, len(rows)), 4)}
    return encoder, metrics


def _cosines(encoder: Any, a: list[str], b: list[str]) -> list[float]:
    ea = encoder.encode(a, normalize_embeddings=True, batch_size=64, convert_to_numpy=True,
                        show_progress_bar=False)
    eb = encoder.encode(b, normalize_embeddings=True, batch_size=128, convert_to_numpy=True,
                        show_progress_bar=False)
    return [float(x @ y) for x, y in zip(ea, eb, strict=True)]


def improve(cfg: Any, lam3: Path, out: Path, train: list[StepSample]) -> dict[str, Any]:
    """The reward model, the improved policy π* on logged states, LAM3 distilled onto it.
    Returns the phase's metrics with the trained encoder under "encoder"."""
    import numpy as np

    from lamforge.ranker.data import listwise_rows, state_of, target_index, task_plans
    from lamforge.ranker.listwise import train_listwise
    from lamforge.ranker.model import Ranker, candidates, load_encoder
    from lamforge.ranker.state import context_text

    t0 = time.perf_counter()
    positives, negatives = reward_data(cfg, train)
    rm, rm_metrics = train_reward(cfg, lam3, out / "reward", positives, negatives)
    policy = Ranker(lam3)
    beta = cfg.phase4.policy.beta
    rng = random.Random(cfg.seed)
    states = rng.sample(positives, min(cfg.ranker.policy_states, len(positives)))
    plans = task_plans(states)
    rows, gain, kl = [], [], []
    cache: dict[str, Any] = {}
    for s in states:
        state = state_of(s, plans)
        cands = candidates(policy.env_cls, state)
        p3 = policy.probabilities(state, cands)
        todo = [c.text for c in cands if c.text not in cache]
        if todo:
            cache.update(zip(todo, rm.encode(todo, normalize_embeddings=True, batch_size=128,
                                             convert_to_numpy=True, show_progress_bar=False),
                             strict=True))
        ctx = rm.encode([context_text(state, env_cls=policy.env_cls)], normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False)[0]
        reward = np.stack([cache[c.text] for c in cands]) @ ctx
        logged = target_index(s, cands)  # its outcome is known (verified): no estimate
        if logged is not None:
            reward[logged] = 1.0
        logits = np.log(np.maximum(p3, 1e-12)) + reward / beta
        target = np.exp(logits - logits.max())
        target /= target.sum()
        gain.append(float(target @ reward - p3 @ reward))
        kl.append(float(np.sum(target * (np.log(np.maximum(target, 1e-12)) -
                                         np.log(np.maximum(p3, 1e-12))))))
        rows.append({"context": context_text(state, rng.random() >= cfg.ranker.plan_dropout,
                                             policy.env_cls),
                     "candidates": [c.text for c in cands], "target": target.tolist()})
    # the calls' arguments are not re-weighed by the reward model: the expert's, as in phase 2,
    # so that distilling the choice of call does not unlearn how to fill it
    rows += listwise_rows(states, policy.env_cls, plan_dropout=cfg.ranker.plan_dropout,
                          seed=cfg.seed + 5, slot_candidates=cfg.ranker.slot_candidates,
                          plans=plans).slot_rows
    rng.shuffle(rows)
    encoder = load_encoder(lam3)
    pc = cfg.phase4.policy
    distill = PhaseConfig(epochs=1, max_steps=pc.max_steps, lr=pc.lr, batch_size=pc.batch_size,
                          scheduler=pc.scheduler, logging_steps=pc.logging_steps,
                          save_steps=pc.save_steps)
    metrics = train_listwise(encoder, rows, out, distill, cfg.seed, policy.scale, str(lam3),
                             cfg.ranker.freeze_layers)
    metrics |= {"reward_model": rm_metrics, "states": len(rows), "beta": beta,
                "expected_reward_gain": round(float(np.mean(gain)), 4) if gain else None,
                "kl_to_lam3": round(float(np.mean(kl)), 4) if kl else None,
                "seconds_total": round(time.perf_counter() - t0, 1), "encoder": encoder,
                "data": f"{len(positives)} positive and {len(negatives)} negative steps for the "
                        f"reward model; {len(rows)} logged states for the policy"}
    (out / "reward").mkdir(parents=True, exist_ok=True)
    (out / "reward" / "metrics.json").write_text(json.dumps(rm_metrics, indent=2))
    return metrics
