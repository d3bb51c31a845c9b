"""Benchmark the web environment against the `miniwob` package's own Selenium environment, side
by side in one run, on the same tasks and seeds.

    .venv/bin/python benchmarks/web_env.py [--seeds 30] [--json benchmarks/results/web_env.json]

Reset = the episode started with its seed and the first observation built; step = one click on
the button the utterance names plus the next observation. lamforge: Debian's Chromium through
Playwright, observation = the accessibility tree flattened to controls. Peer: `miniwob`'s
gymnasium environment (Selenium + Debian's chromedriver, MINIWOB_CHROME_BINARY /
MINIWOB_CHROMEDRIVER), observation = its DOM element list, utterance, fields and screenshot
(what that environment always returns). Both run headless, one after the other, in this
process; the same seed gives both the same instance (checked: the utterances must agree).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lamforge.core import Action
from lamforge.envs.web.env import WebEnv
from lamforge.envs.web.miniwob import make_task

# this folder holds miniwob.py (the benchmark), which would shadow the `miniwob` package
# (imported lazily, when the environment first looks for its pages)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

TASKS = ("click-button", "click-test", "login-user")


def target(utterance: str) -> str | None:
    found = re.findall(r'"([^"]+)"', utterance)
    return found[0] if found else None


def ours(task: str, seeds: range) -> dict:
    resets, steps, rewards, utterances = [], [], [], []
    with WebEnv() as env:
        env.reset(make_task(task, 10_000))  # start the browser outside the measurement
        for seed in seeds:
            t0 = time.perf_counter()
            obs = env.reset(make_task(task, seed))
            resets.append(time.perf_counter() - t0)
            utterances.append(env.utterance)
            name = target(env.utterance)
            control = next((c for c in obs.controls if c.type == "button" and c.name == name),
                           None) or next(c for c in obs.controls if c.type == "button")
            t0 = time.perf_counter()
            env.step(Action(function="click", control_label=control.label))
            steps.append(time.perf_counter() - t0)
            rewards.append(env.reward()["raw"])
    return {"resets": resets, "steps": steps, "rewards": rewards, "utterances": utterances}


def peer(task: str, seeds: range) -> dict:
    os.environ.setdefault("MINIWOB_CHROME_BINARY", "/usr/bin/chromium")
    os.environ.setdefault("MINIWOB_CHROMEDRIVER", "/usr/bin/chromedriver")
    import gymnasium
    import miniwob
    from miniwob.action import ActionTypes

    gymnasium.register_envs(miniwob)
    env = gymnasium.make(f"miniwob/{task}-v1")
    resets, steps, rewards, utterances = [], [], [], []
    try:
        env.reset(seed=10_000)
        for seed in seeds:
            t0 = time.perf_counter()
            obs, _ = env.reset(seed=seed)
            resets.append(time.perf_counter() - t0)
            utterances.append(obs["utterance"])
            name = target(obs["utterance"])
            buttons = [e for e in obs["dom_elements"] if e["tag"] == "button"]
            el = next((e for e in buttons if e["text"] == name), buttons[0])
            action = env.unwrapped.create_action(ActionTypes.CLICK_ELEMENT, ref=el["ref"])
            t0 = time.perf_counter()
            _, reward, _, _, info = env.step(action)
            steps.append(time.perf_counter() - t0)
            rewards.append(info.get("raw_reward", reward))
    finally:
        env.close()
    return {"resets": resets, "steps": steps, "rewards": rewards, "utterances": utterances}


def ms(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/web_env.json"))
    args = ap.parse_args()
    seeds = range(args.seeds)
    rows: dict[str, dict] = {}
    for task in TASKS:
        a, b = ours(task, seeds), peer(task, seeds)
        same = sum(x == y for x, y in zip(a["utterances"], b["utterances"], strict=True))
        rows[task] = {
            "seeds": args.seeds, "same_instance": same,
            "lamforge": {"reset_ms": ms(a["resets"]), "step_ms": ms(a["steps"]),
                         "mean_raw_reward": round(statistics.mean(a["rewards"]), 3)},
            "miniwob_selenium": {"reset_ms": ms(b["resets"]), "step_ms": ms(b["steps"]),
                                 "mean_raw_reward": round(statistics.mean(b["rewards"]), 3)}}
    table = Table("task", "env", "reset median ms", "click step median ms", "mean raw reward",
                  "same instance", title="web environments side by side (headless Chromium)")
    for task, r in rows.items():
        for name in ("lamforge", "miniwob_selenium"):
            x = r[name]
            table.add_row(task, name, f"{x['reset_ms']:.1f}", f"{x['step_ms']:.1f}",
                          f"{x['mean_raw_reward']:.2f}", f"{r['same_instance']}/{r['seeds']}")
    Console().print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"date": date.today().isoformat(), "tasks": rows}, indent=2))


if __name__ == "__main__":
    main()
