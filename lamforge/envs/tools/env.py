"""The tools environment: an action space of typed functions instead of an app's controls.

A task's `template` names where its functions come from, as a Writer task's names the
document it starts from:

- `bfcl` — a BFCL multi-turn entry's back ends (`meta.bfcl.entry`; `--suite bfcl`);
- `support` — the customer-service back end, re-seeded (`meta.support`; `--suite support`);
- `mcp` — the tools of an MCP server started over stdio (`meta.mcp.command`, a list);
- `python:package.module:factory` — `factory(task)` returns a `Toolset` or callables.

Observation: one control per function (label = its name, name = its signature, value = its
description), the conversation so far on the canvas (the user's turns, each call and its
result or error), and which turn it is. Action: `call` with `control_label` = the function
and `args` = its JSON arguments, validated against the function's schema before it runs (an
unknown function or a bad argument is the step's error, for the model to read and retry);
`finish` ends the user's turn — the episode when it was the last.
"""

from __future__ import annotations

import importlib
from typing import Any

from lamforge.core import (
    Action,
    Check,
    CheckResult,
    DataError,
    Observation,
    StepResult,
    Task,
    Verdict,
)
from lamforge.core.models import Control
from lamforge.envs.base import ActionSpec, Env, EnvStatus, Slot
from lamforge.envs.tools.functions import ToolError, Toolset, call_text

CHECKS = ("called", "not_called", "state", "bfcl")
CANVAS_RESULT_CHARS = 400
"""A result longer than this is cut on the canvas (the model reads the start)."""

CALL = ActionSpec(name="call", description="Call the function labelled control_label with "
                  "args, its JSON arguments (the function's signature names them)",
                  needs_control=True, args={}, control_args=True)
FINISH = ActionSpec(name="finish", description="The user's request of this turn is done",
                    needs_control=False, args={})


def load_toolset(task: Task) -> Toolset:
    """The functions a task runs against, from its `template` (see the module docstring)."""
    source = task.template
    if source == "bfcl":
        from lamforge.envs.tools.bfcl import toolset

        return toolset(task.meta.get("bfcl", {}).get("entry", task.id))
    if source == "support":
        from lamforge.envs.tools.support.suite import toolset as support_toolset

        return support_toolset(task)
    if source == "mcp":
        from lamforge.envs.tools.mcp_tools import toolset as mcp_toolset

        command = task.meta.get("mcp", {}).get("command")
        if not command:
            raise DataError(f"task {task.id}: template 'mcp' needs meta.mcp.command "
                            "(the server's command line, a list)")
        return mcp_toolset(command, task.meta["mcp"].get("env"))
    if source.startswith("python:"):
        module, _, attr = source.removeprefix("python:").partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise DataError(f"task {task.id}: cannot load {source} ({e})") from None
        made = factory(task)
        if isinstance(made, Toolset):
            return made
        from lamforge.envs.tools.functions import from_callables

        return Toolset(from_callables(made))
    raise DataError(f"task {task.id}: unknown tool source '{source}' (use bfcl, support, mcp "
                    "or python:module:factory)")


class ToolsEnv(Env):
    name = "tools"
    def __init__(self) -> None:
        self.toolset: Toolset | None = None
        self.task: Task | None = None
        self.turns: list[str] = []
        self.turn = 0
        self.calls: list[list[str]] = []
        """Each turn's executed calls as Python source (what BFCL's checker replays)."""
        self.transcript: list[str] = []
        self.effects: list[str] = []

    # ---- episode -----------------------------------------------------------------------
    def reset(self, task: Task) -> Observation:
        self.close()
        self.toolset = load_toolset(task)
        self.task = task
        self.turns = list(task.meta.get("turns") or [task.request])
        self.turn = 0
        self.calls = [[]]
        self.transcript = [f"User: {self.turns[0]}"]
        self.effects = []
        return self._observe()

    def instruction(self) -> str | None:
        return self.turns[self.turn] if self.turns else None

    def step(self, action: Action) -> StepResult:
        if self.toolset is None:
            raise DataError("step before reset")
        if action.function == "finish":
            if action.args:
                return self._error(f"finish takes no arguments (got {', '.join(action.args)})")
            return self._finish()
        if action.function != "call":
            return self._error(f"unknown function '{action.function}' (use call or finish)")
        name = action.control_label or action.control_text or ""
        try:
            tool = self.toolset.get(name)
            result = tool(action.args)
        except ToolError as e:
            self.transcript.append(f"Call {call_text(name, action.args)} -> error: {e}")
            return self._error(str(e))
        text = call_text(name, action.args)
        self.calls[self.turn].append(text)
        self.effects.append(text)
        cut = CANVAS_RESULT_CHARS
        shown = result if len(result) <= cut else result[:cut] + " …"
        self.transcript.append(f"Call {text} -> {shown}")
        return StepResult(observation=self._observe(), ok=True, info={"result": result})

    def _finish(self) -> StepResult:
        if self.turn + 1 < len(self.turns):
            self.turn += 1
            self.calls.append([])
            self.transcript.append(f"User: {self.turns[self.turn]}")
            return StepResult(observation=self._observe(), ok=True,
                              info={"next_turn": self.turns[self.turn]})
        return StepResult(observation=self._observe(), ok=True, done=True)

    def _error(self, message: str) -> StepResult:
        obs = self._observe()
        obs.last_action_error = message
        return StepResult(observation=obs, ok=False, error=message)

    def _observe(self) -> Observation:
        assert self.toolset is not None
        controls = [Control(label=t.name, name=t.signature(), type="Function",
                            value=t.description[:200], group="functions", params=t.parameters)
                    for t in self.toolset.tools.values()]
        return Observation(controls=controls, canvas="\n".join(self.transcript[-12:]),
                           focus=f"turn {self.turn + 1} of {len(self.turns)}")

    # ---- judging -------------------------------------------------------------------------
    def evaluate(self) -> Verdict:
        if self.task is None or self.toolset is None:
            return Verdict(status="unsure", reason="no episode")
        if not self.task.checks:
            return Verdict(status="unsure", reason="no checks")
        results = [self._check(c) for c in self.task.checks]
        ok = all(r.passed for r in results)
        return Verdict(status="pass" if ok else "fail", checks=results,
                       reason="" if ok else "; ".join(r.detail for r in results
                                                      if not r.passed))

    def _check(self, check: Check) -> CheckResult:
        """`called` (a function was called, with these arguments), `not_called`, `state`
        (a value in the toolset's state, by dotted path, equals `equals`), `bfcl` (BFCL's
        multi-turn checker on the episode's calls, turn by turn)."""
        assert self.toolset is not None and self.task is not None
        p = check.params
        if check.kind == "bfcl":
            from lamforge.envs.tools.bfcl import judge

            result = judge(self.task.meta.get("bfcl", {}).get("entry", self.task.id),
                           self.calls)
            return CheckResult(check=check, passed=result["valid"], detail="" if
                               result["valid"] else f"BFCL's multi-turn checker: "
                               f"{result.get('error_type')}: {result.get('error_message')}")
        if check.kind in ("called", "not_called"):
            want = p.get("args", {})
            hit = any(c.startswith(f"{p['function']}(") and all(
                f"{k}={v!r}" in c for k, v in want.items())
                for turn in self.calls for c in turn)
            passed = hit if check.kind == "called" else not hit
            return CheckResult(check=check, passed=passed, detail="" if passed else
                               f"{p['function']} {'not ' if check.kind == 'called' else ''}"
                               "called as required")
        if check.kind == "state":
            value: Any = self.toolset.state()
            for part in str(p["path"]).split("."):
                value = value.get(part) if isinstance(value, dict) else None
            passed = value == p.get("equals")
            return CheckResult(check=check, passed=passed, detail="" if passed else
                               f"{p['path']} is {value!r}, not {p.get('equals')!r}")
        return CheckResult(check=check, passed=False, detail=f"unknown check '{check.kind}'")

    # ---- the rest of the protocol --------------------------------------------------------
    def action_space(self) -> list[ActionSpec]:
        return [CALL, FINISH]

    def control_args_schema(self, label: str) -> dict[str, Any] | None:
        tool = self.toolset.tools.get(label) if self.toolset is not None else None
        return tool.parameters if tool is not None else None

    @classmethod
    def candidates(cls, observation: Observation, request: str,
                   limit: int | None = None) -> list[Action]:
        """Call a function shown (its arguments are slots) or finish the turn."""
        from lamforge.envs.tools.candidates import propose

        return propose(observation)[:limit]

    @classmethod
    def slots(cls, action: Action, control: Control | None, observation: Observation,
              request: str, previous: list[dict[str, Any]]) -> list[Slot]:
        """A call's arguments, each among the conversation's values
        (`lamforge.envs.tools.candidates`)."""
        if action.function != "call":
            return []
        from lamforge.envs.tools.candidates import slots

        return slots(control, observation, request, previous)

    @classmethod
    def describe_candidate(cls, action: Action, control: Control | None) -> str:
        from lamforge.envs.tools.candidates import describe

        return describe(action, control)

    @classmethod
    def validate_task(cls, task: Task) -> None:
        unknown = [c.kind for c in task.checks if c.kind not in CHECKS]
        if unknown:
            raise DataError(f"task {task.id}: unknown check '{unknown[0]}' (tools checks: "
                            f"{', '.join(CHECKS)})")

    def close(self) -> None:
        if self.toolset is not None:
            self.toolset.close()
            self.toolset = None


def check() -> EnvStatus:
    details = []
    try:
        import jsonschema  # noqa: F401

        details.append(("jsonschema", True, "argument validation"))
    except ImportError:
        details.append(("jsonschema", False, "pip install jsonschema"))
    for pkg, what in (("mcp", "MCP servers' tools"), ("bfcl_eval", "the BFCL suite")):
        try:
            importlib.import_module(pkg)
            details.append((pkg, True, what))
        except ImportError:
            details.append((pkg, False, f"{what} unavailable (scripts/setup.sh installs it)"))
    return EnvStatus(ok=details[0][1], details=details)
