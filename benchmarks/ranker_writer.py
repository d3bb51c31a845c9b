"""The ranker preset (configs/ranker-cpu.yaml) on Writer: `train all` on the demo's flow,
then offline on every held-out step and online on every held-out task and on the plain-words
requests, beside the rule baseline, the demo's generative LAM and the expert ceiling.

    .venv/bin/python benchmarks/ranker_writer.py [--run-dir runs/demo] [--workers 2]

Needs a finished `make demo` (its data, flow and `tiny/` models). The preset trains into
runs/bench/ranker-cpu unless it is there (its time is the `train all` figure). The demo
samples 30 tasks per split with a reduced ranker budget; this runs all 83 + 83 held-out tasks
and all the plain-words requests (`examples/writer/plain/tasks.jsonl`: users' words, no plan,
documents outside the template library). Each command resumes, so a rerun does only what is
missing. Prints a table and writes benchmarks/results/ranker_writer.json. Targets (issue 12):
LAM4 online test_instance >= 71%, test_family >= 50% and above the rules, plain words >= 60%;
offline step success >= 86%, task success >= 81%, object accuracy >= 92% / 95%.
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
TARGETS = {"test_instance": 0.71, "test_family": 0.50, "plain": 0.60}


def online(models: list[Path | str], tasks: list[Path], out: Path, workers: int,
           plans: bool) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "lamforge", "eval", "online", "--workers", str(workers),
           "--json", str(out), *("--plans" if plans else "--no-plans",)]
    for m in models:
        cmd += ["--model", str(m)]
    for t in tasks:
        cmd += ["--tasks", str(t)]
    console.print(f"[dim]$ lamforge {' '.join(cmd[3:])}[/]", highlight=False)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return json.loads(out.read_text()), time.perf_counter() - t0


def train(run: Path, out: Path, epochs: float | None = None) -> float | None:
    """`train all` of the preset on the demo's flow into `out` (None: it was there);
    `epochs`: phase 2's instead of the preset's. A rerun that finds the training done
    returns the time the training took then."""
    timing = out / "train_all_seconds.json"
    if (out / "phase4.json").is_file():
        return json.loads(timing.read_text())["seconds"] if timing.is_file() else None
    cfg = yaml.safe_load((ROOT / "configs/ranker-cpu.yaml").read_text())
    cfg["output_dir"] = str(out)
    if epochs is not None:
        cfg["phase2"]["epochs"] = epochs
    cfg["data"] = {"flow_dir": str(run / "flow"),
                   "plans": [str(run / "data" / f) for f in ("mined.jsonl", "evolved.jsonl")]}
    config = out.parent / "ranker-cpu.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lamforge", "train", "all", "--config", str(config)],
                   check=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    timing.write_text(json.dumps({"seconds": round(seconds, 1)}))
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", type=Path, default=Path("runs/demo"))
    ap.add_argument("--out", type=Path, default=Path("runs/bench/ranker-cpu"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/ranker_writer.json")
    ap.add_argument("--phase2-epochs", type=float, default=None,
                    help="phase 2's epochs instead of the preset's (how far more training goes)")
    args = ap.parse_args()
    run = args.run_dir
    tiny = run / "tiny" / "lam4" / "model"
    if not (tiny / "config.json").is_file():
        raise SystemExit(f"error: no model at {tiny} (run `make demo` first)")
    train_s = train(run, args.out, args.phase2_epochs)
    phases = {f"lam{n}": json.loads((args.out / f"phase{n}.json").read_text())
              for n in (1, 2, 3, 4)}
    ranker = [args.out / f"lam{n}" / "model" for n in (2, 4)]
    models: list[Path | str] = ["rules", *ranker, tiny, "expert"]
    out_dir = args.out.parent / "eval"
    off_out = out_dir / "offline.json"
    samples = [run / "flow" / "samples" / f"{s}.jsonl" for s in ("test_instance", "test_family")]
    cmd = [sys.executable, "-m", "lamforge", "eval", "offline", "--json", str(off_out)]
    for m in [args.out / f"lam{n}" / "model" for n in (1, 2, 3, 4)]:
        cmd += ["--model", str(m)]
    for d in samples:
        cmd += ["--data", str(d)]
    if not off_out.is_file():
        subprocess.run(cmd, check=True, cwd=ROOT)
    offline = json.loads(off_out.read_text())["rows"]
    splits = [run / "flow" / "tasks" / f"{s}.jsonl" for s in ("test_instance", "test_family")]
    held, held_s = online(models, splits, out_dir / "held_out.json", args.workers, True)
    plain_tasks = out_dir / "plain" / "tasks.jsonl"  # documents' paths absolute, as the demo
    plain_tasks.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in (ROOT / "examples/writer/plain/tasks.jsonl").read_text().splitlines():
        task = json.loads(line)
        task["template"] = str(ROOT / task["template"])
        lines.append(json.dumps(task))
    plain_tasks.write_text("\n".join(lines) + "\n")
    plain, plain_s = online([m for m in models if m != ranker[0]], [plain_tasks],
                            out_dir / "plain.json", args.workers, True)

    rows = held["rows"] + \
        [r | {"split": "plain"} for r in plain["rows"]]
    result = {"date": date.today().isoformat(),
              "command": " ".join(["benchmarks/ranker_writer.py", *sys.argv[1:]]),
              "run_dir": str(run), "preset": str(args.out),
              "phase2_epochs": args.phase2_epochs,
              "seconds": {"train_all": round(train_s, 1) if train_s else None,
                          "train_phases": {k: v.get("seconds") for k, v in phases.items()},
                          "held_out": round(held_s, 1), "plain": round(plain_s, 1)},
              "validation": {k: {"shipped": v.get("shipped"), "validation": v.get("validation"),
                                 "rejected": v.get("validation_rejected")}
                             for k, v in phases.items()},
              "offline": [{k: r.get(k) for k in ("model", "split", "object", "step_success",
                                                 "task_success", "plan_precision",
                                                 "plan_recall")} for r in offline],
              "targets": TARGETS,
              "rows": [{k: r[k] for k in ("model", "split", "tasks", "passed", "success_rate",
                                          "step_latency_ms") if k in r} for r in rows]}
    table = Table("model", "test_instance", "test_family", "plain words",
                  title=f"Writer online, every held-out task ({date.today()})")
    for name in dict.fromkeys(r["model"] for r in rows):
        cells = []
        for split in ("test_instance", "test_family", "plain"):
            r = next((r for r in rows if r["model"] == name and r["split"] == split), None)
            cells.append(f"{r['passed']}/{r['tasks']} ({r['success_rate']:.1%})" if r else "-")
        table.add_row(name, *cells)
    console.print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    console.print(f"wrote {args.json.resolve().relative_to(ROOT)}")


if __name__ == "__main__":
    main()
