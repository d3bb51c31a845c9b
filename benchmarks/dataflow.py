"""Dataflow throughput: trajectories per minute with 1 and 2 workers on the same tasks.

    .venv/bin/python benchmarks/dataflow.py --tasks runs/flow/instantiation/pass.jsonl \
        [--n 120] [--json benchmarks/results/dataflow.json]

Each run starts from an empty run directory (so nothing is skipped) and includes starting
the workers' LibreOffice instances. Target (issue 4): 2 workers >= 1.7x one worker on 2 cores.
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

from lamforge.core import Task, read_jsonl
from lamforge.dataflow.flow import FlowConfig, execute


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=Path, required=True)
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/dataflow.json"))
    args = ap.parse_args()
    tasks = read_jsonl(args.tasks, Task)[: args.n]
    templates = scratch_dir() / "templates"
    rows, verdicts = [], []
    for workers in (1, 2):
        out = scratch_dir()
        t0 = time.perf_counter()
        counts = execute(tasks, FlowConfig(out_dir=out, workers=workers,
                                           templates_dir=templates))
        elapsed = time.perf_counter() - t0
        rows.append({"workers": workers, "tasks": len(tasks), "seconds": round(elapsed, 2),
                     "per_minute": round(60 * len(tasks) / elapsed, 1), "results": dict(counts)})
        verdicts.append({json.loads(line)["task"]["id"]: (kind, json.loads(line)["verdict"][
            "reason"]) for kind in ("pass", "fail", "unsure")
            if (out / "execution" / f"{kind}.jsonl").is_file()
            for line in (out / "execution" / f"{kind}.jsonl").read_text().splitlines()})
    base = rows[0]["per_minute"]
    table = Table("workers", "tasks", "seconds", "trajectories/min", "speed-up", "pass/fail/unsure")
    for r in rows:
        res = r["results"]
        table.add_row(str(r["workers"]), str(r["tasks"]), f"{r['seconds']:.1f}",
                      f"{r['per_minute']:.0f}", f"{r['per_minute'] / base:.2f}x",
                      f"{res.get('pass', 0)}/{res.get('fail', 0)}/{res.get('unsure', 0)}")
    Console().print(table)
    differ = {k: (verdicts[0].get(k), verdicts[1].get(k)) for k in verdicts[0]
              if verdicts[0].get(k, ("",))[0] != verdicts[1].get(k, ("",))[0]}
    for task_id, (one, two) in differ.items():
        Console().print(f"verdicts differ for {task_id}: 1 worker {one}, 2 workers {two}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"date": date.today().isoformat(), "runs": rows,
                                     "verdicts_differ": sorted(differ)}, indent=2))


if __name__ == "__main__":
    main()
