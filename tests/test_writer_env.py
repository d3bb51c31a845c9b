"""The Writer environment's observation, each action kind, dialogs and bad input."""

from __future__ import annotations

import zipfile

import pytest

from lamforge.core import Action, Check, DataError, Task, TemplateError
from lamforge.envs.writer import checks

pytestmark = pytest.mark.writer


def task(template: str = "line", *checks_: Check) -> Task:
    return Task(id="t", app="writer", request="r", template=template, checks=list(checks_))


def control(obs, name: str):
    hits = [c for c in obs.controls if c.name == name]
    assert hits, f"no control named {name}: {[c.name for c in obs.controls]}"
    return hits[0]


def act(env, function: str, target: str | None = None, **args):
    return env.step(Action(function=function, control_text=target, args=args))


def verdict(env, *cs: Check):
    env.task = env.task.model_copy(update={"checks": list(cs)})
    return env.evaluate()


def test_observation_has_menus_toolbars_values_and_canvas(writer_env) -> None:
    obs = writer_env.reset(task("report"))
    names = [c.name for c in obs.controls]
    assert names[:4] == ["File", "Edit", "View", "Insert"]
    assert {"Bold", "Italic", "Insert Table...", "Font Name", "Font Size"} <= set(names)
    assert len({c.label for c in obs.controls}) == len(obs.controls)
    assert control(obs, "Font Name").value == "Liberation Sans"  # the cursor is in the title
    assert control(obs, "Font Size").value == "28"
    assert control(obs, "Bold").value == "on"  # the Title style is bold
    assert control(obs, "Center").value == "on"
    assert "Quarterly Report" in obs.canvas and "Heading 1" in obs.canvas
    assert obs.focus == "document"


def test_menus_open_as_submenus_and_escape_closes_them(writer_env) -> None:
    writer_env.reset(task())
    obs = act(writer_env, "click", "Format").observation
    assert obs.focus == "menu: Format"
    assert "Character..." in [c.name for c in obs.controls]
    obs = act(writer_env, "click", "Text").observation
    assert "Bold" in [c.name for c in obs.controls if c.type == "MenuItem"]
    obs = act(writer_env, "keyboard", keys="escape").observation
    assert obs.focus == "menu: Format"


def test_toggle_state_shows_in_the_toolbar_after_bold(writer_env) -> None:
    writer_env.reset(task())
    act(writer_env, "select_text", text="quick")
    obs = act(writer_env, "click", "Bold").observation
    assert control(obs, "Bold").value == "on"
    assert '"quick" {bold' in obs.canvas
    assert verdict(writer_env, Check(kind="bold", text="quick")).status == "pass"
    assert verdict(writer_env, Check(kind="bold", text="brown")).status == "fail"


def test_wrong_button_fails_the_check(writer_env) -> None:
    writer_env.reset(task())
    act(writer_env, "select_text", text="quick")
    act(writer_env, "click", "Italic")
    assert verdict(writer_env, Check(kind="bold", text="quick")).status == "fail"
    assert verdict(writer_env, Check(kind="italic", text="quick")).status == "pass"


def test_dialog_fields_are_controls_and_cancel_changes_nothing(writer_env) -> None:
    writer_env.reset(task())
    act(writer_env, "select_text", text="fox")
    act(writer_env, "click", "Format")
    obs = act(writer_env, "click", "Character...").observation
    assert obs.focus == "dialog: Character"
    assert {c.name for c in obs.controls} == {"Font", "Style", "Size", "Font color",
                                               "Highlighting", "Underline", "Strikethrough",
                                               "OK", "Cancel"}
    assert control(obs, "Size").value == "12 pt"
    act(writer_env, "set_edit_text", "Size", text="14")
    act(writer_env, "click", "Cancel")
    assert verdict(writer_env, Check(kind="font_size", text="fox", size=14)).status == "fail"
    act(writer_env, "click", "Format")
    act(writer_env, "click", "Character...")
    act(writer_env, "set_edit_text", "Size", text="14")
    act(writer_env, "keyboard", keys="enter")
    assert verdict(writer_env, Check(kind="font_size", text="fox", size=14)).status == "pass"


def test_type_text_and_select_text(writer_env) -> None:
    writer_env.reset(task("blank"))
    act(writer_env, "type_text", text="Alpha beta\nGamma")
    assert verdict(writer_env, Check(kind="paragraph_count", count=2),
                   Check(kind="text_present", text="Gamma")).status == "pass"
    result = act(writer_env, "select_text", text="beta")
    assert 'selection (body): "beta"' in result.observation.canvas
    act(writer_env, "type_text", text="delta")
    assert verdict(writer_env, Check(kind="text_present", text="Alpha delta")).status == "pass"
    assert verdict(writer_env, Check(kind="text_present", text="beta")).status == "fail"


def test_a_selection_that_fills_a_table_cell_shows_in_the_canvas(writer_env) -> None:
    """LibreOffice selects such a text as the cell, where the view cursor reads empty: the
    canvas said "no selection", so the step after selecting 'Item' and the step after
    selecting 'Price' looked the same."""
    writer_env.reset(task("table"))
    result = act(writer_env, "select_text", text="Quantity")
    assert 'selection (table): "Quantity"' in result.observation.canvas
    result = act(writer_env, "select_text", text="Pears")
    assert 'selection (table): "Pears"' in result.observation.canvas


def test_select_option_rejects_unknown_options(writer_env) -> None:
    writer_env.reset(task())
    act(writer_env, "select_text", text="quick")
    result = act(writer_env, "select_option", "Font Color", option="Ultraviolet")
    assert not result.ok and "unknown colour" in result.error
    result = act(writer_env, "select_option", "Font Color", option="Blue")
    assert result.ok
    assert verdict(writer_env, Check(kind="font_color", text="quick", color="Blue")).status == "pass"
    assert verdict(writer_env, Check(kind="font_color", text="quick", color="Red")).status == "fail"


def test_keyboard_shortcuts_come_from_writer_configuration(writer_env) -> None:
    writer_env.reset(task())
    act(writer_env, "select_text", text="lazy")
    assert act(writer_env, "keyboard", keys="Ctrl+I").ok
    assert act(writer_env, "keyboard", keys="ctrl+e").ok  # centre
    result = act(writer_env, "keyboard", keys="ctrl+alt+shift+f12")
    assert not result.ok and "no command is bound" in result.error
    assert not act(writer_env, "keyboard", keys="hyper+x").ok
    assert verdict(writer_env, Check(kind="italic", text="lazy"),
                   Check(kind="alignment", text="lazy", align="center")).status == "pass"


def test_unknown_label_and_wrong_function_are_errors_in_the_observation(writer_env) -> None:
    writer_env.reset(task())
    result = writer_env.step(Action(function="click", control_label="999"))
    assert not result.ok and not result.done
    assert "no control with label '999'" in result.error
    assert result.observation.last_action_error == result.error
    result = writer_env.step(Action(function="double_click", control_label="1"))
    assert "unknown function 'double_click'" in result.error
    result = writer_env.step(Action(function="type_text"))
    assert "needs argument 'text'" in result.error
    result = act(writer_env, "set_edit_text", "Bold", text="x")
    assert "does not take text" in result.error
    # the episode goes on after errors
    assert act(writer_env, "select_text", text="quick").ok


def test_commands_that_cannot_run_headless_are_disabled_not_fatal(writer_env) -> None:
    obs = writer_env.reset(task())
    assert control(obs, "Print...").enabled is False
    act(writer_env, "click", "Format")
    obs = act(writer_env, "click", "Columns...").observation  # a dialog we do not describe
    assert obs.last_action_error and "disabled" in obs.last_action_error
    assert act(writer_env, "select_text", text="quick").ok


def test_missing_template_and_unreadable_document(writer_env, tmp_path) -> None:
    with pytest.raises(TemplateError, match="unknown template 'nope'"):
        writer_env.reset(task("nope"))
    with pytest.raises(TemplateError, match="does not exist"):
        writer_env.reset(task(str(tmp_path / "missing.docx")))
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(b"\x00\x01not a document at all" * 100)
    with pytest.raises(TemplateError, match=r"not a valid \.docx file"):
        writer_env.reset(task(str(garbage)))
    with zipfile.ZipFile(garbage, "w") as z:  # a zip package, but not a Word document
        z.writestr("junk.bin", b"\x00\x01" * 100)
    with pytest.raises(TemplateError, match="cannot open"):
        writer_env.reset(task(str(garbage)))
    assert writer_env.reset(task()).controls  # still usable


def test_unknown_check_kind_is_rejected_before_the_episode(writer_env) -> None:
    with pytest.raises(DataError, match="unknown check kind 'shiny'"):
        writer_env.reset(task("line", Check(kind="shiny")))
    with pytest.raises(DataError, match="text: Field required"):
        checks.validate(Check(kind="bold"))


def test_at_least_25_check_kinds() -> None:
    assert len(checks.CHECKS) >= 25


def test_saved_file_must_be_a_valid_docx(tmp_path) -> None:
    from lamforge.envs.writer.env import _check_docx

    broken = tmp_path / "final.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match=r"not a valid \.docx"):
        _check_docx(broken)


def test_errors_from_libreoffice_or_bad_arguments_never_escape_step(writer_env) -> None:
    writer_env.reset(task())
    act(writer_env, "select_text", text="fox")
    act(writer_env, "click", "Format")
    act(writer_env, "click", "Character...")
    result = act(writer_env, "select_option", "Underline", option="#abcdef")
    assert not result.ok and "not an option" in result.error
    act(writer_env, "keyboard", keys="escape")
    result = act(writer_env, "select_text", text="fox", occurrence="two")
    assert not result.ok and "positive integer" in result.error
    result = act(writer_env, "select_text", text="fox", color="red")
    assert not result.ok and "takes no argument" in result.error
    result = act(writer_env, "set_edit_text", "Paragraph Style", text="Heading 99")
    assert not result.ok and "no paragraph style 'Heading 99'" in result.error


def test_dialog_ok_changes_only_what_was_changed(writer_env) -> None:
    writer_env.reset(task("report"))
    act(writer_env, "select_text", text="Revenue")
    act(writer_env, "keyboard", keys="ctrl+shift+end")  # a selection with mixed sizes and styles
    act(writer_env, "keyboard", keys="ctrl+home")
    act(writer_env, "keyboard", keys="ctrl+shift+end")
    act(writer_env, "click", "Format")
    obs = act(writer_env, "click", "Character...").observation
    assert control(obs, "Size").value == ""  # mixed: no single size to show
    act(writer_env, "set_edit_text", "Font color", text="Red")
    act(writer_env, "click", "OK")
    assert verdict(writer_env, Check(kind="font_size", text="Quarterly Report", size=28),
                   Check(kind="font_size", text="Revenue rose", size=12),
                   Check(kind="font_color", text="Revenue rose", color="Red")).status == "pass"


def test_find_next_moves_to_the_next_match(writer_env) -> None:
    writer_env.reset(task("report"))
    act(writer_env, "click", "Edit")
    act(writer_env, "click", "Find and Replace...")
    act(writer_env, "set_edit_text", "Find", text="region")
    first = act(writer_env, "click", "Find Next").observation.canvas
    act(writer_env, "click", "Find Next")
    assert 'selection (body): "region"' in first
    act(writer_env, "click", "Close")
    act(writer_env, "type_text", text="area")  # replaces the second match only
    assert verdict(writer_env, Check(kind="text_count", text="region", count=1),
                   Check(kind="text_present", text="north area")).status == "pass"


def test_step_after_finish_is_an_error(writer_env) -> None:
    writer_env.reset(task())
    assert act(writer_env, "finish").done
    result = act(writer_env, "select_text", text="quick")
    assert not result.ok and result.done and "finished" in result.error


@pytest.mark.parametrize(("task_id", "index", "wrong"), [
    ("bold-word", 1, Action(function="click", control_text="Underline")),
    ("font-size-dialog", 3, Action(function="set_edit_text", control_text="Size",
                                   args={"text": "14 pt"})),
    ("font-color", 1, Action(function="select_option", control_text="Font Color",
                             args={"option": "Blue"})),
    ("underline-shortcut", 1, Action(function="keyboard", args={"keys": "ctrl+i"})),
    ("center-line", 1, Action(function="click", control_text="Right")),
    ("table-fill", 2, Action(function="type_text", args={"text": "Nome"})),
    ("italic-menu", 0, Action(function="select_text", args={"text": "quick"})),
    ("insert-table", 3, Action(function="set_edit_text", control_text="Columns",
                               args={"text": "2"})),
])
def test_one_wrong_action_makes_the_task_fail(writer_env, task_id: str, index: int,
                                              wrong: Action) -> None:
    from lamforge.core import read_jsonl
    from lamforge.envs.episode import run_actions

    from .conftest import SAMPLE_TASKS

    sample = next(t for t in read_jsonl(SAMPLE_TASKS, Task) if t.id == task_id)
    actions = list(sample.actions)
    assert actions[index].function == wrong.function
    actions[index] = wrong
    traj = run_actions(writer_env, sample, actions=actions)
    assert traj.verdict.status == "fail", traj.verdict.reason


def test_checks_that_already_held_are_no_evidence(writer_env) -> None:
    writer_env.reset(task("line", Check(kind="font_name", text="fox", name="Liberation Serif")))
    act(writer_env, "select_text", text="fox")
    act(writer_env, "set_edit_text", "Font Name", text="Liberation Serif")
    v = writer_env.evaluate()
    assert v.status == "unsure" and "already held" in v.reason


def test_canvas_shows_fields_bookmarks_and_properties(writer_env) -> None:
    obs = writer_env.reset(task("line"))
    assert "fields:" not in obs.canvas and "bookmarks:" not in obs.canvas
    act(writer_env, "select_text", text="lazy dog")
    for name in ("Insert", "Bookmark..."):
        act(writer_env, "click", name)
    act(writer_env, "set_edit_text", "Name", text="Dog")
    act(writer_env, "click", "Insert")
    for name in ("Insert", "Field", "Page Count"):
        act(writer_env, "click", name)
    for name in ("File", "Properties..."):
        act(writer_env, "click", name)
    act(writer_env, "set_edit_text", "Title", text="Fox story")
    canvas = act(writer_env, "click", "OK").observation.canvas
    assert "bookmarks: Dog" in canvas
    assert "fields: page count" in canvas
    assert 'title "Fox story"' in canvas


def test_workers_starting_on_a_fresh_library_build_it_once(tmp_path) -> None:
    """Two processes asking for a library nobody built yet: one builds, the other waits and
    opens the finished one (both building made one rewrite a document the other opened)."""
    import subprocess
    import sys

    lib = tmp_path / "lib"
    code = ("import sys; from pathlib import Path; from lamforge.envs.writer.templates import "
            "library; out = library(Path(sys.argv[1])); "
            "print((out / 'description.json').stat().st_mtime_ns)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(lib)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-800:] for _, err in results]
    stamps = {out.strip() for out, _ in results}
    assert len(stamps) == 1, "the library was built twice"
    assert all(zipfile.is_zipfile(p) for p in lib.glob("*.docx"))


def test_an_episode_starts_with_libreoffices_own_settings_as_the_instance_started(
        writer_env) -> None:
    """"Show Whitespace" belongs to LibreOffice, not the document: switched in one episode it
    stayed switched in the next, where headers were hidden and a header's text went into the
    body."""
    writer_env.reset(task("report"))
    shown = control(act(writer_env, "click", "View").observation, "Show Whitespace").value
    act(writer_env, "click", "Show Whitespace")
    switched = control(act(writer_env, "click", "View").observation, "Show Whitespace").value
    assert {shown, switched} == {"on", "off"}
    writer_env.reset(task("report"))
    obs = act(writer_env, "click", "View").observation
    assert control(obs, "Show Whitespace").value == shown  # as the instance started
    act(writer_env, "keyboard", keys="escape")
    for name in ("Insert", "Header and Footer", "Header"):
        assert act(writer_env, "click", name).ok
    act(writer_env, "type_text", text="Quarterly report")
    assert verdict(writer_env, Check(kind="header_text", text="Quarterly report")).status == "pass"
