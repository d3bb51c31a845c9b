"""A conformance checker for environments, like gymnasium's `check_env`.

Authors run it on their own environment; the test suite runs it on every registered one. It
checks the protocol, not the application: observations are well formed, bad actions come back
as errors instead of exceptions, `finish` ends the episode, `evaluate` gives a verdict, and
`close` is idempotent.
"""

from __future__ import annotations

from lamforge.core import Action, Observation, Task, Verdict
from lamforge.envs.base import Env


class ConformanceError(AssertionError):
    """The environment breaks the protocol; the message says which rule."""


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ConformanceError(message)


def check_env(env: Env, task: Task) -> None:
    """Raise `ConformanceError` naming the first rule `env` breaks on `task`."""
    specs = env.action_space()
    names = [s.name for s in specs]
    _require(len(names) == len(set(names)), "action names must be unique")
    _require("finish" in names, "the action space must contain 'finish'")
    for spec in specs:
        schema = spec.json_schema()
        _require(schema["properties"]["function"] == {"const": spec.name},
                 f"schema of '{spec.name}' must fix its function name")
    obs = env.reset(task)
    _require(isinstance(obs, Observation), "reset() must return an Observation")
    labels = [c.label for c in obs.controls]
    _require(len(labels) == len(set(labels)), "control labels must be unique in an observation")
    _require(obs.last_action_error is None, "a fresh episode has no last_action_error")

    try:
        bad = env.step(Action(function="__no_such_function__"))
    except Exception as e:
        raise ConformanceError(f"step() raised {type(e).__name__} on an unknown function; a bad "
                               "action must come back as ok=False with an error") from e
    _require(not bad.ok and bool(bad.error), "an unknown function must give ok=False and an error")
    _require(bad.observation.last_action_error == bad.error,
             "the error must also be the next observation's last_action_error")
    needs_control = next((s.name for s in specs if s.needs_control), None)
    if needs_control:
        args = {k: "x" for k in next(s for s in specs if s.name == needs_control).args}
        unknown = env.step(Action(function=needs_control, control_label="__nope__", args=args))
        _require(not unknown.ok and not unknown.done,
                 "an unknown control label must be a recoverable error")
    extra = env.step(Action(function="finish", args={"__no_such_argument__": 1}))
    _require(not extra.ok and not extra.done,
             "an unknown argument must be a recoverable error, not executed")
    done = env.step(Action(function="finish"))
    _require(done.ok and done.done, "finish must end the episode")
    verdict = env.evaluate()
    _require(isinstance(verdict, Verdict), "evaluate() must return a Verdict")
    _require(len(verdict.checks) == len(task.checks), "the verdict must list every check")
    env.close()
    env.close()
