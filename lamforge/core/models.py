"""The data contracts every stage exchanges (see docs/task-format.md).

Plain pydantic v2 models with JSON round trip; `lamforge schema` exports their JSON Schema.
Field names follow the paper's formats so that data from UFO-style pipelines maps over directly.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TaskPlan(_Model):
    """A task in words and its plan in words, as mined from documentation (or evolved)."""

    id: str
    app: str = Field(description="Application the task is for, e.g. 'writer', 'calc', 'web'.")
    task: str = Field(description="The request, imperative, e.g. 'Insert a table with 3 rows'.")
    plan: list[str] = Field(description="Ordered steps in words; menu paths kept as text.")
    source: str = Field(default="", description="File or URL (and section) it came from.")
    evolved_from: str | None = Field(default=None, description="Parent TaskPlan id if evolved.")
    meta: dict[str, Any] = Field(default_factory=dict)


class Check(_Model):
    """A declarative predicate on the final application state.

    `kind` names the predicate (see `lamforge.envs.<env>.checks` and docs/checks.md); the other
    fields are its parameters, e.g. `{"kind": "bold", "text": "Summary"}`.
    """

    model_config = ConfigDict(extra="allow")

    kind: str

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Action(_Model):
    """One action of an agent: a function from the environment's action space and its target.

    A target is given by `control_label` (the label shown in the current observation) or, in
    prefilled data, by `control_text` (the control's name, matched to a live control).
    """

    function: str
    control_label: str | None = None
    control_text: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class Task(_Model):
    """An instantiated, executable request on a template, with the checks that define success."""

    id: str
    app: str
    request: str
    plan: list[str] = Field(default_factory=list)
    template: str = Field(description="Template name from the library, or a path to a document.")
    checks: list[Check] = Field(default_factory=list)
    actions: list[Action] = Field(
        default_factory=list,
        description="A known-correct action sequence (expert or prefilled), if there is one.",
    )
    meta: dict[str, Any] = Field(default_factory=dict)


class Control(_Model):
    """An actionable element as the model sees it."""

    label: str = Field(description="Short id, unique within one observation.")
    name: str
    type: str = Field(description="MenuItem, Button, Edit, ComboBox, CheckBox, ListItem, TabItem…")
    value: str | None = None
    enabled: bool = True
    options: list[str] | None = Field(default=None, description="Choices of a ComboBox/ListBox.")
    group: str | None = Field(default=None, description="Where it is: menubar, menu, toolbar, "
                              "dialog… (grounding prefers the innermost).")
    params: dict[str, Any] | None = Field(default=None, description="The JSON schema of the "
                                          "arguments a Function control takes (tools).")


class Observation(_Model):
    controls: list[Control] = Field(default_factory=list)
    canvas: str = Field(default="", description="Compact text view of the application state.")
    focus: str = Field(default="", description="Where input goes: document, a menu, a dialog.")
    last_action_error: str | None = None
    screenshot: str | None = Field(default=None, description="The screen as this observation "
                                   "saw it: a PNG file's name in the folder the environment "
                                   "was asked to keep screenshots in (GUI environments).")

    def control(self, label: str) -> Control | None:
        return next((c for c in self.controls if c.label == label), None)


class StepResult(_Model):
    observation: Observation
    ok: bool
    error: str | None = None
    done: bool = False
    info: dict[str, Any] = Field(default_factory=dict)


class CheckResult(_Model):
    check: Check
    passed: bool
    detail: str = ""


class Verdict(_Model):
    status: Literal["pass", "fail", "unsure"]
    reason: str = ""
    checks: list[CheckResult] = Field(default_factory=list)


RESULT_CHARS = 2000
"""Of a result, what a step keeps (the start; a prompt shows less): enough of a list of
records that a later call's arguments (an order's id, its amount) can point into it."""


def step_result(info: dict[str, Any]) -> str | None:
    """A step's result from its StepResult.info, cut to RESULT_CHARS."""
    text = info.get("result")
    if not isinstance(text, str):
        return None
    return text if len(text) <= RESULT_CHARS else text[:RESULT_CHARS] + " …"


def previous_action(action: Action, control: Control | None, ok: bool,
                    result: str | None = None) -> dict[str, Any]:
    """A previous action as a prompt's "Done:" line reads it (with its result, if any)."""
    done = {"function": action.function, "control_name": control.name if control else None,
            "args": action.args, "ok": ok}
    return done | ({"result": result} if result is not None else {})


class Step(_Model):
    observation: Observation
    thought: str = ""
    action: Action
    status: Literal["CONTINUE", "FINISH"] = "CONTINUE"
    plan: list[str] = Field(default_factory=list)
    ok: bool = True
    error: str | None = None
    latency_s: float = 0.0
    result: str | None = None
    """What the action returned, where it returns something (a function's result): the
    next steps' prompts show it."""


class Trajectory(_Model):
    task: Task
    steps: list[Step] = Field(default_factory=list)
    verdict: Verdict | None = None
    model: str = ""
    timings: dict[str, float] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict, description="e.g. the commands run and "
                                 "whether each had an effect")


class StepSample(_Model):
    """The training view of one step, in the paper's input/output format."""

    id: str
    task_id: str
    step: int
    request: str
    controls: list[Control]
    previous_actions: list[dict[str, Any]] = Field(default_factory=list)
    previous_plan: list[str] = Field(default_factory=list)
    canvas: str = ""
    focus: str = Field(default="", description="Where input went in this state (the focused "
                       "control's label on the web): a move such as a key press depends on it.")
    thought: str = ""
    control_label: str | None = None
    control_name: str | None = None
    function: str
    args: dict[str, Any] = Field(default_factory=dict)
    status: Literal["CONTINUE", "FINISH"] = "CONTINUE"
    plan: list[str] = Field(default_factory=list)


CONTRACTS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        TaskPlan, Task, Check, Control, Observation, Action, Step, Trajectory, Verdict,
        CheckResult, StepResult, StepSample,
    )
}
