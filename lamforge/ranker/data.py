"""Step samples as a ranker's training examples: the state's context, its candidates, and
which one the expert took.

Every candidate of the state is a negative of its own state. A state has 30–200 candidates
(Writer: ~140, most of them toolbar buttons and colours that are rarely right), so an example
keeps the ones that are hard to tell from the answer (the open dialog's or menu's controls,
the menu bar, every value entered or selected, the same function on other controls, finish)
and a seeded sample of the rest, up to `max_candidates`.

A share of the examples (`plan_dropout`) are shown without their plan: a request in plain
words comes with none, and the ranker must act on the request alone.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lamforge.core import StepSample
from lamforge.ranker.model import Candidate, candidates, same_action
from lamforge.ranker.state import RankState, context_text


def task_plans(samples: list[StepSample]) -> dict[str, list[str]]:
    """Each task's whole plan: the `previous_plan` of its first step."""
    out: dict[str, list[str]] = {}
    for s in sorted(samples, key=lambda s: s.step):
        out.setdefault(s.task_id, list(s.previous_plan))
    return out


def state_of(sample: StepSample, plans: dict[str, list[str]]) -> RankState:
    return RankState.from_sample(sample, plans.get(sample.task_id, sample.previous_plan))


def target_index(sample: StepSample, cands: list[Candidate]) -> int | None:
    """Which candidate the expert took, or None when the candidates do not hold it (one with
    slots to fill is the expert's when it calls the same function)."""
    exact = next((i for i, c in enumerate(cands) if same_action(
        c.action, sample.function, sample.control_label, sample.args)), None)
    if exact is not None:
        return exact
    return next((i for i, c in enumerate(cands) if same_action(
        c.action, sample.function, sample.control_label, {}) and c.slots), None)


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON arguments: 45 is 45.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    numbers = {type(a), type(b)} <= {int, float}
    return a is b or ((type(a) is type(b) or numbers) and a == b)


def _overlaps(value: Any, answer: Any) -> bool:
    """Whether two string values hold one another (case aside)."""
    if not (isinstance(value, str) and isinstance(answer, str)):
        return False
    a, b = value.lower(), answer.lower()
    return bool(a) and bool(b) and (a in b or b in a)


def slot_rows(sample: StepSample, state: RankState, target: Candidate, rng: random.Random,
              max_candidates: int, uncovered: Counter, env_cls: Any) -> list[dict[str, Any]]:
    """One row per argument of the expert's call: its value among the slot's values (an
    argument the expert left out is OMIT), seeing the arguments before it; a value the slot
    does not offer is counted in `uncovered` and ends the call's rows."""
    from lamforge.envs.base import OMIT
    from lamforge.ranker.model import slot_context

    rows, done = [], {}
    for slot in target.slots:
        want = sample.args.get(slot.name, OMIT)
        hit = next((v for v in slot.values if same_value(v, want)), None)
        if hit is None:
            uncovered[f"{sample.function} argument"] += 1
            break
        key = slot.text(hit)
        texts = {slot.text(v): v for v in slot.values}
        # the values that hold the answer or lie inside it first ("Ben Lovell's monitor" for
        # "Ben Lovell"): a random share of hundreds of spans seldom showed them, and the
        # ranker took a name with the words around it
        near = [t for t, v in texts.items() if t != key and _overlaps(v, hit)]
        rest = [t for t in texts if t != key and t not in near]
        near = rng.sample(near, min(len(near), max_candidates - 1))
        chosen = [key, *near, *rng.sample(rest, min(len(rest), max_candidates - 1 - len(near)))]
        rows.append({"context": slot_context(state, target, slot, done, env_cls),
                     "candidates": chosen,
                     "target": [1.0] + [0.0] * (len(chosen) - 1)})
        done[slot.name] = want
    return rows


def _hard(c: Candidate, target: Candidate) -> bool:
    group = c.control.group if c.control else None
    return (group in ("dialog", "menu", "menubar") or c.action.function == target.action.function
            or c.action.function in ("finish", "select_text", "type_text", "set_edit_text")
            or (c.control is not None and c.control is target.control))


@dataclass
class Built:
    rows: list[dict[str, Any]] = field(default_factory=list)
    slot_rows: list[dict[str, Any]] = field(default_factory=list)
    """The arguments of the expert's calls, one row each (tools)."""
    uncovered: Counter = field(default_factory=Counter)
    """Expert actions the candidates did not hold, per function (not trainable)."""


def listwise_rows(samples: list[StepSample], env_cls: Any, *, max_candidates: int = 64,
                  plan_dropout: float = 0.3, seed: int = 0, slot_candidates: int = 64,
                  plans: dict[str, list[str]] | None = None,
                  targets: list[list[float]] | None = None) -> Built:
    """Training rows {context, candidates, target} of `samples`: one-hot on the expert's
    action, or the given distributions `targets` (then over all of the state's candidates)."""
    rng = random.Random(seed)
    plans = plans if plans is not None else task_plans(samples)
    out = Built()
    for n, s in enumerate(samples):
        state = state_of(s, plans)
        cands = candidates(env_cls, state)
        if targets is not None:
            chosen, dist = cands, targets[n]
        else:
            i = target_index(s, cands)
            if i is None:
                out.uncovered[s.function] += 1
                continue
            target = cands[i]
            if target.slots:
                out.slot_rows += slot_rows(s, state, target, rng, slot_candidates,
                                           out.uncovered, env_cls)
            others = [c for j, c in enumerate(cands) if j != i]
            # finish first (a state always has it, and it is the costliest confusion), then
            # the hard ones in a seeded order: a cut by display order would only ever show
            # the menu bar and the toolbar as negatives
            hard = [c for c in others if _hard(c, target)]
            rng.shuffle(hard)
            hard.sort(key=lambda c: c.action.function != "finish")
            rest = [c for c in others if not _hard(c, target)]
            keep = max(0, max_candidates - 1 - len(hard))
            chosen = [target, *hard[: max_candidates - 1],
                      *rng.sample(rest, min(keep, len(rest)))]
            dist = [1.0] + [0.0] * (len(chosen) - 1)
        with_plan = rng.random() >= plan_dropout
        out.rows.append({"context": context_text(state, with_plan, env_cls),
                         "candidates": [c.text for c in chosen], "target": dist})
    return out
