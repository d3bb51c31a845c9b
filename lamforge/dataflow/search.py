"""Verified exploration: trajectories from nothing, with the app's own success signal as the
verifier (no human demonstrations, no per-task solutions).

The environment proposes generic candidate actions for a state (`Env.candidates`); the search
tries them breadth-first with a small beam, replaying a prefix from a fresh `reset` of the same
task (the same seed gives the same instance), until the environment judges an episode a
success. A candidate that ends the episode without success, fails, or changes nothing on the
screen is pruned; states already reached by another order of the same actions are not
explored twice. The first success is the trajectory kept, so trajectories are short.

Generic over environments: any `Env` that implements `candidates` and judges its episodes can
be explored this way — by its own reward when the app ends an episode (`judges_itself`), or
by the task's checks, which are then asked after every new state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from lamforge.core import (
    Action,
    EnvironmentCrashed,
    Observation,
    Step,
    Task,
    TemplateError,
    Trajectory,
    Verdict,
    step_result,
)
from lamforge.envs.base import Env


class SearchConfig(BaseModel):
    """How hard to look for a success per task instance."""

    model_config = ConfigDict(extra="forbid")
    episodes: int = 120
    """Episodes (resets) at most per task instance."""
    depth: int = 6
    """Actions at most in a trajectory."""
    beam: int = 3
    """States kept at each depth."""
    branch: int = 10
    """Candidates tried in each state."""
    seconds: float = 60.0
    """Wall time at most per task instance (a page that reloads on every episode is slow)."""
    dive: float = 0.34
    """The share of the episodes and time kept for the dive, when the beam finds nothing."""
    dive_depth: int = 24
    """Actions at most in a dive (a calendar a year back, a number guessed in turns)."""


@dataclass
class _Node:
    actions: list[Action]
    cost: float
    obs: Observation
    """The state after the actions (a replay of the same seed reaches it again)."""


def _signature(obs: Observation) -> tuple:
    return (*((c.label, c.name, c.value) for c in obs.controls), obs.canvas, obs.focus)


class _Replay:
    """Episodes of one task instance: reset, replay a prefix, try one more action."""

    def __init__(self, env: Env, task: Task, cfg: SearchConfig) -> None:
        self.env, self.task, self.episodes = env, task, 0
        self.request = task.request
        self.deadline = time.perf_counter() + cfg.seconds
        self.budget = cfg.episodes

    @property
    def spent(self) -> bool:
        return self.episodes >= self.budget or time.perf_counter() > self.deadline

    def run(self, actions: list[Action]) -> tuple[list[Step], Observation, bool, str | None]:
        """The steps, the last observation, whether the app ended the episode, and the error
        of a failed step (the replay stops there)."""
        self.episodes += 1
        obs = self.env.reset(self.task)
        self.request = self.env.instruction() or self.task.request
        steps: list[Step] = []
        for a in actions:
            t = time.perf_counter()
            r = self.env.step(a)
            steps.append(Step(observation=obs, action=a, ok=r.ok, error=r.error,
                              result=step_result(r.info),
                              latency_s=time.perf_counter() - t))
            if r.info.get("crashed"):
                raise EnvironmentCrashed(r.error or "the application crashed")
            obs = r.observation
            if not r.ok:
                return steps, obs, r.done, r.error
            if r.done:
                return steps, obs, True, None
        return steps, obs, False, None


def _key(action: Action) -> str:
    return action.model_dump_json(exclude_none=True)


def _dive(env: Env, replay: _Replay, cfg: SearchConfig, dead: set[tuple[tuple, str]]
          ) -> tuple[list[Step], Verdict] | None:
    """Depth-first along the candidates' order, for tasks longer than the beam reaches: in
    each state the best candidate not yet known to end the episode wrong, fail or change
    nothing. An episode goes on until the app ends it; an ending without success marks
    that action dead in that state, and the next episode replays the way to it and goes on
    with the next candidate. Steps that changed nothing, and loops (a toggle undone), are
    cut from the way found, which must then replay to success itself."""
    while not replay.spent:
        dead_before = len(dead)
        _, obs, _, _ = replay.run([])
        taken: list[Action] = []  # the way, loops cut
        executed: list[Action] = []  # every action that went through, in order
        sigs = [_signature(obs)]
        action: Action | None = None
        for _ in range(cfg.dive_depth):
            sig = sigs[-1]
            action = next((a for a in env.candidates(obs, replay.request, cfg.branch)
                           if (sig, _key(a)) not in dead), None)
            if action is None:
                break
            r = env.step(action)
            if r.info.get("crashed"):
                raise EnvironmentCrashed(r.error or "the application crashed")
            # judged once: a page that ends the episode, or checks that may hold mid-way
            passed = r.ok and (r.done or not env.judges_itself) and \
                env.evaluate().status == "pass"
            if r.done or passed:
                if passed:
                    found = _verified(env, replay, [*taken, action]) or \
                        _verified(env, replay, [*executed, action])
                    if found is not None:
                        return _shortened(env, replay, found)
                dead.add((sig, _key(action)))
                break
            obs = r.observation
            after = _signature(obs)
            if not r.ok or after == sig:
                dead.add((sig, _key(action)))  # failed, or changed nothing: not again here
                continue
            executed.append(action)
            if after in sigs:  # back in a state of the way: what led from there is undone
                dead.add((sig, _key(action)))
                del taken[sigs.index(after):]
                del sigs[sigs.index(after) + 1:]
                continue
            taken.append(action)
            sigs.append(after)
        else:  # as deep as a dive goes: the next one turns off earlier
            if taken:
                dead.add((sigs[-2], _key(taken[-1])))
        if action is None and taken:  # nothing left to try here: not this way again
            dead.add((sigs[-2], _key(taken[-1])))
        if len(dead) == dead_before:
            return None  # an episode learned nothing: another would go the same way
    return None


def _shortened(env: Env, replay: _Replay, found: tuple[list[Step], Verdict]
               ) -> tuple[list[Step], Verdict]:
    """A dive's way without the texts it typed over before anything else happened (a fill
    followed by another fill of the same field): kept out when the rest replays to success
    (one episode, past the budget: the way is found already). Other steps stay, even where
    the seed would allow a shortcut: a guess the page answered is how the next was chosen."""
    actions = [s.action for s in found[0]]
    kept = [a for a, b in zip(actions, [*actions[1:], None], strict=True)
            if not (b is not None and a.function == b.function == "fill" and
                    a.control_label == b.control_label)]
    if len(kept) == len(actions):
        return found
    return _verified(env, replay, kept, spend=False) or found


def _verified(env: Env, replay: _Replay, actions: list[Action], spend: bool = True
              ) -> tuple[list[Step], Verdict] | None:
    """The way a dive found, replayed from a fresh reset: its steps if it succeeds again."""
    if spend and replay.spent:
        return None
    steps, _, _, error = replay.run(actions)
    if error or len(steps) != len(actions):
        return None
    verdict = env.evaluate()
    return (steps, verdict) if verdict.status == "pass" else None


def search(env: Env, task: Task, cfg: SearchConfig | None = None) -> Trajectory:
    """Look for a successful trajectory of `task`; the trajectory of the first success, or a
    failed one saying how far the search went."""
    cfg = cfg or SearchConfig()
    t0 = time.perf_counter()
    replay = _Replay(env, task, cfg)
    refuted: list[tuple[list[Action], Action]] = []
    try:
        found, tried = _search(env, replay, cfg, refuted)
    except (TemplateError, EnvironmentCrashed) as e:
        return Trajectory(task=task, model="search", verdict=Verdict(status="fail",
                          reason=str(e)), timings={"total_s": time.perf_counter() - t0},
                          meta={"crashed": isinstance(e, EnvironmentCrashed),
                                "episodes": replay.episodes})
    stated = task.model_copy(update={"request": replay.request})
    meta = {"episodes": replay.episodes, "candidates_tried": tried, "crashed": False}
    timings = {"total_s": time.perf_counter() - t0}
    if found is None:
        return Trajectory(task=stated, model="search", timings=timings, meta=meta,
                          verdict=Verdict(status="fail", reason=f"no success in "
                                          f"{replay.episodes} episodes (depth {cfg.depth}, "
                                          f"beam {cfg.beam}, {timings['total_s']:.0f} s)"))
    steps, verdict = found
    path = [s.action for s in steps]
    # actions the app judged wrong in a state of the found path: verified negatives for
    # the reward model (phase 4), as {"at": step index, "action": …}
    meta["refuted"] = [{"at": len(prefix), "action": a.model_dump(exclude_none=True)}
                       for prefix, a in refuted if path[:len(prefix)] == prefix][:8]
    # the plan of a found trajectory is its steps in words, kept in meta.plan: phase 1 learns
    # request -> plan from it (as from mined plans where an app has help pages), while the
    # step samples carry no plan, since a suite's tasks come with none at test time
    plan = [describe(s) for s in steps]
    stated = stated.model_copy(update={"actions": [s.action for s in steps],
                                       "meta": {**stated.meta, "plan": plan}})
    return Trajectory(task=stated, steps=steps, verdict=verdict, model="search",
                      timings=timings, meta=meta)


def describe(step: Step) -> str:
    """A step as a plan line: "Click 'Submit'", "Fill 'Username' with 'vina'"."""
    a = step.action
    control = step.observation.control(a.control_label) if a.control_label else None
    target = f" '{control.name}'" if control and control.name else ""
    values = " ".join(f"with '{v}'" for v in a.args.values())
    return f"{a.function.replace('_', ' ').capitalize()}{target}{' ' + values if values else ''}"


def _search(env: Env, replay: _Replay, cfg: SearchConfig,
            refuted: list[tuple[list[Action], Action]]
            ) -> tuple[tuple[list[Step], Verdict] | None, int]:
    """The beam first (short trajectories), on its share of the budget; then the dive on
    what is left, knowing what the beam refuted."""
    dead: set[tuple[tuple, str]] = set()
    budget, deadline = replay.budget, replay.deadline
    if cfg.dive > 0:
        replay.budget = max(1, round(budget * (1 - cfg.dive)))
        replay.deadline = deadline - cfg.seconds * cfg.dive
    found, tried = _beam(env, replay, cfg, refuted, dead)
    replay.budget, replay.deadline = budget, deadline
    if found is None and cfg.dive > 0:
        found = _dive(env, replay, cfg, dead)
    return found, tried


def _beam(env: Env, replay: _Replay, cfg: SearchConfig,
          refuted: list[tuple[list[Action], Action]], dead: set[tuple[tuple, str]]
          ) -> tuple[tuple[list[Step], Verdict] | None, int]:
    _, root, _, _ = replay.run([])
    frontier = [_Node([], 0.0, root)]
    seen: set[tuple] = set()
    tried = 0
    for _ in range(cfg.depth):
        grown: list[_Node] = []
        for node in frontier:
            obs = node.obs
            before = _signature(obs)
            seen.add(before)
            for rank, action in enumerate(env.candidates(obs, replay.request, cfg.branch)):
                if replay.spent:
                    return None, tried
                tried += 1
                steps, after, done, error = replay.run([*node.actions, action])
                if error or len(steps) != len(node.actions) + 1:
                    continue  # failed, or the replay went otherwise (the app ended it early)
                # judged once: an ended episode, or checks that may hold mid-way
                verdict = env.evaluate() if done or not env.judges_itself else None
                if verdict is not None and verdict.status == "pass":
                    return (steps, verdict), tried
                if done:
                    refuted.append((node.actions, action))
                    dead.add((before, _key(action)))
                    continue  # the page judged it wrong: pruned
                sig = _signature(after)
                if sig == before:
                    dead.add((before, _key(action)))
                if sig == before or sig in seen:
                    continue  # changed nothing, or a state reached already
                seen.add(sig)
                grown.append(_Node([*node.actions, action], node.cost + rank, after))
        if not grown:
            break
        grown.sort(key=lambda n: n.cost)
        frontier = grown[:cfg.beam]
    # no page ended the episode: the deepest states may still be a success the app judges
    # only when asked (a task with checks, a page that rewards without ending)
    for node in frontier:
        if replay.spent:
            break
        steps, _, _, error = replay.run(node.actions)
        if not error and steps:
            verdict = env.evaluate()
            if verdict.status == "pass":
                return (steps, verdict), tried
    return None, tried
