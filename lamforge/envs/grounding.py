"""Ground a model's answer in the live application and the request before it is executed.

A small model names controls by the labels it saw and copies values from the request; both go
wrong in ways the app can settle. The control is taken by label when that label is on screen,
else by its exact name (a model may remember a name better than a number). A value the model
wrote that is nowhere in the request (a text to select, a field value, an option) was invented:
it is replaced by the request's value for that field ("…; Columns: 2)"), by the value the
request names right after the field's name ('the password "US"'), or by the request's quoted
text (else a date, time or number in it) closest to it; a text to select that is a quoted
text cut short is completed.
Any other value that is in the request is never touched, nor one that only adds spaces around
a text the request has (' Signed.' typed after the last word), an option the control itself
offers ('Heading 1' in the paragraph styles), a text to select that the document shows, or a
value the environment's own candidates offer for that control in this state (a number to
guess that the page's last answer leaves); a quote that ends in an ellipsis ('We expect
demand…') quotes the text before it.

It lives beside `match` (below the agent) because the dataflow needs it too: a trajectory is
kept only if the agent's grounding leaves every expert step as it is (`disagreement`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lamforge.core import Action, Control, Observation, Trajectory
from lamforge.core.text import quoted
from lamforge.envs.match import match_control, normalize

if TYPE_CHECKING:
    from lamforge.envs.base import ActionSpec

_FIELD = re.compile(r"^\s*([A-Za-z][\w .&/-]*?)\s*:\s*(.+?)\s*$")


def request_values(request: str) -> tuple[list[str], dict[str, str]]:
    """The quoted texts of a request and its `Field: value` pairs (from a trailing
    parenthesis such as "(on the text 'lazy dog'; Columns: 2)")."""
    # a quote that ends in an ellipsis ('We expect demand…') quotes the text before it
    texts = [re.sub(r"\s*(…|\.\.\.)$", "", q) or q for q in quoted(request)]
    fields: dict[str, str] = {}
    tail = re.search(r"\(([^()]*)\)\s*$", request)
    if tail:
        for part in tail.group(1).split(";"):
            m = _FIELD.match(part)
            if m:
                fields[normalize(m.group(1))] = m.group(2)
    return texts, fields


def _closest(value: str, candidates: list[str]) -> str | None:
    from rapidfuzz import fuzz

    if not candidates:
        return None
    return max(candidates, key=lambda c: fuzz.ratio(value.lower(), c.lower()))


Offered = Callable[[Observation, str], list[Action]]
"""An environment's candidate actions for a state and request (`Env.candidates`)."""


def offered_by(env: Any) -> Offered:
    """`env`'s candidates (an environment or its class), none where it proposes none."""
    from lamforge.core import LamforgeError

    def offered(obs: Observation, request: str) -> list[Action]:
        try:
            return env.candidates(obs, request)
        except LamforgeError:
            return []
    return offered


def ground_args(function: str, args: dict[str, Any], control: Control | None,
                request: str, document: str = "",
                offered: Callable[[], list[Action]] | None = None) -> dict[str, Any]:
    """The args with every invented value replaced by the request's (see the module doc);
    `document` is the observation's canvas, where a text to select may be found; `offered`
    gives the environment's candidates for the state (asked only when a value is not in the
    request)."""
    quoted, fields = request_values(request)
    out = dict(args)
    for key in ("text", "option"):
        value = out.get(key)
        if not isinstance(value, str):
            continue
        cut = any(value.lower() in q.lower() and value.lower() != q.lower() for q in quoted)
        if function in ("select_text", "type_text") and cut:  # a quoted text cut short
            out[key] = _closest(value, quoted) or value
            continue
        if value.strip().lower() in request.lower():  # a space typed before it is the user's
            continue
        if control is not None and any(normalize(o) == normalize(value)
                                       for o in control.options or []):
            continue  # an option the control offers exists, whatever the request says
        if function == "select_text" and value.strip() and value in document:
            continue  # a text the document shows exists too
        if offered is not None and any(
                a.function == function and a.args.get(key) == value and
                a.control_label == (control.label if control else None) for a in offered()):
            continue  # the environment itself offers it here
        if control is not None and normalize(control.name) in fields:
            out[key] = fields[normalize(control.name)]
        elif function in ("select_text", "type_text"):
            out[key] = _closest(value, quoted) or value
        else:  # a field's value: the one the request names after the field, else the closest
            values = quoted or _value_words(request)
            out[key] = (_named_after(control.name, request, values) if control else None) \
                or _closest(value, values) or value
    return out


def _value_words(request: str) -> list[str]:
    """Values a request gives without quotes: a time, a date, a number ("Enter 10/11/2011",
    "8:04 PM", "Select -7")."""
    return re.findall(r"\b\d{1,2}:\d{2}\s*[AP]M\b|-?\d[\d/:.,]*\d|-?\d", request, flags=re.I)


def _named_after(name: str, request: str, values: list[str]) -> str | None:
    """The first value after the field's name in the request ('the username "vina" and the
    password "US"': "US" for Password)."""
    words = [w for w in re.findall(r"\w+", name.lower()) if len(w) > 2]
    low = request.lower()
    at = max((low.find(w) for w in words), default=-1)
    if at < 0:
        return None
    after = [(low.find(v.lower(), at), v) for v in values]
    after = [(i, v) for i, v in after if i >= 0]
    return min(after)[1] if after else None


def ground(answer: dict[str, Any], obs: Observation, request: str,
           offered: Offered | None = None) -> Action:
    """The model's parsed answer as an action on the live controls; `offered`, the
    environment's candidates, keeps a value it proposes itself."""
    label = answer.get("control_label")
    label = None if label in (None, "") else str(label)
    name = answer.get("control_name")
    if label is not None and obs.control(label) is None and name:
        match = next((c for c in obs.controls if c.name == name and c.enabled), None)
        label = match.label if match else label
    control = obs.control(label) if label else None
    function = str(answer["function"])
    args = answer.get("args") or {}
    return Action(function=function, control_label=label,
                  args=ground_args(function, args, control, request, obs.canvas,
                                   (lambda: offered(obs, request)) if offered else None))


def ground_answer(answer: dict[str, Any], obs: Observation, request: str,
                  specs: Mapping[str, ActionSpec], offered: Offered | None = None) -> Action:
    """`ground`, except that a function whose arguments are its control's own (a tool's
    parameters, `ActionSpec.control_args`) keeps them as written: value grounding is for a UI's
    fields, not for an API's parameters."""
    action = ground(answer, obs, request, offered)
    spec = specs.get(action.function)
    if spec is not None and spec.control_args:
        action = action.model_copy(update={"args": answer.get("args") or {}})
    return action


def disagreement(traj: Trajectory, specs: Mapping[str, ActionSpec],
                 offered: Offered | None = None) -> str | None:
    """Where the agent's grounding would change an expert step of `traj`, and how; None when
    it leaves every step as it is.

    Replaying the expert through the agent answers each step with the recorded action; the
    grounding then sees that step's observation and request. A value the request does not
    name is rewritten there, so the replay (and a model that learnt the step) fails online
    though the trajectory passed offline."""
    turns = list(traj.task.meta.get("turns") or [traj.task.request])
    turn = 0
    for i, step in enumerate(traj.steps):
        a = step.action
        if a.control_label:
            control = step.observation.control(a.control_label)
        else:  # an action written by the control's name (a sample task's `control_text`)
            control = match_control(a.control_text, step.observation.controls, "exact") \
                if a.control_text else None
        label = control.label if control else a.control_label
        answer = {"control_label": label, "control_name": control.name if control
                  else None, "function": a.function, "args": a.args}
        grounded = ground_answer(answer, step.observation, turns[turn], specs, offered)
        if grounded.control_label != label:
            return (f"step {i + 1} ({a.function}): the agent's grounding picks control "
                    f"{grounded.control_label} instead of {label}")
        for key, value in a.args.items():
            if grounded.args.get(key) != value:
                return (f"step {i + 1} ({a.function}): the agent's grounding changes {key} "
                        f"{value!r} to {grounded.args.get(key)!r} (the request does not name it)")
        if a.function == "finish" and step.ok and turn + 1 < len(turns):
            turn += 1
    return None
