"""The generic web explorer's moves, on hand-made observations (no browser): strings come from
the instruction, a string goes to the field named just before it, drop-downs are chosen by
their options, read-only fields get no typing, dates and times take the input's format."""

from __future__ import annotations

from lamforge.core import Control, Observation
from lamforge.envs.web.candidates import html_value, propose, relevance, strings_in


def obs(*controls: Control) -> Observation:
    return Observation(controls=list(controls))


def test_strings_are_quoted_first_then_value_like_words() -> None:
    assert strings_in('Enter the username "vina" and the password "US" and press login.')[:2] \
        == ["vina", "US"]
    assert strings_in("Enter 8:04 PM as the time and press submit.")[0] == "8:04 PM"
    assert "10/11/2011" in strings_in("Enter 10/11/2011 as the date and hit submit.")
    assert "Submit" not in strings_in("Select Bobine and click Submit.")  # a stop word


def test_a_string_goes_first_to_the_field_named_before_it() -> None:
    request = 'Enter the username "vina" and the password "US" into the text fields.'
    o = obs(Control(label="4", name="Username", type="textbox"),
            Control(label="7", name="Password", type="textbox"),
            Control(label="8", name="Login", type="button"))
    fills = [(a.control_label, a.args["text"]) for a in propose(o, request)
             if a.function == "fill"]
    assert fills[:2] == [("4", "vina"), ("7", "US")]


def test_named_controls_rank_first_and_unnamed_text_is_not_clicked() -> None:
    o = obs(Control(label="1", name="no", type="button"),
            Control(label="2", name="lorem ipsum", type="StaticText"),
            Control(label="3", name="okay", type="button"))
    actions = propose(o, 'Click on the "okay" button.')
    assert actions[0].control_label == "3"
    assert "2" not in {a.control_label for a in actions}
    assert relevance("Delta tab", "Click the tab named Delta.") == 1.0


def test_drop_downs_and_read_only_fields_take_no_typing() -> None:
    o = obs(Control(label="1", name="options", type="combobox", options=["Aurora", "Bobine"]),
            Control(label="2", name="Aurora", type="option"),
            Control(label="3", name="Bobine", type="option"),
            Control(label="5", name="datepicker", type="textbox readonly"))
    actions = propose(o, "Select Bobine from the list and click Submit.")
    assert actions[0].function == "click" and actions[0].control_label == "3"
    assert not [a for a in actions if a.function == "fill"]
    assert {a.control_label for a in actions} >= {"2", "3", "5"}  # clicks stay possible


def test_dates_and_times_take_the_html_input_format() -> None:
    assert html_value("Date", "10/11/2011") == "2011-10-11"
    assert html_value("InputTime", "8:04 PM") == "20:04"
    assert html_value("InputTime", "12:30 AM") == "00:30"
    assert html_value("InputTime", "12:30 PM") == "12:30"
    assert html_value("textbox", "10/11/2011") == "10/11/2011"
