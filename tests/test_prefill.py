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
        ("select_text", None), ("click", "Bold"), ("click", "Format"), ("click", "Character..."),
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
    (pair("Write a letter", ["Choose File - Wizards - Letter."]), "wizards"),
    (pair("Insert a variable", ["Choose Insert - Field - More Fields, and then click the "
                                "Variables tab."]), "cannot ground step 1"),
])
def test_rejections_say_why(p: TaskPlan, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        prefill(p)


def test_help_paths_are_grounded_in_the_surface_and_unknown_names_kept() -> None:
    (t,) = prefill(pair("Delete the row", ["Choose Table - Delete - Rows."]), instances=1)
    # the help's "Rows" is Writer's "Delete Rows"; the command needs a table, so the table
    # template is used whatever the selector said, with the cursor in a cell
    assert t.template == "table"
    assert [a.control_text for a in t.actions[1:-1]] == ["Table", "Delete", "Delete Rows"]
    assert t.actions[0].function == "select_text"
    assert [(c.kind, c.params) for c in t.checks] == [("table_shape", {"rows": 3, "cols": 3})]
    (t,) = prefill(pair("Sparkle", ["Select the text.", "Choose Format - Sparkle - Gold.",
                                    "Click Bold on the Formatting bar."]), instances=1)
    assert [a.control_text for a in t.actions[1:4]] == ["Format", "Sparkle", "Gold"]


def test_names_with_separators_are_one_menu_item() -> None:
    (t,) = prefill(pair("Insert a note", [
        "Choose Insert - Footnote and Endnote - Footnote or Endnote."]), instances=1)
    assert [a.control_text for a in t.actions[:3]] == [
        "Insert", "Footnote and Endnote", "Footnote or Endnote..."]
    (t,) = prefill(pair("Insert an index", [
        "Choose Insert - Table of Contents and Index - Table of Contents, Index or "
        "Bibliography, and then click the Type tab."]), instances=1)
    assert t.actions[2].control_text == "Table of Contents, Index or Bibliography..."


def test_a_dialog_the_plan_leaves_open_gets_concrete_values_per_instance() -> None:
    tasks = prefill(pair("Insert a table of contents", [
        "Choose Insert - Table of Contents and Index - Table of Contents, Index or "
        "Bibliography."]), instances=3)
    assert len(tasks) == 3 and len({t.id for t in tasks}) == 3
    titles = set()
    for t in tasks:
        assert t.template in ("multipage", "report")  # a table of contents needs headings
        (check,) = t.checks
        assert check.kind == "index_present" and check.params["index"] == "toc"
        title = check.params["title"]
        titles.add(title)
        assert f"Title: {title}" in t.request
        assert ("set_edit_text", "Title", {"text": title}) in [
            (a.function, a.control_text, a.args) for a in t.actions]
        assert t.actions[-2].control_text == "OK"
    assert len(titles) > 1


def test_instructions_inside_a_dialog() -> None:
    (t,) = prefill(pair("Number the lines", [
        "Choose Tools - Line Numbering.",
        "Select Show numbering, and then select the options that you want.", "Click OK."]),
        instances=1)
    assert [(a.function, a.control_text) for a in t.actions] == [
        ("click", "Tools"), ("click", "Line Numbering..."), ("click", "Show numbering"),
        ("click", "OK"), ("finish", None)]
    assert [(c.kind, c.params) for c in t.checks] == [("line_numbering", {"on": True})]
    assert t.meta["plan_step"] == [0, 0, 1, 2, 2]
    assert t.meta["subtasks"] == [t.plan[0], t.plan[0], t.plan[1], t.plan[2]]


def test_the_same_dialog_twice_gets_other_values_and_check_boxes_are_tracked() -> None:
    (t,) = prefill(pair("Number the lines twice", [
        "Choose Tools - Line Numbering.", "Select Show numbering.", "Click OK.",
        "Choose Tools - Line Numbering.", "Select Show numbering.", "Click OK."]), instances=1)
    # the box is on after the first OK: selecting it again is no click (a click turns it off)
    assert [a.control_text for a in t.actions].count("Show numbering") == 1
    (t,) = prefill(pair("Describe the file twice", [
        "Choose File - Properties.", "Choose File - Properties."]), instances=1)
    values = [a.args["text"] for a in t.actions if a.function == "set_edit_text"]
    assert len(values) == 2 and values[0] != values[1]


def test_later_steps_override_earlier_checks() -> None:
    (t,) = prefill(pair("Align twice", [
        "Select the text.", "Click Center on the Formatting bar.",
        "Click Right on the Formatting bar."]), instances=1)
    assert [(c.kind, c.params["align"]) for c in t.checks] == [("alignment", "right")]
    (t,) = prefill(pair("Space, then style", [
        "Choose Format - Paragraph, select 1.5 Lines in the Line spacing box and click OK.",
        "Click in the first paragraph and choose Heading 1 in the Paragraph Style box."]),
        instances=1)
    kinds = [c.kind for c in t.checks]
    target = t.meta["target"]
    # a paragraph style resets direct paragraph formatting of the paragraph it is applied to
    first = next(c for c in t.checks if c.kind == "paragraph_style").params["text"]
    assert ("line_spacing" in kinds) == (first != target)


def test_several_instructions_in_one_step_are_all_grounded() -> None:
    (t,) = prefill(pair("Bold it", ["Select the text and press Ctrl+B."]), instances=1)
    assert [a.function for a in t.actions] == ["select_text", "keyboard", "finish"]
    (t,) = prefill(pair("Bold it twice", ["Select the text.", "Press Ctrl+B, then press Ctrl+B."]),
                   instances=1)
    assert [(c.kind, c.params.get("value", True)) for c in t.checks] == [("bold", False)]
    (t,) = prefill(pair("Bookmark it", [
        "Choose Insert - Bookmark, enter Summary in the Name box, click Insert, and then click "
        "Close."]), instances=1)
    assert [a.control_text for a in t.actions][-3:] == ["Name", "Insert", None]
    assert [(c.kind, c.params) for c in t.checks] == [("bookmark_present", {"name": "Summary"})]


@pytest.mark.parametrize(("plan", "reason"), [
    (["Choose Insert - Bookmark, enter Summary in the Name box and click OK."],
     "cannot ground step 1"),  # the Bookmark dialog has no OK button
    (["Select the text - for example, a heading."], "no check can verify"),  # not a menu path
    (["Choose Format - Character, set Size to 14 pt, click OK, then select Bold."],
     "cannot ground step 1"),
])
def test_steps_that_do_not_fit_the_dialog_are_rejected(plan: list[str], reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        prefill(pair("Odd plan", plan))


def test_evolved_constraints_inside_a_path_and_run_time_lists() -> None:
    (t,) = prefill(pair("Space it", ["Choose Format - Paragraph and set Line spacing to 1.5 "
                                     "Lines."]), instances=1)
    assert [(a.function, a.control_text) for a in t.actions][1:5] == [
        ("click", "Format"), ("click", "Paragraph..."), ("select_option", "Line spacing"),
        ("click", "OK")]
    (t,) = prefill(pair("Head it", ["Choose Insert - Header and Footer - Header - Default Page "
                                    "Style and type Confidential."]), instances=1)
    assert [a.control_text for a in t.actions[:3]] == ["Insert", "Header and Footer", "Header"]
    assert t.actions[3].args == {"text": "Confidential"}
    assert [(c.kind, c.params) for c in t.checks] == [("header_text", {"text": "Confidential"})]


def test_the_request_names_every_value_the_actions_type_or_enter() -> None:
    """A header's text that the request never named made the expert's own replay through the
    agent fail: grounding replaced it with a text the request did name."""
    from lamforge.envs.grounding import request_values

    tasks = prefill(pair("Add or remove a header from the page style",
                         ["Choose Insert - Header and Footer - Header."]), instances=3)
    texts = set()
    for t in tasks:
        typed = [a.args["text"] for a in t.actions if a.function == "type_text"]
        assert typed and all(x in request_values(t.request)[0] for x in typed), t.request
        assert [c.params for c in t.checks if c.kind == "header_text"] == [{"text": typed[0]}]
        texts.add(typed[0])
    assert len(texts) > 1  # varied, so a model copies it rather than remembering one
    (t,) = prefill(pair("Change the size", ["Select the text.", "Choose Format - Character, set "
                                            "Size to 14 pt and click OK."]), instances=1)
    assert "Size: 14 pt" in t.request
