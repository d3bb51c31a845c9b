"""Dataflow throughput by backend: trajectories per minute for the local pool and Ray (a local
instance) with 1 and 2 workers, on the same Writer tasks in the same run.

    .venv/bin/python benchmarks/scaling.py [--tasks examples/writer/tasks.jsonl] [--n 46] \
        [--json benchmarks/results/scaling.json]

Each run starts from an empty run directory and includes starting the workers (and, for Ray,
the Ray instance), since a user pays for both. Verdicts of every run are compared.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lamforge.core import Task, Trajectory, read_jsonl
from lamforge.dataflow.flow import FlowConfig, execute


def verdicts(out: Path) -> dict[str, str]:
    found = {}
    for kind in ("pass", "fail", "unsure"):
        path = out / "execution" / f"{kind}.jsonl"
        for t in read_jsonl(path, Trajectory) if path.is_file() else []:
            found[t.task.id] = t.verdict.status
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=Path, default=Path("examples/writer/tasks.jsonl"))
    ap.add_argument("--n", type=int, default=46)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/scaling.json"))
    args = ap.parse_args()
    tasks = read_jsonl(args.tasks, Task)[: args.n]
    templates = Path(tempfile.mkdtemp()) / "templates"
    execute(tasks[:1], FlowConfig(out_dir=Path(tempfile.mkdtemp()), templates_dir=templates))
    rows, seen = [], []
    for backend in ("local", "ray"):
        for workers in (1, 2):
            out = Path(tempfile.mkdtemp())
            t0 = time.perf_counter()
            counts = execute(tasks, FlowConfig(out_dir=out, workers=workers, backend=backend,
                                               templates_dir=templates))
            elapsed = time.perf_counter() - t0
            rows.append({"backend": backend, "workers": workers, "tasks": len(tasks),
                         "seconds": round(elapsed, 2),
                         "per_minute": round(60 * len(tasks) / elapsed, 1),
                         "results": dict(counts)})
            seen.append(verdicts(out))
    base = rows[0]["per_minute"]
    table = Table("backend", "workers", "tasks", "seconds", "trajectories/min", "vs local x1",
                  "pass/fail/unsure", title="dataflow throughput by backend")
    for r in rows:
        res = r["results"]
        table.add_row(r["backend"], str(r["workers"]), str(r["tasks"]), f"{r['seconds']:.1f}",
                      f"{r['per_minute']:.0f}", f"{r['per_minute'] / base:.2f}x",
                      f"{res.get('pass', 0)}/{res.get('fail', 0)}/{res.get('unsure', 0)}")
    Console().print(table)
    same = all(v == seen[0] for v in seen)
    Console().print(f"verdicts identical across the four runs: {same}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"date": date.today().isoformat(), "runs": rows,
                                     "verdicts_identical": same}, indent=2))


if __name__ == "__main__":
    main()
