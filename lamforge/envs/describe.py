"""Candidate actions of a UI app (Writer, Calc, Impress): the moves its controls offer, and
how a ranker LAM reads a candidate (one sentence naming what it does and the control it acts
on). The words are part of what a trained ranker learned, so every UI app says them the same
way."""

from __future__ import annotations

from collections.abc import Callable

from lamforge.core import Action, Control, Observation


def control_moves(obs: Observation, clickable: set[str], fields: set[str],
                  values_for: Callable[[Control], list[str]]) -> list[Action]:
    """What the enabled controls shown offer, in display order: a click on each clickable
    one, each option of a list, and each value `values_for` gives a field."""
    out: list[Action] = []
    for c in obs.controls:
        if not c.enabled:
            continue
        if c.type in clickable:
            out.append(Action(function="click", control_label=c.label))
        if c.options:
            out += [Action(function="select_option", control_label=c.label,
                           args={"option": o}) for o in c.options]
        if c.type in fields:
            out += [Action(function="set_edit_text", control_label=c.label, args={"text": v})
                    for v in values_for(c)]
    return out


def describe_action(action: Action, control: Control | None, keys: dict[str, str]) -> str:
    """A candidate action as the model reads it: what it does, on what, where; `keys`: the
    app's shortcuts with what each does."""
    fn, args = action.function, action.args
    where = f"{control.group or 'app'} {control.type} '{control.name}'" if control else ""
    if fn == "click":
        state = f" (now {control.value})" if control and control.value in ("on", "off") else ""
        return f"click {where}{state}"
    if fn == "select_option":
        return f"choose '{args.get('option')}' in {where}"
    if fn == "set_edit_text":
        return f"enter '{args.get('text')}' in {where}"
    if fn == "select_text":
        return f"select the text '{args.get('text')}' in the document"
    if fn == "type_text":
        return f"type '{args.get('text')}' at the cursor"
    if fn == "keyboard":
        combo = str(args.get("keys"))
        return f"press {combo} ({keys[combo]})" if combo in keys else f"press {combo}"
    if fn == "finish":
        return "finish: the request is done"
    return f"{fn} {where} {args}".strip()
