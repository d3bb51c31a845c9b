"""Phase 3's self-boosting exploration: LAM2 acts in the environment on the tasks the expert
failed, and the attempts the environment's checks verify become new training data.

Each task gets up to `attempts` episodes: the first greedy, the others sampled at
`temperature`, stopping at the first success. An episode is ReAct-shaped: observe (the live
controls, ranked as in training), act (the model's JSON action, grounded in the live controls
and the request by `lamforge.envs.grounding`), read the result (a failed
action is marked "(failed)" in what the model reads next and it may try something else), until
the model says FINISH or `max_steps` run out; then the task's checks judge the document. A
malformed answer is reported in the trajectory and asked again (sampled), twice at most.

Workers are processes or Ray actors (`backend: ray`), each with its own app and its own copy
of the model, pinned to a core like the dataflow's workers when they all run here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lamforge.core import (
    EnvironmentCrashed,
    Observation,
    Step,
    StepSample,
    Task,
    TemplateError,
    Trajectory,
    Verdict,
    previous_action,
    step_result,
)
from lamforge.core.pool import PoolConfig, Worker, run_jobs
from lamforge.envs.base import Env
from lamforge.envs.grounding import ground_answer, offered_by
from lamforge.train.formats import parse_action, rank_controls, state_prompt

MALFORMED_RETRIES = 2


class ExploreConfig(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    attempts: int = 3  # episodes per task: greedy first, then sampled
    max_tasks: int = 200  # expert-failed train tasks explored (a seeded sample)
    temperature: float = 0.8
    max_steps: int = 12
    workers: int = 1
    backend: str = "local"
    """`local` processes or `ray` actors; `address` names an existing Ray cluster."""
    address: str | None = None

    @property
    def pool(self) -> PoolConfig:
        return PoolConfig.of(self)


class Policy:
    """A saved checkpoint that answers states with actions (greedy or sampled)."""

    def __init__(self, model_dir: Path, k: int = 16, worker: int = 0) -> None:
        from lamforge.train.sft import Generator

        self.k = k
        self.generator = Generator(model_dir, worker)

    def answer(self, prompt: str, temperature: float = 0.0) -> str:
        return self.generator.complete([prompt], temperature=temperature)[0]


def _sample_from(task: Task, obs: Observation, step: int, previous: list[dict[str, Any]],
                 plan: list[str]) -> StepSample:
    """The live state as a step sample (its action fields are filled in once chosen)."""
    return StepSample(id=f"{task.id}#{step}", task_id=task.id, step=step, request=task.request,
                      controls=obs.controls, previous_actions=list(previous),
                      previous_plan=list(plan), canvas=obs.canvas, focus=obs.focus,
                      function="")


def attempt(env: Env, task: Task, policy: Policy, temperature: float, max_steps: int,
            name: str = "lam") -> tuple[Trajectory, list[StepSample]]:
    """One episode of `policy` on `task`; the trajectory and its steps as samples."""
    try:
        obs = env.reset(task)
    except (TemplateError, EnvironmentCrashed) as e:
        return Trajectory(task=task, model=name, verdict=Verdict(status="fail", reason=str(e)),
                          meta={"crashed": isinstance(e, EnvironmentCrashed)}), []
    stated = env.instruction()
    if stated:  # the app wrote the request (a web page's utterance for this seed)
        task = task.model_copy(update={"request": stated})
    plan, previous = list(task.plan), []
    specs = {s.name: s for s in env.action_space()}
    offered = offered_by(env)
    steps: list[Step] = []
    samples: list[StepSample] = []
    oks: list[bool] = []
    malformed = 0
    verdict: Verdict | None = None
    for i in range(max_steps):
        state = _sample_from(task, obs, i, previous, plan)
        prompt = state_prompt(task.request, rank_controls(state, policy.k), previous, plan)
        answer = None
        for retry in range(1 + MALFORMED_RETRIES):
            text = policy.answer(prompt, temperature if retry == 0 else max(temperature, 0.7))
            answer = parse_action(text)
            if answer is not None:
                break
            malformed += 1
        if answer is None:
            verdict = Verdict(status="fail", reason=f"step {i + 1}: malformed answer "
                                                    f"{text[:80]!r}")
            break
        action = ground_answer(answer, obs, task.request, specs, offered)
        finish = action.function == "finish"
        control = obs.control(action.control_label) if action.control_label else None
        advance = answer.get("advance", 0)
        advance = advance if isinstance(advance, int) and advance >= 0 else 0
        remaining = [] if finish else plan[advance:]
        result = env.step(action)
        steps.append(Step(observation=obs, action=action, ok=result.ok, error=result.error,
                          status="FINISH" if finish else "CONTINUE", plan=remaining,
                          result=step_result(result.info)))
        samples.append(state.model_copy(update={
            "control_label": action.control_label, "function": action.function,
            "control_name": control.name if control else None, "args": action.args,
            "status": "FINISH" if finish else "CONTINUE", "plan": remaining}))
        oks.append(result.ok)
        previous.append(previous_action(action, control, result.ok, step_result(result.info)))
        obs, plan = result.observation, remaining
        if not result.ok and len(steps) > 1 and not steps[-2].ok and \
                steps[-2].action == action:  # the same failing action twice: stuck
            verdict = Verdict(status="fail", reason=f"step {i + 1}: repeated a failing action "
                                                    f"({result.error})")
            break
        if result.info.get("crashed"):
            verdict = Verdict(status="fail", reason=f"environment crashed: {result.error}")
            break
        if result.info.get("next_turn"):  # a conversation's next user turn: its request
            task = task.model_copy(update={"request": result.info["next_turn"]})
            plan = []
        elif finish or result.done:
            break
    if verdict is None:
        verdict = env.evaluate()
    if verdict.status == "pass":  # a success's failed steps are not examples to imitate
        samples = [s for s, ok in zip(samples, oks, strict=True) if ok]
    meta = {"malformed": malformed, "temperature": temperature,
            "effects": list(getattr(env, "effects", []))}
    return Trajectory(task=task, steps=steps, verdict=verdict, model=name, meta=meta), samples


def explore_task(env: Env, task: Task, policy: Policy, cfg: ExploreConfig, seed: int,
                 name: str = "lam") -> list[tuple[Trajectory, list[StepSample]]]:
    """Up to `cfg.attempts` episodes, greedy first, stopping at the first that passes."""
    import torch

    out = []
    for n in range(cfg.attempts):
        torch.manual_seed(seed * 1000 + n)
        traj, samples = attempt(env, task, policy, 0.0 if n == 0 else cfg.temperature,
                                cfg.max_steps, name)
        traj.meta["attempt"] = n
        out.append((traj, samples))
        if traj.verdict and traj.verdict.status == "pass":
            break
    return out


# ---- the worker pool ----------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init(index: int, model_dir: str, k: int, env_name: str, env_kwargs: dict[str, Any],
          pin: bool) -> None:
    import torch

    from lamforge.dataflow.flow import pin_to_core
    from lamforge.envs import make

    pin_to_core(index, env_name, pin)
    _WORKER["threads"] = torch.get_num_threads()  # restored for training after exploring here
    torch.set_num_threads(1)
    _WORKER["policy"] = Policy(Path(model_dir), k, index)
    _WORKER["env"] = make(env_name, **env_kwargs)


def _close() -> None:
    import torch

    env = _WORKER.pop("env", None)
    if env is not None:
        env.close()
    _WORKER.pop("policy", None)
    if "threads" in _WORKER:
        torch.set_num_threads(_WORKER.pop("threads"))


def _run(task_json: str, cfg_json: str, seed: int) -> list[tuple[str, list[str]]]:
    task = Task.model_validate_json(task_json)
    cfg = ExploreConfig.model_validate_json(cfg_json)
    results = explore_task(_WORKER["env"], task, _WORKER["policy"], cfg, seed, "lam2")
    return [(t.model_dump_json(), [s.model_dump_json() for s in ss]) for t, ss in results]


def explore(tasks: list[Task], model_dir: Path, cfg: ExploreConfig, k: int, out_dir: Path,
            seed: int = 0, env_name: str = "writer", env_kwargs: dict[str, Any] | None = None,
            progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """Explore a seeded sample of `tasks` with the checkpoint in `model_dir`. Every attempt
    goes to out_dir/attempts.jsonl, the steps of passing and failing attempts to
    samples_{pass,fail}.jsonl; the summary (tasks recovered) to summary.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = random.Random(seed).sample(tasks, min(cfg.max_tasks, len(tasks)))
    jobs = [(t.model_dump_json(), cfg.model_dump_json(), seed + i) for i, t in enumerate(chosen)]
    files = {name: (out_dir / f"{name}.jsonl").open("w") for name in
             ("attempts", "samples_pass", "samples_fail")}
    counts = {"episodes": 0, "steps": 0, "recovered": 0, "errors": 0}

    def record(results: list[tuple[str, list[str]]]) -> None:
        status = "fail"
        for traj_json, sample_lines in results:
            counts["episodes"] += 1
            counts["steps"] += len(sample_lines)
            files["attempts"].write(traj_json + "\n")
            status = json.loads(traj_json)["verdict"]["status"]
            files["samples_pass" if status == "pass" else "samples_fail"].writelines(
                line + "\n" for line in sample_lines)
        counts["recovered"] += status == "pass"
        if progress:
            progress()

    def failed(_: Any, error: BaseException) -> None:  # one task's trouble: the rest go on
        counts["errors"] += 1

    pool = cfg.pool
    worker = Worker(_init, (str(model_dir), k, env_name, env_kwargs or {}, pool.pins), _run,
                    _close)
    try:  # no job: no app, no model loaded
        run_jobs(worker, list(enumerate(jobs)), pool, lambda _, r: record(r), failed)
    finally:
        for f in files.values():
            f.close()
    summary = {"candidates": len(tasks), "tasks": len(chosen), **counts,
               "recovered_share": round(counts["recovered"] / max(1, len(chosen)), 4),
               "attempts_per_task": cfg.attempts, "temperature": cfg.temperature}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
