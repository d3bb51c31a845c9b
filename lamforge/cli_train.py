"""`lamforge train …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from lamforge.cli_options import Address, check_backend
from lamforge.console import Steps, make_console

console = make_console()


def train(
    phase: Annotated[str, typer.Argument(help="phase1 (task -> plan), phase2 (expert steps), "
                                             "phase3 (exploration), phase4 (reward model + "
                                             "policy optimisation) or all")],
    config: Annotated[Path, typer.Option(help="Training config (configs/*.yaml)")],
    backend: Annotated[str | None, typer.Option(
        help="Phase 3's exploration workers: local or ray (default: the config's "
             "phase3.explore.backend)")] = None,
    address: Address = None,
    accelerate: Annotated[Path | None, typer.Option(
        help="An accelerate config (configs/accelerate/*.yaml): each phase's training runs "
             "under `accelerate launch` with it, phase 3 explores in this process first "
             "(default: the config's `accelerate`)")] = None,
) -> None:
    """Train a LAM in the paper's four phases: LAM1 (task -> plan), LAM2 (imitation of the
    expert), LAM3 (self-boosting exploration in the app), LAM4 (reward model + GRPO)."""
    from lamforge.train.config import TrainConfig
    from lamforge.train.launch import is_main, launch, launched
    from lamforge.train.phases import run

    cfg = TrainConfig.load(config)
    explore = cfg.phase3.explore
    if backend is not None or address is not None:
        explore.backend, explore.address = backend or explore.backend, address
    check_backend(explore.backend, explore.address)
    runs = explore.max_tasks  # a ranker also recovers from its own mistakes on train tasks
    runs += cfg.ranker.recovery_tasks if cfg.model.kind == "ranker" else 0
    with Steps(console, "phase 3: exploring failed tasks", runs, show_at_start=False) as bar:
        acc = accelerate or cfg.accelerate
        if acc and not launched():
            out = launch(config, cfg, phase, acc, progress=bar.advance)
        else:
            out = run(cfg, phase, progress=bar.advance)
    if launched() or not is_main():
        return  # the driver, or the main process of a plain launch, prints the table
    results = out if phase == "all" else {phase: out}
    table = Table("phase", "steps", "loss first -> last", "time", "validation step / task",
                  "notes", title=f"{cfg.name} -> {cfg.output_dir}")
    for name, m in results.items():
        notes = []
        if "explore" in m:
            e = m["explore"]
            notes.append(f"recovered {e['recovered']} of {e['tasks']} failed tasks")
            if "recovery_kept" in e:
                notes.append(f"{e['recovery_kept']} of {e['recovery_runs']} recovery runs kept")
        if "reward_model" in m:
            notes.append(f"reward model fit {m['reward_model']['train_accuracy']:.0%}")
            if "first_reward" in m:
                notes.append(f"mean reward {_num(m['first_reward'])} -> "
                             f"{_num(m['last_reward'])}")
            if "expected_reward_gain" in m:
                notes.append(f"expected reward +{_num(m['expected_reward_gain'])} at KL "
                             f"{_num(m['kl_to_lam3'])} to LAM3")
        if m.get("shipped") and m["shipped"] != f"lam{name[-1]}":
            notes.append(f"not shipped: {m['shipped'].upper()}'s model kept (worse on "
                         "validation)")
        val = m.get("validation")
        table.add_row(name, str(m["steps"]), f"{_num(m['first_loss'])} -> "
                      f"{_num(m['last_loss'])}", f"{m['seconds']} s",
                      f"{val['step_success']:.1%} / {val['task_success']:.1%}" if val else "-",
                      "; ".join(notes))
    console.print(table)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"
