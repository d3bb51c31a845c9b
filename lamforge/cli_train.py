"""`lamforge train …` and `lamforge eval offline …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lamforge.core import DataError, StepSample, Task, read_jsonl

console = Console()
eval_app = typer.Typer(no_args_is_help=True, help="Evaluate models offline and online.")

def train(
    phase: Annotated[str, typer.Argument(help="phase1 (task -> plan), phase2 (expert steps), "
                                             "phase3 (exploration), phase4 (reward model + "
                                             "policy optimisation) or all")],
    config: Annotated[Path, typer.Option(help="Training config (configs/*.yaml)")],
) -> None:
    """Train a LAM in the paper's four phases: LAM1 (task -> plan), LAM2 (imitation of the
    expert), LAM3 (self-boosting exploration in the app), LAM4 (reward model + GRPO)."""
    from rich.progress import Progress

    from lamforge.train.config import TrainConfig
    from lamforge.train.phases import run

    cfg = TrainConfig.load(config)
    with Progress(console=console, transient=True) as bar:
        job = bar.add_task("phase 3: exploring failed tasks",
                           total=cfg.phase3.explore.max_tasks, visible=False)

        def advance() -> None:
            bar.update(job, advance=1, visible=True)

        out = run(cfg, phase, progress=advance)
    results = out if phase == "all" else {phase: out}
    table = Table("phase", "steps", "loss first -> last", "time", "notes",
                  title=f"{cfg.name} -> {cfg.output_dir}")
    for name, m in results.items():
        notes = ""
        if "explore" in m:
            e = m["explore"]
            notes = f"recovered {e['recovered']} of {e['tasks']} failed tasks"
        if "reward_model" in m:
            notes = (f"reward model fit {m['reward_model']['train_accuracy']:.0%}; mean "
                     f"reward {_num(m['first_reward'])} -> {_num(m['last_reward'])}")
        table.add_row(name, str(m["steps"]), f"{_num(m['first_loss'])} -> "
                      f"{_num(m['last_loss'])}", f"{m['seconds']} s", notes)
    console.print(table)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


@eval_app.command("offline")
def offline(
    model: Annotated[list[str], typer.Option(help="A checkpoint directory (save_pretrained), or "
                                                  "'rules' for the rule baseline; repeat to "
                                                  "compare models")],
    data: Annotated[list[Path], typer.Option(help="StepSample JSONL (a held-out split); "
                                                  "repeat for several splits")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics here")]
    = None,
    top_k: Annotated[int, typer.Option(help="Controls shown to the model")] = 16,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N steps")] = None,
    plans: Annotated[bool, typer.Option(help="Also score the plans each model writes for the "
                                             "split's tasks (<flow>/tasks/<split>.jsonl)")]
    = True,
) -> None:
    """The paper's offline metrics in one table: object, operation, args and status accuracy,
    step and task success per model and split; plan step precision/recall where a model
    writes plans."""
    from lamforge.eval.offline import evaluate, evaluate_model, evaluate_plans, write

    for m in model:
        if m != "rules" and not (Path(m) / "config.json").is_file():
            raise DataError(f"{m}: not a checkpoint directory (no config.json)")
    splits = {d: read_jsonl(d, StepSample)[:limit] for d in data}
    rows = []
    for m in model:
        for d, samples in splits.items():
            if m == "rules":
                from lamforge.eval.baseline import rule_answers

                result = evaluate(samples, rule_answers(samples, top_k))
            else:
                result = evaluate_model(Path(m), samples, top_k)
                task_file = d.parent.parent / "tasks" / d.name
                if plans and task_file.is_file():
                    result |= evaluate_plans(Path(m), read_jsonl(task_file, Task)[:limit])
            rows.append({"model": m, "split": d.stem, **result})
    table = Table("model", "split", "object", "operation", "args", "status", "step success",
                  "task success", "malformed", "plan P / R", title="offline evaluation")
    for r in rows:
        plan = (f"{r['plan_precision']:.1%} / {r['plan_recall']:.1%}" if "plan_precision" in r
                else "-")
        table.add_row(_short(r["model"]), f"{r['split']} ({r['steps']})",
                      *(f"{r[k]:.1%}" for k in ("object", "operation", "args", "status",
                                                "step_success", "task_success", "malformed")),
                      plan)
    console.print(table)
    if json_out:
        write({"top_k": top_k, "rows": rows}, json_out)


def _short(model: str) -> str:
    """runs/train/tiny-cpu/lam2/model -> lam2"""
    p = Path(model)
    return p.parent.name if p.name == "model" else model
