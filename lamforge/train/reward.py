"""Phase 4's reward model: how good is this action in this state, from verified outcomes.

As in the paper, every step of a successful trajectory is labelled +1 and every step of a failed
one -1 (the failures come from the dataflow's expert runs and from phase 3's attempts). A
score head on the LAM (sequence classification, one output) is regressed onto the labels with
`transformers.Trainer`. Failed trajectories are few and their labels noisy (most of their steps
were fine until one was not), so half of the sampled positive states also give a contrastive
negative: the same state with another visible control (or finishing too early) — the
comparison a policy needs the reward to make. Rows are half positive, half negative.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from lamforge.core import StepSample
from lamforge.train.formats import action_text, step_completion, step_prompt, with_target
from lamforge.train.launch import is_main
from lamforge.train.sft import (
    PhaseConfig,
    fit,
    lora_config,
    save_trained,
    show_progress,
    write_metrics,
)


class RewardConfig(PhaseConfig):
    max_rows: int = 4000  # half positives, half negatives
    contrast: bool = True  # a quarter of the rows: same-state negatives of positive states
    lora: dict[str, Any] | None = None  # the paper: LoRA r=8, alpha=32


def _row(sample: StepSample, k: int, completion: str, label: float) -> dict[str, Any]:
    return {"text": step_prompt(sample, controls=with_target(sample, k)) + completion,
            "label": label}


def _contrast(sample: StepSample, k: int, rng: random.Random) -> str | None:
    """A wrong action in the same state: another shown control, or FINISH if it continues."""
    others = [c for c in with_target(sample, k) if c["label"] != sample.control_label]
    if sample.status == "CONTINUE" and (not others or rng.random() < 0.25):
        return action_text({"control_label": None, "control_name": None, "function": "finish",
                            "args": {}, "status": "FINISH", "advance": 0})
    if not others:
        return None
    c = rng.choice(others)
    return action_text({"control_label": c["label"], "control_name": c["name"],
                        "function": "click", "args": {}, "status": "CONTINUE", "advance": 0})


def reward_rows(positives: list[StepSample], negatives: list[StepSample], k: int,
                cfg: RewardConfig, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    # half positives; the other half failed steps and, with `contrast`, same-state negatives
    n_pos = min(len(positives), cfg.max_rows // 2)
    n_contrast = n_pos // 2 if cfg.contrast else 0
    pos = rng.sample(positives, n_pos)
    neg = rng.sample(negatives, min(len(negatives), cfg.max_rows - n_pos - n_contrast))
    rows = [_row(s, k, step_completion(s), 1.0) for s in pos]
    rows += [_row(s, k, step_completion(s), -1.0) for s in neg]
    for s in pos[:n_contrast]:
        wrong = _contrast(s, k, rng)
        if wrong is not None:
            rows.append(_row(s, k, wrong, -1.0))
    rng.shuffle(rows)
    return rows


def train_reward(base: Path, rows: list[dict[str, Any]], out_dir: Path, cfg: RewardConfig,
                 seed: int = 0, card: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit the score head (and the body) of `base` to the rows' labels; save to out_dir/model."""
    import torch
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base)
    from transformers.utils import logging as hf_logging

    # the score head is new by design: transformers' LOAD REPORT saying so is not a problem
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=1, problem_type="regression")
    finally:
        hf_logging.set_verbosity(level)
    model.config.pad_token_id = tokenizer.pad_token_id
    if cfg.lora:
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(cfg.lora, "SEQ_CLS"))
    data = Dataset.from_list(rows).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=cfg.max_length),
        batched=True, remove_columns=["text"])
    args = TrainingArguments(
        output_dir=str(out_dir / "trainer"), num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps, learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_steps, per_device_train_batch_size=cfg.batch_size,
        logging_steps=cfg.logging_steps, save_steps=cfg.save_steps, save_total_limit=1,
        seed=seed, report_to=[], use_cpu=not torch.cuda.is_available(),
        bf16=torch.cuda.is_available(), disable_tqdm=not show_progress(),
        activation_checkpointing=cfg.activation_checkpointing)
    trainer = Trainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer))
    metrics = fit(trainer, out_dir, len(rows), seed, cfg, base)
    metrics["positives"] = sum(r["label"] > 0 for r in rows)
    save_trained(trainer, tokenizer, out_dir, "seq_cls" if cfg.lora else None, num_labels=1,
                 problem_type="regression", pad_token_id=tokenizer.pad_token_id)
    if is_main():  # a training-fit figure for the model card: one process scores
        metrics["train_accuracy"] = _sign_accuracy(out_dir / "model", rows[:512])
    return write_metrics(out_dir, metrics, card)


def _sign_accuracy(model_dir: Path, rows: list[dict[str, Any]]) -> float:
    """Share of rows whose score has the label's sign (a training-fit figure)."""
    rm = RewardModel(model_dir)
    scores = rm.score([r["text"] for r in rows])
    return round(sum((s > 0) == (r["label"] > 0) for s, r in zip(scores, rows, strict=True))
                 / max(1, len(rows)), 4)


class RewardModel:
    """A trained reward model: scores texts (a state prompt followed by an action)."""

    def __init__(self, model_dir: Path, max_length: int = 512) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_dir)
        self.model.eval()
        self.max_length = max_length

    def score(self, texts: list[str], batch_size: int = 32) -> list[float]:
        import torch

        out: list[float] = []
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True,
                                     truncation=True, max_length=self.max_length)
                out.extend(self.model(**enc).logits[:, 0].float().tolist())
        return out
