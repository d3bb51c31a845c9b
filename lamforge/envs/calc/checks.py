"""Declarative checks on a workbook's final state (docs/checks.md, Calc).

The state is read from the workbook saved as .xlsx and opened again (`state.read_state`).
Cells are named as users name them ('B3'); a sheet is the first one unless named.
"""

from __future__ import annotations

from typing import Any

from lamforge.envs.checkset import CheckSet

State = dict[str, Any]
KINDS = CheckSet("Calc", nonempty=("cell", "formula", "format", "name", "column"),
                 needs_one_of={"cell_value": ("text", "number"),
                               "column_width": ("min_cm", "max_cm")})
check = KINDS.check


def _sheet(state: State, sheet: str | None) -> dict[str, Any]:
    if sheet is None:
        return state["sheets"][0]
    for s in state["sheets"]:
        if s["name"].lower() == sheet.lower():
            return s
    raise ValueError(f"no sheet '{sheet}' (sheets: {', '.join(s['name'] for s in state['sheets'])})")


def _cell(state: State, cell: str, sheet: str | None) -> dict[str, Any] | None:
    return _sheet(state, sheet)["cells"].get(cell.upper().replace("$", ""))


@check
def cell_value(state: State, cell: str, text: str | None = None, number: float | None = None,
               sheet: str | None = None) -> tuple[bool, str]:
    """The cell shows `text` (as displayed, case-insensitive; '' for an empty cell) or holds
    the number `number` (within 0.005)."""
    got = _cell(state, cell, sheet)
    if got is None:
        return number is None and not (text or "").strip(), f"{cell} is empty"
    if number is not None:
        ok = got["value"] is not None and abs(got["value"] - number) <= 0.005
        return ok, f"{cell} = {got['value'] if got['value'] is not None else repr(got['text'])}"
    ok = got["text"].strip().lower() == (text or "").strip().lower()
    return ok, f"{cell} shows {got['text']!r}"


@check
def cell_formula(state: State, cell: str, formula: str, sheet: str | None = None
                 ) -> tuple[bool, str]:
    """The cell holds this formula (spaces and case ignored, with or without '=')."""
    got = _cell(state, cell, sheet)
    have = (got or {}).get("formula") or ""

    def norm(f: str) -> str:
        return f.replace(" ", "").upper().lstrip("=")

    return norm(have) == norm(formula), f"{cell} formula {have or 'none'}"


@check
def number_format(state: State, cell: str, format: str, sheet: str | None = None
                  ) -> tuple[bool, str]:
    """The cell's number format code contains `format` (case-insensitive), e.g. '0.00', '%',
    '€' or 'YYYY'."""
    got = _cell(state, cell, sheet)
    code = (got or {}).get("format", "")
    return format.lower() in code.lower(), f"{cell} format {code!r}"


@check
def cell_bold(state: State, cell: str, value: bool = True, sheet: str | None = None
              ) -> tuple[bool, str]:
    """The cell's text is bold (or not, with value=false)."""
    got = _cell(state, cell, sheet)
    bold = bool(got and got["bold"])
    return bold == value, f"{cell} bold: {bold}"


@check
def column_width(state: State, column: str, min_cm: float | None = None,
                 max_cm: float | None = None, sheet: str | None = None) -> tuple[bool, str]:
    """The column's width is at least `min_cm` and at most `max_cm`."""
    width = _sheet(state, sheet)["widths_cm"].get(column.upper())
    if width is None:
        return False, f"column {column} is outside the used area"
    ok = (min_cm is None or width >= min_cm - 0.01) and (max_cm is None or width <= max_cm + 0.01)
    return ok, f"column {column} is {width} cm wide"


@check
def sheet_name(state: State, name: str, index: int | None = None) -> tuple[bool, str]:
    """A sheet has this name (at position `index`, 0-based, if given)."""
    names = [s["name"] for s in state["sheets"]]
    ok = name in names if index is None else index < len(names) and names[index] == name
    return ok, f"sheets: {', '.join(names)}"


@check
def sorted_by(state: State, column: str, first_row: int, last_row: int,
              descending: bool = False, sheet: str | None = None) -> tuple[bool, str]:
    """Rows first_row..last_row (1-based) are sorted by the column (numbers by value, text
    alphabetically)."""
    cells = _sheet(state, sheet)["cells"]
    keys = []
    for r in range(first_row, last_row + 1):
        c = cells.get(f"{column.upper()}{r}")
        if c is None:
            return False, f"{column}{r} is empty"
        keys.append(c["value"] if c["value"] is not None else c["text"].lower())
    ok = keys == sorted(keys, reverse=descending)
    return ok, f"column {column} rows {first_row}-{last_row}: {keys}"


@check
def chart_present(state: State, count: int = 1, sheet: str | None = None) -> tuple[bool, str]:
    """The sheet holds at least `count` charts."""
    n = _sheet(state, sheet)["charts"]
    return n >= count, f"{n} chart(s)"
