"""A miniature dataflow run and a tiny LAM trained on it through all four phases (~1 min),
shared by the training tests and the agent tests (conftest's `trained` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lamforge.core import Action, Task, read_jsonl

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("bold-word", "center-line")



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



def train_all(root: Path, templates: Path, cfg: dict | None = None,
              name: str = "tiny.yaml") -> Path:
    """Build the flow and run `lamforge train all` with `cfg` (the tiny LAM's `config` by
    default); returns the output directory."""
    build_flow(root / "flow", templates)
    (root / name).write_text(json.dumps(cfg or config(root, templates)))
    proc = subprocess.run([sys.executable, "-m", "lamforge", "train", "all", "--config",
                           name], capture_output=True, text=True, cwd=root,
                          timeout=900, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return root / "out"


def ranker_config(root: Path, templates: Path) -> dict:
    """A ranker LAM's four phases in miniature (`model.kind: ranker`, MiniLM)."""
    step = {"batch_size": 8, "logging_steps": 2, "save_steps": 1000}
    return {
        "name": "ranker-test", "output_dir": str(root / "out"), "seed": 0,
        "model": {"kind": "ranker", "preset": "minilm"},
        "data": {"flow_dir": str(root / "flow"), "templates_dir": str(templates)},
        "ranker": {"validation": 0.0, "recovery_tasks": 2, "policy_states": 24,
                   "max_candidates": 48, "freeze_layers": 3},
        "phase1": {**step, "max_steps": 3, "lr": 1.0e-4},
        "phase2": {**step, "max_steps": 30, "lr": 5.0e-4},
        "phase3": {**step, "max_steps": 4, "lr": 5.0e-5,
                   "explore": {"attempts": 2, "max_tasks": 2, "max_steps": 6}},
        "phase4": {"reward": {**step, "max_steps": 6, "lr": 5.0e-5},
                   "policy": {**step, "beta": 0.5, "max_steps": 4, "lr": 3.0e-5}}}


def train_ranker(root: Path, templates: Path) -> Path:
    """The same for a ranker (`ranker_config`)."""
    return train_all(root, templates, ranker_config(root, templates), "ranker.yaml")
