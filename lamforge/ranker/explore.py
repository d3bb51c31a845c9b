"""Phase 3 for a ranker: self-boosting exploration, and recovery from its own mistakes.

**Exploration.** LAM2 runs as the agent (`lamforge.agent`: grounding, validation, the
environment) on train tasks the expert failed, greedy first and then sampled; a run the
task's checks pass becomes new training steps, as in the paper.

**Recovery.** 50% step accuracy gave 0% tasks with the generative LAM: one wrong step and the
model is in a state it never saw. So LAM2 also runs beside the expert on train tasks the expert
solved. At the first step where it would leave the expert's path, its action is executed;
then the moves that undo a wrong step in the application (`Env.recovery_moves`: in Writer,
close the menu, cancel the dialog, undo) are tried until the screen and the document are as
before the mistake (none is needed when the mistake changed nothing); then the expert's
remaining steps. If the task's checks pass, the steps from the mistake on are kept: the
recovery move in the state the mistake left, and the expert's steps with the mistake in their
history. The mistake itself, in the state where it was made, is kept as a negative for phase
4's reward model.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from lamforge.core import Action, Observation, Step, StepSample, Task, Trajectory
from lamforge.core.pool import Worker, run_jobs


def _same_screen(a: Observation, b: Observation) -> bool:
    """The same controls (names, groups, enabled) and the same document view."""
    def key(o: Observation) -> list[tuple[str, str | None, bool]]:
        return [(c.name, c.group, c.enabled) for c in o.controls]

    return key(a) == key(b) and a.canvas == b.canvas


# ---- one worker ---------------------------------------------------------------------------
_W: dict[str, Any] = {}


def _init(index: int, model_dir: str, env_name: str, env_kwargs: dict[str, Any],
          pin: bool) -> None:
    import torch

    from lamforge.agent.backends import RankerBackend
    from lamforge.dataflow.flow import pin_to_core
    from lamforge.envs import make

    pin_to_core(index, env_name, pin)
    _W["threads"] = torch.get_num_threads()
    torch.set_num_threads(1)
    _W["backend"] = RankerBackend(model_dir)
    _W["env"] = make(env_name, **env_kwargs)


def _close() -> None:
    import torch

    env = _W.pop("env", None)
    if env is not None:
        env.close()
    _W.pop("backend", None)
    if "threads" in _W:
        torch.set_num_threads(_W.pop("threads"))


def _samples(traj: Trajectory, start: int = 0) -> list[str]:
    from lamforge.dataflow.flow import step_samples

    return [s.model_dump_json() for s in step_samples(traj)[start:] if traj.steps[s.step].ok]


def _explore(task_json: str, attempts: int, temperature: float, max_steps: int,
             seed: int) -> dict[str, Any]:
    """Up to `attempts` agent runs (greedy, then sampled), stopping at the first success."""
    from lamforge.agent.loop import Agent, Budget
    from lamforge.agent.policy import approve_all
    from lamforge.dataflow.flow import step_samples
    from lamforge.eval.online import online_pass

    task = Task.model_validate_json(task_json)
    live = task.model_copy(update={"actions": []})
    backend, env = _W["backend"], _W["env"]
    out: dict[str, Any] = {"kind": "explore", "attempts": [], "pass": [], "fail": []}
    for n in range(attempts):
        backend.temperature, backend.rng = (0.0 if n == 0 else temperature,
                                            random.Random(seed * 100 + n))
        result = Agent(env, backend, budget=Budget(max_steps=max_steps),
                       confirm=approve_all).run(live)
        traj = result.trajectory
        passed = online_pass(result.verdict, env.judges_itself)
        out["attempts"].append(traj.model_dump_json())
        if passed:  # its steps that worked are examples; every step of a failure a negative
            out["pass"] += _samples(traj)
        else:
            out["fail"] += [s.model_dump_json() for s in step_samples(traj)]
        if passed:
            break
    backend.temperature = 0.0
    return out


def _recover(task_json: str) -> dict[str, Any]:
    """LAM2 beside the expert; its first mistake executed, undone by a generic move, then the
    expert's remaining steps (see the module doc)."""
    from lamforge.core import previous_action, step_result
    from lamforge.envs.match import match_control
    from lamforge.eval.online import online_pass
    from lamforge.ranker.state import RankState

    task = Task.model_validate_json(task_json)
    env, ranker = _W["env"], _W["backend"].ranker
    out: dict[str, Any] = {"kind": "recover", "status": "on path", "pass": [], "mistake": None}
    obs = env.reset(task)
    steps: list[Step] = []
    previous: list[dict[str, Any]] = []
    deviated_at: int | None = None

    def run(action: Action, before: Observation) -> Observation:
        control = before.control(action.control_label) if action.control_label else None
        result = env.step(action)
        steps.append(Step(observation=before, action=action, ok=result.ok, error=result.error,
                          status="FINISH" if action.function == "finish" else "CONTINUE",
                          result=step_result(result.info)))
        previous.append(previous_action(action, control, result.ok, step_result(result.info)))
        return result.observation

    for expert in task.actions:
        if expert.control_text and expert.control_label is None:
            control = match_control(expert.control_text, obs.controls, "exact")
            if control is None:
                out["status"] = "expert step not on screen"
                return out
            expert = expert.model_copy(update={"control_label": control.label,
                                               "control_text": None})
        if deviated_at is None:
            state = RankState(request=task.request, controls=obs.controls, previous=previous,
                              plan=list(task.plan), canvas=obs.canvas, focus=obs.focus)
            choice, _ = ranker.choose(state)
            mine = choice.action
            if (mine.function, mine.control_label, mine.args) != \
                    (expert.function, expert.control_label, expert.args) and \
                    mine.function != "finish":
                deviated_at = len(steps)
                out["mistake"] = StepSample(
                    id=f"{task.id}#mistake", task_id=task.id, step=len(steps),
                    request=task.request, controls=obs.controls, previous_actions=list(previous),
                    previous_plan=list(task.plan), canvas=obs.canvas, focus=obs.focus,
                    control_label=mine.control_label, control_name=choice.control.name
                    if choice.control else None, function=mine.function, args=mine.args
                ).model_dump_json()
                before = obs
                obs = run(mine, obs)
                if not _same_screen(obs, before):
                    for move in env.recovery_moves():
                        if move.control_text:
                            c = match_control(move.control_text, obs.controls, "exact")
                            if c is None:
                                continue
                            move = Action(function="click", control_label=c.label)
                        probe_before = obs
                        obs = run(move, obs)
                        if _same_screen(obs, before):
                            break
                        if not steps[-1].ok or _same_screen(obs, probe_before):
                            steps.pop()
                            previous.pop()
                            obs = probe_before
                    else:
                        out["status"] = "no generic move undid the mistake"
                        return out
        obs = run(expert, obs)
        if not steps[-1].ok:
            out["status"] = f"expert step failed after the mistake: {steps[-1].error}"
            return out
    if deviated_at is None:
        return out
    verdict = env.evaluate()
    traj = Trajectory(task=task, steps=steps, verdict=verdict, model="recovery")
    if online_pass(verdict, env.judges_itself):
        out["status"] = "recovered"
        out["pass"] = _samples(traj, deviated_at + 1)
    else:
        out["status"] = f"checks failed after recovering: {verdict.reason}"
    return out


def _job(kind: str, task_json: str, cfg_json: str, seed: int) -> dict[str, Any]:
    cfg = json.loads(cfg_json)
    if kind == "explore":
        return _explore(task_json, cfg["attempts"], cfg["temperature"], cfg["max_steps"], seed)
    return _recover(task_json)


# ---- the driver ---------------------------------------------------------------------------
def explore_and_recover(cfg: Any, lam2: Path, out_dir: Path, progress: Any = None
                        ) -> dict[str, Any]:
    """Run both on a worker pool; files: attempts.jsonl, samples_{pass,fail}.jsonl,
    mistakes.jsonl, summary.json (kept: a rerun of the phase reuses them)."""
    from lamforge.core import read_jsonl
    from lamforge.dataflow.flow import FlowConfig, env_settings, load_settings
    from lamforge.ranker.phases import is_validation
    from lamforge.train.phases import expert_failures

    summary_path = out_dir / "summary.json"
    if summary_path.is_file():
        return json.loads(summary_path.read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    flow = load_settings(FlowConfig(out_dir=cfg.data.flow_dir,
                                    templates_dir=cfg.data.templates_dir))
    ex = cfg.phase3.explore
    rng = random.Random(cfg.seed)
    failed = [t.task for t in expert_failures(cfg)
              if not is_validation(t.task.id, cfg.ranker.validation, cfg.seed)]
    failed = rng.sample(failed, min(ex.max_tasks, len(failed)))
    solved = [t for t in read_jsonl(cfg.data.flow_dir / "tasks" / "train.jsonl", Task)
              if t.actions and not is_validation(t.id, cfg.ranker.validation, cfg.seed)]
    solved = rng.sample(solved, min(cfg.ranker.recovery_tasks, len(solved)))
    settings = json.dumps({"attempts": ex.attempts, "temperature": ex.temperature,
                           "max_steps": ex.max_steps})
    jobs = [(i, ("explore", t.model_dump_json(), settings, cfg.seed + i))
            for i, t in enumerate(failed)]
    jobs += [(len(jobs) + i, ("recover", t.model_dump_json(), settings, cfg.seed))
             for i, t in enumerate(solved)]
    files = {n: (out_dir / f"{n}.jsonl").open("w") for n in
             ("attempts", "samples_pass", "samples_fail", "mistakes", "recovery")}
    counts = {"tasks": len(failed), "recovered": 0, "episodes": 0, "recovery_runs": len(solved),
              "recovery_kept": 0, "mistakes": 0, "errors": 0}

    def record(_: Any, r: dict[str, Any]) -> None:
        files["samples_pass"].writelines(x + "\n" for x in r["pass"])
        if r["kind"] == "explore":
            counts["episodes"] += len(r["attempts"])
            counts["recovered"] += bool(r["pass"])
            files["attempts"].writelines(x + "\n" for x in r["attempts"])
            files["samples_fail"].writelines(x + "\n" for x in r["fail"])
        else:
            files["recovery"].write(json.dumps({"status": r["status"]}) + "\n")
            counts["recovery_kept"] += r["status"] == "recovered"
            if r["mistake"]:
                counts["mistakes"] += 1
                files["mistakes"].write(r["mistake"] + "\n")
        if progress:
            progress()

    def failed_job(_: Any, error: BaseException) -> None:
        counts["errors"] += 1

    pool = ex.pool
    worker = Worker(_init, (str(lam2), flow.env, env_settings(flow), pool.pins), _job, _close)
    try:
        run_jobs(worker, jobs, pool, record, failed_job)
    finally:
        for f in files.values():
            f.close()
    summary_path.write_text(json.dumps(counts, indent=2))
    return counts
