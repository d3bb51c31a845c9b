"""`lamforge train …` and `lamforge eval offline …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lamforge.core import DataError, StepSample, read_jsonl

console = Console()
eval_app = typer.Typer(no_args_is_help=True, help="Evaluate models offline and online.")

PHASES = ("phase1", "phase2", "phase3", "phase4", "all")


def train(
    phase: Annotated[str, typer.Argument(help="phase1 (task -> plan), phase2 (expert steps), "
                                             "phase3, phase4 or all")],
    config: Annotated[Path, typer.Option(help="Training config (configs/*.yaml)")],
) -> None:
    """Train a LAM in the paper's phases: phase1 gives LAM1, phase2 (from LAM1) LAM2.
    Phases 3 and 4 are not implemented yet."""
    from lamforge.train.config import TrainConfig
    from lamforge.train.phases import run

    if phase not in PHASES:
        raise DataError(f"unknown phase '{phase}' (use {', '.join(PHASES)})")
    cfg = TrainConfig.load(config)
    out = run(cfg, phase)
    console.print(f"{phase}: {out['steps']} steps, loss {out['first_loss']} -> "
                  f"{out['last_loss']}, {out['seconds']} s -> {cfg.output_dir}")


@eval_app.command("offline")
def offline(
    model: Annotated[str, typer.Option(help="A checkpoint directory (save_pretrained), or "
                                            "'rules' for the rule baseline")],
    data: Annotated[Path, typer.Option(help="StepSample JSONL (a held-out split)")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics here")]
    = None,
    top_k: Annotated[int, typer.Option(help="Controls shown to the model")] = 16,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N steps")] = None,
) -> None:
    """Step metrics of the paper: object, operation, args, status accuracy, step and task
    success."""
    from lamforge.eval.offline import evaluate, evaluate_model, write

    samples = read_jsonl(data, StepSample)[:limit]
    if model == "rules":
        from lamforge.eval.baseline import rule_answers

        result = evaluate(samples, rule_answers(samples, top_k))
    else:
        if not (Path(model) / "config.json").is_file():
            raise DataError(f"{model}: not a checkpoint directory (no config.json)")
        result = evaluate_model(Path(model), samples, top_k)
    table = Table("metric", "value", title=f"{model} on {data.name}")
    for k, v in result.items():
        table.add_row(k, f"{v:.1%}" if isinstance(v, float) else str(v))
    console.print(table)
    if json_out:
        write(result, json_out)
