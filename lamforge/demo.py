"""`lamforge demo`: the whole workflow end to end on a laptop CPU, with embedded defaults and no
network — mine Writer's help → evolve → dataflow → train LAM1–LAM4 (tiny preset, a reduced
data budget) → offline and online evaluation against the rule baseline → report.

Everything goes under one run directory. Each stage leaves a marker in `<run>/.done/` when it
completes, so a rerun skips finished stages; the stages themselves resume inside (the flow
skips filed tasks, training keeps finished phases, the online evaluation finished episodes).
The stages are the ordinary commands, called with the settings below, so what the demo does
is what a user would type (the commands are printed as each stage starts).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from lamforge.console import heading

SPLITS = ("test_instance", "test_family")
PHASES = ("lam1", "lam2", "lam3", "lam4")


@dataclass
class DemoSettings:
    """The demo's data and compute budget. `default` fits the 20-minute target on 2 cores;
    `small` is the same workflow in about three minutes (the test suite runs it)."""

    run_dir: Path = Path("runs/demo")
    per_pair: int = 4
    """Evolved variants per mined pair."""
    instances: int = 3
    """Task instances per pair in the dataflow (the full run of issue 4 used 6)."""
    flow_limit: int | None = None
    """Only the first N task instances are executed."""
    workers: int = 2
    offline_steps: int | None = None
    """Held-out step samples per split in the offline evaluation (None: all)."""
    online_tasks: int = 30
    """Held-out tasks per split and model in the online evaluation (a seeded sample)."""
    online_max_steps: int = 12
    seed: int = 0
    train: dict[str, Any] | None = None
    """The training config (configs/*.yaml format); None: `train_config` below."""


def train_config(s: DemoSettings, small: bool = False) -> dict[str, Any]:
    """The tiny preset of configs/tiny-cpu.yaml with a reduced budget: fewer epochs in phase 2,
    fewer exploration tasks and reward/policy rows; `small` cuts every phase to a few steps."""
    run = s.run_dir
    sft = {"lr": 3.0e-3, "batch_size": 16, "logging_steps": 20}
    cfg: dict[str, Any] = {
        "name": "demo", "output_dir": str(run / "train"), "seed": s.seed, "controls_top_k": 16,
        "model": {"preset": "tiny", "tiny": {"vocab_size": 2000, "hidden_size": 192,
                                             "layers": 3, "heads": 6, "max_length": 1024}},
        "data": {"flow_dir": str(run / "flow")},
        "phase1": {**sft, "epochs": 2, "max_length": 256},
        "phase2": {**sft, "epochs": 1.5, "lr": 2.0e-3, "max_length": 512},
        "phase3": {**sft, "epochs": 0.3, "lr": 2.0e-4, "max_length": 512, "new_weight": 2,
                   "explore": {"attempts": 2, "max_tasks": 60, "temperature": 0.8,
                               "max_steps": 10, "workers": s.workers}},
        "phase4": {"reward": {**sft, "epochs": 1, "lr": 1.0e-3, "max_length": 512,
                              "max_rows": 1500},
                   "policy": {"max_steps": 25, "lr": 2.0e-5, "beta": 0.3,
                              "num_generations": 4, "batch_size": 16, "max_prompts": 600,
                              "max_completion_length": 80, "temperature": 1.0,
                              "logging_steps": 5}}}
    if small:
        cfg["model"]["tiny"] |= {"hidden_size": 96, "layers": 2, "heads": 4}
        for phase in ("phase1", "phase2"):
            cfg[phase] |= {"epochs": 1, "max_steps": 60, "lr": 5.0e-3}
        cfg["phase3"] |= {"max_steps": 20, "explore": cfg["phase3"]["explore"] | {
            "max_tasks": 6, "max_steps": 6, "attempts": 1}}
        cfg["phase4"]["reward"] |= {"max_steps": 20}
        cfg["phase4"]["policy"] |= {"max_steps": 3, "batch_size": 4, "num_generations": 2,
                                    "max_completion_length": 48}
    return cfg


def small_settings(run_dir: Path) -> DemoSettings:
    s = DemoSettings(run_dir=run_dir, per_pair=1, instances=1, flow_limit=80,
                     offline_steps=40, online_tasks=3, online_max_steps=6)
    s.train = train_config(s, small=True)
    return s


class Demo:
    """The stages, run in order, each skipped when its marker says it finished."""

    def __init__(self, s: DemoSettings, console: Console) -> None:
        self.s = s
        self.console = console
        self.run = s.run_dir
        self.done = self.run / ".done"

    def stages(self) -> list[tuple[str, str, Callable[[], None]]]:
        r = self.run
        return [
            ("mine", f"lamforge data mine --out {r}/data/mined.jsonl", self.mine),
            ("evolve", f"lamforge data evolve --in {r}/data/mined.jsonl --out "
                       f"{r}/data/evolved.jsonl --per-pair {self.s.per_pair}", self.evolve),
            ("flow", f"lamforge data flow --in {r}/data/mined.jsonl --in {r}/data/evolved.jsonl "
                     f"--out-dir {r}/flow --instances {self.s.instances} --workers "
                     f"{self.s.workers}" + (f" --limit {self.s.flow_limit}"
                                            if self.s.flow_limit else ""), self.flow),
            ("train", f"lamforge train all --config {r}/train.yaml", self.train),
            ("offline", f"lamforge eval offline --model rules --model {r}/train/lam1/model … "
                        f"--data {r}/flow/samples/test_instance.jsonl --data "
                        f"{r}/flow/samples/test_family.jsonl"
                        + (f" --limit {self.s.offline_steps}" if self.s.offline_steps else "")
                        + f" --json {r}/offline.json", self.offline),
            ("online", f"lamforge eval online --model rules --model {r}/train/lam1/model … "
                       "--model expert "
                       f"--tasks {r}/flow/tasks/test_instance.jsonl --tasks "
                       f"{r}/flow/tasks/test_family.jsonl --sample {self.s.online_tasks} "
                       f"--workers {self.s.workers} --json {r}/online.json", self.online),
            ("report", f"lamforge report {r}", self.report),
        ]

    def go(self) -> dict[str, Any]:
        self.done.mkdir(parents=True, exist_ok=True)
        settings = self.run / "demo-settings.json"
        settings.write_text(json.dumps(asdict(self.s), indent=2, default=str))
        timings: dict[str, float] = {}
        t_all = time.perf_counter()
        stages = self.stages()
        for i, (name, command, fn) in enumerate(stages, 1):
            marker = self.done / name
            if marker.is_file():
                timings[name] = json.loads(marker.read_text())["seconds"]
                self.console.print(f"[dim]stage {i}/{len(stages)} {name}: done in an earlier "
                                   f"run ({timings[name]:.0f} s), kept[/]")
                continue
            heading(self.console, f"stage {i}/{len(stages)}: {name}")
            self.console.print(f"[dim]$ {command}[/]", highlight=False)
            t0 = time.perf_counter()
            fn()
            timings[name] = round(time.perf_counter() - t0, 1)
            marker.write_text(json.dumps({"seconds": timings[name]}))
        summary = {"run_dir": str(self.run), "stage_seconds": timings,
                   "this_run_seconds": round(time.perf_counter() - t_all, 1)}
        (self.run / "demo.json").write_text(json.dumps(summary, indent=2))
        self.final_table(timings)
        return summary

    # ---- the stages: the ordinary commands with the demo's settings ------------------------
    def mine(self) -> None:
        from lamforge.cli_data import mine

        mine(paths=None, out=self.run / "data" / "mined.jsonl", app=None, near_dup=0.85)

    def evolve(self) -> None:
        from lamforge.cli_data import evolve

        evolve(inp=self.run / "data" / "mined.jsonl", out=self.run / "data" / "evolved.jsonl",
               provider="rules", per_pair=self.s.per_pair, seed=self.s.seed, app=None,
               limit=None, base_url=None, model=None, api_key=None, temperature=None,
               timeout=None, retries=None, concurrency=4)

    def flow(self) -> None:
        from lamforge.cli_data import flow_cmd

        data = self.run / "data"
        flow_cmd(inp=[data / "mined.jsonl", data / "evolved.jsonl"], out_dir=self.run / "flow",
                 instances=self.s.instances, seed=self.s.seed, selector="minilm",
                 prefill="rules", match="exact", threshold=85.0, workers=self.s.workers,
                 limit=self.s.flow_limit, base_url=None, model=None, api_key=None,
                 concurrency=4)

    def train(self) -> None:
        from lamforge.cli_train import train

        config = self.run / "train.yaml"
        config.write_text("# written by `lamforge demo`: the tiny preset with the demo's "
                          "budget\n" + yaml.safe_dump(self.s.train or train_config(self.s),
                                                      sort_keys=False))
        train(phase="all", config=config)

    def _models(self) -> list[str]:
        return ["rules", *(str(self.run / "train" / p / "model") for p in PHASES)]

    def offline(self) -> None:
        from lamforge.cli_eval import offline

        data = [self.run / "flow" / "samples" / f"{s}.jsonl" for s in SPLITS]
        offline(model=self._models(), data=data, json_out=self.run / "offline.json", top_k=None,
                limit=self.s.offline_steps, plans=True)

    def online(self) -> None:
        from lamforge.cli_eval import online

        tasks = [self.run / "flow" / "tasks" / f"{s}.jsonl" for s in SPLITS]
        online(model=[*self._models(), "expert"], tasks=tasks, env_name="writer",
               json_out=self.run / "online.json", workers=self.s.workers, endpoint=None,
               limit=None, sample=self.s.online_tasks, seed=self.s.seed, plans=True,
               max_steps=self.s.online_max_steps,
               max_seconds=120.0, top_k=None, constrained=False, timeout=60.0)

    def report(self) -> None:
        from lamforge.cli_report import report

        report(run_dir=self.run, out=None)

    # ---- the final table -------------------------------------------------------------------
    def final_table(self, timings: dict[str, float]) -> None:
        from lamforge.eval.names import short_name

        offline = json.loads((self.run / "offline.json").read_text())["rows"]
        online = json.loads((self.run / "online.json").read_text())["rows"]
        table = Table("model", *(f"{s}\noffline step / task" for s in SPLITS),
                      *(f"{s}\nonline success" for s in SPLITS), "online step p50",
                      title=f"lamforge demo: {self.run}")

        for model in ["rules", *PHASES, "expert"]:
            off = {r["split"]: r for r in offline if short_name(r["model"]) == model}
            on = {r["split"]: r for r in online if r["model"] == model}
            cells = [f"{off[s]['step_success']:.1%} / {off[s]['task_success']:.1%}"
                     if s in off else "-" for s in SPLITS]
            cells += [f"{on[s]['passed']}/{on[s]['tasks']} ({on[s]['success_rate']:.0%})"
                      if s in on else "-" for s in SPLITS]
            lat = [on[s]["step_latency_ms"]["p50"] for s in SPLITS if s in on]
            table.add_row(model, *cells, f"{lat[0]:.0f} ms" if lat and lat[0] else "-")
        self.console.print(table)
        total = sum(timings.values())
        self.console.print(
            "stage times: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
            + f"; total {total / 60:.1f} min. 'expert' replays each task's own actions "
              "through the agent (the harness's ceiling). The paper (Word, a Mistral-7B base): "
              f"LAM online 71.0% task success. Report: {self.run / 'report.html'}",
            highlight=False)
