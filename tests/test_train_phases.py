"""All four phases on real Writer data: the expert's verified steps of a few sample tasks
teach LAM2, which then recovers in LibreOffice a task the expert failed (phase 3); the reward
model ranks the expert's action above a wrong one and GRPO trains LAM4 from LAM3 (phase 4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamforge.core import Action, StepSample, Task, read_jsonl

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("bold-word", "center-line")

pytestmark = pytest.mark.writer


def build_flow(flow: Path, templates: Path) -> None:
    """A dataflow run in miniature: passing expert trajectories of TASKS (their step samples
    are the train split), and one failed expert trajectory per task under a new id, whose
    prefilled actions clicked the wrong control."""
    from lamforge.dataflow.flow import step_samples
    from lamforge.envs.episode import run_actions
    from lamforge.envs.writer.env import WriterEnv

    tasks = {t.id: t for t in read_jsonl(ROOT / "examples/writer/tasks.jsonl", Task)}
    for d in ("samples", "tasks", "execution"):
        (flow / d).mkdir(parents=True, exist_ok=True)
    (flow / "flow.json").write_text(json.dumps({"seed": 0, "test_instance": 0.0,
                                                "test_family": 0.0}))
    samples, failed = [], []
    with WriterEnv(templates_dir=templates) as env:
        for name in TASKS:
            task = tasks[name]
            traj = run_actions(env, task, match="exact")
            assert traj.verdict and traj.verdict.status == "pass", traj.verdict
            samples += step_samples(traj)
            wrong = [a if a.control_text is None else Action(function="click",
                                                             control_text="Italic")
                     for a in task.actions]
            broken = task.model_copy(update={"id": f"{name}-failed", "actions": wrong})
            traj = run_actions(env, broken, match="exact")
            assert traj.verdict and traj.verdict.status == "fail", traj.verdict
            failed.append(traj)
    (flow / "samples" / "train.jsonl").write_text(
        "".join(s.model_dump_json() + "\n" for s in samples * 12))
    (flow / "tasks" / "train.jsonl").write_text(
        "".join(tasks[n].model_dump_json() + "\n" for n in TASKS * 8))
    (flow / "execution" / "fail.jsonl").write_text(
        "".join(t.model_dump_json() + "\n" for t in failed))


def config(root: Path, templates: Path) -> dict:
    sft = {"lr": 5.0e-3, "batch_size": 8, "logging_steps": 5, "save_steps": 1000}
    return {
        "name": "test", "output_dir": str(root / "out"), "seed": 0, "controls_top_k": 12,
        "model": {"preset": "tiny", "tiny": {"vocab_size": 800, "hidden_size": 64,
                                             "layers": 2, "heads": 4, "max_length": 512}},
        "data": {"flow_dir": str(root / "flow"), "templates_dir": str(templates)},
        "phase1": {**sft, "max_steps": 30, "max_length": 128},
        "phase2": {**sft, "max_steps": 400, "max_length": 384},
        "phase3": {**sft, "max_steps": 40, "lr": 2.0e-3, "max_length": 384,
                   "explore": {"attempts": 2, "max_tasks": 10, "max_steps": 6}},
        "phase4": {"reward": {**sft, "max_steps": 120, "lr": 2.0e-3, "max_length": 384},
                   "policy": {"max_steps": 4, "lr": 1.0e-5, "batch_size": 4,
                              "num_generations": 2, "max_completion_length": 48,
                              "logging_steps": 1}}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, templates_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("phases")
    build_flow(root / "flow", templates_dir)
    (root / "tiny.yaml").write_text(json.dumps(config(root, templates_dir)))
    proc = subprocess.run([sys.executable, "-m", "lamforge", "train", "all", "--config",
                           "tiny.yaml"], capture_output=True, text=True, cwd=root,
                          timeout=900, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return root / "out"


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
