"""Benchmark the agent's step latency: model inference vs everything else.

    .venv/bin/python benchmarks/agent_latency.py --model runs/demo/tiny/lam4/model \
        --ranker runs/demo/ranker/lam4/model [--tasks 46] \
        [--json benchmarks/results/agent_latency.json]

Runs the agent (audit log and session history on, as `lamforge run` does) on the sample Writer
tasks with their plans, in real LibreOffice, and splits every step into:

- model: the backend's inference (all answers at that step, retries included);
- everything else: building the context, parsing/grounding/validating, the policy, executing
  the action and observing the result in LibreOffice, writing the audit log and the session;
  of which "framework" is everything but the environment's own step.

Each configuration runs the same tasks: the generative LAM greedy and with constrained
decoding, the ranker LAM (`--ranker`: it chooses among the step's candidate actions; its
candidates' embeddings are cached by text, so a step encodes the context once), and the rule
baseline. Targets: for the tiny LAM (issue 6) everything else <= 30 ms and the whole step
<= 300 ms median; for the ranker (issue 12) the model's part <= 30 ms median (the paper's
LAM: 5.41 s per step on GPUs).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
from datetime import date
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from scratch import scratch_dir

from lamforge.agent.audit import AuditLog
from lamforge.agent.backends import HFBackend, RankerBackend, RuleBackend
from lamforge.agent.loop import Agent, StepRecord
from lamforge.agent.sessions import SessionStore
from lamforge.core import Task, read_jsonl
from lamforge.envs.writer.env import WriterEnv
from lamforge.eval.names import portable

ROOT = Path(__file__).resolve().parent.parent
console = Console()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def stats(xs: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(xs) * 1000, 2),
            "p95_ms": round(pct(xs, 0.95) * 1000, 2)}


def run(env: WriterEnv, backend, tasks: list[Task], workdir: Path, k: int
        ) -> tuple[list[StepRecord], int]:
    agent = Agent(env, backend, audit=AuditLog(workdir / "audit.jsonl"),
                  sessions=SessionStore(workdir / "sessions.sqlite"), k=k)
    records, passed = [], 0
    for task in tasks:
        result = agent.run(task.model_copy(update={"actions": []}))
        records += result.records
        passed += result.verdict.status == "pass"
    return records, passed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=Path("runs/train/tiny-cpu/lam3/model"))
    ap.add_argument("--ranker", type=Path, default=None,
                    help="a ranker LAM, measured beside the generative one")
    ap.add_argument("--tasks", type=int, default=46)
    ap.add_argument("--top-k", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 leaves the other core to LibreOffice)")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/agent_latency.json"))
    args = ap.parse_args()
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"error: no model at {args.model} (train one: lamforge train all "
                         "--config configs/tiny-cpu.yaml)")
    torch.set_num_threads(args.threads)
    tasks = read_jsonl(ROOT / "examples/writer/tasks.jsonl", Task)[:args.tasks]
    configs = {"LAM (greedy)": lambda: HFBackend(args.model),
               "LAM (constrained)": lambda: HFBackend(args.model, constrained=True),
               "rules (MiniLM)": RuleBackend}
    if args.ranker:
        configs = {"ranker LAM": lambda: RankerBackend(args.ranker), **configs}
    out: dict[str, object] = {"date": date.today().isoformat(), "model": portable(args.model, ROOT),
                              "ranker": portable(args.ranker, ROOT) if args.ranker else None,
                              "machine": platform.machine(), "torch_threads": args.threads,
                              "tasks": len(tasks), "runs": {}}
    table = Table("backend", "steps", "passed", "model p50 / p95", "else p50 / p95",
                  "of which env", "framework p50 / p95", "step p50 / p95",
                  title=f"agent step latency, ms ({len(tasks)} sample tasks)")
    with WriterEnv(templates_dir=scratch_dir() / "templates") as env:
        env.reset(tasks[0])  # warm LibreOffice up outside the measurement
        for name, make in configs.items():
            backend = make()
            if isinstance(backend, RuleBackend):
                backend._embed(["warm up"])  # load MiniLM outside the measurement
            if isinstance(backend, RankerBackend):
                backend.ranker.encoder.encode(["warm up"])  # as above
            with tempfile.TemporaryDirectory() as work:
                records, passed = run(env, backend, tasks, Path(work), args.top_k)
            model = [r.model_s for r in records]
            other = [r.other_s for r in records]
            env_s = [r.parts["execute"] for r in records]
            framework = [r.other_s - r.parts["execute"] for r in records]
            total = [r.total_s for r in records]
            parts = {p: stats([r.parts[p] for r in records]) for p in records[0].parts}
            row = {"steps": len(records), "passed": passed, "model": stats(model),
                   "everything_else": stats(other), "environment": stats(env_s),
                   "framework": stats(framework), "step": stats(total), "parts": parts,
                   "tokens_per_step": round(statistics.mean(r.tokens for r in records), 1)}
            out["runs"][name] = row  # type: ignore[index]
            table.add_row(name, str(len(records)), f"{passed}/{len(tasks)}",
                          *(f"{row[c]['median_ms']:.1f} / {row[c]['p95_ms']:.1f}" for c in
                            ("model", "everything_else")),
                          f"{row['environment']['median_ms']:.1f}",
                          *(f"{row[c]['median_ms']:.1f} / {row[c]['p95_ms']:.1f}" for c in
                            ("framework", "step")))
    console.print(table)
    lam = out["runs"]["LAM (greedy)"]  # type: ignore[index]
    console.print(f"targets (tiny LAM, greedy): everything else <= 30 ms median: "
                  f"{lam['everything_else']['median_ms']:.1f} ms; whole step <= 300 ms median: "
                  f"{lam['step']['median_ms']:.1f} ms")
    if args.ranker:
        rk = out["runs"]["ranker LAM"]  # type: ignore[index]
        console.print(f"target (ranker LAM): the model's part <= 30 ms median: "
                      f"{rk['model']['median_ms']:.1f} ms")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
