"""LLM prefill and template choice for Writer: the paper's way, with any OpenAI-compatible model.

The rules provider (prefill.py) reads the help's own phrasing; this one asks a model, given the
same control surface (menu paths, toolbar items, our dialogs' fields, the check kinds) and the
template library, to write concrete instances: a template, a request, the actions
`{step, subtask, control_text, function, args}` and the checks that verify them. The answer is
validated (known template, known action functions, typed check parameters) and asked again,
bounded, when unusable; a model that says the task cannot be done rejects it with its reason.
Control names are not checked here: as with the rules, execution matches them to the live UI
and a name Writer does not show fails the task there.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from lamforge.core import Action, Check, DataError, Task, TaskPlan
from lamforge.dataflow.family import families_of, page_of
from lamforge.envs.writer import checks as writer_checks
from lamforge.envs.writer.dialogs import DIALOGS
from lamforge.envs.writer.env import ACTIONS
from lamforge.envs.writer.prefill import TARGETS, Rejected, dedup_checks, surface
from lamforge.llm.client import LLMClient, LLMError, complete_json

SPECS = {a.name: a for a in ACTIONS}  # the environment's own action space
MAX_MENUS = 60  # menu paths sent per request: those sharing the most words with the plan

PREFILL_SYSTEM = (
    "You turn a task plan for LibreOffice Writer into executable instances for training an "
    "action model. For each instance choose one of the given templates, make the request "
    "concrete (which text, which value), and list the actions that do it on Writer's controls, "
    "in order: click (open a menu, run a command, press a dialog button), set_edit_text "
    "(args.text), select_option (args.option), type_text (args.text), select_text (args.text: "
    "text of the template), keyboard (args.keys, e.g. 'ctrl+b'). Name controls exactly as the "
    "surface shows them (control_text). Give checks of the final document from the check kinds, "
    "with their parameters. If the task needs what Writer here lacks (databases, printing, "
    "other applications, macros, files, images) or cannot be grounded on these controls, "
    'answer {"reject": "reason"}. Otherwise answer with JSON only: {"instances": [{"template": '
    '"...", "request": "...", "actions": [{"step": 1, "subtask": "...", "control_text": "...", '
    '"function": "click", "args": {}}], "checks": [{"kind": "...", ...}]}]}')

SELECT_SYSTEM = (
    "Rank the template documents by how well each fits as the starting document for the task "
    '(best first). Answer with JSON only: {"templates": ["name", ...]}')


class _Action(BaseModel):
    step: int = 1
    subtask: str = ""
    control_text: str | None = None
    function: str
    args: dict[str, Any] = Field(default_factory=dict)


class _Instance(BaseModel):
    template: str
    request: str = Field(min_length=3)
    actions: list[_Action] = Field(min_length=1)
    checks: list[dict[str, Any]] = Field(min_length=1)


class _Answer(BaseModel):
    instances: list[_Instance] = Field(default_factory=list)
    reject: str | None = None


def surface_context(plan: list[str]) -> dict[str, Any]:
    """What the model needs to ground a plan: the menu paths closest to the plan's words, the
    toolbar items, our dialogs and the check kinds."""
    root, toolbar = surface()
    words = set(re.findall(r"[a-z]{3,}", " ".join(plan).lower()))
    paths: list[str] = []

    def walk(node: Any, path: list[str]) -> None:
        for name, child in node.children.items():
            if child.children:
                walk(child, [*path, name])
            else:
                paths.append(" > ".join([*path, name]))

    walk(root, [])
    scored = sorted(paths, key=lambda p: -len(words & set(re.findall(r"[a-z]{3,}", p.lower()))))
    dialogs = {}
    for spec in DIALOGS.values():
        dialogs[spec.title] = {"fields": [{"name": f.name, "type": f.type,
                                           **({"options": f.options} if f.options else {})}
                                          for f in spec.fields], "buttons": spec.buttons}
    check_kinds = {kind: (fn.__doc__ or "").split("\n")[0]
                   for kind, fn in writer_checks.CHECKS.items()}
    return {"menus": scored[:MAX_MENUS], "toolbar": sorted(toolbar), "dialogs": dialogs,
            "checks": check_kinds}


class LLMPrefill:
    """`prefill(pair, instances, seed, templates)` like the rules provider, by a model."""

    name = "llm"

    def __init__(self, client: LLMClient, templates: dict[str, str], attempts: int = 2) -> None:
        self.client = client
        self.templates = templates  # name -> description (the library's description.json)
        self.attempts = attempts

    def prefill(self, pair: TaskPlan, instances: int = 2, seed: int = 0,
                templates: list[str] | None = None) -> list[Task]:
        if pair.app not in ("writer", "shared"):
            raise Rejected(f"not a Writer task (app {pair.app})")
        order = [t for t in templates or [] if t in self.templates] or list(self.templates)
        request = {
            "task": pair.task, "plan": pair.plan, "instances": instances,
            "templates": [{"name": n, "description": self.templates[n],
                           "text": TARGETS.get(n, [])} for n in order],
            "surface": surface_context(pair.plan), "seed": seed}
        messages = [{"role": "system", "content": PREFILL_SYSTEM},
                    {"role": "user", "content": json.dumps(request)}]
        try:
            answer = complete_json(self.client, messages, validate=self._validate,
                                   attempts=self.attempts)
        except LLMError as e:
            raise Rejected(f"LLM prefill failed: {e}") from None
        if answer.reject:
            raise Rejected(f"LLM: {answer.reject}")
        return [self._task(pair, n, inst) for n, inst in enumerate(answer.instances[:instances])]

    def _validate(self, data: Any) -> _Answer:
        try:
            answer = _Answer.model_validate(data)
        except ValidationError as e:
            raise ValueError(f"not a prefill answer: {e.errors()[0]['msg']}") from None
        if not answer.reject and not answer.instances:
            raise ValueError("no instances and no reason to reject")
        seen = set()
        for inst in answer.instances:
            if inst.template not in self.templates:
                raise ValueError(f"unknown template '{inst.template}'")
            for a in inst.actions:
                spec = SPECS.get(a.function)
                if spec is None:
                    raise ValueError(f"unknown action function '{a.function}'")
                if spec.needs_control and not a.control_text:
                    raise ValueError(f"'{a.function}' needs a control_text")
                missing = [k for k in spec.required if k not in a.args]
                if missing:
                    raise ValueError(f"'{a.function}' needs args {', '.join(missing)}")
            key = json.dumps([inst.template, [a.model_dump(exclude={"step", "subtask"})
                                              for a in inst.actions]], sort_keys=True)
            if key in seen:
                raise ValueError("two instances are the same")
            seen.add(key)
            for c in inst.checks:
                try:
                    writer_checks.validate(Check.model_validate(c))
                except (DataError, ValidationError) as e:
                    raise ValueError(str(e)) from None
        return answer

    def _task(self, pair: TaskPlan, n: int, inst: _Instance) -> Task:
        actions = [Action(function=a.function, control_text=a.control_text, args=a.args)
                   for a in inst.actions if a.function != "finish"]
        actions.append(Action(function="finish"))
        last = len(pair.plan) - 1
        plan_step = [min(max(a.step - 1, 0), last) for a in inst.actions if a.function != "finish"]
        checks = dedup_checks([Check.model_validate(c) for c in inst.checks])
        key = json.dumps([inst.template, [a.model_dump() for a in actions]], sort_keys=True)
        digest = hashlib.sha1(f"{pair.id}:{key}".encode()).hexdigest()[:8]
        return Task(
            id=f"{pair.id}-l{n + 1}-{digest}", app="writer", request=inst.request,
            plan=pair.plan, template=inst.template, checks=checks, actions=actions,
            meta={"pair": pair.id, "source": pair.source, "family": page_of(pair.source) or pair.id,
                  "families": families_of(pair), "plan_step": [*plan_step, last],
                  "subtasks": [a.subtask for a in inst.actions if a.function != "finish"],
                  "evolved_from": pair.evolved_from, "prefill": self.name,
                  "model": self.client.model})


class LLMSelector:
    """Template choice by a model: it ranks the library's templates for each task."""

    name = "llm"

    def __init__(self, client: LLMClient, templates: dict[str, str], top_k: int = 3,
                 attempts: int = 2) -> None:
        self.client = client
        self.templates = templates
        self.top_k = top_k
        self.attempts = attempts
        self.failures = 0

    def rank(self, pairs: list[TaskPlan]) -> list[list[str]]:
        """Rankings; a pair the model gives no usable answer for gets [] (the prefill then
        falls back to its own choice) and is counted in `failures`."""
        out = []
        for p in pairs:
            try:
                out.append(self._one(p))
            except LLMError:
                self.failures += 1
                out.append([])
        return out

    def _one(self, pair: TaskPlan) -> list[str]:
        messages = [{"role": "system", "content": SELECT_SYSTEM},
                    {"role": "user", "content": json.dumps({
                        "task": pair.task, "plan": pair.plan[:3],
                        "templates": [{"name": k, "description": v}
                                      for k, v in self.templates.items()]})}]

        def validate(data: Any) -> list[str]:
            names = data.get("templates") if isinstance(data, dict) else None
            if not isinstance(names, list) or not names:
                raise ValueError("no 'templates' list")
            known = [n for n in names if n in self.templates]
            if not known:
                raise ValueError(f"none of {names[:5]} is a template of the library")
            return known[: self.top_k]

        return complete_json(self.client, messages, validate=validate, attempts=self.attempts)
