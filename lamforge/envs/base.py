"""The environment protocol: gymnasium's shape, for applications instead of simulators.

An environment owns its application session (a LibreOffice process, a browser) and never
leaks it: use it as a context manager or call `close()`. A failed action does not raise; its
error comes back in the next observation (`last_action_error`) so an agent can recover. Only
fatal problems (the app cannot start, a template is missing) raise.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lamforge.core import (
    Action,
    Control,
    DataError,
    LamforgeError,
    Observation,
    StepResult,
    Task,
    Verdict,
)

OMIT: Any = type("Omit", (), {"__repr__": lambda self: "OMIT"})()
"""A slot value that leaves an optional argument out (the function's default stands)."""


@dataclass
class Slot:
    """An argument of a candidate action still to choose: a ranker LAM fills a candidate's
    slots one by one, each among `values` (pointers to text that exists: the request, earlier
    results, the schema's enums; `OMIT` leaves an optional one out)."""

    name: str
    about: str
    """What the argument is, for the model's context: `folder (string): the folder to enter`."""
    values: list[Any]
    origins: dict[str, str] = field(default_factory=dict)
    """Where a value came from, by its `value_text`: `id in the result of list_orders: item
    headset, …`. Two ids read alike; what they are the id of tells them apart."""

    @staticmethod
    def value_text(value: Any) -> str:
        """A value as the ranker reads it."""
        if value is OMIT:
            return "leave it out (the default)"
        return json.dumps(value, ensure_ascii=False, default=str)[:300]

    def text(self, value: Any) -> str:
        """A value of this slot as the ranker reads it: with where it came from, if known."""
        shown = self.value_text(value)
        origin = self.origins.get(shown)
        return f"{shown} ({origin})" if origin else shown


@dataclass(frozen=True)
class ActionSpec:
    """One function of an action space, documented once: prompt text and JSON schema."""

    name: str
    description: str
    needs_control: bool
    args: dict[str, dict[str, Any]]
    control_args: bool = False
    """The arguments are the chosen control's own (a function's parameters, which differ per
    function): passed through as given, for the environment to check against that control's
    schema."""

    @property
    def required(self) -> list[str]:
        """Arguments without a default."""
        return [k for k, v in self.args.items() if "default" not in v]

    def json_schema(self) -> dict[str, Any]:
        props: dict[str, Any] = {"function": {"const": self.name}}
        required = ["function"]
        if self.needs_control:
            props["control_label"] = {"type": "string"}
            required.append("control_label")
        props["args"] = {"type": "object"} if self.control_args else {
            "type": "object",
            "properties": self.args,
            "required": self.required,
            "additionalProperties": False,
        }
        return {"type": "object", "description": self.description, "properties": props,
                "required": required}


@dataclass
class EnvStatus:
    """Whether an environment can start here, and why not."""

    ok: bool
    details: list[tuple[str, bool, str]]


class Suite(ABC):
    """A benchmark's tasks for one environment, written by others: task names, the subsets
    papers report on, and the task of a name at a seed (the same seed, the same instance).

    Suites make the usual commands work on a benchmark with `--suite`: the tasks come from
    here instead of mined help pages, and trajectories from verified exploration."""

    name: str = ""
    subsets: ClassVar[dict[str, list[str]]] = {}
    demonstrated: ClassVar[bool] = False
    """The tasks carry an expert's actions (a benchmark's ground truth, as BFCL's): the flow
    executes and verifies them, as it does prefilled tasks, instead of exploring."""

    @abstractmethod
    def names(self) -> list[str]:
        """Every task of the suite, sorted."""

    @abstractmethod
    def task(self, name: str, seed: int) -> Task:
        """The task `name` at `seed`."""

    def select(self, subset: str | None = None, only: list[str] | None = None) -> list[str]:
        """Task names of a subset (or all), narrowed to `only` when given."""
        known = self.names()
        known_set = set(known)
        unknown = [n for n in only or [] if n not in known_set]
        if unknown:
            raise LamforgeError(f"suite '{self.name}' has no task '{unknown[0]}'")
        names = known
        if subset:
            if subset not in self.subsets:
                raise LamforgeError(f"suite '{self.name}' has no subset '{subset}' (its "
                                    f"subsets: {', '.join(sorted(self.subsets)) or 'none'})")
            names = [n for n in self.subsets[subset] if n in known_set]
        if only:
            chosen = set(names)
            outside = [n for n in only if n not in chosen]
            if outside:
                raise LamforgeError(f"task '{outside[0]}' is not in subset '{subset}' of "
                                    f"suite '{self.name}'")
            wanted = set(only)
            names = [n for n in names if n in wanted]
        return names

    def tasks(self, seeds: Sequence[int], subset: str | None = None,
              only: list[str] | None = None) -> list[Task]:
        """Every selected task at every seed, task by task."""
        return [self.task(n, s) for n in self.select(subset, only) for s in seeds]


def crash_result(reason: str) -> StepResult:
    """The step result of an episode the app's crash or hang ended: failed, done, marked."""
    msg = f"environment crashed: {reason}; episode failed"
    return StepResult(observation=Observation(canvas="", focus="crashed", last_action_error=msg),
                      ok=False, error=msg, done=True, info={"crashed": True})


def parse_seeds(text: str) -> list[int]:
    """'0:20' (a range, end excluded), '3,5,8' or '7' as a list of seeds."""
    try:
        if ":" in text:
            start, _, end = text.partition(":")
            seeds = list(range(int(start), int(end)))
        else:
            seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise LamforgeError(f"seeds '{text}' are not a range 'A:B' or a list '1,2,3'") from None
    if not seeds:
        raise LamforgeError(f"seeds '{text}' select no seed")
    return seeds


class Env(ABC):
    """Base class of every environment."""

    name: str = ""
    thread_bound: bool = False
    """Every call must come from the thread that started the app (Playwright's sync API);
    the agent then calls `step` directly, without its per-step time-out, and relies on the
    environment's own (the web environment's: one per input action and page load; a
    renderer that hangs inside a script is not bounded)."""
    judges_itself: bool = False
    """The app gives its own success signal (a MiniWoB++ page's reward), so `evaluate()` needs
    no checks in the task."""
    pinned: bool = True
    """A pool worker may keep this environment, and the app it starts, on one core
    (`dataflow.flow.pin_to_core`)."""

    @abstractmethod
    def reset(self, task: Task) -> Observation:
        """Start an episode on `task` (fresh copy of its template) and return the observation."""

    @abstractmethod
    def step(self, action: Action) -> StepResult:
        """Execute one action. Errors caused by the action come back in the result."""

    @abstractmethod
    def evaluate(self) -> Verdict:
        """Judge the current episode by the task's checks."""

    @abstractmethod
    def action_space(self) -> list[ActionSpec]:
        """The functions this environment accepts."""

    def instruction(self) -> str | None:
        """The request as the application states it after `reset`, when the app writes its
        own (a MiniWoB++ page draws a new utterance per seed); None when the task's
        `request` is the request. Agents, exploration and evaluation read it, so no caller
        needs to know which app writes its own instructions."""
        return None

    def control_args_schema(self, label: str) -> dict[str, Any] | None:
        """The JSON schema of the arguments the control labelled `label` takes, for an
        action space whose arguments are the control's own (`ActionSpec.control_args`: a
        function's parameters); constrained decoding writes only arguments it accepts. None
        when the environment has no such controls or does not know."""
        return None

    @classmethod
    def candidates(cls, observation: Observation, request: str,
                   limit: int | None = None) -> list[Action]:
        """Actions a user could take in this state: the app's generic moves on the controls
        shown (click a control, enter a value the request gives, choose an option), never a
        per-task solution. Verified exploration (`lamforge.dataflow.search`) tries them best
        first, at most `limit`; a ranker LAM (`lamforge.ranker`) chooses among all of them
        (`limit` None). A class method of the observation and request alone, so offline
        evaluation of a step sample sees what the live agent sees. An environment that
        cannot propose actions says so."""
        raise LamforgeError(f"environment '{cls.name}' proposes no candidate actions, so it "
                            "cannot be explored without demonstrations nor used by a ranker "
                            "LAM (implement Env.candidates)")

    @classmethod
    def slots(cls, action: Action, control: Control | None, observation: Observation,
              request: str, previous: list[dict[str, Any]]) -> list[Slot]:
        """The arguments of candidate `action` still to fill, in order, with the values each
        may take here (`previous`: the actions so far, with their results). None by default:
        an app's candidates come with their arguments."""
        return []

    @classmethod
    def screen(cls, observation: Observation) -> str:
        """What is on screen, in a few words, as a ranker reads it in its context: a dialog
        (its fields and buttons), a menu (its items), or the document."""
        dialog = [c.name for c in observation.controls if c.group == "dialog" and c.enabled]
        if dialog:
            return "dialog with " + ", ".join(dialog[:8])
        menu = [c.name for c in observation.controls if c.group == "menu" and c.enabled]
        if menu:
            return "menu open with " + ", ".join(menu[:8])
        return "document, no menu open"

    @classmethod
    def describe_candidate(cls, action: Action, control: Control | None) -> str:
        """A candidate action as a ranker LAM reads it (what it does, on what control)."""
        target = f" {control.group or ''} {control.type} '{control.name}'" if control else ""
        args = " ".join(f"{k}='{v}'" for k, v in action.args.items())
        return f"{action.function}{target} {args}".strip()

    @classmethod
    def resolve_document(cls, doc: str) -> str:
        """A user's document argument as a task template: a file (it must exist and be
        readable; made absolute) or, without a suffix or folder, a template name."""
        path = Path(doc).expanduser()
        if path.suffix or "/" in doc:
            if not path.is_file():
                raise DataError(f"document '{doc}' does not exist")
            if not os.access(path, os.R_OK):
                raise DataError(f"document '{doc}' is not readable (permission denied)")
            return str(path.resolve())
        return doc

    @classmethod
    def validate_task(cls, task: Task) -> None:
        """Raise DataError when `task` cannot run here (an unknown check, a missing page),
        before any application starts; nothing to check by default."""
        return None

    def reground(self, action: Action, obs: Observation) -> list[Action] | None:
        """What a prefilled action named after another surface (a headless dialog's field)
        means on this app's live controls: the actions a user would take instead, or None.
        The dataflow runs and records them when `action` names no control on screen. None by
        default; the GUI environments read the real dialog (`lamforge.envs.gui.reground`)."""
        return None

    @classmethod
    def recovery_moves(cls) -> list[Action]:
        """Moves that undo a wrong step in this app, tried in order by a ranker's phase 3
        (`lamforge.ranker.explore`); a move given by `control_text` is clicked where that
        control is shown. None by default: a mistake here cannot be walked back."""
        return []

    def risk_rules(self) -> list[dict[str, Any]]:
        """This app's risky actions for the agent's policy (`lamforge.agent.policy.RiskRule`
        fields: level, reason, function, control, args); none by default."""
        return []

    def save(self, path: Path) -> Path:
        """Save the current document/state to `path` (the agent's `--out`)."""
        raise LamforgeError(f"environment '{self.name}' cannot save its state to a file")

    def abort(self) -> None:
        """End the application at once (a step hangs); the next `reset` starts it again."""
        self.close()

    def close(self) -> None:  # noqa: B027 (optional hook, as in gymnasium)
        """Release the application session. Idempotent."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
