"""The ranker LAM on Calc and Impress through their real windows: the preset
(configs/ranker-cpu.yaml, phase 3 smaller: GUI episodes cost ~3-5 s each) trained on each app's
GUI dataflow, then online on every held-out task (test_instance, test_family) beside the expert
replay's figure from the flow (every held-out task is one that passed there), with Writer's
figures from the same preset beside them.

    .venv/bin/python benchmarks/ranker_office.py --flow calc=runs/exp/flow-calc \\
        --flow impress=runs/exp/flow-impress --plans runs/exp/mined.jsonl [--workers 2]

Each flow comes from `lamforge data flow --env calc-gui|impress-gui --in mined.jsonl
--seeds 0:40`. Training goes to runs/bench/ranker-<app> unless it is there; each command
resumes. Prints a table and writes benchmarks/results/ranker_office.json. Writer's row is read
from benchmarks/results/ranker_writer_named_options.json (its own date and command).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
console = Console()
SPLITS = ("test_instance", "test_family")
WRITER = ROOT / "benchmarks/results/ranker_writer_named_options.json"
PHASE3 = {"max_tasks": 30, "recovery_tasks": 40}
"""Phase 3's budget here (the preset's: 60 tasks, 120 recovery runs): every episode is a real
GUI episode, ~3-5 s against Writer headless's ~0.3 s."""


def rel(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def train(app: str, flow: Path, plans: list[Path], out: Path) -> float | None:
    """`train all` of the preset on the app's flow into `out` (None: it was there)."""
    timing = out / "train_all_seconds.json"
    if (out / "phase4.json").is_file():
        return json.loads(timing.read_text())["seconds"] if timing.is_file() else None
    cfg = yaml.safe_load((ROOT / "configs/ranker-cpu.yaml").read_text())
    cfg["name"] = f"ranker-{app}"
    cfg["output_dir"] = str(out)
    cfg["data"] = {"flow_dir": str(flow), "plans": [str(p) for p in plans]}
    cfg["ranker"]["recovery_tasks"] = PHASE3["recovery_tasks"]
    cfg["phase3"]["explore"]["max_tasks"] = PHASE3["max_tasks"]
    config = out.parent / f"ranker-{app}.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lamforge", "train", "all", "--config", str(config)],
                   check=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    timing.write_text(json.dumps({"seconds": round(seconds, 1)}))
    return seconds


def online(app: str, models: list[Path | str], tasks: list[Path], out: Path, workers: int
           ) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "lamforge", "eval", "online", "--env", f"{app}-gui",
           "--workers", str(workers), "--json", str(out)]
    for m in models:
        cmd += ["--model", str(m)]
    for t in tasks:
        cmd += ["--tasks", str(t)]
    console.print(f"[dim]$ lamforge {' '.join(cmd[3:])}[/]", highlight=False)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return json.loads(out.read_text()), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flow", action="append", required=True,
                    help="app=flow directory (calc=runs/exp/flow-calc); repeat per app")
    ap.add_argument("--plans", type=Path, action="append", default=[],
                    help="the mined pairs the flows came from (phase 1's task -> plan)")
    ap.add_argument("--out", type=Path, default=Path("runs/bench"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/ranker_office.json")
    args = ap.parse_args()
    rows: list[dict] = []
    apps: dict[str, dict] = {}
    for spec in args.flow:
        app, _, flow_dir = spec.partition("=")
        if app not in ("calc", "impress") or not flow_dir:
            raise SystemExit(f"error: --flow takes calc=DIR or impress=DIR, not '{spec}'")
        flow = Path(flow_dir)
        tasks = [flow / "tasks" / f"{s}.jsonl" for s in SPLITS]
        missing = [t for t in tasks if not t.is_file()]
        if missing:
            raise SystemExit(f"error: no {missing[0]} (run the app's GUI dataflow first)")
        out = args.out / f"ranker-{app}"
        train_s = train(app, flow, args.plans, out)
        phases = {f"lam{n}": json.loads((out / f"phase{n}.json").read_text())
                  for n in (1, 2, 3, 4)}
        # the expert replay is the flow itself: every held-out task passed there
        models: list[Path | str] = [out / "lam4" / "model"]
        held, held_s = online(app, models, tasks, args.out / f"eval-{app}" / "held_out.json",
                              args.workers)
        summary = json.loads((flow / "flow.json").read_text()) \
            if (flow / "flow.json").is_file() else {}
        apps[app] = {"flow": rel(flow), "flow_settings": summary,
                     "seconds": {"train_all": round(train_s, 1) if train_s else None,
                                 "train_phases": {k: v.get("seconds")
                                                  for k, v in phases.items()},
                                 "held_out": round(held_s, 1)},
                     "validation": {k: {"shipped": v.get("shipped"),
                                        "validation": v.get("validation")}
                                    for k, v in phases.items()}}
        rows += [{"app": app} | {k: r[k] for k in ("model", "split", "tasks", "passed",
                                                   "success_rate", "step_latency_ms")
                                 if k in r} for r in held["rows"]]
    writer = json.loads(WRITER.read_text()) if WRITER.is_file() else None
    if writer:
        rows += [{"app": "writer (headless)", "from": rel(WRITER), "date": writer["date"]}
                 | {k: r[k] for k in ("model", "split", "tasks", "passed", "success_rate")}
                 for r in writer["rows"]
                 if r["split"] in SPLITS and r["model"] in ("ranker-cpu/lam4", "expert")]
    table = Table("app", "model", *SPLITS, title=f"Ranker LAM online, every held-out task "
                                                 f"({date.today()})")
    for app, model in dict.fromkeys((r["app"], r["model"]) for r in rows):
        cells = []
        for split in SPLITS:
            r = next((r for r in rows if (r["app"], r["model"], r["split"]) ==
                      (app, model, split)), None)
            cells.append(f"{r['passed']}/{r['tasks']} ({r['success_rate']:.1%})" if r else "-")
        table.add_row(app, str(model).replace(str(args.out) + "/", ""), *cells)
    console.print(table)
    for r in rows:
        r["model"] = rel(Path(r["model"])) if "/" in str(r["model"]) else r["model"]
    result = {"date": date.today().isoformat(),
              "command": " ".join(["benchmarks/ranker_office.py", *sys.argv[1:]]),
              "phase3_budget": PHASE3, "apps": apps, "rows": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    console.print(f"wrote {rel(args.json)}")


if __name__ == "__main__":
    main()
