"""Rules prefill: plan steps grounded into actions and checks, or rejected with a reason."""

from __future__ import annotations

import pytest

from lamforge.core import TaskPlan
from lamforge.envs.writer.prefill import Rejected, prefill


def pair(task: str, plan: list[str], app: str = "writer") -> TaskPlan:
    return TaskPlan(id="p1", app=app, task=task, plan=plan, source="swriter/guide/x.html#h")


def test_menu_path_with_dialog_values_and_toolbar_click() -> None:
    tasks = prefill(pair("Make the text bold, with the text at 14 pt", [
        "Select the text.", "Click Bold on the Formatting bar.",
        "Choose Format - Character, set Size to 14 pt and click OK."]), instances=2)
    assert len(tasks) == 2 and tasks[0].id != tasks[1].id
    t = tasks[0]
    target = t.meta["target"]
    assert [(a.function, a.control_text) for a in t.actions] == [
        ("select_text", None), ("click", "Bold"), ("click", "Format"), ("click", "Character"),
        ("set_edit_text", "Size"), ("click", "OK"), ("finish", None)]
    assert t.actions[0].args == {"text": target}
    kinds = {(c.kind, c.params.get("text")) for c in t.checks}
    assert kinds == {("bold", target), ("font_size", target)}
    assert target in t.request


def test_shortcuts_and_colour_drop_down() -> None:
    (t,) = prefill(pair("Italicize the word, with the text coloured red", [
        "Select the word.", "Press Ctrl+I.",
        "On the Formatting bar, open Font Color and choose Red."]), instances=1)
    assert [a.function for a in t.actions] == ["select_text", "keyboard", "select_option",
                                                "finish"]
    assert {c.kind for c in t.checks} == {"italic", "font_color"}


@pytest.mark.parametrize(("p", "reason"), [
    (pair("Print a page", ["Choose File - Print."]), "printing"),
    (pair("Run a macro", ["Choose Tools - Macros - Run Macro."]), "macros"),
    (pair("Sort cells", ["Choose Data - Sort."], app="calc"), "not a Writer task"),
    (pair("Set things up", ["Set the options that you want."]), "cannot ground step 1"),
    (pair("Show field shadings", ["Choose View - Field Shadings."]), "no check can verify"),
])
def test_rejections_say_why(p: TaskPlan, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        prefill(p)
