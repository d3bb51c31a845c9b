"""Benchmark the real-GUI environments beside the headless Writer one, in one run.

    .venv/bin/python benchmarks/env_gui.py [--repeats 20] [--envs writer,writer-gui] \
        [--json benchmarks/results/env_gui.json]

Each environment runs the same kind of episode over and over: warm resets, then a cycle of
steps a user makes (a toolbar button, a shortcut, a menu, a real dialog opened, a field set,
the dialog closed, typing). Every step's time includes the next observation, which is what
an agent waits for. Targets (issue 13, 2 cores): Writer and Impress step <= 300 ms p50, Calc
<= 500 ms p50, warm reset <= 1.5 s. One environment runs at a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from scratch import scratch_dir

from lamforge.core import Action, Task
from lamforge.envs import make

console = Console()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def summary(xs: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(xs) * 1000, 1),
            "p95_ms": round(pct(xs, 0.95) * 1000, 1), "n": len(xs)}


def act(function: str, control: str | None = None, **args: object) -> Action:
    return Action(function=function, control_text=control, args=args)


WRITER_TASK = Task(id="bench", app="writer", request="benchmark", template="report")
WRITER_CYCLE = [
    ("select_text", act("select_text", text="Revenue")),
    ("toolbar button", act("click", "Bold")),
    ("shortcut", act("keyboard", keys="ctrl+i")),
    ("menu: open", act("click", "Format")),
    ("dialog: open", act("click", "Character...")),
    ("dialog: set field", act("set_edit_text", "Size", text="15 pt")),
    ("dialog: OK", act("click", "OK")),
    ("type_text", act("type_text", text="x")),
]
CALC_TASK = Task(id="bench", app="calc", request="benchmark", template="budget")
CALC_CYCLE = [
    ("select cells (Name Box)", act("set_edit_text", "Name Box", text="C2:C7")),
    ("toolbar button", act("click", "Bold")),
    ("shortcut", act("keyboard", keys="ctrl+i")),
    ("menu: open", act("click", "Sheet")),
    ("dialog: open", act("click", "Rename Sheet...")),
    ("dialog: set field", act("set_edit_text", "Name", text="Costs")),
    ("dialog: OK", act("click", "OK")),
    ("type_text", act("type_text", text="7\n")),
]
IMPRESS_TASK = Task(id="bench", app="impress", request="benchmark", template="pitch")
IMPRESS_CYCLE = [
    ("toolbar button", act("click", "New Slide")),
    ("shortcut", act("keyboard", keys="pagedown")),
    ("menu: open", act("click", "Slide")),
    ("dialog: open", act("click", "Rename Slide...")),
    ("dialog: set field", act("set_edit_text", "Name", text="Costs")),
    ("dialog: OK", act("click", "OK")),
    ("keyboard (select a placeholder)", act("keyboard", keys="tab")),
    ("type_text", act("type_text", text="x")),
]
BENCHES: dict[str, tuple[Task, list[tuple[str, Action]]]] = {
    "writer": (WRITER_TASK, WRITER_CYCLE),
    "writer-gui": (WRITER_TASK, WRITER_CYCLE),
    "impress-gui": (IMPRESS_TASK, IMPRESS_CYCLE),
    "calc-gui": (CALC_TASK, CALC_CYCLE),
}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench(env_id: str, n: int, templates: Path) -> dict[str, object]:
    task, cycle = BENCHES[env_id]
    cold = []
    for _ in range(2):
        t, env = timed(lambda: make(env_id, templates_dir=templates))
        t2, _ = timed(lambda env=env: env.reset(task))
        cold.append(t + t2)
        env.close()
    env = make(env_id, templates_dir=templates)
    try:
        env.reset(task)
        resets = [timed(lambda: env.reset(task))[0] for _ in range(n)]
        kinds: dict[str, list[float]] = {kind: [] for kind, _ in cycle}
        controls: dict[str, int] = {}
        for _ in range(n):
            env.reset(task)
            for kind, action in cycle:
                t, result = timed(lambda action=action: env.step(action))
                if not result.ok:
                    raise SystemExit(f"{env_id}: {kind} failed: {result.error}")
                kinds[kind].append(t)
                controls[kind] = len(result.observation.controls)
    finally:
        env.close()
    every = [t for ts in kinds.values() for t in ts]
    return {"cold_start": summary(cold), "warm_reset": summary(resets),
            "step_all": summary(every),
            "steps": {k: {**summary(v), "controls": controls[k]} for k, v in kinds.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--envs", default=",".join(BENCHES))
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/env_gui.json"))
    args = ap.parse_args()
    ids = [e for e in args.envs.split(",") if e]
    unknown = [e for e in ids if e not in BENCHES]
    if unknown:
        raise SystemExit(f"unknown environment {unknown[0]} (known: {', '.join(BENCHES)})")
    templates = scratch_dir() / "templates"
    results: dict[str, object] = {
        "date": date.today().isoformat(), "repeats": args.repeats,
        "command": "python " + " ".join(["benchmarks/env_gui.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "envs": {}}
    for env_id in ids:
        console.print(f"benchmarking {env_id} …")
        results["envs"][env_id] = bench(env_id, args.repeats, templates)  # type: ignore[index]

    table = Table("measure", *ids, title="GUI environments beside headless Writer "
                  "(median / p95 ms, each step with its observation)")
    envs = results["envs"]  # type: ignore[assignment]

    def cell(s: dict | None) -> str:
        return "-" if s is None else f"{s['median_ms']:.0f} / {s['p95_ms']:.0f}"

    for key in ("cold_start", "warm_reset", "step_all"):
        table.add_row(key.replace("_", " "), *(cell(envs[e][key]) for e in ids))
    kinds = list(dict.fromkeys(k for e in ids for k in envs[e]["steps"]))
    for kind in kinds:
        table.add_row(f"step: {kind}", *(cell(envs[e]["steps"].get(kind)) for e in ids))
    console.print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
