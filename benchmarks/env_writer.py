"""Benchmark the Writer environment: cold start, warm reset, step latency, observation size.

    .venv/bin/python benchmarks/env_writer.py [--repeats 30] [--json benchmarks/results/env_writer.json]

Prints a table and writes JSON. Targets (issue 2): warm reset <= 300 ms, step <= 50 ms median
for non-dialog actions. Latencies include building the next observation (controls + canvas),
since that is what an agent waits for.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from scratch import scratch_dir

from lamforge.core import Action, Check, Task
from lamforge.envs.writer.env import WriterEnv

console = Console()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def summary(xs: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(xs) * 1000, "p95_ms": pct(xs, 0.95) * 1000,
            "n": len(xs)}


def task(template: str) -> Task:
    return Task(id="bench", app="writer", request="benchmark", template=template)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/env_writer.json"))
    args = ap.parse_args()
    n = args.repeats
    templates = scratch_dir() / "templates"
    results: dict[str, object] = {"date": date.today().isoformat(), "machine":
                                  f"{platform.machine()} {platform.processor() or ''}".strip(),
                                  "repeats": n}

    # Build the template library first so cold start measures LibreOffice, not the library.
    with WriterEnv(templates_dir=templates) as env:
        env.reset(task("line"))

    cold = []
    for _ in range(3):
        t0 = time.perf_counter()
        env = WriterEnv(templates_dir=templates)
        env.reset(task("line"))
        cold.append(time.perf_counter() - t0)
        env.close()
    results["cold_start"] = summary(cold)

    with WriterEnv(templates_dir=templates) as env:
        resets = {}
        sizes = {}
        for name in ("line", "report", "table", "multipage"):
            env.reset(task(name))
            resets[name] = summary([timed(lambda name=name: env.reset(task(name)))
                                    for _ in range(n)])
            obs = env.reset(task(name))
            sizes[name] = {"controls": len(obs.controls), "canvas_chars": len(obs.canvas),
                           "json_chars": len(obs.model_dump_json())}
        env.reset(task("report"))
        obs = env.step(Action(function="click", control_text="Format")).observation
        sizes["report+Format menu"] = {"controls": len(obs.controls),
                                       "canvas_chars": len(obs.canvas),
                                       "json_chars": len(obs.model_dump_json())}
        results["warm_reset"] = resets
        results["observation"] = sizes

        def step(fn: str, target: str | None = None, **kw: object) -> Callable[[], object]:
            action = Action(function=fn, control_text=target, args=kw)

            def run() -> object:
                r = env.step(action)
                if not r.ok:
                    raise RuntimeError(f"{fn} failed: {r.error}")
                return r

            return run

        steps: dict[str, dict[str, float]] = {}
        env.reset(task("report"))
        kinds: dict[str, tuple[Callable[[], object], Callable[[], object] | None]] = {
            "select_text": (step("select_text", text="Revenue"), None),
            "click (toolbar command)": (step("click", "Bold"), None),
            "keyboard (shortcut)": (step("keyboard", keys="ctrl+i"), None),
            "click (open menu)": (step("click", "Format"), step("keyboard", keys="escape")),
            "select_option (font colour)": (step("select_option", "Font Color", option="Red"),
                                            None),
            "set_edit_text (font size)": (step("set_edit_text", "Font Size", text="14"), None),
            "type_text": (step("type_text", text="x"), None),
            # finish ends the episode: start a new one before the next repeat (not timed)
            "finish": (step("finish"), lambda: (env.reset(task("report")),
                                                step("select_text", text="Revenue")())),
        }
        for name, (fn, undo) in kinds.items():
            env.reset(task("report"))
            step("select_text", text="Revenue")()
            xs = []
            for _ in range(n):
                xs.append(timed(fn))
                if undo:
                    undo()
            steps[name] = summary(xs)
        # dialog actions: open the Character dialog, set a field, press OK
        env.reset(task("report"))
        step("select_text", text="Revenue")()
        opens, fields, oks = [], [], []
        for _ in range(n):
            step("click", "Format")()
            opens.append(timed(step("click", "Character...")))
            fields.append(timed(step("set_edit_text", "Size", text="15 pt")))
            oks.append(timed(step("click", "OK")))
        steps["dialog: open (click menu item)"] = summary(opens)
        steps["dialog: set field"] = summary(fields)
        steps["dialog: OK (apply)"] = summary(oks)
        observe = []
        for _ in range(n):
            observe.append(timed(env._observe))
        steps["observation only (report)"] = summary(observe)
        env.reset(task("report").model_copy(update={"checks": [
            Check(kind="text_present", text="Revenue"), Check(kind="bold", text="Results")]}))
        evals = [timed(env.evaluate) for _ in range(max(5, n // 3))]
        results["evaluate"] = summary(evals)
        results["steps"] = steps

    table = Table("measure", "median ms", "p95 ms", "n", title="Writer environment")
    table.add_row("cold start (process + first observation)",
                  f"{results['cold_start']['median_ms']:.0f}",
                  f"{results['cold_start']['p95_ms']:.0f}", str(len(cold)))
    for name, s in resets.items():
        table.add_row(f"warm reset: {name}", f"{s['median_ms']:.1f}", f"{s['p95_ms']:.1f}",
                      str(s["n"]))
    for name, s in steps.items():
        table.add_row(f"step: {name}", f"{s['median_ms']:.1f}", f"{s['p95_ms']:.1f}",
                      str(s["n"]))
    ev = results["evaluate"]
    table.add_row("evaluate (save .docx, reopen, checks)", f"{ev['median_ms']:.1f}",
                  f"{ev['p95_ms']:.1f}", str(ev["n"]))
    console.print(table)
    sizes_table = Table("observation", "controls", "canvas chars", "JSON chars")
    for name, s in sizes.items():
        sizes_table.add_row(name, str(s["controls"]), str(s["canvas_chars"]), str(s["json_chars"]))
    console.print(sizes_table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
