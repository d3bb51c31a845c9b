"""The context & decision layer: what the agent knows at one step, and its working memory.

The paper's AppAgent feeds the LAM, every step, the actionable controls, its previous actions
with their results and its previous plan. `Memory` keeps exactly that for one episode;
`StepContext` is the step's view of it plus the live observation, in the same prompt format
the LAM was trained on (`lamforge.train.formats.state_prompt`), so every backend reads one
thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lamforge.agent.audit import digest_of
from lamforge.core import Action, Control, Observation, StepSample, previous_action
from lamforge.envs.base import ActionSpec
from lamforge.train.formats import rank_controls, state_prompt


@dataclass
class Memory:
    """Previous actions (with whether each worked and why not) and the plan still ahead."""

    request: str
    plan: list[str] = field(default_factory=list)
    previous: list[dict[str, Any]] = field(default_factory=list)
    states: list[tuple[str, str]] = field(default_factory=list)
    """Per step, the digests of the observation it was taken from and of its action."""

    def remember(self, action: Action, control: Control | None, ok: bool,
                 error: str | None, advance: int, result: str | None = None,
                 state: str | None = None) -> None:
        """Record a step (taken from the observation whose digest is `state`); a successful
        one moves the plan on by `advance` steps."""
        self.previous.append(previous_action(action, control, ok, result) | {"error": error})
        if state is not None:
            self.states.append((state, digest_of(action.model_dump())))
        if ok:
            self.plan = self.plan[advance:]

    def circles(self, state: str, action: Action) -> bool:
        """Whether `action`, from the observation whose digest is `state`, goes round in a
        circle: it was taken from this observation before, the episode went elsewhere, and it
        is back (open a menu, close it, open it again). An action repeated while the
        observation stays as it is does not: the observation may not show what it changes
        (each shift+down extends a selection the canvas shows cut short)."""
        step = (state, digest_of(action.model_dump()))
        first = next((j for j, taken in enumerate(self.states) if taken == step), None)
        return first is not None and any(seen != state for seen, _ in self.states[first + 1:])

    def changed_nothing(self, state: str, action: Action) -> bool:
        """Whether `action` is a click that was just taken from this same observation and
        left it as it was (a tab already chosen, a menu already open, the last slide's
        Next): clicking it again would change nothing either. Unlike a key (each
        shift+down extends a selection the observation may not show), a click's effect is
        on the screen: a toggle shows its new state, a command its document or window."""
        return action.function == "click" and bool(self.states) and \
            self.states[-1] == (state, digest_of(action.model_dump())) and \
            bool(self.previous) and self.previous[-1]["ok"]

    def futile(self, state: str, action: Action) -> str | None:
        """Why taking `action` from the observation whose digest is `state` would get the
        run nowhere (`circles`, `changed_nothing`), or None."""
        if self.circles(state, action):
            return ("this action was taken on this same screen before, and the run came "
                    "back to it: it goes round in a circle")
        if self.changed_nothing(state, action):
            return "this click was just made on this same screen and changed nothing on it"
        return None

    def failures_in_a_row(self) -> int:
        n = 0
        for a in reversed(self.previous):
            if a["ok"]:
                break
            n += 1
        return n


@dataclass
class StepContext:
    """Everything a backend may read to choose the next action."""

    request: str
    observation: Observation
    shown: list[dict[str, Any]]
    previous: list[dict[str, Any]]
    plan: list[str]
    functions: list[ActionSpec]
    prompt: str
    feedback: str | None = None
    """Why the last answer at this step was rejected (on a retry), else None."""
    arg_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per shown control, the JSON schema of its own arguments (`Env.control_args_schema`),
    where the action space has a function taking them; constrained decoding reads it."""

    @property
    def labels(self) -> list[str]:
        return [c["label"] for c in self.shown]


def build_context(memory: Memory, obs: Observation, functions: list[ActionSpec],
                  k: int, arg_schema: Callable[[str], dict[str, Any] | None] | None = None
                  ) -> StepContext:
    """The step's context: the top-k controls ranked as in training, memory, the prompt;
    `arg_schema(label)` gives a control's own argument schema (`Env.control_args_schema`)."""
    sample = StepSample(id="live", task_id="live", step=len(memory.previous),
                        request=memory.request, controls=obs.controls,
                        previous_actions=memory.previous, previous_plan=memory.plan,
                        canvas=obs.canvas, focus=obs.focus, function="")
    shown = rank_controls(sample, k)
    prompt = state_prompt(memory.request, shown, memory.previous, memory.plan)
    schemas: dict[str, dict[str, Any]] = {}
    if arg_schema is not None and any(f.control_args for f in functions):
        schemas = {c["label"]: s for c in shown if (s := arg_schema(c["label"])) is not None}
    return StepContext(request=memory.request, observation=obs, shown=shown,
                       previous=list(memory.previous), plan=list(memory.plan),
                       functions=functions, prompt=prompt, arg_schemas=schemas)
