"""Phases 1 and 2 on TRL with the tiny preset, on a small fixture: loss falls, checkpoints
reload and generate parseable actions; the offline metrics follow the paper's definitions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamforge.core import Control, DataError, StepSample, Task
from lamforge.eval.offline import evaluate, score_step
from lamforge.train.config import TrainConfig
from lamforge.train.formats import parse_action, rank_controls, step_prompt, with_target

MENUS = ["File", "Edit", "View", "Insert", "Format", "Styles", "Table", "Tools", "Help"]
BUTTONS = ["Bold", "Italic", "Underline", "Center", "Right", "Save", "Page Break"]


def controls() -> list[Control]:
    names = [*MENUS, *BUTTONS]
    return [Control(label=str(i), name=n, type="MenuItem" if n in MENUS else "Button",
                    group="menubar" if n in MENUS else "toolbar")
            for i, n in enumerate(names, 1)]


def sample(task: int, step: int, request: str, name: str, function: str = "click",
           args: dict | None = None, status: str = "CONTINUE") -> StepSample:
    label = next((c.label for c in controls() if c.name == name), None)
    return StepSample(id=f"t{task}#{step}", task_id=f"t{task}", step=step, request=request,
                      controls=controls(), previous_plan=[f"Click {name}."],
                      control_label=label, control_name=name if label else None,
                      function=function, args=args or {}, status=status)


def fixture_samples() -> list[StepSample]:
    out = []
    for i, (word, button) in enumerate([("bold", "Bold"), ("italic", "Italic"),
                                        ("underlined", "Underline"), ("centred", "Center"),
                                        ("right-aligned", "Right")]):
        out.append(sample(i, 0, f"Make the text {word}", button))
        out.append(sample(i, 1, f"Make the text {word}", "", "finish", status="FINISH"))
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train")
    flow = root / "flow"
    (flow / "samples").mkdir(parents=True)
    (flow / "tasks").mkdir()
    samples = fixture_samples()
    (flow / "samples" / "train.jsonl").write_text(
        "".join(s.model_dump_json() + "\n" for s in samples * 3))
    tasks = [Task(id=f"t{i}", app="writer", request=s.request, template="line",
                  plan=["Select the text.", f"Click {s.control_name}."])
             for i, s in enumerate(samples[::2])]
    (flow / "tasks" / "train.jsonl").write_text("".join(t.model_dump_json() + "\n"
                                                       for t in tasks * 4))
    cfg = {"name": "test", "output_dir": str(root / "out"), "seed": 0, "controls_top_k": 8,
           "model": {"preset": "tiny", "tiny": {"vocab_size": 1000, "hidden_size": 64,
                                                 "layers": 2, "heads": 4, "max_length": 512}},
           "data": {"flow_dir": str(flow)},
           "phase1": {"max_steps": 40, "lr": 5.0e-3, "batch_size": 8, "max_length": 128,
                      "logging_steps": 5},
           "phase2": {"max_steps": 150, "lr": 5.0e-3, "batch_size": 8, "max_length": 256,
                      "logging_steps": 5}}
    (root / "tiny.yaml").write_text(json.dumps(cfg))  # JSON is YAML
    return root


def lamforge(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})


def test_phase1_then_phase2_train_reload_and_act(run_dir: Path) -> None:
    from lamforge.train.sft import generate

    for phase in ("phase1", "phase2"):
        proc = lamforge("train", phase, "--config", "tiny.yaml", cwd=run_dir)
        assert proc.returncode == 0, proc.stderr[-2000:]
        metrics = json.loads((run_dir / "out" / f"lam{phase[-1]}" / "metrics.json").read_text())
        assert metrics["last_loss"] < metrics["first_loss"] / 2, metrics
        assert (run_dir / "out" / f"lam{phase[-1]}" / "README.md").is_file()
    cfg = TrainConfig.load(run_dir / "tiny.yaml")
    samples = fixture_samples()
    # the answer budget beside the checkpoint covers its longest training answer
    from lamforge.train.formats import step_completion
    from lamforge.train.sft import Generator

    gen = Generator(run_dir / "out" / "lam2" / "model")
    longest = max(len(gen.tokenizer(step_completion(s))["input_ids"]) for s in samples)
    settings = json.loads((run_dir / "out" / "lam2" / "model" / "lamforge.json").read_text())
    assert settings["controls_top_k"] == 8
    assert gen.answer_tokens == settings["max_new_tokens"] >= max(96, longest + 16)
    answers = generate(run_dir / "out" / "lam2" / "model",
                       [step_prompt(s, controls=with_target(s, cfg.controls_top_k))
                        for s in samples])
    parsed = [parse_action(a) for a in answers]
    assert sum(p is not None for p in parsed) >= len(samples) // 2, answers
    result = evaluate(samples, answers)
    assert result["operation"] > 0.5, (result, answers)


def test_eval_offline_compares_models_in_one_table(run_dir: Path) -> None:
    flow = run_dir / "flow"
    lam2 = run_dir / "out" / "lam2" / "model"
    if not (lam2 / "config.json").is_file():
        pytest.skip("needs the phase 2 checkpoint of the test above")
    proc = lamforge("eval", "offline", "--model", "rules", "--model", str(lam2), "--data",
                    str(flow / "samples" / "train.jsonl"), "--json", "out.json", cwd=run_dir)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads((run_dir / "out.json").read_text())["rows"]
    # recorded relative to where it ran, never as this machine's absolute path
    assert [r["model"] for r in rows] == ["rules", "out/lam2/model"]
    assert rows[1]["steps"] == 30 and rows[1]["tasks"] == 5
    assert "plan_precision" in rows[1] and "plan_precision" not in rows[0]
    assert "lam2" in proc.stdout and "rules" in proc.stdout


def test_plan_precision_and_recall() -> None:
    from lamforge.eval.offline import plan_scores

    task = Task(id="t", app="writer", request="r", template="line",
                plan=["Select the text.", "Choose Format - Character.", "Click OK."])
    perfect = plan_scores([task], [" select the text | Choose Format - Character. | Click OK."])
    assert perfect["plan_precision"] == perfect["plan_recall"] == 1.0
    half = plan_scores([task], [" Select the text. | Click Bold. | Select the text.\nmore"])
    assert half["plan_precision"] == round(1 / 3, 4) and half["plan_recall"] == round(1 / 3, 4)
    assert plan_scores([task], ["nonsense"])["plan_recall"] == 0.0


def test_bad_configs_and_phases_say_why(run_dir: Path, tmp_path: Path) -> None:
    proc = lamforge("train", "phase9", "--config", str(run_dir / "tiny.yaml"), cwd=tmp_path)
    assert proc.returncode == 1 and "unknown phase 'phase9'" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noutput_dir: o\nmodel: {preset: huge}\n")
    with pytest.raises(DataError, match="unknown preset 'huge'"):
        TrainConfig.load(bad)
    bad.write_text("name: x\nmodel: {preset: tiny}\n")
    with pytest.raises(DataError, match="output_dir: Field required"):
        TrainConfig.load(bad)
    bad.write_text("name: x\noutput_dir: o\nmodel: {preset: tiny}\nphase3: {epoks: 2}\n")
    with pytest.raises(DataError, match=r"phase3\.epoks: Extra inputs are not permitted"):
        TrainConfig.load(bad)
    empty = tmp_path / "empty.yaml"  # phase 3 before phase 2: says which phase to run first
    empty.write_text(f"name: x\noutput_dir: {tmp_path / 'o'}\nmodel: {{preset: tiny}}\n")
    proc = lamforge("train", "phase3", "--config", str(empty), cwd=tmp_path)
    assert proc.returncode == 1 and "run `lamforge train phase2` first" in proc.stderr


def test_ranked_controls_and_metrics() -> None:
    s = sample(0, 0, "Make the text bold", "Bold")
    names = [c["name"] for c in rank_controls(s, 3)]
    assert "Bold" in names and len(names) == 3
    # the expert's control is always in a training prompt, even when the ranking drops it
    t = sample(1, 0, "Make the text bold", "Save")
    assert "Save" in [c["name"] for c in with_target(t, 3)]
    right = {"control_label": s.control_label, "control_name": "Bold", "function": "click",
             "args": {}, "status": "CONTINUE"}
    assert score_step(s, right)["step_success"]
    wrong = {**right, "control_label": "1", "control_name": "File"}
    assert not score_step(s, wrong)["step_success"] and score_step(s, wrong)["operation"]
    assert score_step(s, None) == {"object": False, "operation": False, "args": False,
                                   "status": False, "step_success": False, "malformed": True}
    result = evaluate([s, t], [json.dumps(right), "no json here"])
    assert result["malformed"] == 0.5 and result["step_success"] == 0.5
    assert result["task_success"] == 0.5 and result["tasks"] == 2


def test_rule_baseline_follows_the_plan_on_screen() -> None:
    from lamforge.eval.baseline import rule_action

    s = sample(0, 0, "Make the text bold", "Bold")
    assert rule_action(s)["control_name"] == "Bold"
    menu = s.model_copy(update={"previous_plan": ["Choose Format - Character."]})
    assert rule_action(menu)["control_name"] == "Format"  # Character is not on screen yet
    done = s.model_copy(update={"previous_plan": []})
    assert rule_action(done)["function"] == "finish"


def test_shipped_configs_load_and_gpu_config_has_the_papers_settings() -> None:
    import yaml

    root = Path(__file__).resolve().parent.parent / "configs"
    tiny = TrainConfig.load(root / "tiny-cpu.yaml")
    assert tiny.model.preset == "tiny" and tiny.model.path is None
    gpu = TrainConfig.load(root / "qwen2.5-7b-lora.yaml")
    assert gpu.model.path and gpu.model.lora and gpu.model.lora["r"] > 0
    for phase in (gpu.phase1, gpu.phase2):  # the paper's SFT settings
        assert (phase.lr, phase.scheduler, phase.batch_size, phase.epochs) == (
            2e-5, "cosine", 16, 3)
    rm, policy = gpu.phase4.reward, gpu.phase4.policy  # the paper's phase-4 settings
    assert (rm.lora["r"], rm.lora["alpha"], rm.lr, rm.epochs) == (8, 32, 2e-5, 2)
    assert (policy.lr, policy.beta) == (1.4e-5, 0.1)
    assert tiny.phase3.explore.attempts >= 2 and tiny.phase4.policy.beta > 0
    assert gpu.accelerate == Path("configs/accelerate/zero2.yaml")
    stages = {}
    for name in ("zero2", "zero3"):
        acc = yaml.safe_load((root / "accelerate" / f"{name}.yaml").read_text())
        assert acc["distributed_type"] == "DEEPSPEED" and acc["mixed_precision"] == "bf16"
        stages[name] = acc["deepspeed_config"]["zero_stage"]
    assert stages == {"zero2": 2, "zero3": 3}
