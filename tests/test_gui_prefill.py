"""Calc and Impress pairs instantiated from help pages' words: menu paths grounded in the
apps' menus as their real windows show them (read through AT-SPI, not described by hand),
effects from the templates' own data, and the instances executed in the real app."""

from __future__ import annotations

import pytest

from lamforge.core import TaskPlan
from lamforge.envs.gui.prefill import key, menu_paths


def test_menu_paths_are_read_from_the_plan_words() -> None:
    plan = ["Select the cells.", "Choose Sheet - Fill Cells - Down.",
            "Choose Slide - Slide Properties and then click the Background tab",
            "Choose View - Formula Bar or View - Toolbars - Formula Bar.",
            "Choose Format - Cells - Cell Protection tab.", "Choose Data – Form",
            "Click OK.", "Choose Insert - Table of Contents and Index - Index Entry.",
            "Choose Format - Character and click the Font tab."]
    assert menu_paths(plan) == [(1, ["Sheet", "Fill Cells", "Down"]),
                                (2, ["Slide", "Slide Properties"]),
                                (3, ["View", "Formula Bar"]), (4, ["Format", "Cells"]),
                                (5, ["Data", "Form"]),
                                # 'and' inside a menu's name, not between two steps
                                (7, ["Insert", "Table of Contents and Index", "Index Entry"]),
                                (8, ["Format", "Character"])]
    assert menu_paths(["Press Ctrl+B.", "you can choose any colour"]) == []


def test_an_empty_cell_is_text_empty_and_no_number() -> None:
    """What a shift or a clear leaves: `cell_value` with text '' holds on an empty cell only."""
    from lamforge.core import Check
    from lamforge.envs.calc.checks import KINDS

    state = {"sheets": [{"name": "S", "cells": {"A1": {"text": "Rent", "value": None}}}]}
    assert KINDS.run(Check(kind="cell_value", cell="A2", text=""), state).passed
    assert not KINDS.run(Check(kind="cell_value", cell="A1", text=""), state).passed
    assert not KINDS.run(Check(kind="cell_value", cell="A2", number=0.0), state).passed


def _pair(pid: str, task: str, *plan: str, app: str = "calc") -> TaskPlan:
    return TaskPlan(id=pid, app=app, task=task, plan=list(plan),
                    source=f"help/{app}/{pid}.html")


def _all_pass(env, tasks: list) -> dict:
    """Each task's trajectory by pair, every one of them passing."""
    from lamforge.envs.episode import run_actions

    trajs = {t.meta["pair"]: run_actions(env, t, match="exact") for t in tasks}
    failed = {p: tr.verdict.reason for p, tr in trajs.items() if tr.verdict.status != "pass"}
    assert not failed, failed
    return trajs


@pytest.fixture(scope="module")
def live(tmp_path_factory, templates_dir):
    """Calc's and Impress's menus read from their real windows now (an empty cache)."""
    import os

    from lamforge.envs.gui.menus import live_menus

    old = os.environ.get("LAMFORGE_HOME")
    os.environ["LAMFORGE_HOME"] = str(tmp_path_factory.mktemp("home"))
    try:
        yield {"calc": live_menus("calc", "budget", templates_dir),
               "impress": live_menus("impress", "pitch", templates_dir),
               "writer": live_menus("writer", "report", templates_dir)}
    finally:
        if old is None:
            os.environ.pop("LAMFORGE_HOME", None)
        else:
            os.environ["LAMFORGE_HOME"] = old


@pytest.mark.writer
@pytest.mark.gui
def test_every_effect_names_a_command_the_running_app_has(live) -> None:
    from lamforge.envs.calc.effects import EFFECTS as CALC
    from lamforge.envs.impress.effects import EFFECTS as IMPRESS
    from lamforge.envs.writer.effects import EFFECTS as WRITER

    for app, effects in (("calc", CALC), ("impress", IMPRESS), ("writer", WRITER)):
        real = {key(path) for path, _ in live[app].paths()}
        named = {command for k in effects for command in k.split(" ; ")}  # `sequence`s too
        assert named <= real, sorted(named - real)


@pytest.mark.writer
@pytest.mark.gui
def test_help_paths_that_drift_from_the_release_are_grounded_in_the_live_menus(live) -> None:
    calc, impress = live["calc"], live["impress"]
    assert calc.ground(["Sheet", "Fill Cells", "Down"]) == ("Sheet", "Fill Cells", "Fill Down")
    assert calc.ground(["Sheet", "Rename Sheet"]) == ("Sheet", "Rename Sheet...")
    # the help says Edit; Impress 7.4 has it under Slide
    assert impress.ground(["Edit", "Delete Slide"]) == ("Slide", "Delete Slide")
    assert impress.ground(["Insert", "Duplicate Slide"]) == ("Slide", "Duplicate Slide")
    assert calc.ground(["Tools", "Nonexistent Gadget"]) is None


@pytest.mark.writer
@pytest.mark.gui
def test_pairs_are_instantiated_or_filed_with_the_reason(live) -> None:
    from lamforge.envs.calc.effects import EFFECTS
    from lamforge.envs.gui.prefill import GuiPrefill

    prefill = GuiPrefill("calc", lambda: live["calc"], EFFECTS, ["budget", "grades", "sales"])
    pairs = [_pair("rows", "Insert a new row above the active cell",
                   "Choose Sheet - Insert Rows - Rows Above."),
             _pair("writer", "Insert a page break", "Choose Insert - Page Break.", app="writer"),
             _pair("words", "Rename sheets", "Double-click the sheet tab."),
             _pair("print", "Print the sheet", "Choose File - Print."),
             _pair("two", "Copy and paste", "Choose Edit - Copy.", "Choose Edit - Paste.")]
    tasks, failed = prefill.instantiate_all(pairs, list(range(6)))
    reasons = {f["pair"]: f["reason"] for f in failed}
    assert reasons == {"writer": "not a Calc task (app writer)",
                       "words": "no menu path in the plan",
                       "print": "no known effect of File > Print...",
                       "two": "the plan chooses several menu commands"}
    assert len(tasks) == 6 and len({t.id for t in tasks}) == 6
    for t in tasks:
        # select the row through the Name Box, then the real menu path, then finish
        assert [a.control_text for a in t.actions[1:4]] == ["Sheet", "Insert Rows",
                                                             "Rows Above"]
        assert t.actions[0].control_text == "Name Box"
        assert t.actions[0].args["text"] in t.request  # the request names the cell
        assert {c.kind for c in t.checks} == {"cell_value"}
        assert t.meta["command"] == "Sheet > Insert Rows > Rows Above"


@pytest.mark.writer
@pytest.mark.gui
@pytest.mark.slow  # 24-31 s: `make test-gui`
def test_instances_pass_in_the_real_calc_and_a_wrong_cell_fails(live, templates_dir) -> None:
    """Instances of five commands (a dialog, a submenu item, a wizard that is a frame, a fill
    and a sort) executed through Calc's real windows: each passes; the same actions aimed at
    another cell fail their checks."""
    from lamforge.envs import make
    from lamforge.envs.calc.effects import EFFECTS
    from lamforge.envs.episode import run_actions
    from lamforge.envs.gui.prefill import GuiPrefill

    prefill = GuiPrefill("calc", lambda: live["calc"], EFFECTS, ["budget", "grades", "sales"])
    pairs = [_pair("ins", "Insert new cells", "Choose Sheet - Insert Cells."),
             _pair("fill", "Fill a range downwards", "Choose Sheet - Fill Cells - Down."),
             _pair("sort", "Sort the rows", "Select a cell in the data.", "Choose Data - Sort."),
             _pair("chart", "Insert a chart", "Choose Insert - Chart."),
             _pair("name", "Rename the sheet", "Choose Sheet - Rename Sheet.")]
    tasks, failed = prefill.instantiate_all(pairs, [0])
    assert not failed and len(tasks) == 5
    env = make("calc-gui", templates_dir=templates_dir)
    try:
        trajs = _all_pass(env, tasks)
        # a ranker LAM chooses among the app's candidates: every expert step is one of them
        for pair, tr in trajs.items():
            for step in tr.steps:
                offered = env.candidates(step.observation, tr.task.request)
                assert any((c.function, c.control_label, c.args) == (
                    step.action.function, step.action.control_label, step.action.args)
                    for c in offered), (pair, step.action)
        ins = next(t for t in tasks if t.meta["pair"] == "ins")
        wrong = [a.model_copy(update={"args": {"text": "H20"}}) if a.control_text == "Name Box"
                 else a for a in ins.actions]
        assert run_actions(env, ins, wrong, match="exact").verdict.status == "fail"
    finally:
        env.close()


@pytest.mark.writer
@pytest.mark.gui
@pytest.mark.slow
def test_impress_instances_pass_in_the_real_impress(live, templates_dir) -> None:
    from lamforge.envs import make
    from lamforge.envs.episode import run_actions
    from lamforge.envs.gui.prefill import GuiPrefill
    from lamforge.envs.impress.effects import EFFECTS

    prefill = GuiPrefill("impress", lambda: live["impress"], EFFECTS, ["pitch", "lesson"])
    pairs = [_pair("layout", "Open a submenu with slide layouts", "Choose Slide - Layout.",
                   app="impress"),
             _pair("transition", "Define the special effect of a slide",
                   "Choose View - Slide Transition.", app="impress"),
             _pair("background", "Use a color for the slide background",
                   "Choose Slide - Properties, and then click on the Background tab.",
                   app="impress"),
             _pair("dup", "Insert a copy of the current slide", "Choose Insert - Duplicate "
                   "Slide.", app="impress")]
    tasks, failed = prefill.instantiate_all(pairs, [0, 1, 2])
    assert not failed and {t.meta['pair'] for t in tasks} == {p.id for p in pairs}
    assert len(tasks) >= 8  # an instance that repeats another is dropped
    env = make("impress-gui", templates_dir=templates_dir)
    try:
        verdicts = {t.id: run_actions(env, t, match="exact").verdict for t in tasks}
    finally:
        env.close()
    assert all(v.status == "pass" for v in verdicts.values()), \
        {t: v.reason for t, v in verdicts.items() if v.status != "pass"}


@pytest.fixture
def writer_prefill(live, monkeypatch):
    """writer-gui-v0's prefill, its live menus the ones read from the real Writer above."""
    from lamforge.envs.writer import gui_prefill

    monkeypatch.setattr(gui_prefill.PREFILL, "menus", lambda: live["writer"])
    return gui_prefill


@pytest.mark.writer
@pytest.mark.gui
def test_writer_pairs_the_headless_prefill_rejects_are_read_against_the_live_menus(
        writer_prefill) -> None:
    from lamforge.core import Rejected

    headless = _pair("bold", "Make the selected text bold", "Select the text.",
                     "Choose Format - Text - Bold.", app="writer")
    field = _pair("page", "Insert the current page number as a field at the cursor position",
                  "Choose Insert - Field.", app="writer")
    align = _pair("align", "Open a submenu to align text", "Choose Format - Align Text.",
                  app="writer")
    options = _pair("opts", "Change the AutoCorrect options",
                    "Choose Tools - AutoCorrect - AutoCorrect Options.", app="writer")
    # what the headless prefill instantiates stays its own
    assert {t.meta["prefill"] for t in writer_prefill.prefill(headless, 2, 0)} == {"rules"}
    # a submenu the plan ends at: its item is the one the task's words name
    tasks = writer_prefill.prefill(field, 3, 0)
    assert tasks and {t.meta["prefill"] for t in tasks} == {"live menus"}
    for t in tasks:
        assert [a.control_text for a in t.actions] == ["Insert", "Field", "Page Number", None]
        assert [c.model_dump() for c in t.checks] == [
            {"kind": "field_present", "field": "page number"}]
    # words that name no item: the instances vary the item, and the request says which
    tasks = writer_prefill.prefill(align, 3, 0)
    assert len(tasks) == 3
    for t in tasks:
        text, item = t.actions[0].args["text"], t.actions[3].control_text
        assert f"'{text}'" in t.request and f"choose {item}" in t.request
        assert t.checks[0].kind == "alignment" and t.checks[0].params["text"] == text
    # rejected by both: the reason says both
    with pytest.raises(Rejected, match=r"^no check can verify .* \(live menus: no known "
                                       r"effect of Tools > AutoCorrect > AutoCorrect Options"):
        writer_prefill.prefill(options, 2, 0)


@pytest.mark.writer
@pytest.mark.gui
@pytest.mark.slow  # 24-31 s: `make test-gui`
def test_writer_live_menu_instances_pass_in_the_real_writer(writer_prefill,
                                                            templates_dir) -> None:
    """Submenu items (an alignment, a field, a line spacing), a table dialog, the Fields
    dialog's list, Find & Replace and Insert Section, through Writer's real windows: each
    passes; another line spacing than the request's fails."""
    from lamforge.core import Rejected
    from lamforge.envs import make
    from lamforge.envs.episode import run_actions

    pairs = [_pair("align", "Align the selected paragraph", "Choose Format - Align Text.",
                   app="writer"),
             _pair("field", "Insert the page count as a field", "Choose Insert - Field.",
                   app="writer"),
             _pair("split", "Split the current table into two tables at the cursor",
                   "Choose Table - Split Table.", app="writer"),
             _pair("spacing", "Open the line spacing submenu", "Choose Format - Spacing.",
                   app="writer"),
             _pair("more", "Insert a fixed or variable date field",
                   "Choose Insert - Field - More Fields.", app="writer"),
             # the help pages' own plans, which the headless prefill cannot ground
             _pair("replace", "Replace text",
                   "Choose Edit - Find & Replace to open the Find & Replace dialog.",
                   "Enter the text to search in the Find text box.",
                   "Enter the text to replace the found text in the Replace with text box.",
                   "Either click Replace or Replace All.", app="writer"),
             _pair("section", "Insert a new section",
                   "Click in your document where you want to insert a new section.",
                   "Choose Insert - Section.",
                   "In the New Section box, type a name for the section.",
                   "Set the options for the section, and then click Insert.", app="writer")]
    tasks = [writer_prefill.prefill(p, 1, 0)[0] for p in pairs]
    assert tasks[4].request.endswith("(Type: Date)")  # the Fields dialog's list, by the words
    assert [t.meta["prefill"] for t in tasks[4:]] == ["live menus"] * 3
    # a pair about another tab of the Fields dialog is not made a Document-tab field
    with pytest.raises(Rejected):
        writer_prefill.prefill(_pair("vars", "Open the Variables command",
                                     "Choose Insert - Field - More Fields - Variables tab.",
                                     app="writer"), 1, 0)
    env = make("writer-gui", templates_dir=templates_dir)
    try:
        trajs = _all_pass(env, tasks)
        spacing = trajs["spacing"].task
        chosen = spacing.actions[3].control_text
        other = "Line Spacing: 2" if chosen != "Line Spacing: 2" else "Line Spacing: 1.15"
        wrong = [a.model_copy(update={"control_text": other}) if a.control_text == chosen
                 else a for a in spacing.actions]
        assert run_actions(env, spacing, wrong, match="exact").verdict.status == "fail"
    finally:
        env.close()


@pytest.mark.writer
@pytest.mark.gui
@pytest.mark.slow
def test_writer_table_break_and_case_effects_pass_in_the_real_writer(writer_prefill,
                                                                     templates_dir) -> None:
    """Merge Cells (a cell and Shift+Right), Split Cells…, Table Properties (an alignment;
    Repeat heading for a pair about its Text Flow tab), a manual page break into the
    Landscape page style, lowercase from a step offering two commands, a page number in a new
    footer (two commands in turn) and a conditional text: each passes through Writer's real
    windows; another alignment than the request's fails."""
    from lamforge.envs import make
    from lamforge.envs.episode import run_actions

    pairs = [_pair("merge", "Merge cells", "Select the adjacent cells.",
                   "Choose Table - Merge Cells.", app="writer"),
             _pair("split", "Split cells", "Place the cursor in the cell to be split.",
                   "Choose Table - Split Cells.", app="writer"),
             _pair("align", "Center the table between the margins", "Choose Table - Properties.",
                   app="writer"),
             _pair("flow", "Open the Text Flow command",
                   "Choose Table - Properties - Text Flow tab.", app="writer"),
             _pair("break", "Apply a page style to a new page",
                   "Click in the document where you want a new page to start.",
                   "Choose Insert - More Breaks - Manual Break.", "Select Page break.",
                   "In the Page Style box, select the page style.", "Click OK.",
                   app="writer"),
             _pair("lower", "Change text to lowercase", "Select the text.",
                   "Do one of the following: Choose Format - Text - Lowercase. Choose "
                   "Format - Character, click the Font Effects tab.", app="writer"),
             # the help pages' own plans: two commands in turn, and the Fields dialog's
             # Functions tab
             _pair("footer", "Insert a page number",
                   "Choose Insert - Header and Footer - Footer and select the page style that "
                   "you want to add the footer to.", "Choose Insert - Field - Page Number.",
                   app="writer"),
             _pair("cond", "Display conditional text based on the number of pages",
                   "Choose Insert - Field - More Fields, and then click the Functions tab.",
                   'In the Type list, click "Conditional text".',
                   'In the Condition box, type "page == 1".', app="writer")]
    tasks = [writer_prefill.prefill(p, 1, 0)[0] for p in pairs]
    assert {t.meta["prefill"] for t in tasks} == {"live menus"}
    assert tasks[2].request.endswith("Alignment: Center)")  # the pair's own word
    env = make("writer-gui", templates_dir=templates_dir)
    try:
        _all_pass(env, tasks)
        wrong = [a.model_copy(update={"control_text": "Right"})
                 if a.control_text == "Center" else a for a in tasks[2].actions]
        assert run_actions(env, tasks[2], wrong, match="exact").verdict.status == "fail"
    finally:
        env.close()

def test_a_step_offering_commands_as_alternatives_takes_the_first_with_an_effect() -> None:
    """"Do one of the following: Choose A. Choose B." is one command, not several: the first
    the app has an effect of. Two commands in two steps are refused unless an effect is
    known for both in that order."""
    from lamforge.core import Check, Rejected
    from lamforge.envs.gui.menus import Menu
    from lamforge.envs.gui.prefill import GuiPrefill, Outcome, sequence

    menus = Menu.from_items([["Format", True, [["Character...", True, None],
                                               ["Text", True, [["lowercase", True, None]]]]]])
    effects = {key(("Format", "Text", "lowercase")): lambda inst: Outcome(
        checks=[Check(kind="text_present", text="x")])}
    prefill = GuiPrefill("writer", lambda: menus, effects, ["report"])
    alternatives = _pair("lower", "Change text to lowercase", "Select the text.",
                         "Do one of the following: Choose Format - Character, click the Font "
                         "Effects tab. Choose Format - Text - Lowercase.", app="writer")
    step, path, _ = prefill.command(alternatives)
    assert (step, path) == (1, ("Format", "Text", "lowercase"))
    both = _pair("two", "Change text", "Choose Format - Character.",
                 "Choose Format - Text - Lowercase.", app="writer")
    with pytest.raises(Rejected, match="several menu commands"):
        prefill.command(both)
    neither = _pair("none", "Change text", "Do one of the following: Choose Format - "
                    "Character. Choose Format - Nothing Such.", app="writer")
    with pytest.raises(Rejected, match=r"no known effect of Format > Character\.\.\."):
        prefill.command(neither)
    # two commands in turn have an effect only as a whole, keyed by both in order
    prefill.effects[sequence(("Format", "Character..."), ("Format", "Text", "lowercase"))] = \
        prefill.effects[key(("Format", "Text", "lowercase"))]
    step, path, _ = prefill.command(both)
    assert (step, path) == (0, ("Format", "Character..."))
    with pytest.raises(Rejected, match="several menu commands"):
        prefill.command(_pair("back", "Change text", "Choose Format - Text - Lowercase.",
                              "Choose Format - Character.", app="writer"))


def test_a_headless_choice_is_requested_in_the_real_dialogs_words() -> None:
    """The agent keeps only options a request names: "Type: Number" becomes the real
    Customize tab's "Number: 1, 2, 3, ..."; other requests are left as they are."""
    from lamforge.core import Action, Check, Task
    from lamforge.envs.writer.gui_prefill import in_real_words

    def task(option: str) -> Task:
        return Task(id="t", app="writer", request=f"Make a list (Type: {option})",
                    template="report", checks=[Check(kind="text_present", text="x")],
                    actions=[Action(function="click", control_text="Format"),
                             Action(function="click", control_text="Bullets and Numbering..."),
                             Action(function="select_option", control_text="Type",
                                    args={"option": option}),
                             Action(function="click", control_text="OK")])

    assert in_real_words(task("Number")).request == "Make a list (Number: 1, 2, 3, ...)"
    assert in_real_words(task("Bullet")).request == "Make a list (Number: Bullet)"
    other = task("Number").model_copy(update={"actions": task("Number").actions[2:]})
    assert in_real_words(other).request == "Make a list (Type: Number)"  # no dialog opened
    # Insert > Header and Footer > Header is a submenu of page styles in the real Writer
    header = Task(id="h", app="writer", request="Add a header (type 'Draft')", template="line",
                  checks=[Check(kind="header_text", text="Draft")], meta={"plan_step": [0] * 5},
                  actions=[Action(function="click", control_text=c)
                           for c in ("Insert", "Header and Footer", "Header")] +
                  [Action(function="type_text", args={"text": "Draft"}), Action(function="finish")])
    real = in_real_words(header)
    assert [a.control_text for a in real.actions[:4]] == ["Insert", "Header and Footer", "Header",
                                                          "Default Page Style"]
    assert len(real.meta["plan_step"]) == len(real.actions) == 6
    assert in_real_words(real).actions == real.actions  # said once
    # Insert > Comment types into the comment's own box
    comment = task("x").model_copy(update={"actions": [
        Action(function="click", control_text=c) for c in ("Insert", "Comment")] +
        [Action(function="set_edit_text", control_text="Text", args={"text": "Why?"}),
         Action(function="click", control_text="OK"), Action(function="finish")]})
    assert [(a.function, a.control_text, a.args) for a in in_real_words(comment).actions] == [
        ("click", "Insert", {}), ("click", "Comment", {}), ("type_text", None, {"text": "Why?"}),
        ("finish", None, {})]


def test_table_and_page_checks_read_the_saved_state() -> None:
    from lamforge.core import Check
    from lamforge.envs.writer.checks import KINDS

    table = {"rows": 4, "cols": 3, "cells": [], "cell_count": 11, "align": "center",
             "repeat_heading": False}
    state = {"tables": [table], "paragraphs": [
        {"i": 0, "where": "body", "text": "Intro", "page_style": "Standard", "runs": []},
        {"i": 1, "where": "body", "text": "Wide part", "page_style": "Landscape", "runs": []}],
        "cell_paragraphs": [], "page": {"orientation": "portrait"},
        "page_styles": {"Standard": "portrait", "Landscape": "landscape"}}

    def holds(kind: str, **params: object) -> bool:
        return KINDS.run(Check(kind=kind, **params), state).passed

    assert holds("table_cell_count", count=11) and not holds("table_cell_count", count=12)
    assert holds("table_alignment", align="Center") and not holds("table_alignment", align="left")
    assert holds("table_repeat_heading", value=False) and not holds("table_repeat_heading")
    assert not holds("table_cell_count", count=11, index=1)  # no second table
    assert holds("page_orientation", orientation="portrait")  # the body's page
    assert holds("page_orientation", orientation="landscape", text="Wide part")
    assert not holds("page_orientation", orientation="landscape", text="Intro")
