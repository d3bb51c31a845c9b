"""The search's moves beyond click and fill, each on a MiniWoB++ page that needs it, in real
Chromium: a colour named from the page's own styles, ctrl-click in a multi-select list, keys
in a focused field (an autocomplete's list), a scroll inside a text area, a drag, a date
picker through its calendar and a number guessed from the page's answers. For each: the
search (no demonstrations, no per-task code) finds a way, the way uses the move, and its
actions replay to reward 1 on their seed."""

from __future__ import annotations

import re

import pytest

from lamforge.core import Action, Control, Observation, Trajectory
from lamforge.dataflow.search import SearchConfig, search
from lamforge.envs.episode import run_actions
from lamforge.envs.web.candidates import (
    date_in,
    date_moves,
    drag_moves,
    guesses,
    propose,
    quoted_parts,
    scroll_moves,
)
from lamforge.envs.web.env import WebEnv
from lamforge.envs.web.miniwob import make_task

DIVE = SearchConfig(dive=0.9)
"""Most of the budget to the dive: the long ways (a calendar, guesses) are the dive's."""


def clicked(traj: Trajectory) -> list[Control]:
    """The controls the way clicked, as the step's observation showed them."""
    return [c for s in traj.steps if s.action.function == "click"
            for c in [s.observation.control(s.action.control_label or "")] if c]


@pytest.fixture(scope="module")
def env():
    with WebEnv() as e:
        yield e


def found(env: WebEnv, name: str, seed: int, cfg: SearchConfig | None = None) -> Trajectory:
    traj = search(env, make_task(name, seed), cfg)
    assert traj.verdict is not None and traj.verdict.status == "pass", traj.verdict
    again = run_actions(env, traj.task)
    assert again.verdict is not None and again.verdict.status == "pass", again.verdict
    return traj


@pytest.mark.browser
def test_a_colour_box_is_named_by_its_colour_and_the_swatch_in_the_instruction_too(env) -> None:
    traj = found(env, "click-color", 0)  # this seed shows the colour as a swatch, not a word
    colour = re.search(r"Click on the (\w+) colored box", traj.task.request)
    assert colour, traj.task.request
    assert [c.name for c in clicked(traj)] == [f"{colour[1]} color"]
    shades = found(env, "click-shades", 0)  # several to choose, then Submit
    want = re.search(r"shades of (\w+)", shades.task.request)[1]
    boxes = [c for c in clicked(shades) if c.type == "generic"]
    assert len(boxes) >= 2 and all(c.name == want for c in boxes)


@pytest.mark.browser
def test_ctrl_click_adds_an_option_to_a_multi_select_list(env) -> None:
    traj = found(env, "click-scroll-list", 0)  # two names to select, then Submit
    held = [s.action for s in traj.steps if s.action.args.get("modifiers") == "Control"]
    assert held and all(s.observation.control(held[0].control_label).type == "option"
                        for s in traj.steps if s.action == held[0])


ENTER_PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" type="text/css" href="../core/core.css">
<script src="../core/core.js"></script>
<script src="../core/jquery-ui/external/jquery/jquery.js"></script>
<script>
var genProblem = function() {
  var word = ['apple', 'river', 'stone', 'cloud'][core.randi(0, 4)];
  $('#query').html('Type "' + word + '" in the box and press Enter.');
  $('#box').val('');
  $('#box').off('keydown').on('keydown', function(e) {
    if (e.keyCode === 13) { var r = $('#box').val() === word ? 1 : -1; core.endEpisode(r, r > 0); }
  });
}
window.onload = function() { core.startEpisode(); }
</script></head><body><div id="wrap"><div id="query"></div>
<div id="area"><input id="box"></div></div></body></html>"""
"""A page in MiniWoB++'s form (its core library, its episode and reward) that only a key
ends: a field with no button, sent by Enter. No page of the suite needs a key any more
(use-autocomplete's list shows after typing): this one is written for the test."""


@pytest.mark.browser
def test_enter_in_a_focused_field_sends_it(tmp_path, monkeypatch) -> None:
    import lamforge.envs.web.env as web

    pages = tmp_path / "html" / "miniwob"
    pages.mkdir(parents=True)
    (pages / "press-enter.html").write_text(ENTER_PAGE)
    (tmp_path / "html" / "core").symlink_to(web.miniwob_dir().parent / "core")
    monkeypatch.setattr(web, "miniwob_dir", lambda: pages)
    with WebEnv() as own:
        traj = found(own, "press-enter", 3)
    assert [s.action.function for s in traj.steps] == ["fill", "keyboard"]
    assert traj.steps[-1].action.args == {"keys": "Enter"}


@pytest.mark.browser
def test_a_field_suggestions_are_read_after_typing_and_one_is_chosen(env) -> None:
    """jQuery UI's autocomplete shows its list 300 ms after the typing: the step waits for
    it, and the suggestion that begins with what was typed (and ends as the instruction
    says) is tried before other words are typed."""
    traj = found(env, "use-autocomplete", 1)
    assert [s.action.function for s in traj.steps] == ["fill", "click", "click"]
    chosen = clicked(traj)[0].name
    start, end = re.findall(r'"([^"]+)"', traj.task.request)
    assert chosen.startswith(start) and chosen.endswith(end)
    assert traj.steps[1].observation.control(traj.steps[0].action.control_label).value == start


@pytest.mark.browser
def test_a_scroll_inside_a_text_area(env) -> None:
    traj = found(env, "scroll-text-2", 1)  # this seed wants the text area at its top
    scrolls = [s for s in traj.steps if s.action.function == "scroll"]
    assert scrolls and all(s.action.control_label and s.action.args["dy"] < 0 for s in scrolls)
    # the way ends with the text at its top, as the observation before Submit shows
    assert re.search(r"^Scroll \S+: 0 of \d+ px", traj.steps[-1].observation.canvas, re.M)
    # an episode that typed into the text area does not leave its text to the next one
    env.reset(make_task("scroll-text-2", 1))
    env.step(Action(function="fill", control_label=scrolls[0].action.control_label,
                    args={"text": "top"}))
    fresh = env.reset(make_task("scroll-text-2", 1))
    assert fresh.control(scrolls[0].action.control_label).value != "top"


@pytest.mark.browser
def test_a_shape_is_named_by_size_colour_and_kind_and_the_ranker_reads_the_page(env) -> None:
    """An SVG shape reads as a user names it ("large red circle": large or small only where
    the drawing's shapes differ in size), and what a page shows goes into a ranker's
    context: the figure identify-shape asks about is in neither the request nor a
    candidate."""
    from lamforge.ranker.state import RankState, context_text

    names = [c.name for c in env.reset(make_task("click-shape", 5)).controls]
    assert {"small red rectangle", "large yellow rectangle", "large red circle"} <= set(names)
    obs = env.reset(make_task("identify-shape", 4))
    assert "magenta circle" in [c.name for c in obs.controls]  # the only shape: no size
    state = RankState(request=env.instruction() or "", controls=obs.controls)
    assert "screen: page showing: " in context_text(state, env_cls=WebEnv)
    assert "magenta circle" in context_text(state, env_cls=WebEnv)
    assert "magenta circle" not in context_text(state)  # another app's screen: its dialogs


@pytest.mark.browser
def test_an_episode_starts_with_no_field_or_box_the_last_one_left(env) -> None:
    """The same seed, the same page: what an episode typed or checked is gone at the next
    one's start (the page's new problem does not clear it; the search's first observation
    of focus-text-2 showed the boxes an earlier try had filled)."""
    for name in ("focus-text-2", "click-checkboxes"):
        task = make_task(name, 0)
        first = env.reset(task)
        box = next(c for c in first.controls if c.type in ("textbox", "checkbox"))
        touched = env.step(Action(function="fill", control_label=box.label, args={"text": "x"})
                           if box.type == "textbox" else
                           Action(function="click", control_label=box.label)).observation
        assert touched.control(box.label).value in ("x", "checked"), name
        again = env.reset(task)
        assert [(c.name, c.value) for c in again.controls] == \
            [(c.name, c.value) for c in first.controls], name

    # a widget's ARIA state goes too: a jQuery UI spinner writes its number into
    # aria-valuenow, which the accessibility tree reads before the field's own value (the
    # next episode's spinner read "-8" where its field held 0, and the ranker clicked Submit)
    task = make_task("use-spinner", 0)
    first = env.reset(task)
    spinner = next(c for c in first.controls if c.type == "spinbutton")
    env.step(Action(function="fill", control_label=spinner.label, args={"text": "-8"}))
    submit = next(c for c in first.controls if c.name == "Submit")
    env.step(Action(function="click", control_label=submit.label))  # the field loses focus
    again = env.reset(task)
    assert again.control(spinner.label).value == first.control(spinner.label).value == "0"


@pytest.mark.browser
def test_a_drag_drops_one_box_inside_another(env) -> None:
    traj = found(env, "drag-box", 0)
    drags = [s for s in traj.steps if s.action.function == "drag"]
    assert len(drags) == 1
    small = drags[0].observation.control(drags[0].action.control_label)
    assert small is not None and small.name == "s" and "draggable" in small.type
    assert env.step(drags[0].action.model_copy(update={"args": {"to": "999"}})).error == \
        "no control labelled '999' to drop on is on the page"


@pytest.mark.browser
def test_a_date_picker_is_worked_through_its_calendar(env) -> None:
    traj = found(env, "choose-date-medium", 0, DIVE)  # a month back, then the day
    day = date_in(traj.task.request)[2]
    names = [c.name for c in clicked(traj)]
    assert "Prev" in names and str(day) in names
    assert names.index("Prev") < names.index(str(day))
    # each day of the calendar says its whole date, as the instruction writes it: the day
    # the instruction names is only on the page once its month is shown
    want = re.search(r"\d\d/\d\d/\d{4}", traj.task.request)[0]
    days = [s.observation.control(s.action.control_label) for s in traj.steps
            if s.action.function == "click"]
    assert days[-2].value == want  # the day, then Submit
    assert all(c.value != want for s in traj.steps[:-2] for c in s.observation.controls)
    assert "(" + want + ")" in WebEnv.describe_candidate(traj.steps[-2].action, days[-2])


@pytest.mark.browser
def test_a_point_told_apart_only_by_its_id_is_named_by_it(env) -> None:
    """A grid's 25 points look the same (blue circles); a model reading the page's HTML
    tells them apart by their ids ("(1,-2)"), and so does a control's name here."""
    traj = found(env, "grid-coordinate", 0)
    point = re.search(r"\(-?\d,-?\d\)", traj.task.request)[0]
    assert [c.name for c in clicked(traj)] == [f"blue circle {point} plot-point"]


@pytest.mark.browser
def test_a_number_is_guessed_from_the_page_answers(env) -> None:
    traj = found(env, "guess-number", 0, DIVE)
    tried = [s.action.args["text"] for s in traj.steps if s.action.function == "fill"]
    assert len(tried) >= 2 and len(set(tried)) == len(tried)  # no guess made twice
    answers = [re.search(r"(higher|lower) than (\d+)", s.observation.canvas)
               for s in traj.steps]
    # each guess after the first follows the page's last answer
    for s, said in zip(traj.steps, answers, strict=True):
        if s.action.function == "fill" and said:
            n = int(said[2])
            assert int(s.action.args["text"]) > n if said[1] == "higher" else \
                int(s.action.args["text"]) < n


@pytest.mark.browser
def test_a_click_holds_only_a_modifier_key(env) -> None:
    obs = env.reset(make_task("click-scroll-list", 0))
    option = next(c for c in obs.controls if c.type == "option")
    r = env.step(propose(obs, env.instruction())[0].model_copy(
        update={"control_label": option.label, "args": {"modifiers": "Meta+Q"}}))
    assert not r.ok and "click holds one of Control, Shift, Alt" in (r.error or "")


def test_the_moves_from_an_observation_alone() -> None:
    """No browser: what each new move reads from an observation and the instruction."""
    cal = Observation(canvas="Prev Next\nNovember 2016\nSu Mo", controls=[
        Control(label="7", name="Prev", type="link"), Control(label="9", name="Next",
                                                              type="link"),
        Control(label="40", name="2", type="link")])
    assert date_in("Select 12/02/2016 as the date") == (2016, 12, 2)
    assert date_in("the meeting on March 3, 2017") == (2017, 3, 3)
    assert date_moves(cal, "Select 12/02/2016 as the date") == {"9": 3.5}
    assert date_moves(cal, "Select 11/02/2016 as the date") == {"40": 3.5}
    assert date_moves(cal, "Select 10/02/2016 as the date") == {"7": 3.5}
    field = Control(label="3", name="tt", type="spinbutton")
    assert guesses(Observation(controls=[field]), "Guess the number between 0-9.")[:3] == \
        ["4", "3", "5"]
    assert guesses(Observation(controls=[field], canvas="The number is higher than 4."),
                   "Guess the number between 0-9.") == ["5", "6", "7", "8", "9"]
    assert guesses(Observation(canvas="The number is lower than 2."),
                   "Guess a number from 0 to 9") == ["1", "0"]
    assert quoted_parts("Antarctica", 'starts with "An" and ends with "ica"') == 1.0
    assert quoted_parts("Andorra", 'starts with "An" and ends with "ica"') == 0.5
    text = Observation(canvas="Scroll 5: 0 of 300 px (a page is 100 px)\n")
    (score, down), = scroll_moves(text, "Scroll the text area to the bottom")
    assert down.control_label == "5" and down.args == {"dy": 80} and score > 2
    nearly = Observation(canvas="Scroll page: 250 of 300 px (a page is 100 px)\n")
    assert sorted(a.args["dy"] for _, a in scroll_moves(nearly, "Find the link")) == [-80, 50]
    boxes = Observation(controls=[Control(label="2", name="s", type="StaticText draggable"),
                                  Control(label="3", name="L", type="StaticText draggable"),
                                  Control(label="4", name="Submit", type="button")])
    assert {(a.control_label, a.args["to"]) for _, a in drag_moves(boxes, "Drag s into L")} \
        == {("2", "3"), ("3", "2")}
    assert drag_moves(Observation(controls=boxes.controls[2:]), "Drag it") == []


def test_a_ranker_sees_the_focus_the_key_moves_depend_on() -> None:
    """The focused field travels with a step sample and a ranker's state (its served prompt
    too), so a trained ranker is offered the same key presses as the search."""
    from lamforge.core import StepSample
    from lamforge.ranker.model import candidates
    from lamforge.ranker.state import RankState

    field = Control(label="2", name="Tags:", type="textbox", value="An")
    sample = StepSample(id="t#1", task_id="t", step=1, request='Enter "An…ica".',
                        controls=[field], focus="2", function="keyboard")
    state = RankState.from_sample(sample)
    again, _ = RankState.from_prompt(state.to_prompt())
    for s in (state, again):
        keys = [c.action.args.get("keys") for c in candidates(WebEnv, s)
                if c.action.function == "keyboard"]
        assert keys == ["ArrowDown", "Enter"]
    unfocused = RankState.from_sample(sample.model_copy(update={"focus": ""}))
    assert not [c for c in candidates(WebEnv, unfocused) if c.action.function == "keyboard"]


def test_a_guess_the_page_offers_is_not_taken_for_an_invented_value() -> None:
    """The agent's grounding rewrites a value the request does not name, but not one the
    environment's own candidates propose in that state (a number the page's answer leaves):
    else the search's guesses would be refused by the flow and changed under a ranker."""
    from lamforge.envs.grounding import ground, offered_by

    field = Control(label="9", name="tt", type="spinbutton")
    obs = Observation(controls=[field, Control(label="10", name="Submit", type="button")],
                      canvas="The number is higher than 4.")
    request = "Guess the number between 0-9 and press Submit."
    answer = {"control_label": "9", "function": "fill", "args": {"text": "6"}}
    assert ground(answer, obs, request).args == {"text": "0"}  # not named, not offered
    assert ground(answer, obs, request, offered_by(WebEnv)).args == {"text": "6"}
    # a value the page's answer rules out is still not offered, and still rewritten
    low = {**answer, "args": {"text": "3"}}
    assert ground(low, obs, request, offered_by(WebEnv)).args == {"text": "0"}


@pytest.mark.browser
def test_a_ranker_reads_which_boxes_are_checked_and_which_fields_are_filled(env) -> None:
    """A ranker embeds a candidate apart from its context: the control's state goes into the
    candidate's text, so a box checked or a field filled reads apart from one still to do."""
    from lamforge.ranker.model import candidates
    from lamforge.ranker.state import RankState

    task = make_task("enter-password", 0)
    obs = env.reset(task)
    fields = [c for c in obs.controls if c.type == "textbox"]
    assert len(fields) == 2, fields  # 'Password' and 'Verify password'
    first = Action(function="fill", control_label=fields[0].label, args={"text": "abc"})

    def texts(o: Observation, request: str) -> dict[str, str]:
        state = RankState(request=request, controls=o.controls, canvas=o.canvas, focus=o.focus)
        out: dict[str, str] = {}
        for c in candidates(WebEnv, state):  # the first of each control's candidates
            out.setdefault(c.action.control_label or "", c.text)
        return out

    assert "(empty)" in texts(obs, task.request)[fields[0].label]
    obs = env.step(first).observation
    now = texts(obs, task.request)  # a password field's text is masked: '•••'
    assert "(empty)" not in now[fields[0].label] and "(empty)" in now[fields[1].label], now
    boxes = make_task("click-checkboxes", 0)
    obs = env.reset(boxes)
    box = next(c for c in obs.controls if c.type == "checkbox")
    assert "(not checked)" in texts(obs, boxes.request)[box.label]
    obs = env.step(Action(function="click", control_label=box.label)).observation
    assert "(checked)" in texts(obs, boxes.request)[box.label]
