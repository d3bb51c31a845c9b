"""The agent loop, in explicit layers, each replaceable by passing another one in:

1. **input** — the request, an optional plan, optional checks (`make_task`);
2. **context & decision** — `Memory` (previous actions, results, the plan ahead) becomes the
   step's `StepContext` in the LAM's trained prompt format (`lamforge.agent.context`);
3. **action** — `ActionLayer`: backend inference → parse → validate against the action space
   → ground in a live control; a malformed or invalid answer is repaired where that is safe
   (an argument the function does not take is dropped) or asked again, a bounded number of
   times, then the step fails with the reason;
4. **policy** — the role's permissions and the action's risk (`lamforge.agent.policy`): allow,
   deny (the model is told and may try something else) or ask a human (no means stop);
5. **execution** — `Executor`: the environment's step under a time-out;
6. **feedback** — `Feedback`: continue, replan, or stop (FINISH, budget, crash, stuck).

Every decision goes to the audit log and the session store when they are given.
"""

from __future__ import annotations

import contextlib
import getpass
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from lamforge.agent.audit import AuditLog, digest_of
from lamforge.agent.backends import Backend
from lamforge.agent.context import Memory, StepContext, build_context
from lamforge.agent.policy import Confirm, Decision, Policy, deny_all
from lamforge.agent.sessions import SessionStore
from lamforge.core import (
    Action,
    Check,
    Control,
    EnvironmentCrashed,
    LamforgeError,
    Observation,
    Step,
    StepResult,
    Task,
    Trajectory,
    Verdict,
    step_result,
)
from lamforge.envs.base import ActionSpec, Env
from lamforge.envs.grounding import Offered, ground_answer, offered_by
from lamforge.train.formats import parse_action


def make_task(request: str, document: str, plan: list[str] | None = None,
              checks: list[Check] | None = None, app: str = "writer") -> Task:
    """The input layer: a user's request on a document as a task (checks are optional; with
    none the run ends 'unsure' at best, as nothing can verify it)."""
    if not request.strip():
        raise ValueError("the request is empty")
    return Task(id="run", app=app, request=request.strip(), plan=plan or [],
                template=document, checks=checks or [])


@dataclass
class Budget:
    max_steps: int = 20
    max_seconds: float = 300.0
    retries: int = 2
    """Extra answers asked for at one step after a malformed or invalid one."""
    max_failures: int = 3
    """Failed steps in a row before the run stops."""
    step_timeout: float = 60.0


@dataclass
class Proposal:
    """The action layer's result for one step."""

    action: Action | None
    control: Control | None = None
    advance: int = 0
    outputs: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    model_s: float = 0.0
    tokens: int = 0
    tokens_in: int = 0
    error: str | None = None


def validate(action: Action, obs: Observation, specs: dict[str, ActionSpec]
             ) -> tuple[Action, str | None]:
    """Check an action against the action space and the live controls. Safe repairs are
    made (a label on a function that takes none, an argument it does not take, a number
    where text is expected); anything else is returned as the reason it is invalid."""
    spec = specs.get(action.function)
    if spec is None:
        return action, f"unknown function '{action.function}' (known: {', '.join(specs)})"
    if spec.control_args:  # a function's own arguments: its schema is the environment's
        args = dict(action.args)
    else:
        args = {k: v for k, v in action.args.items() if k in spec.args}
        for k, v in list(args.items()):
            if spec.args[k].get("type") == "string" and isinstance(v, int | float):
                args[k] = str(v)
            elif spec.args[k].get("type") == "string" and not isinstance(v, str):
                return action, f"argument '{k}' must be text, got {type(v).__name__}"
    missing = [k for k in spec.required if k not in args or args[k] in ("", None)]
    if missing:
        return action, f"{spec.name} needs {', '.join(missing)}"
    label = action.control_label if spec.needs_control else None
    if spec.needs_control:
        if not label:
            return action, f"{spec.name} needs a control_label"
        control = obs.control(label)
        if control is None:
            return action, f"no control labelled '{label}' is on screen"
        if not control.enabled:
            return action, f"control '{control.name}' is disabled"
    return action.model_copy(update={"control_label": label, "args": args}), None


class ActionLayer:
    """Inference → parse → ground → validate, with bounded retries."""

    def __init__(self, backend: Backend, retries: int = 2, offered: Offered | None = None
                 ) -> None:
        self.backend = backend
        self.retries = retries
        self.offered = offered
        """The environment's candidates: a value it proposes itself is not invented."""

    def propose(self, ctx: StepContext, futile: Callable[[Action], str | None] | None = None
                ) -> Proposal:
        """The step's action: the backend's answer, parsed, grounded and validated, asked
        again (with the reason) while it is not valid or `futile` says why it would get the
        run nowhere (`Memory.futile`: a ranker then takes its next best candidate)."""
        specs = {s.name: s for s in ctx.functions}
        out = Proposal(action=None)
        for retry in range(1 + self.retries):
            answer = self.backend.act(ctx, retry)
            out.outputs.append(answer.text)
            out.model_s += answer.seconds
            out.tokens += answer.tokens
            out.tokens_in += answer.tokens_in
            parsed = parse_action(answer.text)
            if parsed is None:
                reason = f"malformed answer {answer.text.strip()[:80]!r}"
            else:
                try:
                    action = ground_answer(parsed, ctx.observation, ctx.request, specs,
                                           self.offered)
                except (ValueError, TypeError) as e:
                    reason = f"answer is not an action ({e})"
                else:
                    action, reason = validate(action, ctx.observation, specs)
                    if reason is None and futile:
                        reason = futile(action)
                    if reason is None:
                        out.action = action
                        out.control = (ctx.observation.control(action.control_label)
                                       if action.control_label else None)
                        advance = parsed.get("advance", 0)
                        out.advance = advance if isinstance(advance, int) and advance > 0 \
                            else 0
                        return out
            out.rejected.append(reason)
            ctx.feedback = reason
        out.error = (f"no valid action after {1 + self.retries} answers "
                     f"(last: {out.rejected[-1]})")
        return out


class Executor:
    """Runs an action in the environment under a wall-clock time-out."""

    def __init__(self, env: Env, timeout: float) -> None:
        self.env = env
        self.timeout = timeout
        # an app bound to the thread that started it (Playwright's sync API) is called here
        # and keeps its own time limits; any other runs on a thread the time-out can leave
        self._pool = None if env.thread_bound else ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="lamforge-exec")

    def execute(self, action: Action) -> StepResult:
        if self._pool is None:
            return self.env.step(action)
        future = self._pool.submit(self.env.step, action)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            self.env.abort()  # ends the hung application; the step's thread then returns
            with contextlib.suppress(Exception, FutureTimeout):
                future.result(timeout=30)  # let it end before the next episode starts
            raise EnvironmentCrashed(f"the action did not finish within {self.timeout:.0f} s; "
                                     "the application was stopped") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)


class Feedback:
    """Decides what happens after a step: None to go on, else the reason to stop."""

    def after(self, result: StepResult, steps: list[Step], memory: Memory,
              budget: Budget) -> str | None:
        if result.info.get("crashed"):
            return result.error or "the application crashed"
        if not result.ok and len(steps) > 1 and not steps[-2].ok and \
                steps[-2].action == steps[-1].action:
            return f"repeated a failing action ({result.error})"
        if memory.failures_in_a_row() >= budget.max_failures:
            return f"{budget.max_failures} failed steps in a row (last: {result.error})"
        return None

    def should_replan(self, memory: Memory) -> bool:
        """Two failures in a row: the plan may be what is wrong."""
        return memory.failures_in_a_row() == 2


@dataclass
class StepRecord:
    """What one step cost and decided (for progress display, benchmarks and reports)."""

    index: int
    action: Action | None
    control: str | None
    decision: str
    ok: bool
    error: str | None
    model_s: float
    other_s: float
    tokens: int
    outputs: list[str]
    parts: dict[str, float] = field(default_factory=dict)
    """Seconds of the step's parts besides the model: context, parse_ground, policy,
    execute (the environment: action and next observation) and log (audit + sessions)."""
    tokens_in: int = 0
    """Prompt tokens the model read at this step, retries included."""
    screenshot: str | None = None
    """The screen after the step, when the environment keeps screenshots."""

    @property
    def total_s(self) -> float:
        return self.model_s + self.other_s


@dataclass
class RunResult:
    trajectory: Trajectory
    verdict: Verdict
    records: list[StepRecord]
    session: str | None
    seconds: float
    finished: bool
    audit_hash: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"status": self.verdict.status, "reason": self.verdict.reason,
                "request": self.trajectory.task.request,
                "steps": len(self.records), "seconds": round(self.seconds, 3),
                "finished": self.finished, "session": self.session,
                "audit_hash": self.audit_hash,
                "actions": [r.action.model_dump() if r.action else None for r in self.records]}


class Agent:
    """A LAM deployed in an environment, with memory, policy, budgets and an audit trail."""

    def __init__(self, env: Env, backend: Backend, *, policy: Policy | None = None,
                 confirm: Confirm = deny_all, audit: AuditLog | None = None,
                 sessions: SessionStore | None = None, budget: Budget | None = None,
                 dry_run: bool = False, k: int | None = None, planner: Backend | None = None,
                 who: str | None = None,
                 on_step: Callable[[StepRecord], None] | None = None,
                 action_layer: ActionLayer | None = None, feedback: Feedback | None = None
                 ) -> None:
        self.env = env
        self.backend = backend
        self.budget = budget or Budget()
        self.policy = policy or Policy(env_risks=env.risk_rules())
        self.confirm = confirm
        self.audit = audit
        self.sessions = sessions
        self.dry_run = dry_run
        # controls per prompt: as given, else as the model was trained, else 16
        self.k = k or getattr(backend, "top_k", None) or 16
        self.planner = planner
        self.who = who or _user()
        self.on_step = on_step
        self.actions = action_layer or ActionLayer(backend, self.budget.retries,
                                                   offered_by(env))
        self.feedback = feedback or Feedback()
        self.app = env.name.split("-v")[0] or "app"

    def _log(self, event: str, **fields: Any) -> None:
        if self.audit is not None:
            self.audit.record(event, who=self.who, role=self.policy.role_name, **fields)

    def run(self, task: Task) -> RunResult:
        t0 = time.perf_counter()
        memory = Memory(request=task.request, plan=list(task.plan))
        # an app that states its own request (a web page) is planned for once it has
        stated_by_app = type(self.env).instruction is not Env.instruction
        if not memory.plan and self.planner is not None and not stated_by_app:
            memory.plan = self.planner.plan(task.request) or []
        sid = self.sessions.start(env=self.env.name, model=self.backend.name,
                                  role=self.policy.role_name, who=self.who,
                                  request=task.request, document=task.template,
                                  plan=memory.plan) if self.sessions else None
        self._log("start", session=sid, request=task.request, document=task.template,
                  model=self.backend.name, env=self.env.name, plan=memory.plan,
                  dry_run=self.dry_run)
        executor = Executor(self.env, self.budget.step_timeout)
        steps: list[Step] = []
        records: list[StepRecord] = []
        finished, stop = False, None
        try:
            obs = self.env.reset(task)
        except EnvironmentCrashed as e:  # the app died starting the episode: a failed run
            executor.close()
            return self._crashed_at_start(task, sid, str(e), t0)
        except LamforgeError as e:  # the run cannot start (an unreadable document): an error
            executor.close()
            self._abandon(sid, str(e))
            raise
        stated = self.env.instruction()
        if stated and stated != task.request:  # the app wrote the request (a web page's)
            memory.request = stated
            task = task.model_copy(update={"request": stated})
            self._log("instruction", session=sid, request=stated)
        if not memory.plan and self.planner is not None and stated_by_app:
            memory.plan = self.planner.plan(memory.request) or []
            self._log("plan", session=sid, plan=memory.plan)
        functions = self.env.action_space()
        try:
            for i in range(self.budget.max_steps + 1):
                if i == self.budget.max_steps:
                    stop = f"step budget of {self.budget.max_steps} steps used up"
                    break
                if time.perf_counter() - t0 > self.budget.max_seconds:
                    stop = f"time budget of {self.budget.max_seconds:.0f} s used up"
                    break
                obs, stop, finished = self._step(i, obs, memory, functions, executor, steps,
                                                 records, sid)
                if stop or finished:
                    break
        except EnvironmentCrashed as e:
            stop = str(e)
        except LamforgeError as e:  # the backend failed (an endpoint that times out)
            self._abandon(sid, str(e))
            raise
        finally:
            executor.close()
        return self._result(task, sid, self._verdict(task, stop, finished), steps, records,
                            finished, t0)

    def _crashed_at_start(self, task: Task, sid: str | None, reason: str, t0: float
                          ) -> RunResult:
        """The app died or hung starting the episode (a GUI app that would not load the
        document twice): a failed run, as a crash mid-episode is, not the end of the
        command; the environment has restarted the app for the next one."""
        verdict = Verdict(status="fail", reason=f"environment crashed starting the episode: "
                                                f"{reason}")
        return self._result(task, sid, verdict, [], [], False, t0, crashed=True)

    def _result(self, task: Task, sid: str | None, verdict: Verdict, steps: list[Step],
                records: list[StepRecord], finished: bool, t0: float, crashed: bool = False
                ) -> RunResult:
        seconds = time.perf_counter() - t0
        if self.sessions and sid:
            self.sessions.end(sid, verdict.status, verdict.reason, len(records))
        self._log("end", session=sid, status=verdict.status, reason=verdict.reason,
                  steps=len(records), seconds=round(seconds, 3))
        meta = {"session": sid, "dry_run": self.dry_run,
                "effects": list(getattr(self.env, "effects", []))}
        traj = Trajectory(task=task, steps=steps, verdict=verdict, model=self.backend.name,
                          timings={"total_s": seconds},
                          meta=meta | ({"crashed": True} if crashed else {}))
        return RunResult(trajectory=traj, verdict=verdict, records=records, session=sid,
                         seconds=seconds, finished=finished,
                         audit_hash=self.audit.last_hash if self.audit else None)

    def _abandon(self, sid: str | None, error: str) -> None:
        if self.sessions and sid:
            self.sessions.end(sid, "error", error, 0)
        self._log("end", session=sid, status="error", reason=error)

    def _step(self, i: int, obs: Observation, memory: Memory, functions: list[ActionSpec],
              executor: Executor, steps: list[Step], records: list[StepRecord],
              sid: str | None) -> tuple[Observation, str | None, bool]:
        """One step through the layers; returns the next observation, a reason to stop (or
        None) and whether the model declared the task finished."""
        t = time.perf_counter()
        ctx = build_context(memory, obs, functions, self.k, self.env.control_args_schema)
        # the state, not the picture of it: a screenshot's name is new at every step
        here = digest_of(obs.model_dump(exclude={"screenshot"}))
        t_context = time.perf_counter()
        proposal = self.actions.propose(ctx, lambda a: memory.futile(here, a))
        t_action = time.perf_counter()
        action, control = proposal.action, proposal.control
        decision = Decision(verdict="deny", reason=proposal.error or "") if action is None \
            else self.policy.decide(self.app, action, control)
        verdict = decision.verdict
        t_policy = time.perf_counter()
        human = 0.0
        if verdict == "ask":
            assert action is not None
            verdict = "confirmed" if self.confirm(action, control, decision) else "refused"
            human = time.perf_counter() - t_policy  # a human's time is not the framework's
        stop, finished = None, False
        if action is None:
            result = StepResult(observation=obs, ok=False, error=proposal.error)
            stop = f"step {i + 1}: {proposal.error}"
        elif verdict == "refused":
            result = StepResult(observation=obs, ok=False,
                                error=f"confirmation refused: {decision.reason}")
            stop = f"step {i + 1}: {action.function} on '{control.name if control else '-'}' " \
                   f"not confirmed ({decision.reason})"
        elif verdict == "deny":
            result = StepResult(observation=obs, ok=False,
                                error=f"denied by policy: {decision.reason}")
        elif self.dry_run:
            result = StepResult(observation=obs, ok=True, done=action.function == "finish",
                                info={"dry_run": True})
        else:
            try:
                result = executor.execute(action)
            except EnvironmentCrashed as e:
                result = StepResult(observation=Observation(focus="crashed"), ok=False,
                                    error=str(e), info={"crashed": True})
        t_execute = time.perf_counter()
        if action is not None:
            # the model says it is done, or the app ended the episode (a page that judged);
            # a conversation's finish ends a turn, and the user's next turn is the request
            next_turn = result.info.get("next_turn") if result.ok else None
            finished = (result.done or (action.function == "finish" and next_turn is None)) \
                and result.ok
            memory.remember(action, control, result.ok, result.error,
                            len(memory.plan) if finished else proposal.advance,
                            step_result(result.info), here)
            if next_turn:
                memory.request, memory.plan = next_turn, []
                self._log("turn", session=sid, request=next_turn)
            steps.append(Step(observation=obs, action=action, ok=result.ok, error=result.error,
                              result=step_result(result.info),
                              status="FINISH" if finished else "CONTINUE", plan=memory.plan,
                              latency_s=time.perf_counter() - t))
            if not stop and not finished:
                stop = self.feedback.after(result, steps, memory, self.budget)
                if stop:
                    stop = f"step {i + 1}: {stop}"
                elif not result.ok and self.planner and self.feedback.should_replan(memory):
                    memory.plan = self.planner.plan(memory.request) or memory.plan
                    self._log("replan", session=sid, plan=memory.plan)
        record = StepRecord(index=i, action=action, control=control.name if control else None,
                            decision=verdict, ok=result.ok, error=result.error,
                            model_s=proposal.model_s, other_s=0.0,
                            tokens=proposal.tokens, outputs=proposal.outputs,
                            tokens_in=proposal.tokens_in,
                            screenshot=result.observation.screenshot)
        records.append(record)
        self._log("step", session=sid, step=i, observation=here,
                  outputs=proposal.outputs, rejected=proposal.rejected,
                  action=action.model_dump() if action else None,
                  control=record.control, policy={"verdict": verdict, "risk": decision.risk,
                                                  "reason": decision.reason},
                  result={"ok": result.ok, "error": result.error,
                          "executed": verdict in ("allow", "confirmed") and not self.dry_run},
                  model_s=round(proposal.model_s, 4),
                  other_s=round(time.perf_counter() - t - proposal.model_s - human, 4))
        if self.sessions and sid:
            self.sessions.step(sid, i, prompt=ctx.prompt, output=proposal.outputs[-1]
                               if proposal.outputs else None,
                               action=action.model_dump() if action else None,
                               policy=verdict, ok=result.ok, error=result.error,
                               plan=memory.plan, model_s=proposal.model_s,
                               other_s=time.perf_counter() - t - proposal.model_s - human)
        end = time.perf_counter()
        record.other_s = end - t - proposal.model_s - human
        record.parts = {"context": t_context - t, "parse_ground": t_action - t_context -
                        proposal.model_s, "policy": t_policy - t_action,
                        "execute": t_execute - t_policy - human, "log": end - t_execute}
        if self.on_step:
            self.on_step(record)
        return result.observation, stop, finished

    def _verdict(self, task: Task, stop: str | None, finished: bool) -> Verdict:
        if stop:
            return Verdict(status="fail", reason=stop)
        if self.dry_run:
            return Verdict(status="unsure", reason="dry run: nothing was executed")
        if not finished:
            return Verdict(status="fail", reason="the agent did not finish")
        if not task.checks and not self.env.judges_itself:
            return Verdict(status="unsure", reason="the agent finished; no checks were given "
                                                   "to verify the result")
        return self.env.evaluate()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
