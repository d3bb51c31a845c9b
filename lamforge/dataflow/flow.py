"""The task-action dataflow: instantiate → execute → evaluate → post-process, resumable.

Layout of a run directory:

    instantiation/pass.jsonl   Task records (prefilled actions + checks), one per instance
    instantiation/fail.jsonl   {"pair", "task", "reason"} for pairs that could not be grounded
    execution/pass.jsonl       Trajectory records, verdict pass
    execution/fail.jsonl       … fail (a mismatch, an error, a check that does not hold)
    execution/unsure.jsonl     … unsure (checks hold but a command changed nothing visible)
    execution/errors.jsonl     episodes the environment lost (crash): retried by a rerun
    samples/{train,test_instance,test_family}.jsonl   StepSample records
    tasks/{…}.jsonl            the passing tasks of each split, runnable online
    datasets/                  the samples as a Hugging Face DatasetDict (save_to_disk)
    summary.json

Results are appended one whole line at a time and flushed, so killing the run (or one
worker's LibreOffice) loses no finished result; a rerun skips every task already filed.
Workers are separate processes or Ray actors (`backend="ray"`), each with its own app; the
driver alone writes the files, whatever the backend (`lamforge.core.pool`).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamforge.core import (
    DataError,
    Rejected,
    StepSample,
    Task,
    TaskPlan,
    Trajectory,
    append_jsonl,
    append_lines,
    previous_action,
    repair_tail,
    write_jsonl,
)
from lamforge.core.pool import PoolConfig, Worker, run_jobs

EXECUTION = ("pass", "fail", "unsure")
log = logging.getLogger(__name__)


@dataclass
class FlowConfig:
    out_dir: Path
    instances: int = 2
    seed: int = 0
    match: str = "exact"
    threshold: float = 85.0
    workers: int = 1
    selector: str = "minilm"
    prefill: str = "rules"
    llm: Any = None  # LLMConfig, for the llm selector and prefill
    templates_dir: Path | None = None
    test_instance: float = 0.1
    test_family: float = 0.1
    env: str = "writer"
    suite: str | None = None
    """Tasks from an environment's suite (no help pages, no prefill): executed by verified
    exploration (`lamforge.dataflow.search`) instead of their prefilled actions."""
    search: dict[str, Any] | None = None  # SearchConfig fields
    backend: str = "local"
    """Where the workers run: `local` (processes here) or `ray` (actors; `address` names an
    existing cluster, else a local instance starts for the run). Not a setting of the data."""
    address: str | None = None

    @property
    def pool(self) -> PoolConfig:
        return PoolConfig.of(self)


# ---- instantiate --------------------------------------------------------------------------
def instantiate(pairs: list[TaskPlan], cfg: FlowConfig,
                on_done: Callable[[], None] | None = None,
                bad_records: list[str] | None = None) -> tuple[list[Task], list[dict]]:
    """Choose templates, prefill and filter; write instantiation/{pass,fail}.jsonl.

    `bad_records` (malformed input lines, as `file:line: reason`) are filed under fail too.
    """
    from lamforge.llm.client import map_concurrent

    t0 = time.perf_counter()
    selector = _selector(cfg)
    ranking = selector.rank(pairs)
    if getattr(selector, "failures", 0):
        log.warning("template choice: no usable answer for %d pair(s); the prefill chose "
                    "their templates itself", selector.failures)
    rank_share = (time.perf_counter() - t0) / max(1, len(pairs))
    prefiller = _prefiller(cfg)
    failed: list[dict] = [{"pair": None, "task": None, "reason": r} for r in bad_records or []]
    seen: set[str] = set()
    jobs = []
    for pair, templates in zip(pairs, ranking, strict=True):
        if pair.id in seen:
            failed.append({"pair": pair.id, "task": pair.task, "reason": "duplicate pair id"})
            if on_done:
                on_done()
            continue
        seen.add(pair.id)
        jobs.append((pair, templates))

    def one(job: tuple[TaskPlan, list[str]]) -> list[Task] | dict:
        pair, templates = job
        t = time.perf_counter()
        try:
            made = prefiller.prefill(pair, cfg.instances, cfg.seed, templates)
        except Rejected as e:
            return {"pair": pair.id, "task": pair.task, "reason": str(e)}
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
            # a prefill bug on one odd plan must not lose the run: filed, with what happened
            return {"pair": pair.id, "task": pair.task,
                    "reason": f"internal prefill error: {type(e).__name__}: {e}"}
        cost = time.perf_counter() - t + rank_share
        for task in made:
            task.meta["instantiate_s"] = round(cost / len(made), 6)
        return made

    tasks: list[Task] = []
    concurrency = cfg.llm.concurrency if cfg.prefill == "llm" and cfg.llm else 1
    for result in map_concurrent(one, jobs, concurrency, on_done):
        if isinstance(result, dict):
            failed.append(result)
        else:
            tasks.extend(result)
    out = cfg.out_dir / "instantiation"
    write_jsonl(out / "pass.jsonl", tasks)
    save_settings(cfg)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fail.jsonl").write_text("".join(json.dumps(f) + "\n" for f in failed))
    return tasks, failed


def _selector(cfg: FlowConfig):
    from lamforge.dataflow.select import KeywordSelector, MiniLMSelector
    from lamforge.envs.writer.templates import library

    if cfg.selector == "keywords":
        return KeywordSelector(cfg.seed)
    if cfg.selector == "minilm":
        return MiniLMSelector(library(cfg.templates_dir))
    if cfg.selector == "llm":
        from lamforge.envs.writer.prefill_llm import LLMSelector

        return LLMSelector(_llm_client(cfg), _descriptions(library(cfg.templates_dir)),
                           attempts=cfg.llm.json_attempts)
    raise DataError(f"unknown template selector '{cfg.selector}' (use minilm, keywords or llm)")


def _prefiller(cfg: FlowConfig):
    """The prefill provider: the environment's offline rules (`EnvEntry.prefill`), or an
    OpenAI-compatible model."""
    if cfg.prefill == "rules":
        from lamforge.envs.registry import resolve

        return importlib.import_module(resolve(cfg.env).prefill)
    if cfg.prefill == "llm":
        from lamforge.envs.writer.prefill_llm import LLMPrefill
        from lamforge.envs.writer.templates import library

        return LLMPrefill(_llm_client(cfg), _descriptions(library(cfg.templates_dir)),
                          attempts=cfg.llm.json_attempts)
    raise DataError(f"unknown prefill provider '{cfg.prefill}' (use rules or llm)")


def _llm_client(cfg: FlowConfig):
    from lamforge.llm.client import LLMConfig, OpenAIClient

    if cfg.llm is None:
        cfg.llm = LLMConfig.from_env(seed=cfg.seed)
    return OpenAIClient(cfg.llm)


def _descriptions(library: Path) -> dict[str, str]:
    return {t["name"]: t["description"]
            for t in json.loads((library / "description.json").read_text())}


_SETTINGS = ("seed", "test_instance", "test_family", "instances", "selector", "prefill", "env",
             "suite", "search")


def save_settings(cfg: FlowConfig) -> None:
    """The run's seed and split fractions, so later stages split the same way."""
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    (cfg.out_dir / "flow.json").write_text(json.dumps({k: getattr(cfg, k) for k in _SETTINGS}))


def load_settings(cfg: FlowConfig) -> FlowConfig:
    path = cfg.out_dir / "flow.json"
    if path.is_file():
        for k, v in json.loads(path.read_text()).items():
            if k in _SETTINGS:
                setattr(cfg, k, v)
    return cfg


# ---- execute ------------------------------------------------------------------------------
_ENV: Any = None


def _worker_init(index: int, env_name: str, env_kwargs: dict[str, Any], pin: bool) -> None:
    global _ENV
    from lamforge.envs import make

    pin_to_core(index, env_name, pin)
    _ENV = make(env_name, **env_kwargs)


def _close_env() -> None:
    global _ENV
    if _ENV is not None:
        _ENV.close()
        _ENV = None


def pin_to_core(index: int, env_name: str, pin: bool = True) -> None:
    """Keep worker `index` and the LibreOffice it starts on one core, if `pin` and the
    environment allows it (`Env.pinned`).

    A worker and its LibreOffice take turns (every UNO call is a round trip between them); on
    one core each hand-over is cheap, while letting the scheduler spread them made two workers
    on two cores reach only ~1.6x one worker (benchmarks/RESULTS.md)."""
    from lamforge.envs.registry import env_class

    if not pin or not env_class(env_name).pinned:
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(0, {cpus[index % len(cpus)]})


def _worker_run(task_json: str, match: str, threshold: float, search_json: str | None = None
                ) -> tuple[str, bool, str]:
    """One task: its prefilled actions, or a verified search when `search_json` is given;
    returns (verdict status, lost?, trajectory JSON line), so the driver files it without
    parsing the trajectory again (it shares the cores with the workers)."""
    from lamforge.envs.episode import run_actions

    task = Task.model_validate_json(task_json)
    if search_json is not None:
        from lamforge.dataflow.search import SearchConfig, search

        traj = search(_ENV, task, SearchConfig.model_validate_json(search_json))  # type: ignore[arg-type]
    else:
        traj = run_actions(_ENV, task, match=match, threshold=threshold)  # type: ignore[arg-type]
    assert traj.verdict is not None
    if traj.verdict.status == "pass":
        traj = agreed(traj, _ENV.action_space(), _ENV)  # type: ignore[union-attr]
    return traj.verdict.status, bool(traj.meta.get("crashed")), traj.model_dump_json()


def agreed(traj: Trajectory, specs: list[Any], env: Any = None) -> Trajectory:
    """A passing trajectory as it is if the agent's grounding leaves every step alone, else
    filed as failed with where and why: the flow keeps no task that its own expert, replayed
    through the agent, would fail; `env` (its candidates) as the agent has it."""
    from lamforge.envs.grounding import disagreement, offered_by

    reason = disagreement(traj, {s.name: s for s in specs},
                          offered_by(env) if env is not None else None)
    if reason is None:
        return traj
    assert traj.verdict is not None
    return traj.model_copy(update={"verdict": traj.verdict.model_copy(update={
        "status": "fail", "reason": f"passed, but the agent would not replay it: {reason}"})})


def _read_ids(path: Path) -> set[str]:
    """Task ids already filed; a last line cut by a crash is ignored (it is rewritten)."""
    ids: set[str] = set()
    if not path.is_file():
        return ids
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            ids.add(json.loads(line)["task"]["id"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return ids


def done_ids(out_dir: Path) -> set[str]:
    return set().union(*(_read_ids(out_dir / "execution" / f"{k}.jsonl") for k in EXECUTION))


MAX_CRASHES = 2
"""A task whose episode the environment lost this many times is filed as fail."""


def _crash_counts(out_dir: Path) -> Counter:
    path = out_dir / "execution" / "errors.jsonl"
    counts: Counter = Counter()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                counts[json.loads(line)["task"]["id"]] += 1
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return counts


def file_result(out_dir: Path, traj: Trajectory, crashes: Counter | None = None) -> str:
    """Append the trajectory to its file; a lost episode goes to errors (retried later)."""
    assert traj.verdict is not None
    return _file(out_dir, traj.task.id, traj.verdict.status, bool(traj.meta.get("crashed")),
                 traj.model_dump_json(), crashes)


def _file(out_dir: Path, task_id: str, status: str, crashed: bool, line: str,
          crashes: Counter | None = None) -> str:
    kind = status
    if crashed:
        crashes = crashes if crashes is not None else _crash_counts(out_dir)
        crashes[task_id] += 1
        if crashes[task_id] < MAX_CRASHES:
            kind = "errors"
        else:
            traj = Trajectory.model_validate_json(line)
            verdict = traj.verdict
            assert verdict is not None
            line = traj.model_copy(update={"verdict": verdict.model_copy(update={
                "status": "fail", "reason": f"lost {MAX_CRASHES} times: {verdict.reason}"})}
            ).model_dump_json()
            kind = "fail"
    append_lines(out_dir / "execution" / f"{kind}.jsonl", [line])
    return kind


def file_bad_records(out_dir: Path, bad_records: list[str]) -> None:
    """Malformed task lines: filed under fail with their reason, so the run can go on."""
    from lamforge.core import Verdict

    for i, reason in enumerate(bad_records):
        placeholder = Task(id=f"malformed:{reason.split(': ')[0]}", app="writer",
                           request="(malformed record)", template="", meta={"line": i})
        append_jsonl(out_dir / "execution" / "fail.jsonl", [Trajectory(
            task=placeholder, verdict=Verdict(status="fail", reason=reason))])


def _lost(task: Task, error: BaseException) -> Trajectory:
    """A result for a task whose worker failed outright: not the task's fault, so it is retried
    by a rerun — unless the pool already retried it on other workers (`WorkerLost`), which
    files it as failed with the reason."""
    from lamforge.core import Verdict
    from lamforge.core.pool import WorkerLost

    if isinstance(error, WorkerLost):
        return Trajectory(task=task, verdict=Verdict(status="fail", reason=str(error)))
    return Trajectory(task=task, verdict=Verdict(
        status="fail", reason=f"worker error: {type(error).__name__}: {error}"),
        meta={"crashed": True})


def execute(tasks: list[Task], cfg: FlowConfig,
            on_done: Callable[[str], None] | None = None) -> Counter:
    """Run every task not filed yet; file each result as soon as it arrives."""
    ex = cfg.out_dir / "execution"
    ex.mkdir(parents=True, exist_ok=True)
    for kind in (*EXECUTION, "errors"):
        repair_tail(ex / f"{kind}.jsonl")
    finished = done_ids(cfg.out_dir)
    todo = [t for t in tasks if t.id not in finished]
    counts: Counter = Counter()
    if not todo:
        return counts
    env_kwargs = env_settings(cfg)
    search_json = search_settings(cfg)
    crashes = _crash_counts(cfg.out_dir)

    def record(task: Task, result: tuple[str, bool, str] | None, error: BaseException | None
               ) -> None:
        if result is None:  # the worker failed outright
            assert error is not None
            traj = _lost(task, error)
            result = ("fail", bool(traj.meta.get("crashed")), traj.model_dump_json())
        kind = _file(cfg.out_dir, task.id, *result, crashes)
        counts[kind] += 1
        if on_done:
            on_done(kind)

    by_id = {t.id: t for t in todo}

    def lost(task_id: Any, error: BaseException) -> None:
        record(by_id[task_id], None, error)

    pool = cfg.pool
    worker = Worker(_worker_init, (cfg.env, env_kwargs, pool.pins), _worker_run, _close_env)
    jobs = [(t.id, (t.model_dump_json(), cfg.match, cfg.threshold, search_json)) for t in todo]
    run_jobs(worker, jobs, pool, lambda task_id, result: record(by_id[task_id], result, None),
             lost)
    return counts


def env_settings(cfg: FlowConfig) -> dict[str, Any]:
    """Keyword arguments of the flow's environment (Writer's template library)."""
    return {"templates_dir": str(cfg.templates_dir)} if cfg.env.startswith("writer") and \
        cfg.templates_dir else {}


def search_settings(cfg: FlowConfig) -> str | None:
    """The search's settings as JSON when the flow explores (a suite without an expert's
    actions), else None."""
    if cfg.suite is None:
        return None
    from lamforge.envs.registry import suite

    if suite(cfg.env, cfg.suite).demonstrated:
        return None
    from lamforge.dataflow.search import SearchConfig

    return SearchConfig(**(cfg.search or {})).model_dump_json()


def suite_tasks(cfg: FlowConfig, seeds: list[int], subset: str | None = None,
                only: list[str] | None = None) -> list[Task]:
    """The suite's tasks at `seeds`, written as the run's instantiation (so `data execute`
    resumes them like any instantiated tasks)."""
    from lamforge.envs.registry import suite

    assert cfg.suite is not None
    tasks = suite(cfg.env, cfg.suite).tasks(seeds, subset, only)
    add_tasks(cfg, tasks, [])
    return tasks


def add_tasks(cfg: FlowConfig, tasks: list[Task], failed: list[dict]) -> None:
    """File tasks made outside Writer's instantiation (a suite's, an environment's own
    instantiation of pairs) as the run's instantiation, so `data execute` resumes them like
    any. A later call (more seeds, a suite after mined pairs) adds to the run's tasks and
    failures instead of replacing them."""
    from lamforge.core import read_jsonl

    out = cfg.out_dir / "instantiation"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "pass.jsonl"
    new = {t.id for t in tasks}
    earlier = [t for t in read_jsonl(path, Task) if t.id not in new] if path.is_file() else []
    write_jsonl(path, earlier + tasks)
    # a pair instantiated again is filed by this call alone
    again = {f["pair"] for f in failed} | {t.meta.get("pair") for t in tasks}
    fail = out / "fail.jsonl"
    kept = [line for line in fail.read_text().splitlines()
            if line and json.loads(line).get("pair") not in again] if fail.is_file() else []
    fail.write_text("".join(line + "\n" for line in kept)
                    + "".join(json.dumps(f) + "\n" for f in failed))
    save_settings(cfg)


# ---- post-process -------------------------------------------------------------------------
def _bucket(key: str, seed: int) -> float:
    return int(hashlib.sha1(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def split_of(task: Task, cfg: FlowConfig) -> str:
    """test_family: every task of some help pages (unseen commands and wording);
    test_instance: whole tasks at random from the rest; train: the others."""
    pair = str(task.meta.get("pair") or task.id)
    families = task.meta.get("families") or [task.meta.get("family") or pair]
    # a composed task draws on two help pages: held out if either page is
    if any(_bucket("family:" + str(f), cfg.seed) < cfg.test_family for f in families):
        return "test_family"
    if _bucket("instance:" + pair, cfg.seed) < cfg.test_instance:
        return "test_instance"
    return "train"


def step_samples(traj: Trajectory) -> list[StepSample]:
    """The paper's step-wise samples: controls, request, previous actions and plan in;
    thought, control, function, args, status and plan out."""
    samples = []
    previous: list[dict[str, Any]] = []
    plan = traj.task.plan
    plan_steps = traj.task.meta.get("plan_step") or []
    previous_plan = list(plan)
    turns = list(traj.task.meta.get("turns") or [traj.task.request])
    turn = 0
    for i, step in enumerate(traj.steps):
        a = step.action
        control = step.observation.control(a.control_label) if a.control_label else None
        # the plan still ahead, from the plan step this action belongs to
        k = plan_steps[i] if i < len(plan_steps) else 0
        remaining = [] if a.function == "finish" else list(plan[k:])
        samples.append(StepSample(
            id=f"{traj.task.id}#{i}", task_id=traj.task.id, step=i, request=turns[turn],
            controls=step.observation.controls, previous_actions=list(previous),
            previous_plan=previous_plan, canvas=step.observation.canvas,
            focus=step.observation.focus,
            thought=_thought(a.function, control.name if control else None, a.args),
            control_label=a.control_label, control_name=control.name if control else None,
            function=a.function, args=a.args,
            status="FINISH" if a.function == "finish" else "CONTINUE", plan=remaining))
        previous.append(previous_action(a, control, step.ok, step.result))
        previous_plan = remaining
        if a.function == "finish" and step.ok and turn + 1 < len(turns):
            turn += 1  # a conversation: the user's next turn is the request from here on
    return samples


def refuted_samples(traj: Trajectory, samples: list[StepSample]) -> list[StepSample]:
    """The actions a verified search saw the app judge wrong, in states of the trajectory
    (`meta.refuted`), as step samples: negatives for the reward model."""
    from lamforge.core import Action

    out = []
    for i, r in enumerate(traj.meta.get("refuted", [])):
        at = r["at"]
        if at >= len(samples):
            continue
        a = Action.model_validate(r["action"])
        control = traj.steps[at].observation.control(a.control_label) if a.control_label \
            else None
        out.append(samples[at].model_copy(update={
            "id": f"{samples[at].id}~{i}", "control_label": a.control_label,
            "control_name": control.name if control else None, "function": a.function,
            "args": a.args, "thought": _thought(a.function, control.name if control else None,
                                                a.args)}))
    return out


def _thought(function: str, control: str | None, args: dict[str, Any]) -> str:
    if function == "finish":
        return "The request is done."
    target = f" '{control}'" if control else ""
    detail = f" with {json.dumps(args)}" if args else ""
    return f"Next I {function.replace('_', ' ')}{target}{detail}."


def postprocess(cfg: FlowConfig) -> dict[str, int]:
    """Step samples and online task files for each split, and a Hugging Face dataset."""
    from lamforge.core import iter_jsonl

    src = cfg.out_dir / "execution" / "pass.jsonl"
    by_split: dict[str, list[StepSample]] = {"train": [], "test_instance": [], "test_family": []}
    tasks: dict[str, list[Task]] = {k: [] for k in by_split}
    refuted: list[StepSample] = []
    if src.is_file():
        for traj in iter_jsonl(src, Trajectory):
            split = split_of(traj.task, cfg)
            samples = step_samples(traj)
            by_split[split].extend(samples)
            tasks[split].append(traj.task)
            if split == "train":
                refuted += refuted_samples(traj, samples)
    write_jsonl(cfg.out_dir / "samples" / "refuted.jsonl", refuted)
    for split, samples in by_split.items():
        write_jsonl(cfg.out_dir / "samples" / f"{split}.jsonl", samples)
        write_jsonl(cfg.out_dir / "tasks" / f"{split}.jsonl", tasks[split])
    _save_dataset(cfg.out_dir, by_split)
    return {k: len(v) for k, v in by_split.items()}


def _save_dataset(out_dir: Path, by_split: dict[str, list[StepSample]]) -> None:
    import datasets
    from datasets import Dataset, DatasetDict

    datasets.disable_progress_bars()

    def rows(samples: list[StepSample]) -> dict[str, list]:
        # nested, variable fields (controls, args) as JSON text: one schema for every split
        return {"id": [s.id for s in samples], "task_id": [s.task_id for s in samples],
                "step": [s.step for s in samples], "request": [s.request for s in samples],
                "input": [json.dumps({"controls": [c.model_dump(exclude_none=True)
                                                   for c in s.controls],
                                      "previous_actions": s.previous_actions,
                                      "previous_plan": s.previous_plan, "canvas": s.canvas})
                          for s in samples],
                "output": [json.dumps({"thought": s.thought, "control_label": s.control_label,
                                       "control_name": s.control_name, "function": s.function,
                                       "args": s.args, "status": s.status, "plan": s.plan})
                           for s in samples]}

    DatasetDict({k: Dataset.from_dict(rows(v)) for k, v in by_split.items()}).save_to_disk(
        str(out_dir / "datasets"))


# ---- summary ------------------------------------------------------------------------------
def summarise(cfg: FlowConfig, inst_failed: list[dict] | None = None) -> dict[str, Any]:
    from lamforge.core import iter_jsonl

    ex = cfg.out_dir / "execution"
    counts = {k: len(_read_ids(ex / f"{k}.jsonl")) for k in EXECUTION}
    counts["errors"] = len(_read_ids(ex / "errors.jsonl") - done_ids(cfg.out_dir))
    reasons: Counter = Counter()
    commands: Counter = Counter()
    stage: dict[str, list[float]] = {"instantiate_s": [], "execute_s": [], "evaluate_s": []}
    for kind in EXECUTION:
        path = ex / f"{kind}.jsonl"
        if not path.is_file():
            continue
        for traj in iter_jsonl(path, Trajectory):
            if kind != "pass":
                reasons[_reason_kind(traj.verdict.reason if traj.verdict else "")] += 1
            else:
                if traj.task.meta.get("command"):  # a GUI prefill's menu command
                    commands[traj.task.meta["command"]] += 1
                for e in traj.meta.get("effects", []):
                    if isinstance(e, str):  # a function call, `name(args)`: by function
                        commands[e.split("(", 1)[0]] += 1
                        continue
                    # by UNO command ("Title" may be a field or a style); "Font Color: Red"
                    # and "Character: OK" count as the command, not the value
                    commands[e.get("uno") or e["command"].split(": ")[0]] += 1
            t = traj.timings
            stage["instantiate_s"].append(float(traj.task.meta.get("instantiate_s", 0.0)))
            stage["execute_s"].append(t.get("total_s", 0.0) - t.get("evaluate_s", 0.0))
            stage["evaluate_s"].append(t.get("evaluate_s", 0.0))
    inst_path = cfg.out_dir / "instantiation"
    if inst_failed is None and (inst_path / "fail.jsonl").is_file():
        inst_failed = [json.loads(x) for x in (inst_path / "fail.jsonl").read_text().splitlines()]
    inst_reasons = Counter(_reason_kind(f["reason"]) for f in inst_failed or [])
    summary = {
        "instantiation": {"pass": len(_read_ids_tasks(inst_path / "pass.jsonl")),
                          "fail": len(inst_failed or []),
                          "top_reasons": inst_reasons.most_common(10)},
        "execution": counts,
        "top_failure_reasons": reasons.most_common(10),
        "distinct_commands_in_passing": len(commands),
        "commands": commands.most_common(),
        "mean_stage_s": {k: round(sum(v) / len(v), 4) if v else 0.0 for k, v in stage.items()},
    }
    (cfg.out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _read_ids_tasks(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [json.loads(x)["id"] for x in path.read_text().splitlines() if x.strip()]


def _reason_kind(reason: str) -> str:
    """'step 3 (click): no control matches 'Page' (exact)' -> 'no control matches'."""
    import re

    r = re.sub(r"^step \d+ \(\w+\)(?: failed)?: ", "", reason)
    r = re.sub(r"'[^']*'", "'…'", r)
    r = re.sub(r"\d+", "N", r)
    return r[:90]
