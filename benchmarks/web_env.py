"""Benchmark the web environment: reset and click-step latency on MiniWoB++ pages.

    .venv/bin/python benchmarks/web_env.py [--seeds 30] [--json benchmarks/results/web_env.json]

Reset = a new page, the task page loaded, the episode started with its seed and the first
observation built; step = one click through Playwright plus the next observation (the
accessibility tree and a DOM snapshot). The side-by-side run with the `miniwob` package's own
Selenium environment (issue 8) is not in this script yet: it needs Debian's chromium-driver.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lamforge.core import Action
from lamforge.envs.web.env import WebEnv
from lamforge.envs.web.miniwob import make_task


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/web_env.json"))
    args = ap.parse_args()
    rows = {}
    with WebEnv() as env:
        env.reset(make_task("click-button", 999))  # start the browser outside the measurement
        for task in ("click-button", "login-user"):
            resets, steps = [], []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                obs = env.reset(make_task(task, seed))
                resets.append(time.perf_counter() - t0)
                target = re.findall(r'"([^"]+)"', env.utterance)
                control = next((c for c in obs.controls if c.type == "button"
                                and c.name in target), None) or obs.controls[0]
                t0 = time.perf_counter()
                env.step(Action(function="click", control_label=control.label))
                steps.append(time.perf_counter() - t0)
            rows[task] = {"reset_ms": round(statistics.median(resets) * 1000, 1),
                          "step_ms": round(statistics.median(steps) * 1000, 1),
                          "seeds": args.seeds}
    table = Table("task", "reset median ms", "click step median ms",
                  title="web environment (Chromium + Playwright)")
    for task, r in rows.items():
        table.add_row(task, f"{r['reset_ms']:.1f}", f"{r['step_ms']:.1f}")
    Console().print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"date": date.today().isoformat(), "tasks": rows}, indent=2))


if __name__ == "__main__":
    main()
