"""Every registered environment passes the protocol checker."""

from __future__ import annotations

import pytest

from lamforge.core import Check, Task
from lamforge.envs import make, registered
from lamforge.envs.checker import ConformanceError, check_env

WRITER = Task(id="c", app="writer", request="r", template="line",
              checks=[Check(kind="text_present", text="fox")])
TASKS = {"writer-v0": WRITER, "writer-gui-v0": WRITER,
         "calc-gui-v0": Task(id="s", app="calc", request="r", template="grades",
                             checks=[Check(kind="cell_value", cell="A2", text="Maya")]),
         "impress-gui-v0": Task(id="p", app="impress", request="r", template="lesson",
                                checks=[Check(kind="slide_count", count=2)]),
         "web-v0": Task(id="w", app="web", request="r", template="miniwob/click-button",
                        meta={"seed": 0}),
         "tools-v0": Task(id="t", app="tools", request="r",
                          template="python:tests.tools_fixture:calculator",
                          checks=[Check(kind="state", path="memory.value", equals=0.0)])}


@pytest.mark.writer
@pytest.mark.parametrize("entry", registered(), ids=lambda e: e.id)
def test_registered_environment_conforms(entry, templates_dir) -> None:
    kwargs = {"templates_dir": templates_dir} if "writer" in entry.id or "gui" in entry.id \
        else {}
    env = make(entry.id, **kwargs)
    try:
        check_env(env, TASKS[entry.id])
    finally:
        env.close()


def test_checker_catches_a_broken_environment() -> None:
    from lamforge.core import Observation, StepResult, Verdict
    from lamforge.envs.base import ActionSpec, Env

    class Raising(Env):
        """Breaks the rule that a bad action is an observation, not an exception."""

        def reset(self, task):
            return Observation()

        def step(self, action):
            if action.function != "finish":
                raise ValueError("boom")
            return StepResult(observation=Observation(), ok=True, done=True)

        def evaluate(self):
            return Verdict(status="unsure")

        def action_space(self):
            return [ActionSpec("finish", "end", False, {})]

    with pytest.raises(ConformanceError, match="raised ValueError on an unknown function"):
        check_env(Raising(), TASKS["writer-v0"])
