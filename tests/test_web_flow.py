"""The workflow on the web with no demonstrations, in real Chromium: the 56-task subset, the
verified search (the page's reward as the only judge), and the usual commands with
`--env web --suite miniwob` (data flow, eval online, run) — no web code in the core."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lamforge.core import DataError, LamforgeError, StepSample, Task, Trajectory, read_jsonl
from lamforge.dataflow.search import SearchConfig, search
from lamforge.envs.base import parse_seeds
from lamforge.envs.episode import run_actions
from lamforge.envs.registry import suite
from lamforge.envs.web.env import WebEnv
from lamforge.envs.web.miniwob import LIT56, make_task, task_names

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


def test_the_suite_lists_every_page_and_the_56_task_subset() -> None:
    s = suite("web", "miniwob")
    assert len(s.names()) == len(task_names()) >= 100
    lit = s.select("lit56")
    assert lit == LIT56 and len(set(lit)) == 56  # every one of them is a page of the package
    tasks = s.tasks(parse_seeds("3:5"), "lit56", ["login-user", "click-button"])
    assert [t.id for t in tasks] == ["click-button#3", "click-button#4", "login-user#3",
                                     "login-user#4"]
    with pytest.raises(LamforgeError, match="no subset 'lit57'"):
        s.select("lit57")
    with pytest.raises(LamforgeError, match="no suite 'wob'"):
        suite("web", "wob")
    with pytest.raises(LamforgeError, match="not a range"):
        parse_seeds("a:b")


def test_web_tasks_are_validated_before_chromium_starts() -> None:
    WebEnv.validate_task(make_task("click-button", 0))
    bad = make_task("click-button", 0).model_copy(update={"template": "miniwob/no-such-task"})
    with pytest.raises(DataError, match="not a MiniWoB"):
        WebEnv.validate_task(bad)


@pytest.mark.browser
def test_search_finds_verified_trajectories_with_no_demonstrations() -> None:
    """On pages it has never seen, from the utterance and the controls alone; each found
    trajectory replays to reward 1 on its seed, and its request is the page's utterance."""
    with WebEnv() as env:
        for name, seed in (("click-button", 11), ("enter-text", 12), ("login-user", 13)):
            traj = search(env, make_task(name, seed))
            assert traj.verdict is not None and traj.verdict.status == "pass", traj.verdict
            assert traj.task.request == env.instruction() and '"' in traj.task.request
            assert len(traj.steps) == len(traj.task.meta["plan"]) == len(traj.task.actions)
            again = run_actions(env, traj.task)
            assert again.verdict is not None and again.verdict.status == "pass"
        # the budget is a budget: a 2-step task cannot be found in 2 episodes
        traj = search(env, make_task("login-user", 13), SearchConfig(episodes=2))
        assert traj.verdict is not None and traj.verdict.status == "fail"
        assert traj.meta["episodes"] <= 2 and "no success in 2 episodes" in traj.verdict.reason


@pytest.mark.browser
def test_data_flow_on_the_suite_files_trajectories_samples_and_negatives(tmp_path) -> None:
    out = tmp_path / "flow"
    args = ["data", "flow", "--env", "web", "--suite", "miniwob", "--task", "click-button",
            "--task", "enter-text", "--seeds", "0:4", "--test-family", "0", "--test-instance",
            "0.25", "--out-dir", str(out)]
    proc = cli(*args)
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    passed = read_jsonl(out / "execution" / "pass.jsonl", Trajectory)
    assert len(passed) >= 6  # of 8; the search solves nearly all of these two
    samples = read_jsonl(out / "samples" / "train.jsonl", StepSample)
    test = read_jsonl(out / "samples" / "test_instance.jsonl", StepSample)
    assert samples and test and {s.task_id for s in samples}.isdisjoint(
        {s.task_id for s in test})
    assert all(not s.request.startswith("(the page's") for s in samples)
    assert any(s.function == "fill" and s.args["text"] in s.request for s in samples)
    # the actions the pages judged wrong are kept as negatives for the reward model
    refuted = read_jsonl(out / "samples" / "refuted.jsonl", StepSample)
    assert refuted and all(r.task_id in {s.task_id for s in samples} for r in refuted)
    settings = json.loads((out / "flow.json").read_text())
    assert settings["env"] == "web-v0" and settings["suite"] == "miniwob"
    # a rerun resumes: every task is filed, nothing runs again
    again = cli(*args)
    assert again.returncode == 0 and len(read_jsonl(out / "execution" / "pass.jsonl",
                                                    Trajectory)) == len(passed)
    # the expert (the found actions, replayed live by the agent) solves its tasks online
    tasks = out / "tasks" / "train.jsonl"
    res = tmp_path / "online.json"
    proc = cli("eval", "online", "--env", "web", "--model", "expert", "--tasks", str(tasks),
               "--json", str(res))
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    row = json.loads(res.read_text())["rows"][0]
    assert row["passed"] == row["tasks"] == len(read_jsonl(tasks, Task))


@pytest.mark.browser
def test_eval_online_and_run_take_a_suite_and_a_page(tmp_path) -> None:
    res = tmp_path / "online.json"
    proc = cli("eval", "online", "--env", "web", "--suite", "miniwob", "--task", "click-test",
               "--task", "click-button", "--seeds", "100:102", "--model", "rules",
               "--json", str(res), "--max-steps", "3")
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    result = json.loads(res.read_text())
    (row,) = result["rows"]
    assert row["tasks"] == 4 and set(row["by_family"]) == {"click-test", "click-button"}
    assert result["splits"]["miniwob"] == "web-v0:miniwob@100:102"
    episodes = [json.loads(x) for x in (tmp_path / "online" / "episodes.jsonl").read_text()
                .splitlines()]
    assert all(e["task_id"].split("#")[1] in ("100", "101") for e in episodes)
    # a page needs no request: the agent reads the page's own
    proc = cli("run", "--env", "web", "--doc", "click-test", "--seed", "4", "--model", "rules",
               "--max-steps", "3", "--confirm", "yes", cwd=tmp_path)
    assert proc.returncode in (0, 2), proc.stdout[-1500:] + proc.stderr[-1500:]
    assert "error" not in proc.stderr
    proc = cli("run", "--env", "web", "--doc", "no-such-page", "--model", "rules", cwd=tmp_path)
    assert proc.returncode == 1 and "not a MiniWoB" in proc.stderr
    proc = cli("run", "--env", "writer", "--doc", "x", "--model", "rules", cwd=tmp_path)
    assert proc.returncode == 1 and "request is empty" in proc.stderr


@pytest.mark.browser
@pytest.mark.slow
def test_train_all_on_a_web_flow_then_run_the_lam_on_a_page(tmp_path) -> None:
    """`train all` on a suite's flow: phase 1 from the found plans, phase 2 from the verified
    steps, phase 3 with LAM2 in Chromium on the instances the search missed (a budget of 3
    episodes misses every login-user), phase 4 with the refuted actions as negatives."""
    flow = tmp_path / "flow"
    for task, episodes in (("click-button", "120"), ("enter-text", "120"), ("login-user", "3")):
        proc = cli("data", "flow", "--env", "web", "--suite", "miniwob", "--task", task,
                   "--seeds", "0:3", "--test-family", "0", "--test-instance", "0",
                   "--episodes", episodes, "--out-dir", str(flow))
        assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    failed = read_jsonl(flow / "execution" / "fail.jsonl", Trajectory)
    assert {t.task.meta["family"] for t in failed} == {"login-user"}
    sft = {"lr": 5.0e-3, "batch_size": 8, "logging_steps": 5, "save_steps": 1000}
    config = {
        "name": "web", "output_dir": str(tmp_path / "out"), "seed": 0, "controls_top_k": 12,
        "model": {"preset": "tiny", "tiny": {"vocab_size": 800, "hidden_size": 64,
                                             "layers": 2, "heads": 4, "max_length": 512}},
        "data": {"flow_dir": str(flow)},
        "phase1": {**sft, "max_steps": 20, "max_length": 128},
        "phase2": {**sft, "max_steps": 150, "max_length": 512},
        "phase3": {**sft, "max_steps": 10, "max_length": 512,
                   "explore": {"attempts": 1, "max_tasks": 3, "max_steps": 4, "workers": 1}},
        "phase4": {"reward": {**sft, "max_steps": 30, "max_length": 512},
                   "policy": {"max_steps": 2, "lr": 1.0e-5, "batch_size": 4,
                              "num_generations": 2, "max_completion_length": 48,
                              "logging_steps": 1}}}
    (tmp_path / "web.yaml").write_text(json.dumps(config))
    proc = cli("train", "all", "--config", "web.yaml", cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    explored = json.loads((tmp_path / "out" / "lam3" / "explore" / "summary.json").read_text())
    assert explored["tasks"] == 3 and explored["episodes"] == 3  # in Chromium, by LAM2
    rm = json.loads((tmp_path / "out" / "lam4" / "metrics.json").read_text())["reward_model"]
    assert rm["rows"] > 0
    lam4 = tmp_path / "out" / "lam4" / "model"
    proc = cli("run", "--env", "web", "--doc", "click-button", "--seed", "50", "--model",
               str(lam4), "--max-steps", "3", "--confirm", "yes", "--json",
               str(tmp_path / "run.json"), cwd=tmp_path)
    assert proc.returncode in (0, 2), proc.stdout[-1500:] + proc.stderr[-1500:]
    result = json.loads((tmp_path / "run.json").read_text())
    assert result["steps"] >= 1


@pytest.mark.browser
def test_pooled_workers_close_their_browser_when_the_pool_ends(tmp_path) -> None:
    """Each pool process closes its environment as it ends: its Chromium's folder (under
    TMPDIR) is gone after `eval online --workers 2`; it stayed before."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.run([sys.executable, "-m", "lamforge", "eval", "online", "--env", "web",
                           "--suite", "miniwob", "--task", "click-button", "--seeds",
                           "1000:1002", "--model", "rules", "--workers", "2", "--json",
                           str(tmp_path / "online.json")], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "TMPDIR": str(tmp)})
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-1500:]
    assert len(json.loads((tmp_path / "online.json").read_text())["rows"]) == 1
    assert not list(tmp.glob("lamforge-chromium-*"))
