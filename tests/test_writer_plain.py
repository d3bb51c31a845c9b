"""The plain-words examples (`examples/writer/plain/`: requests as users type them, no plan,
documents outside the template library) are sound: each passes with its actions, fails on the
untouched document, and the agent's grounding replays its actions as they are, except where
the request does not hold the value to enter (the agent enters only values that exist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamforge.core import Action, Task, read_jsonl
from lamforge.envs.episode import run_actions
from lamforge.envs.grounding import disagreement

pytestmark = pytest.mark.writer
ROOT = Path(__file__).resolve().parent.parent
UNNAMED = {"report-spelling": "the right spelling ('receive') is not in the request"}
"""Tasks whose answer needs a value the request does not give: no LAM here can do them."""
TASKS = [t.model_copy(update={"template": str(ROOT / t.template)})
         for t in read_jsonl(ROOT / "examples/writer/plain/tasks.jsonl", Task)]


def test_the_examples_are_plain_requests_on_documents_of_their_own() -> None:
    assert len(TASKS) >= 25
    assert all(not t.plan for t in TASKS)
    assert all(Path(t.template).is_file() and "/plain/docs/" in t.template for t in TASKS)


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_a_plain_task_passes_with_its_actions_and_fails_without(writer_env, task: Task) -> None:
    traj = run_actions(writer_env, task)
    assert traj.verdict is not None and traj.verdict.status == "pass", traj.verdict.reason
    specs = {s.name: s for s in writer_env.action_space()}
    changed = disagreement(traj, specs)
    assert (changed is None) == (task.id not in UNNAMED), changed
    untouched = run_actions(writer_env, task, actions=[Action(function="finish")])
    assert untouched.verdict is not None and untouched.verdict.status == "fail", task.id
