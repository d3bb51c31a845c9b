"""All four phases on real Writer data: the expert's verified steps of a few sample tasks
teach LAM2, which then recovers in LibreOffice a task the expert failed (phase 3); the reward
model ranks the expert's action above a wrong one and GRPO trains LAM4 from LAM3 (phase 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamforge.core import StepSample, read_jsonl

from .tiny_lams import TASKS

pytestmark = pytest.mark.writer


def test_each_phase_trains_and_writes_checkpoint_card_and_metrics(trained: Path) -> None:
    for n in (1, 2, 3):
        m = json.loads((trained / f"lam{n}" / "metrics.json").read_text())
        assert m["last_loss"] < m["first_loss"], (n, m)
        assert (trained / f"lam{n}" / "README.md").is_file()
    rm = json.loads((trained / "lam4" / "reward" / "metrics.json").read_text())
    assert rm["last_loss"] < rm["first_loss"], rm
    lam4 = json.loads((trained / "lam4" / "metrics.json").read_text())
    assert lam4["steps"] == 4 and lam4["first_reward"] is not None
    assert (trained / "lam4" / "model" / "config.json").is_file()


def test_phase3_recovers_a_task_the_expert_failed(trained: Path) -> None:
    summary = json.loads((trained / "lam3" / "explore" / "summary.json").read_text())
    assert summary["tasks"] == len(TASKS) and summary["errors"] == 0
    assert summary["recovered"] >= 1, summary
    new = read_jsonl(trained / "lam3" / "explore" / "samples_pass.jsonl", StepSample)
    assert new and new[-1].function == "finish"
    assert {s.task_id for s in new} <= {f"{n}-failed" for n in TASKS}


def test_reward_model_ranks_the_expert_action_above_a_wrong_one(trained: Path) -> None:
    from lamforge.train.formats import action_text, step_completion, step_prompt, with_target
    from lamforge.train.reward import RewardModel

    rm = RewardModel(trained / "lam4" / "reward" / "model")
    samples = read_jsonl(trained.parent / "flow" / "samples" / "train.jsonl", StepSample)
    clicks = [s for s in samples if s.function == "click"][:2]
    for s in clicks:
        prompt = step_prompt(s, controls=with_target(s, 12))
        other = next(c for c in with_target(s, 12) if c["label"] != s.control_label)
        wrong = action_text({"control_label": other["label"], "control_name": other["name"],
                             "function": "click", "args": {}, "status": "CONTINUE",
                             "advance": 0})
        right, bad = rm.score([prompt + step_completion(s), prompt + wrong])
        assert right > bad, (s.control_name, other["name"], right, bad)


def test_lam3_and_lam4_reload_and_act(trained: Path) -> None:
    from lamforge.train.formats import parse_action, step_prompt
    from lamforge.train.sft import generate

    samples = read_jsonl(trained.parent / "flow" / "samples" / "train.jsonl", StepSample)[:3]
    for lam in ("lam3", "lam4"):
        answers = generate(trained / lam / "model", [step_prompt(s, 12) for s in samples])
        assert all(parse_action(a) is not None for a in answers), (lam, answers)
