"""Dataflow throughput by backend: trajectories per minute for the local pool and Ray (a local
instance) with 1 and 2 workers, on the same Writer tasks in the same run.

    .venv/bin/python benchmarks/scaling.py [--tasks examples/writer/tasks.jsonl] [--n 46] \
        [--json benchmarks/results/scaling.json]

Each run starts from an empty run directory and includes starting the workers (and, for Ray,
the Ray instance), since a user pays for both. Verdicts of every run are compared.

It also measures the three things that bound scaling on a cluster: starting LibreOffice (paid
once per worker), one episode's cost (paid per task, by a worker), and the driver's write rate
(every result is appended and fsync'ed by the one driver process).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from scratch import scratch_dir

from lamforge.core import Task, Trajectory, read_jsonl
from lamforge.dataflow.flow import FlowConfig, execute


def verdicts(out: Path) -> dict[str, str]:
    found = {}
    for kind in ("pass", "fail", "unsure"):
        path = out / "execution" / f"{kind}.jsonl"
        for t in read_jsonl(path, Trajectory) if path.is_file() else []:
            found[t.task.id] = t.verdict.status
    return found


def office_start_seconds(templates: Path, times: int = 3) -> float:
    """Median time from nothing to a Writer environment ready for its first episode."""
    import statistics

    from lamforge.envs.writer.env import WriterEnv

    took = []
    for _ in range(times):
        t0 = time.perf_counter()
        env = WriterEnv(templates_dir=templates)
        env.office.start()
        took.append(time.perf_counter() - t0)
        env.close()
    return statistics.median(took)


def driver_lines_per_second(lines: list[str], n: int = 2000) -> float:
    """How fast the driver files results, one fsync'ed append per result as the flow does."""
    from lamforge.core import append_lines

    path = scratch_dir() / "pass.jsonl"
    t0 = time.perf_counter()
    for i in range(n):
        append_lines(path, [lines[i % len(lines)]])
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=Path, default=Path("examples/writer/tasks.jsonl"))
    ap.add_argument("--n", type=int, default=46)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/scaling.json"))
    args = ap.parse_args()
    tasks = read_jsonl(args.tasks, Task)[: args.n]
    templates = scratch_dir() / "templates"
    execute(tasks[:1], FlowConfig(out_dir=scratch_dir(), templates_dir=templates))
    rows, seen, outs = [], [], []
    for backend in ("local", "ray"):
        for workers in (1, 2):
            out = scratch_dir()
            t0 = time.perf_counter()
            counts = execute(tasks, FlowConfig(out_dir=out, workers=workers, backend=backend,
                                               templates_dir=templates))
            elapsed = time.perf_counter() - t0
            rows.append({"backend": backend, "workers": workers, "tasks": len(tasks),
                         "seconds": round(elapsed, 2),
                         "per_minute": round(60 * len(tasks) / elapsed, 1),
                         "results": dict(counts)})
            seen.append(verdicts(out))
            outs.append(out)
    start = office_start_seconds(templates)
    lines = (outs[0] / "execution" / "pass.jsonl").read_text().splitlines()
    limits = {"office_start_s": round(start, 2),
              "episode_s": round((rows[0]["seconds"] - start) / len(tasks), 3),
              "ray_overhead_s": round(rows[2]["seconds"] - rows[0]["seconds"], 2),
              "driver_lines_per_s": round(driver_lines_per_second(lines), 0),
              "trajectory_kb": round(sum(map(len, lines)) / max(1, len(lines)) / 1024, 1)}
    base = rows[0]["per_minute"]
    table = Table("backend", "workers", "tasks", "seconds", "trajectories/min", "vs local x1",
                  "pass/fail/unsure", title="dataflow throughput by backend")
    for r in rows:
        res = r["results"]
        table.add_row(r["backend"], str(r["workers"]), str(r["tasks"]), f"{r['seconds']:.1f}",
                      f"{r['per_minute']:.0f}", f"{r['per_minute'] / base:.2f}x",
                      f"{res.get('pass', 0)}/{res.get('fail', 0)}/{res.get('unsure', 0)}")
    Console(width=120).print(table)
    same = all(v == seen[0] for v in seen)
    Console().print(f"verdicts identical across the four runs: {same}")
    limits_table = Table("what bounds scaling", "measured", title="the costs behind it")
    limits_table.add_row("LibreOffice start (per worker)", f"{limits['office_start_s']:.2f} s")
    limits_table.add_row("one episode (per task)", f"{limits['episode_s']:.3f} s")
    limits_table.add_row("Ray instance + actors (per run)", f"{limits['ray_overhead_s']:.2f} s")
    limits_table.add_row("driver writes (fsync'ed appends)",
                         f"{limits['driver_lines_per_s']:.0f} results/s of "
                         f"{limits['trajectory_kb']} KB")
    Console().print(limits_table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"date": date.today().isoformat(), "runs": rows,
                                     "verdicts_identical": same, "limits": limits}, indent=2))


if __name__ == "__main__":
    main()
