"""Grounding a model's answer: the control by label or name, invented values from the request."""

from __future__ import annotations

from lamforge.core import Control, Observation
from lamforge.envs.grounding import ground, request_values

REQUEST = "Open the Font command (on the text 'steady growth'; Size: 14 pt; Comments: Draft)"


def obs() -> Observation:
    return Observation(controls=[
        Control(label="1", name="Size", type="Edit", group="dialog"),
        Control(label="2", name="Comments", type="Edit", group="dialog"),
        Control(label="3", name="OK", type="Button", group="dialog")])


def test_request_values_reads_quotes_and_fields() -> None:
    quoted, fields = request_values(REQUEST)
    assert quoted == ["steady growth"]
    assert fields == {"size": "14 pt", "comments": "Draft"}


def test_invented_values_are_replaced_and_request_values_kept() -> None:
    sel = ground({"function": "select_text", "args": {"text": "steady grow"}}, obs(), REQUEST)
    assert sel.args == {"text": "steady growth"} and sel.control_label is None
    field = ground({"control_label": "1", "function": "set_edit_text",
                    "args": {"text": "20 pt"}}, obs(), REQUEST)
    assert field.args == {"text": "14 pt"}
    kept = ground({"control_label": "2", "function": "set_edit_text",
                   "args": {"text": "steady growth"}}, obs(), REQUEST)
    assert kept.args == {"text": "steady growth"}  # in the request: never touched


def test_control_by_name_when_the_label_is_not_on_screen() -> None:
    a = ground({"control_label": "40", "control_name": "OK", "function": "click"}, obs(),
               REQUEST)
    assert a.control_label == "3"
    b = ground({"control_label": "40", "control_name": "Cancel", "function": "click"}, obs(),
               REQUEST)
    assert b.control_label == "40"  # no such control: the app will say so


def test_a_field_gets_the_value_the_request_names_after_it() -> None:
    request = 'Enter the username "tula" and the password "EiT" into the text fields.'
    o = Observation(controls=[Control(label="4", name="Username", type="textbox"),
                              Control(label="7", name="Password", type="textbox")])
    user = ground({"control_label": "4", "function": "fill", "args": {"text": "Focus"}}, o,
                  request)
    pw = ground({"control_label": "7", "function": "fill", "args": {"text": "Focus"}}, o,
                request)
    assert user.args == {"text": "tula"} and pw.args == {"text": "EiT"}
    date = ground({"control_label": "4", "function": "fill", "args": {"text": "1/2/2000"}},
                  o, "Enter 10/11/2011 as the date and hit submit.")
    assert date.args == {"text": "10/11/2011"}  # no quotes: the date in the request
    kept = ground({"control_label": "4", "function": "fill", "args": {"text": "EiT"}}, o,
                  request)
    assert kept.args == {"text": "EiT"}  # in the request: never touched


def test_what_the_request_quotes_is_kept_as_the_user_wrote_it() -> None:
    """A quote cut with an ellipsis quotes the text before it, and a space typed before a
    quoted text is the user's: neither was invented."""
    request = "Make the paragraph 'We expect demand…' a Heading 2 and add 'Signed.' at the end"
    assert request_values(request)[0] == ["We expect demand", "Signed."]
    sel = ground({"function": "select_text", "args": {"text": "We expect demand"}}, obs(), request)
    assert sel.args == {"text": "We expect demand"}
    typed = ground({"function": "type_text", "args": {"text": " Signed."}}, obs(), request)
    assert typed.args == {"text": " Signed."}


def test_values_that_exist_on_screen_are_not_invented() -> None:
    """An option the control offers and a text the document shows are the user's to pick,
    even when the request names them otherwise ("make 'Tool shed' a heading")."""
    from lamforge.core import Observation

    styles = Control(label="1", name="Paragraph Style", type="ComboBox", group="toolbar",
                     options=["Default Paragraph Style", "Heading 1", "Heading 2"])
    screen = Observation(controls=[styles], canvas='p0 [Standard] "Tool shed rules"')
    request = "make 'Tool shed' a heading"
    opt = ground({"control_label": "1", "function": "select_option",
                  "args": {"option": "Heading 2"}}, screen, request)
    assert opt.args == {"option": "Heading 2"}
    sel = ground({"function": "select_text", "args": {"text": "Tool shed rules"}}, screen,
                 request)
    assert sel.args == {"text": "Tool shed rules"}
    bad = ground({"control_label": "1", "function": "select_option",
                  "args": {"option": "Heading 7"}}, screen, request)
    assert bad.args == {"option": "Tool shed"}  # not an option: the request's value
