"""The Writer environment's observation, each action kind, dialogs and bad input."""

from __future__ import annotations

import pytest

from lamforge.core import Action, Check, Task, TemplateError
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
    obs = act(writer_env, "click", "Bullets and Numbering...").observation
    assert obs.last_action_error and "disabled" in obs.last_action_error
    assert act(writer_env, "select_text", text="quick").ok


def test_missing_template_and_unreadable_document(writer_env, tmp_path) -> None:
    with pytest.raises(TemplateError, match="unknown template 'nope'"):
        writer_env.reset(task("nope"))
    with pytest.raises(TemplateError, match="does not exist"):
        writer_env.reset(task(str(tmp_path / "missing.docx")))
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(b"\x00\x01not a document at all" * 100)
    with pytest.raises(TemplateError, match="cannot open"):
        writer_env.reset(task(str(garbage)))
    assert writer_env.reset(task()).controls  # still usable


def test_unknown_check_kind_is_rejected_before_the_episode(writer_env) -> None:
    with pytest.raises(Exception, match="unknown check kind 'shiny'"):
        writer_env.reset(task("line", Check(kind="shiny")))
    with pytest.raises(Exception, match="missing parameter"):
        checks.validate(Check(kind="bold"))


def test_at_least_25_check_kinds() -> None:
    assert len(checks.CHECKS) >= 25


def test_saved_file_must_be_a_valid_docx(tmp_path) -> None:
    from lamforge.envs.writer.env import _check_docx

    broken = tmp_path / "final.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match=r"not a valid \.docx"):
        _check_docx(broken)
