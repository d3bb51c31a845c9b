"""Ground an action named after another surface in the real dialog on screen.

The dataflow's prefill names dialog fields after the headless environment's hand-written
dialogs ("Type: Page break", "Columns: 2"). A real LibreOffice dialog often says it otherwise:
the choice is a set of radio buttons, the field sits on another tab, the name is a tab's.
Reading the live tree, as a user reads the dialog, settles most of these:

- an option that is itself a control (a radio button, a check box, a list item, a button):
  click it;
- a field that is not on the tab shown: look through the dialog's tabs; the field is set
  after a click on the tab that holds it;
- a value aimed at a tab ("Columns" is the Insert Section dialog's tab): on that tab, the
  field of the same name (not any field of the tab: the tree's order is not the screen's, and
  the Font tab's first field is Language, not Family);
- a "Name" the dialog does not have: the field named for what the dialog makes (Insert
  Section's name box is called "Section"); a "File name": the file chooser's "Name";
- a choice the app's environment knows by another name (`env.renamed`: Writer's Bullets and
  Numbering "Type: Number" is the Customize tab's "Number: 1, 2, 3, ..."; Page Style's
  "Background: Yellow" is the Area tab, its Color button, then the colour): that field and
  option, wherever the dialog holds it, or the clicks that make it.

The actions returned are what a user does; the dataflow runs and records them instead of
the one it could not ground, so a trajectory holds only controls that exist.
"""

from __future__ import annotations

from typing import Any

from lamforge.core import Action, Control, Observation
from lamforge.envs.match import normalize

OPTIONS = ("RadioButton", "CheckBox", "ListItem", "Button")
FIELDS = ("Edit", "ComboBox")


def _named(controls: list[Control], name: str, types: tuple[str, ...]) -> Control | None:
    want = normalize(name)
    return next((c for c in controls if c.type in types and c.enabled
                 and normalize(c.name) == want), None)


def reground(env: Any, action: Action, obs: Observation) -> list[Action] | None:
    """The actions that do what `action` meant in the dialog on screen, or None. May click
    through the dialog's tabs to find a field (the app's state is then that tab)."""
    if not obs.focus.startswith("dialog") or action.function not in (
            "set_edit_text", "select_option", "click") or not action.control_text:
        return None
    name = action.control_text
    dialog = obs.focus.split(":", 2)[1].strip()  # "dialog: Page Style: Default Page Style"
    renamed = getattr(env, "renamed", {}).get((dialog, name))
    if renamed is not None and action.function in ("select_option", "set_edit_text"):
        real, options, via = renamed
        key = "option" if action.function == "select_option" else "text"
        option = str(action.args.get(key, ""))
        action = action.model_copy(update={"control_text": real or name, "args": action.args
                                           | {key: options.get(option, option)}})
        if via or real is None:
            return _through(env, action, obs, via, real)
        name = real
        if (field := _named(obs.controls, name, FIELDS)) is not None:
            return [_retarget(action, field)]
    value = str(action.args.get("option", action.args.get("text", "")))
    if action.function == "select_option" and value:
        option = _named(obs.controls, value, OPTIONS)
        if option is not None:
            return [_click(option)]
    names = [name]
    if normalize(name) == "name":  # "dialog: Insert Section" -> the field "Section"
        names.append(obs.focus.split(":", 1)[-1].split()[-1])
    elif normalize(name).endswith(" name"):  # "File name": the file chooser's "Name"
        names.append("Name")
    tabs = [c for c in obs.controls if c.type == "TabItem"]
    target = _named(obs.controls, name, ("TabItem",))
    if target is None and len(names) > 1 and action.function == "set_edit_text":
        field = _named(obs.controls, names[1], FIELDS)
        if field is not None:
            return [_retarget(action, field)]
    # a field aimed at a tab's name is that tab's field of the same name; otherwise the
    # field may be on any tab
    order = [target] if target is not None else tabs
    for tab in order:
        seen = env.step(Action(function="click", control_label=tab.label)).observation
        if not seen.focus.startswith("dialog"):
            return None
        fields = FIELDS if action.function == "set_edit_text" else (*FIELDS, *OPTIONS)
        field = next((f for n in names if (f := _named(seen.controls, n, fields))), None)
        if field is None and action.function == "select_option" and value:
            option = _named(seen.controls, value, OPTIONS)
            if option is not None:
                return [_click(tab), _click(option)]
        if field is not None:
            return [_click(tab), _retarget(action, field)]
    return None


def _through(env: Any, action: Action, obs: Observation, via: tuple[str, ...],
             field: str | None) -> list[Action] | None:
    """Click the tabs and buttons `via`, then set the option in `field`, or click the option
    itself when `field` is None (a colour of the palette the Area tab's Color button shows)."""
    done: list[Action] = []
    seen = obs
    for name in via:
        control = _named(seen.controls, name, ("TabItem", *OPTIONS))
        if control is None:
            return None
        done.append(_click(control))
        seen = env.step(done[-1]).observation
        if not seen.focus.startswith("dialog"):
            return None
    if field is None:
        option = _named(seen.controls, str(action.args.get("option", "")), OPTIONS)
        return [*done, _click(option)] if option is not None else None
    target = _named(seen.controls, field, FIELDS)
    return [*done, _retarget(action, target)] if target is not None else None


def _retarget(action: Action, field: Control) -> Action:
    return action.model_copy(update={"control_label": field.label, "control_text": field.name})


def _click(control: Control) -> Action:
    """A click on this very control (by its label, stable within an episode: a tab and a
    field may share a name)."""
    return Action(function="click", control_label=control.label, control_text=control.name)
