"""Online evaluation: the agent runs every task live, in a fresh episode, and the task's checks
judge the end state — the paper's online table (task success, completion time, steps, step
latency) for several models side by side.

A task passes only when it has checks and every one of them holds on the saved document; any
failed check, or a run that stops before FINISH, fails it. Step latency is the wall-clock time
of each agent step (model inference plus grounding, policy, execution and observation), as
measured by the agent loop; completion time is the whole episode (reset, steps, evaluation).

Episodes are appended to `<out>/episodes.jsonl` one whole line at a time as they finish, so a
killed run loses no finished episode and a rerun does only what is missing. Workers are
processes, each with its own environment (its own LibreOffice) and its own copy of the models.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lamforge.core import DataError, Task, append_lines, repair_tail
from lamforge.core.pool import PoolConfig, Worker, run_jobs

HARNESS_ERROR = "harness error"
"""An episode the evaluator itself lost (a dead worker): retried by the next run."""


@dataclass
class OnlineConfig:
    env: str = "writer"
    workers: int = 1
    endpoint: str | None = None
    """OpenAI-compatible base URL for model names that are not 'rules', 'expert' or a
    directory."""
    top_k: int | None = None
    """Controls per prompt; None: as each model was trained."""
    plans: bool = True
    """Give the agent the task's own plan (from the help page it was mined from), as the
    training samples do at step 0; False: the request alone."""
    max_steps: int = 15
    max_seconds: float = 120.0
    retries: int = 2
    step_timeout: float = 60.0
    timeout_s: float = 60.0
    """Time-out of one request to an endpoint."""
    api_key: str | None = None
    """The endpoint's key (vLLM's --api-key); never written to the results."""
    constrained: bool = False
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    backend: str = "local"
    """`local` processes or `ray` actors (`address`: an existing cluster, else a local one)."""
    address: str | None = None

    @property
    def pool(self) -> PoolConfig:
        return PoolConfig.of(self)


def display_names(models: list[str]) -> dict[str, str]:
    """Display name → model spec (`lamforge.eval.names`)."""
    from lamforge.eval.names import short_names

    return {name: spec for spec, name in short_names(models).items()}


def failure_kind(verdict: Any, judged: bool = False) -> str | None:
    """A run's failure reason, as a kind that can be counted across tasks."""
    if online_pass(verdict, judged):
        return None
    reason = verdict.reason or ""
    kinds = (("no valid action", "no valid action"), ("step budget", "step budget used up"),
             ("time budget", "time budget used up"), ("repeated a failing", "repeated a failing "
              "action"), ("failed steps in a row", "failed steps in a row"),
             ("not confirmed", "confirmation refused"), ("did not finish within", "app hung"),
             ("crash", "app crashed"), ("did not finish", "stopped without FINISH"),
             ("no checks", "task has no checks"), ("gave no reward", "app gave no reward"),
             ("reward ", "app judged it wrong"))
    for needle, kind in kinds:
        if needle in reason:
            return kind
    if verdict.checks and any(not c.passed for c in verdict.checks):
        return "checks failed"
    return "other"


def online_pass(verdict: Any, judged: bool = False) -> bool:
    """Passed only when there are checks and all of them hold (a check-less task proves
    nothing; the flow's stricter 'a command changed nothing' is not the user's concern) or,
    in an app that judges itself (`judged`: a web page's reward), when it says pass."""
    if judged and not verdict.checks:
        return verdict.status == "pass"
    return bool(verdict.checks) and all(c.passed for c in verdict.checks) and \
        verdict.status != "fail"


# ---- one episode (in a worker, or in this process) ----------------------------------------
_ENV: Any = None
_BACKENDS: dict[str, Any] = {}
_CFG: OnlineConfig | None = None


def _init(index: int, cfg_json: str, pooled: bool, pin: bool) -> None:
    global _ENV, _CFG
    from lamforge.envs import make

    _CFG = OnlineConfig(**json.loads(cfg_json))
    if pooled:
        import torch

        torch.set_num_threads(1)  # one core per worker: the model and its app share it
        from lamforge.dataflow.flow import pin_to_core

        pin_to_core(index, _CFG.env, pin)
    _ENV = make(_CFG.env, **_CFG.env_kwargs)


def _close() -> None:
    global _ENV
    if _ENV is not None:
        _ENV.close()
        _ENV = None
    _BACKENDS.clear()


def _backend(spec: str) -> Any:
    from lamforge.agent.backends import load_backend

    assert _CFG is not None
    if spec not in _BACKENDS:
        endpoint = _CFG.endpoint if spec != "rules" and not Path(spec).is_dir() else None
        _BACKENDS[spec] = load_backend(spec, endpoint=endpoint, constrained=_CFG.constrained,
                                       timeout_s=_CFG.timeout_s, api_key=_CFG.api_key)
    return _BACKENDS[spec]


def run_episode(name: str, spec: str, split: str, task_json: str) -> str:
    """Run one task with one model; return the episode record as a JSON line."""
    from lamforge.agent.loop import Agent, Budget
    from lamforge.agent.policy import approve_all

    assert _CFG is not None and _ENV is not None
    task = Task.model_validate_json(task_json)
    live = task.model_copy(update={"actions": [], "plan": task.plan if _CFG.plans else []})
    budget = Budget(max_steps=_CFG.max_steps, max_seconds=_CFG.max_seconds,
                    retries=_CFG.retries, step_timeout=_CFG.step_timeout)
    # every episode works on a throwaway copy of its template, so a risky action (saving,
    # deleting) is approved: a task that asks for one can pass, and nothing real is at stake
    if spec == "expert":  # the task's own actions: the harness's ceiling, per task
        from lamforge.agent.backends import ReplayBackend

        backend = ReplayBackend(task.actions)
    else:
        backend = _backend(spec)
    agent = Agent(_ENV, backend, budget=budget, k=_CFG.top_k, confirm=approve_all)
    result = agent.run(live)
    verdict = result.verdict
    passed = online_pass(verdict, _ENV.judges_itself)
    return json.dumps({
        "model": name, "split": split, "task_id": task.id,
        "request": result.trajectory.task.request,
        "family": family_of(task), "status": "pass" if passed else "fail",
        "reason": verdict.reason, "failure_kind": failure_kind(verdict, _ENV.judges_itself),
        "checks": [{"kind": c.check.kind, "passed": c.passed} for c in verdict.checks],
        "steps": len(result.records), "seconds": round(result.seconds, 4),
        "step_ms": [round(r.total_s * 1000, 2) for r in result.records],
        "model_ms": [round(r.model_s * 1000, 2) for r in result.records],
        "tokens_in": sum(r.tokens_in for r in result.records),
        "tokens_out": sum(r.tokens for r in result.records),
        # what the agent did, step by step, to read a failure without running it again
        "actions": [{"function": r.action.function if r.action else None,
                     "control": r.control, "args": r.action.args if r.action else None,
                     "ok": r.ok, "error": r.error} for r in result.records],
        **_screens(result)})


def _screens(result: Any) -> dict[str, Any]:
    """The episode's screenshots when the environment kept them: the screen at the start,
    then after each step (file names in the run's screenshots folder)."""
    steps = result.trajectory.steps
    shots = [steps[0].observation.screenshot if steps else None,
             *(r.screenshot for r in result.records)]
    return {"screenshots": shots} if any(shots) else {}


def sample_tasks(tasks: list[Task], n: int | None, seed: int = 0) -> list[Task]:
    """A seeded random sample of n tasks, in file order: a split's first tasks come from its
    first help pages, so the first n would not represent the split."""
    import random

    if n is None or n >= len(tasks):
        return tasks
    keep = sorted(random.Random(seed).sample(range(len(tasks)), n))
    return [tasks[i] for i in keep]


def family_of(task: Task) -> str:
    """The help page a task came from (its family), or what the user's task file says."""
    raw = str(task.meta.get("family") or task.meta.get("pair") or task.id)
    return Path(raw).stem if "/" in raw else raw


# ---- the driver ---------------------------------------------------------------------------
def _key(rec: dict[str, Any]) -> tuple[str, str, str]:
    return rec["model"], rec["split"], rec["task_id"]


def read_episodes(path: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Episodes filed so far, the last record of each (model, split, task) winning; a last line
    cut off by a crash is ignored (the episode is run again)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
            out[_key(rec)] = rec
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return out


def evaluate_online(models: list[str], splits: dict[str, list[Task]], cfg: OnlineConfig,
                    episodes_file: Path,
                    on_done: Callable[[dict[str, Any]], None] | None = None
                    ) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Run every (model, split, task) not filed yet; return all episodes of this evaluation."""
    names = display_names(models)
    for split, tasks in splits.items():
        ids = Counter(t.id for t in tasks)
        twice = [i for i, n in ids.items() if n > 1]
        if twice:
            raise DataError(f"split '{split}': task id {twice[0]!r} appears {ids[twice[0]]} "
                            "times (ids must be unique)")
    episodes_file.parent.mkdir(parents=True, exist_ok=True)
    done = read_episodes(episodes_file)
    wanted = [(name, spec, split, t) for name, spec in names.items()
              for split, tasks in splits.items() for t in tasks]
    todo = [j for j in wanted if (j[0], j[2], j[3].id) not in done or
            done[(j[0], j[2], j[3].id)].get("failure_kind") == HARNESS_ERROR]
    repair_tail(episodes_file)

    def record(line: str) -> None:
        append_lines(episodes_file, [line])
        rec = json.loads(line)
        done[_key(rec)] = rec
        if on_done:
            on_done(rec)

    def lost(job: tuple, error: BaseException) -> str:
        name, _, split, task = job
        return json.dumps({"model": name, "split": split, "task_id": task.id,
                           "family": family_of(task), "status": "fail",
                           "reason": f"{type(error).__name__}: {error}",
                           "failure_kind": HARNESS_ERROR, "checks": [], "steps": 0,
                           "seconds": 0.0, "step_ms": [], "model_ms": [], "tokens_in": 0,
                           "tokens_out": 0})

    def failed(index: Any, error: BaseException) -> None:
        if _fatal(error):  # a backend that cannot load fails every episode: one line
            raise error
        record(lost(todo[index], error))

    pool = cfg.pool
    pooled = pool.backend == "ray" or pool.workers > 1
    worker = Worker(_init, (json.dumps(asdict(cfg)), pooled, pool.pins), run_episode, _close)
    # grouped by model, so a worker loads few models
    jobs = [(i, (name, spec, split, task.model_dump_json()))
            for i, (name, spec, split, task) in enumerate(todo)]
    run_jobs(worker, jobs, pool, lambda _, line: record(line), failed)
    return {k: v for k, v in done.items()
            if k in {(n, s, t.id) for n, _, s, t in wanted}}


def _fatal(error: BaseException) -> bool:
    """Errors that would fail every episode the same way (a model that does not load, an
    endpoint that is down) end the evaluation with that one line."""
    from lamforge.core import FatalError
    from lamforge.llm.client import LLMError

    return isinstance(error, FatalError | LLMError)


# ---- the summary --------------------------------------------------------------------------
def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, round(q * (len(xs) - 1)))], 2)


def summarise(episodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (model, split): the paper's online metrics and where failures came from."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in episodes:
        groups[(e["model"], e["split"])].append(e)
    rows = []
    for (model, split), eps in groups.items():
        steps = [ms for e in eps for ms in e["step_ms"]]
        model_ms = [ms for e in eps for ms in e["model_ms"]]
        passed = sum(e["status"] == "pass" for e in eps)
        families: dict[str, dict[str, int]] = defaultdict(lambda: {"tasks": 0, "passed": 0})
        for e in eps:
            families[e["family"]]["tasks"] += 1
            families[e["family"]]["passed"] += e["status"] == "pass"
        rows.append({
            "model": model, "split": split, "tasks": len(eps), "passed": passed,
            "success_rate": round(passed / len(eps), 4),
            "mean_seconds": round(statistics.mean(e["seconds"] for e in eps), 3),
            "mean_steps": round(statistics.mean(e["steps"] for e in eps), 2),
            "step_latency_ms": {"p50": _pct(steps, 0.5), "p95": _pct(steps, 0.95)},
            "model_latency_ms": {"p50": _pct(model_ms, 0.5), "p95": _pct(model_ms, 0.95)},
            "tokens_in": sum(e["tokens_in"] for e in eps),
            "tokens_out": sum(e["tokens_out"] for e in eps),
            "failures": dict(Counter(e["failure_kind"] for e in eps
                                     if e["failure_kind"]).most_common()),
            "by_family": dict(sorted(families.items()))})
    return rows


def write_summary(out: Path, cfg: OnlineConfig, models: dict[str, str],
                  splits: dict[str, Path | str], episodes_file: Path,
                  episodes: list[dict[str, Any]]) -> dict[str, Any]:
    result = {"env": cfg.env, "date": date.today().isoformat(), "models": models,
              "splits": {k: str(v) for k, v in splits.items()},
              "episodes_file": os.path.relpath(episodes_file, out.parent),
              **({"screenshots_dir": os.path.relpath(cfg.env_kwargs["screenshots"], out.parent)}
                 if cfg.env_kwargs.get("screenshots") else {}),
              "settings": {k: v for k, v in asdict(cfg).items()
                           if k not in ("env_kwargs", "api_key")},
              "rows": summarise(episodes)}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result
