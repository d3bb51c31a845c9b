"""MiniWoB++ benchmark: a LAM built with no human demonstrations, measured on the 56-task subset
of the fine-tuned literature, on held-out seeds.

    .venv/bin/python benchmarks/miniwob.py [--run-dir runs/miniwob] [--train-seeds 10]
        [--test-seeds 20] [--workers 2] [--kinds tiny,ranker] [--models lam2,lam3,lam4]

1. Data from nothing: `lamforge data flow --env web --suite miniwob --subset lit56` — the
   verified search (the page's reward as the only judge) on seeds 0..1 of every task; then
   on seeds 2..N-1 of the tasks it solved at least once (a task it never solved on two seeds
   gets no more budget: a curriculum by the verifier, not by task knowledge).
2. `lamforge train all` for each kind of LAM on that same flow, side by side:
   `configs/tiny-web.yaml` (the generative tiny LAM, from random weights) and
   `configs/ranker-web.yaml` (MiniLM ranking the page's candidate actions); the four phases,
   phase 3 retrying the unsolved train instances with LAM2 in Chromium.
3. `lamforge eval online --env web --suite miniwob --subset lit56 --seeds 1000:1000+T` for
   every kind's LAM2-LAM4 in one run: the agent alone, one episode per seed, no reset to
   retry; seeds never seen in training. Success = the page's full raw reward (the miniwob
   package's binary reward).

Prints the per-task table and writes benchmarks/results/miniwob.json and the section between
the `miniwob` markers of benchmarks/RESULTS.md. Steps that are done are skipped on a rerun
(each command resumes).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import yaml
from bench import ROOT, console, sh, write_section
from rich.table import Table

# this folder holds miniwob.py (the benchmark), which would shadow the `miniwob` package
# (imported lazily, when the environment first looks for its pages): once `bench` is in,
# the folder leaves the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

PRESETS = {"tiny": "tiny-web", "ranker": "ranker-web"}
ANCHORS = {"HTML-T5-XL (12K human demos)": 67.1, "WebGUM (~400K demos)": 94.2}


def solved_families(flow: Path) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    path = flow / "execution" / "pass.jsonl"
    if path.is_file():
        for line in path.read_text().splitlines():
            counts[json.loads(line)["task"]["meta"]["family"]] += 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", type=Path, default=Path("runs/miniwob"))
    ap.add_argument("--train-seeds", type=int, default=10)
    ap.add_argument("--test-seeds", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=120, help="search budget per instance")
    ap.add_argument("--models", default="lam2,lam3,lam4")
    ap.add_argument("--max-steps", type=int, default=20,
                    help="an online episode's step budget (the search's longest way on the "
                         "train seeds is 19 steps: 12 checkboxes, a calendar 11 months back)")
    ap.add_argument("--kinds", default="tiny,ranker",
                    help="which LAMs to train and compare: tiny (generative), ranker")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/miniwob.json"))
    args = ap.parse_args()
    run = (ROOT / args.run_dir).resolve()
    flow = run / "flow"
    seconds: dict[str, float] = {}
    common = ["--env", "web", "--suite", "miniwob", "--out-dir", str(flow), "--test-family",
              "0", "--test-instance", "0", "--workers", str(args.workers), "--episodes",
              str(args.episodes)]
    seconds["flow_round1"] = sh("data", "flow", *common, "--subset", "lit56", "--seeds", "0:2")
    solved = sorted(solved_families(flow))
    if args.train_seeds > 2 and solved:
        seconds["flow_round2"] = sh("data", "flow", *common, "--seeds",
                                    f"2:{args.train_seeds}",
                                    *(x for name in solved for x in ("--task", name)))
    models: list[str] = []
    for kind in args.kinds.split(","):
        preset = PRESETS[kind]
        cfg = yaml.safe_load((ROOT / "configs" / f"{preset}.yaml").read_text())
        train = run / f"train-{kind}"
        cfg["output_dir"], cfg["data"]["flow_dir"] = str(train), str(flow)
        cfg["phase3"]["explore"]["workers"] = args.workers
        config = run / f"{preset}.yaml"
        config.write_text(yaml.safe_dump(cfg))
        seconds[f"train_{kind}"] = sh("train", "all", "--config", str(config))
        models += [str(train / m / "model") for m in args.models.split(",")]
    online = run / "online.json"
    seconds["online"] = sh("eval", "online", "--env", "web", "--suite", "miniwob", "--subset",
                           "lit56", "--seeds", f"1000:{1000 + args.test_seeds}",
                           *(x for m in models for x in ("--model", m)), "--workers",
                           str(args.workers), "--max-steps", str(args.max_steps), "--json",
                           str(online))
    result = json.loads(online.read_text())
    found = solved_families(flow)
    tried = defaultdict(int)
    for line in (flow / "instantiation" / "pass.jsonl").read_text().splitlines():
        tried[json.loads(line)["meta"]["family"]] += 1
    from lamforge.envs.web.miniwob import LIT56

    per_task = {t: {"search": f"{found.get(t, 0)}/{tried.get(t, 0)}"} for t in LIT56}
    means = {}
    names = []
    speed = {}  # the kinds side by side in the same run: a step, and the model's share of it
    for row in result["rows"]:
        name = short_name(row["model"], models)
        names.append(name)
        speed[name] = {"step_ms": row["step_latency_ms"], "model_ms": row["model_latency_ms"],
                       "mean_steps": row["mean_steps"]}
        for t in LIT56:
            fam = row["by_family"].get(t, {"tasks": 0, "passed": 0})
            per_task[t][name] = fam["passed"] / max(1, fam["tasks"])
        # the mean over tasks (each task weighs the same, as the literature reports)
        means[name] = sum(per_task[t][name] for t in LIT56) / len(LIT56)
    samples = sum(1 for _ in (flow / "samples" / "train.jsonl").open())
    out = {"date": date.today().isoformat(), "train_seeds": args.train_seeds,
           "test_seeds": f"1000:{1000 + args.test_seeds}", "episodes_budget": args.episodes,
           "max_steps": args.max_steps,
           "train_samples": samples, "seconds": {k: round(v) for k, v in seconds.items()},
           "mean_success": means, "per_task": per_task, "anchors": ANCHORS,
           "search_solved_tasks": sum(found.get(t, 0) > 0 for t in LIT56),
           "latency": speed, "human_demonstrations": 0, "llm_teacher": None}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    table = Table("task", "search (train seeds)", *names, title="MiniWoB++ lit56, held-out "
                  f"seeds 1000..{999 + args.test_seeds}")
    for t in LIT56:
        table.add_row(t, per_task[t]["search"], *(f"{per_task[t][n]:.0%}" for n in names))
    table.add_row("[bold]mean[/]", "", *(f"[bold]{means[n]:.1%}[/]" for n in names))
    console.print(table)
    lat = Table("model", "step p50 ms", "step p95 ms", "model p50 ms", "model p95 ms",
                "steps / episode", title="Web step latency, the same run")
    for n in names:
        v = speed[n]
        lat.add_row(n, str(v["step_ms"]["p50"]), str(v["step_ms"]["p95"]),
                    str(v["model_ms"]["p50"]), str(v["model_ms"]["p95"]), str(v["mean_steps"]))
    console.print(lat)
    write_results(out, names, per_task, means)


def short_name(model: str, models: list[str]) -> str:
    """The evaluation's name of one of `models` (the shortest tail of its path that tells it
    apart: lam4 when one kind was trained, else train-ranker/lam4) -> ranker/lam4."""
    path = next(p for p in (Path(m).parent for m in models)
                if str(p) == model or str(p).endswith("/" + model))
    return f"{path.parent.name.removeprefix('train-')}/{path.name}"


def write_results(out: dict, names: list[str], per_task: dict, means: dict) -> None:
    lines = [f"### MiniWoB++ lit56, {out['date']} (`.venv/bin/python benchmarks/miniwob.py`)",
             "",
             f"Zero human demonstrations: {out['train_samples']} training steps from the "
             f"verified search on train seeds 0..{out['train_seeds'] - 1}; evaluation on "
             f"held-out seeds {out['test_seeds']} (one episode each, the agent alone, at "
             f"most {out['max_steps']} steps). "
             f"Wall time (s): {out['seconds']}. Anchors: HTML-T5-XL 67.1%, WebGUM 94.2% "
             "(fine-tuned on human demonstrations).", "",
             "| task | search solved (train seeds) | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for t, r in per_task.items():
        lines.append(f"| {t} | {r['search']} | " + " | ".join(f"{r[n]:.0%}" for n in names)
                     + " |")
    lines.append("| **mean** | | " + " | ".join(f"**{means[n]:.1%}**" for n in names) + " |")
    lines += ["", f"The search solved {out['search_solved_tasks']} of the 56 tasks on at least "
              "one train seed. No LLM teacher was used. Web step latency in the same run "
              "(ms, p50 / p95; the model's share of a step beside it):", "",
              "| model | step | model | steps per episode |", "|---|---|---|---|"]
    for n in names:
        v = out["latency"][n]
        lines.append(f"| {n} | {v['step_ms']['p50']} / {v['step_ms']['p95']} | "
                     f"{v['model_ms']['p50']} / {v['model_ms']['p95']} | {v['mean_steps']} |")
    write_section("miniwob", "MiniWoB++ (issue 8)", "\n".join(lines))


if __name__ == "__main__":
    main()
