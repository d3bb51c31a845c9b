"""Instantiate a mined task-plan pair for an app driven through its real windows (Calc,
Impress): ground the plan's menu path in the app's live menus (`gui.menus`), then let the app
say what the command does to one of its templates (an `Effect`): what the user selects first,
what the dialog needs, and the checks that prove it on the saved file.

Template choice is the effect's: a command that needs three columns or a numeric column takes
the templates that have them. The flow then executes every instance in the real app, and only
those whose checks hold become trajectories.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lamforge.core import Action, Check, Rejected, Task, TaskPlan
from lamforge.dataflow.family import families_of, page_of
from lamforge.envs.gui.menus import Menu
from lamforge.envs.match import normalize


def act(function: str, control: str | None = None, **args: object) -> Action:
    return Action(function=function, control_text=control, args=args)


@dataclass
class Instance:
    """What an effect builds one task instance from: a template, the instance's number and a
    random generator seeded by it."""

    template: str
    n: int
    rng: random.Random
    words: str = ""
    """The pair's task and plan, normalised: an effect that chooses among a submenu's items
    takes the one they name ("Insert the page number as a field" -> Page Number)."""

    def pick(self, items: list[str]) -> str:
        """The item the pair's words name (the longest, if several), else one at random."""
        named = [i for i in items if re.search(rf"\b{re.escape(normalize(i))}\b", self.words)]
        return max(named, key=len) if named else self.rng.choice(items)


@dataclass
class Outcome:
    """One instance of a command: the actions before the menu (selecting cells, a slide), an
    item of the submenu the help path ends at (a layout), the actions after it (a dialog's
    fields and button), the checks, and the words the request gains ("cell B4")."""

    checks: list[Check]
    before: list[Action] = field(default_factory=list)
    then: tuple[str, ...] = ()
    after: list[Action] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


Effect = Callable[[Instance], Outcome | None]
"""A command's effect on one instance; None when the template lacks what it needs."""


def key(path: tuple[str, ...] | list[str]) -> str:
    """How an effect names its command: the menu path, normalised ('sheet > rename sheet')."""
    return " > ".join(normalize(p) for p in path)


def sequence(*paths: tuple[str, ...]) -> str:
    """How an effect of several commands in turn names them ('a > b ; c > d')."""
    return " ; ".join(key(p) for p in paths)


_CHOOSE = re.compile(r"\b(?i:choose|go to)\s+(?i:the\s+)?(?i:menu\s+)?([A-Z][^,;:(]*?)"
                     r"(?=\s*(?:[,;:(]|\.(?:\s|$)|\s+or\s+|\s+and\s+(?![A-Z])|\s+to\s+|\s+in\s+|$))")


def menu_paths(plan: list[str]) -> list[tuple[int, list[str]]]:
    """The menu paths a plan's steps choose ('Choose Sheet - Insert Rows - Rows Above'), by
    step; a dialog's tab ('- Background tab') is not a menu."""
    out = []
    for k, step in enumerate(plan):
        for m in _CHOOSE.finditer(step):
            parts = [p.strip(" .'\"…") for p in re.split(r"\s+[-–>]\s+|\s*>\s*", m.group(1))]
            parts = [p for p in parts if p and not re.search(r"\btabs?\b", p, re.I)]
            if parts and len(parts) <= 4:
                out.append((k, parts))
    return out


_ONE_OF = re.compile(r"\bone of the following\b", re.I)
"""How a help page's step offers alternative commands."""


@dataclass
class GuiPrefill:
    """An app's prefill: its name, its live menus (read on first use), its effects by
    command (`key`) and its templates."""

    app: str
    menus: Callable[[], Menu]
    effects: dict[str, Effect]
    templates: list[str]

    def command(self, pair: TaskPlan) -> tuple[int, tuple[str, ...], Effect]:
        """The plan step with the pair's command, the command's real menu path and its
        effect; `Rejected` with the reason otherwise."""
        if pair.app not in (self.app, "shared"):
            raise Rejected(f"not a {self.app.title()} task (app {pair.app})")
        found = menu_paths(pair.plan)
        if not found:
            raise Rejected("no menu path in the plan")
        if len({tuple(p) for _, p in found}) > 1 and not (
                len({k for k, _ in found}) == 1 and _ONE_OF.search(pair.plan[found[0][0]])):
            return self._commands(found)
        # one command, or one step's alternatives ("Do one of the following: Choose Format -
        # Text - Uppercase. Choose Format - Character…"): the first the app has an effect of
        first: Rejected | None = None
        for step, parts in found:
            path = self.menus().ground(parts)
            if path is None:
                why = f"'{' - '.join(parts)}' is not in {self.app.title()}'s menus"
            elif (effect := self.effects.get(key(path))) is None:
                why = f"no known effect of {' > '.join(path)}"
            else:
                return step, path, effect
            first = first or Rejected(why)
        assert first is not None
        raise first

    def _commands(self, found: list[tuple[int, list[str]]]
                  ) -> tuple[int, tuple[str, ...], Effect]:
        """A plan of several commands in turn ("Choose Insert - Header and Footer - Footer…",
        then "Choose Insert - Field - Page Number") has an effect only as a whole: one keyed
        by the commands in order (`sequence`). The effect's `after` clicks the later ones;
        the path returned is the first."""
        paths: list[tuple[str, ...]] = []
        for _, parts in found:
            path = self.menus().ground(parts)
            if path is None:
                raise Rejected("the plan chooses several menu commands")
            if not paths or paths[-1] != path:
                paths.append(path)
        effect = self.effects.get(sequence(*paths))
        if effect is None:
            raise Rejected("the plan chooses several menu commands")
        return found[0][0], paths[0], effect

    def prefill(self, pair: TaskPlan, seeds: list[int]) -> list[Task]:
        """One instance per seed (templates and targets vary; an instance that repeats an
        earlier one is dropped)."""
        step, path, effect = self.command(pair)
        words = normalize(" ".join([pair.task, *pair.plan]))
        order = list(self.templates)
        random.Random(f"{pair.id}").shuffle(order)
        tasks: list[Task] = []
        seen: set[str] = set()
        for seed in seeds:
            out = None
            for t in range(len(order)):  # the seed's template first, then any that fits
                template = order[(seed + t) % len(order)]
                out = effect(Instance(template, seed, random.Random(f"{pair.id}:{seed}"),
                                      words))
                if out is not None:
                    break
            if out is None:
                raise Rejected("no template has what the command needs")
            actions = [*out.before, *(act("click", name) for name in (*path, *out.then)),
                       *out.after, act("finish")]
            digest_of = json.dumps([template, [a.model_dump() for a in actions]],
                                   sort_keys=True)
            if digest_of in seen:
                continue
            seen.add(digest_of)
            last = len(pair.plan) - 1
            plan_step = [step] * (len(actions) - 1) + [last]
            digest = hashlib.sha1(f"{pair.id}:{digest_of}".encode()).hexdigest()[:8]
            request = pair.task + (f" ({'; '.join(out.details)})" if out.details else "")
            tasks.append(Task(
                id=f"{pair.id}-s{seed}-{digest}", app=self.app, request=request,
                plan=pair.plan, template=template, checks=out.checks, actions=actions,
                meta={"pair": pair.id, "source": pair.source, "target": "; ".join(out.details),
                      "family": page_of(pair.source) or pair.id,
                      "families": families_of(pair), "plan_step": plan_step,
                      "subtasks": [pair.plan[k] for k in plan_step[:-1]],
                      "command": " > ".join(path), "evolved_from": pair.evolved_from,
                      "prefill": "live menus"}))
        return tasks

    def instantiate_all(self, pairs: list[TaskPlan], seeds: list[int]
                        ) -> tuple[list[Task], list[dict]]:
        """Every pair at every seed: the tasks, and each rejected pair once, with its
        reason (the flow's `EnvEntry.instantiate` contract)."""
        tasks, failed = [], []
        for pair in pairs:
            try:
                tasks += self.prefill(pair, seeds)
            except Rejected as e:
                failed.append({"pair": pair.id, "task": pair.task, "reason": str(e)})
        return tasks, failed
