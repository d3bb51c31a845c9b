"""Phase 4's policy optimisation: LAM3 is optimised against the reward model on logged states,
with no new environment interaction (the paper's offline PPO), using TRL's `GRPOTrainer`.

For each logged state the policy samples a group of actions; the reward model scores each
(a malformed answer gets -1, the lowest label the reward model was fitted to), and GRPO moves
the policy toward the better-than-group-average ones, with a KL penalty (`beta`) toward the
starting policy that keeps it from drifting away from what imitation taught it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lamforge.train.formats import action_text, parse_action
from lamforge.train.reward import RewardModel
from lamforge.train.sft import fit, save_trained, show_progress, write_metrics


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    max_steps: int = 60
    lr: float = 1.4e-5
    beta: float = 0.1  # KL coefficient toward the starting policy
    num_generations: int = 4  # actions sampled per state (the group)
    batch_size: int = 8  # completions per step (batch_size / num_generations states)
    max_prompts: int = 2000  # logged states drawn from (seeded sample)
    max_completion_length: int = 64
    temperature: float = 1.0
    scheduler: str = "constant"
    logging_steps: int = 10
    save_steps: int = 200
    activation_checkpointing: bool = False  # TRL's default is on; see PhaseConfig


class RewardFunction:
    """The reward model as a GRPO reward function (TRL calls it with prompts and completions)."""

    __name__ = "reward_model"

    def __init__(self, model_dir: Path) -> None:
        self.rm = RewardModel(model_dir)

    def __call__(self, prompts: list[str], completions: list[str], **_: Any) -> list[float]:
        texts, where = [], []
        rewards = [-1.0] * len(completions)
        for i, (p, c) in enumerate(zip(prompts, completions, strict=True)):
            action = parse_action(c)
            if action is not None:
                texts.append(p + action_text(action))
                where.append(i)
        for i, score in zip(where, self.rm.score(texts), strict=True):
            rewards[i] = max(-1.0, min(1.0, score))
        return rewards


def train_policy(policy: Path, reward_model: Path, prompts: list[str], out_dir: Path,
                 cfg: PolicyConfig, seed: int = 0,
                 card: dict[str, Any] | None = None) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(policy)
    tokenizer.padding_side = "left"
    args = GRPOConfig(
        output_dir=str(out_dir / "trainer"), max_steps=cfg.max_steps, learning_rate=cfg.lr,
        lr_scheduler_type=cfg.scheduler, beta=cfg.beta, num_generations=cfg.num_generations,
        per_device_train_batch_size=cfg.batch_size,
        max_completion_length=cfg.max_completion_length, temperature=cfg.temperature,
        logging_steps=cfg.logging_steps, save_steps=cfg.save_steps, save_total_limit=1,
        seed=seed, report_to=[], use_cpu=not torch.cuda.is_available(),
        bf16=torch.cuda.is_available(), disable_tqdm=not show_progress(),
        activation_checkpointing=cfg.activation_checkpointing)
    trainer = GRPOTrainer(model=str(policy), reward_funcs=[RewardFunction(reward_model)],
                          args=args, train_dataset=Dataset.from_list(
                              [{"prompt": p} for p in prompts]),
                          processing_class=tokenizer)
    metrics = fit(trainer, out_dir, len(prompts), seed, cfg, policy)
    logs = [e for e in trainer.state.log_history if "reward" in e]
    metrics |= {"first_reward": logs[0]["reward"] if logs else None,
                "last_reward": logs[-1]["reward"] if logs else None,
                "kl": logs[-1].get("kl") if logs else None, "reward_model": str(reward_model)}
    tokenizer.padding_side = "right"  # the saved tokenizer pads as the others do
    save_trained(trainer, tokenizer, out_dir, None)
    return write_metrics(out_dir, metrics, card)
