"""Every action a user could take in a Calc or Impress window, for a model that chooses among
them (a ranker LAM) and for verified exploration.

The window's own controls give most of them: click an enabled menu, item, button, tab, check
box or icon (a layout, a transition, a colour); choose an option a list offers; enter into a
field a value the request gives. Values are text that exists in the request, never invented:
a cell or range for the Name Box ('B2:B4'), the value the request names after a field
('Name: Home costs', 'Width: 3.5 cm'), a quoted text, a measure. Keys close, confirm and undo.

Like Writer's (`envs.writer.candidates`), the list depends on the observation and the request
only, so offline evaluation of a step sample and the live agent see the same candidates.
"""

from __future__ import annotations

import re

from lamforge.core import Action, Control, Observation
from lamforge.envs.describe import control_moves, describe_action
from lamforge.envs.grounding import request_values
from lamforge.envs.match import normalize

CLICKABLE = {"Menu", "MenuItem", "Button", "CheckBox", "SplitButton", "ListItem", "TabItem",
             "RadioButton", "ToggleButton", "TreeItem"}
"""Controls a click acts on."""
FIELDS = {"Edit", "ComboBox", "SpinField"}
"""Controls that take typed text."""
CELL_BOXES = {"name box"}
"""Fields that take a cell or a range, and nothing else."""

KEYS: dict[str, str] = {
    "enter": "confirm (the dialog's default button, the cell's input)",
    "escape": "close the menu or dialog", "tab": "next field", "ctrl+z": "undo",
    "delete": "delete the selected cells' contents or object",
}
"""The shortcuts offered, with what each does (read by the model with the keys)."""

_CELLS = re.compile(r"\b[A-Z]{1,3}[1-9]\d{0,4}(?::[A-Z]{1,3}[1-9]\d{0,4})?\b")
_MEASURE = re.compile(r"-?\d+(?:[.,]\d+)?\s*(?:pt|cm|mm|in|%)(?!\w)", re.I)


def values(request: str) -> tuple[list[str], dict[str, str], list[str]]:
    """The request's cells and ranges, its `Field: value` pairs, and its other values
    (quoted texts, measures)."""
    quoted, fields = request_values(request)
    cells = list(dict.fromkeys(_CELLS.findall(request)))
    other = [*quoted, *fields.values(), *_MEASURE.findall(request)]
    return cells, fields, list(dict.fromkeys(v.strip() for v in other if v.strip()))


def _field_values(c: Control, cells: list[str], fields: dict[str, str],
                  other: list[str]) -> list[str]:
    """What may go into field `c`: cells for a cell box; else the value the request names
    after this field, then the request's values not named after another field."""
    name = normalize(c.name)
    if name in CELL_BOXES:
        return cells
    own = fields.get(name)
    taken = {v for f, v in fields.items() if f != name}
    return list(dict.fromkeys([*([own] if own else []), *(v for v in other if v not in taken)]))


def propose(obs: Observation, request: str) -> list[Action]:
    """The candidate actions of this state, in a stable order (display order, then keys)."""
    cells, fields, other = values(request)
    out = control_moves(obs, CLICKABLE, FIELDS,
                        lambda c: _field_values(c, cells, fields, other))
    out += [Action(function="keyboard", args={"keys": k}) for k in KEYS]
    out.append(Action(function="finish"))
    return out


def describe(action: Action, control: Control | None) -> str:
    """The candidate as the model reads it: what it does, on what, where."""
    return describe_action(action, control, KEYS)
