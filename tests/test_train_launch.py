"""Training under `accelerate launch` with two CPU processes (torch.distributed over gloo), the
launch path a GPU run takes: all four phases with LoRA on the tiny LAM's real Writer data,
phase 3 exploring in the driver with real LibreOffice. Data parallelism halves the steps of an
epoch, the main process alone writes, LoRA adapters are merged into plain checkpoints that
load, and the exploration ran once (not once per training process)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .tiny_lams import ROOT, config

pytestmark = [pytest.mark.writer, pytest.mark.slow]

TWO_CPUS = ROOT / "configs" / "accelerate" / "cpu-2proc.yaml"


def lamforge(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=900, env={**os.environ, "COLUMNS": "200"})


def test_all_four_phases_train_in_two_processes(trained: Path, templates_dir: Path,
                                                tmp_path: Path) -> None:
    from lamforge.train.reward import RewardModel
    from lamforge.train.sft import Generator

    cfg = config(trained.parent, templates_dir)
    cfg["output_dir"] = str(tmp_path / "out")
    cfg["model"]["lora"] = {"r": 4, "alpha": 16, "dropout": 0.0}
    cfg["phase1"] = {**cfg["phase1"], "max_steps": -1, "epochs": 2, "batch_size": 4}
    cfg["phase2"]["max_steps"] = 30
    cfg["phase3"]["max_steps"] = 6
    cfg["phase4"]["reward"] |= {"max_steps": 10, "lora": {"r": 4, "alpha": 16}}
    cfg["phase4"]["policy"]["max_steps"] = 2
    cfg["accelerate"] = str(TWO_CPUS)
    (tmp_path / "two.yaml").write_text(json.dumps(cfg))

    proc = lamforge("train", "all", "--config", "two.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    m1 = json.loads((out / "lam1" / "metrics.json").read_text())
    # two processes of 4 rows each: an epoch is half the single-process steps
    assert m1["steps"] == 2 * math.ceil(m1["rows"] / 8), m1
    assert m1["steps"] < 2 * math.ceil(m1["rows"] / 4)
    for n in (1, 2, 3, 4):
        phase = json.loads((out / f"phase{n}.json").read_text())  # whole JSON: one writer
        assert phase["steps"] > 0 and (out / f"lam{n}" / "model" / "lamforge.json").is_file()
    for n in (1, 2, 3):  # LoRA runs: the adapter is kept, the checkpoint is merged and plain
        assert (out / f"lam{n}" / "adapter" / "adapter_config.json").is_file()
        assert not (out / f"lam{n}" / "model" / "adapter_config.json").exists()
    # merging changed the weights: LAM1 is not its base
    import torch
    from safetensors.torch import load_file

    base = load_file(out / "base" / "model.safetensors")
    lam1 = load_file(out / "lam1" / "model" / "model.safetensors")
    assert base.keys() == lam1.keys()
    assert any(not torch.equal(base[k], lam1[k]) for k in base)

    explore = out / "lam3" / "explore"
    summary = json.loads((explore / "summary.json").read_text())
    attempts = (explore / "attempts.jsonl").read_text().splitlines()
    assert summary["episodes"] == len(attempts) > 0  # explored once, by the driver

    reward = RewardModel(out / "lam4" / "reward" / "model")
    assert len(reward.score(["a state and an action"])) == 1
    _text, tokens = Generator(out / "lam4" / "model").answer("Task: make the word bold\n",
                                                             max_new_tokens=8)
    assert tokens > 0


def test_launch_errors_are_one_line(tmp_path: Path) -> None:
    cfg = config(tmp_path, tmp_path / "templates")  # checked before any data is read
    cfg["output_dir"] = str(tmp_path / "out")
    (tmp_path / "c.yaml").write_text(json.dumps(cfg))
    (tmp_path / "bad.yaml").write_text("distributed_type: [not, a, type]\n")
    for acc, says in (("missing.yaml", "no such accelerate config"),
                      ("bad.yaml", "not an accelerate config")):
        proc = lamforge("train", "phase1", "--config", "c.yaml", "--accelerate", acc,
                        cwd=tmp_path)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], proc.stderr
    # a plain multi-process launch must not explore in every process: one line, no app
    proc = subprocess.run([sys.executable, "-m", "lamforge", "train", "phase3", "--config",
                           "c.yaml"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "WORLD_SIZE": "2", "RANK": "0"})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "must not each explore" in lines[0]
