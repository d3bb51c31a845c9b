"""What Calc's menu commands do to a template, for the GUI prefill (`gui.prefill`): the cells a
user selects first (through the Name Box), the dialog's fields, and the checks that prove the
effect on the saved workbook.

Each effect reads the template's own rows (`templates.TEMPLATES`), so a check names the values
that must have moved, been copied or been cleared. A command not listed here is filed as "no
known effect" and its pair does not become a task.
"""

from __future__ import annotations

from lamforge.core import Action, Check
from lamforge.envs.calc.state import column_name
from lamforge.envs.calc.templates import TEMPLATES
from lamforge.envs.gui.prefill import Effect, Instance, Outcome, act, key

Value = str | float


def _rows(inst: Instance) -> list[list[Value]]:
    return TEMPLATES[inst.template][2]


def _sheet(inst: Instance) -> str:
    return TEMPLATES[inst.template][1]


def _ref(col: int, row: int) -> str:
    """0-based column and row -> 'B3'."""
    return f"{column_name(col)}{row + 1}"


def _go(ref: str) -> Action:
    return act("set_edit_text", "Name Box", text=ref)


def _holds(col: int, row: int, value: Value) -> Check:
    if isinstance(value, str):
        return Check(kind="cell_value", cell=_ref(col, row), text=value)
    return Check(kind="cell_value", cell=_ref(col, row), number=float(value))


def _empty(col: int, row: int) -> Check:
    return Check(kind="cell_value", cell=_ref(col, row), text="")


def _where(inst: Instance, ref: str) -> str:
    return f"cell {ref} of the sheet '{_sheet(inst)}'" if ":" not in ref else \
        f"cells {ref} of the sheet '{_sheet(inst)}'"


def _data_row(inst: Instance, last: bool = True) -> int:
    """A data row (0-based, not the header); `last=False` keeps one row below it."""
    rows = _rows(inst)
    return inst.rng.randrange(1, len(rows) if last else len(rows) - 1)


def _numeric_columns(inst: Instance) -> list[int]:
    rows = _rows(inst)
    return [c for c in range(len(rows[0])) if all(not isinstance(r[c], str) for r in rows[1:])]


# ---- rows, columns and cells ------------------------------------------------------------------
def rows_above(inst: Instance) -> Outcome:
    rows, r = _rows(inst), _data_row(inst)
    return Outcome(before=[_go(_ref(0, r))], details=[_where(inst, _ref(0, r))],
                   checks=[_empty(0, r), _holds(0, r + 1, rows[r][0]),
                           _holds(0, len(rows), rows[-1][0])])


def rows_below(inst: Instance) -> Outcome:
    rows, r = _rows(inst), _data_row(inst, last=False)
    return Outcome(before=[_go(_ref(0, r))], details=[_where(inst, _ref(0, r))],
                   checks=[_holds(0, r, rows[r][0]), _empty(0, r + 1),
                           _holds(0, r + 2, rows[r + 1][0])])


def columns_before(inst: Instance) -> Outcome:
    rows = _rows(inst)
    c = inst.rng.randrange(len(rows[0]))
    return Outcome(before=[_go(_ref(c, 0))], details=[_where(inst, _ref(c, 0))],
                   checks=[_empty(c, 0), _holds(c + 1, 0, rows[0][c])])


def columns_after(inst: Instance) -> Outcome | None:
    rows = _rows(inst)
    if len(rows[0]) < 2:
        return None
    c = inst.rng.randrange(len(rows[0]) - 1)
    return Outcome(before=[_go(_ref(c, 0))], details=[_where(inst, _ref(c, 0))],
                   checks=[_holds(c, 0, rows[0][c]), _empty(c + 1, 0),
                           _holds(c + 2, 0, rows[0][c + 1])])


def delete_rows(inst: Instance) -> Outcome:
    rows, r = _rows(inst), _data_row(inst, last=False)
    return Outcome(before=[_go(_ref(0, r))], details=[_where(inst, _ref(0, r))],
                   checks=[_holds(0, r, rows[r + 1][0]), _empty(0, len(rows) - 1)])


def delete_columns(inst: Instance) -> Outcome | None:
    rows = _rows(inst)
    if len(rows[0]) < 3:
        return None
    c = inst.rng.randrange(len(rows[0]) - 1)
    return Outcome(before=[_go(_ref(c, 0))], details=[_where(inst, _ref(c, 0))],
                   checks=[_holds(c, 0, rows[0][c + 1]), _empty(len(rows[0]) - 1, 0)])


def insert_cells(inst: Instance) -> Outcome:
    """Sheet > Insert Cells...: the dialog's first choice shifts the cells down."""
    rows, r = _rows(inst), _data_row(inst)
    c = inst.rng.randrange(len(rows[0]))
    return Outcome(before=[_go(_ref(c, r))], after=[act("click", "OK")],
                   details=[_where(inst, _ref(c, r)), "shift the cells down"],
                   checks=[_empty(c, r), _holds(c, r + 1, rows[r][c])])


def delete_cells(inst: Instance) -> Outcome:
    """Sheet > Delete Cells...: for one cell the dialog's first choice shifts cells up."""
    rows, r = _rows(inst), _data_row(inst, last=False)
    c = inst.rng.randrange(len(rows[0]))
    return Outcome(before=[_go(_ref(c, r))], after=[act("click", "OK")],
                   details=[_where(inst, _ref(c, r)), "shift the cells up"],
                   checks=[_holds(c, r, rows[r + 1][c]), _empty(c, len(rows) - 1)])


def clear_cells(inst: Instance) -> Outcome:
    """Sheet > Clear Cells...: the dialog's defaults delete text, numbers and dates."""
    rows, r = _rows(inst), _data_row(inst)
    c = inst.rng.randrange(len(rows[0]))
    ref = f"{_ref(c, r)}:{_ref(len(rows[0]) - 1, r)}"
    return Outcome(before=[_go(ref)], after=[act("click", "OK")], details=[_where(inst, ref)],
                   checks=[_empty(k, r) for k in range(c, len(rows[0]))])


def _fill(direction: str) -> Effect:
    """Sheet > Fill Cells > Fill Down/Up/Right/Left: the range's first cell (last, for Up and
    Left) is copied over the others."""

    def effect(inst: Instance) -> Outcome | None:
        rows = _rows(inst)
        vertical = direction in ("down", "up")
        if vertical:
            c = inst.rng.randrange(len(rows[0]))
            r0 = inst.rng.randrange(1, len(rows) - 2)
            cells = [(c, r) for r in range(r0, min(r0 + 3, len(rows)))]
        else:
            if len(rows[0]) < 2:
                return None
            r = inst.rng.randrange(1, len(rows))
            cells = [(c, r) for c in range(len(rows[0]))][-3:]
        source = cells[0] if direction in ("down", "right") else cells[-1]
        value = rows[source[1]][source[0]]
        ref = f"{_ref(*cells[0])}:{_ref(*cells[-1])}"
        return Outcome(before=[_go(ref)], details=[_where(inst, ref)],
                       checks=[_holds(c, r, value) for c, r in cells if (c, r) != source])

    return effect


# ---- formatting -------------------------------------------------------------------------------
def bold(inst: Instance) -> Outcome:
    rows = _rows(inst)
    r = inst.rng.randrange(len(rows))
    ref = f"{_ref(0, r)}:{_ref(len(rows[0]) - 1, r)}"
    return Outcome(before=[_go(ref)], details=[_where(inst, ref)],
                   checks=[Check(kind="cell_bold", cell=_ref(c, r)) for c in range(len(rows[0]))])


def _number_format(code: str) -> Effect:
    """Format > Number Format > …: the number format code of the selected numbers then holds
    `code` ('%', '$', 'E+', '#,##0')."""

    def effect(inst: Instance) -> Outcome | None:
        cols = _numeric_columns(inst)
        if not cols:
            return None
        rows = _rows(inst)
        c = cols[inst.rng.randrange(len(cols))]
        ref = f"{_ref(c, 1)}:{_ref(c, len(rows) - 1)}"
        return Outcome(before=[_go(ref)], details=[_where(inst, ref)],
                       checks=[Check(kind="number_format", cell=_ref(c, r), format=code)
                               for r in range(1, len(rows))])

    return effect


def column_width(inst: Instance) -> Outcome:
    """Format > Columns > Width...: the width typed into the dialog."""
    rows = _rows(inst)
    c = inst.rng.randrange(len(rows[0]))
    width = inst.rng.choice((2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0))
    return Outcome(before=[_go(_ref(c, 0))],
                   after=[act("set_edit_text", "Width", text=f"{width} cm"), act("click", "OK")],
                   details=[f"column {column_name(c)}, from {_where(inst, _ref(c, 0))}",
                            f"Width: {width} cm"],
                   checks=[Check(kind="column_width", column=column_name(c),
                                 min_cm=width - 0.05, max_cm=width + 0.05)])


def columns_menu_width(inst: Instance) -> Outcome:
    """Format > Columns (the help page of the whole submenu): its Width... item."""
    out = column_width(inst)
    out.then = ("Width...",)
    return out


# ---- sheets, data, charts ---------------------------------------------------------------------
_NAMES = ("Home costs", "Summary", "Spring 2025", "Archive", "Class 5B", "Totals", "Draft")


def rename_sheet(inst: Instance) -> Outcome:
    name = inst.rng.choice(_NAMES)
    return Outcome(after=[act("set_edit_text", "Name", text=name), act("click", "OK")],
                   details=[f"name: {name}"],
                   checks=[Check(kind="sheet_name", name=name, index=0)])


def insert_sheet(inst: Instance) -> Outcome:
    """Sheet > Insert Sheet...: a new sheet before the current one (the dialog's default)."""
    name = inst.rng.choice(_NAMES)
    return Outcome(after=[act("set_edit_text", "Name", text=name), act("click", "OK")],
                   details=[f"name: {name}"],
                   checks=[Check(kind="sheet_name", name=name, index=0),
                           Check(kind="sheet_name", name=_sheet(inst), index=1)])


def insert_sheet_at_end(inst: Instance) -> Outcome:
    name = inst.rng.choice(_NAMES)
    return Outcome(after=[act("set_edit_text", "Name", text=name), act("click", "OK")],
                   details=[f"name: {name}"],
                   checks=[Check(kind="sheet_name", name=name, index=1)])


def _sort(descending: bool, dialog: bool) -> Effect:
    """Data > Sort Ascending/Descending, or Data > Sort... with its defaults (ascending by
    the column of the cell under the cursor): the data rows ordered by that column."""

    def effect(inst: Instance) -> Outcome | None:
        rows = _rows(inst)
        c = inst.rng.randrange(len(rows[0]))
        keys = [r[c] for r in rows[1:]]
        if keys == sorted(keys, reverse=descending):
            return None
        return Outcome(before=[_go(_ref(c, 1))], after=[act("click", "OK")] if dialog else [],
                       details=[f"by column {column_name(c)} ({rows[0][c]}), from "
                                f"{_where(inst, _ref(c, 1))}"],
                       checks=[Check(kind="sorted_by", column=column_name(c), first_row=2,
                                     last_row=len(rows), descending=descending)])

    return effect


def chart(inst: Instance) -> Outcome:
    rows = _rows(inst)
    ref = f"A1:{_ref(len(rows[0]) - 1, len(rows) - 1)}"
    return Outcome(before=[_go(ref)], after=[act("click", "Finish")],
                   details=[f"from {_where(inst, ref)}"],
                   checks=[Check(kind="chart_present")])


EFFECTS: dict[str, Effect] = {key(path.split(" > ")): fn for path, fn in {
    "Sheet > Insert Rows > Rows Above": rows_above,
    "Sheet > Insert Rows > Rows Below": rows_below,
    "Sheet > Insert Columns > Columns Before": columns_before,
    "Sheet > Insert Columns > Columns After": columns_after,
    "Sheet > Delete Rows": delete_rows,
    "Sheet > Delete Columns": delete_columns,
    "Sheet > Insert Cells...": insert_cells,
    "Sheet > Delete Cells...": delete_cells,
    "Sheet > Clear Cells...": clear_cells,
    "Sheet > Fill Cells > Fill Down": _fill("down"),
    "Sheet > Fill Cells > Fill Up": _fill("up"),
    "Sheet > Fill Cells > Fill Right": _fill("right"),
    "Sheet > Fill Cells > Fill Left": _fill("left"),
    "Sheet > Rename Sheet...": rename_sheet,
    "Sheet > Insert Sheet...": insert_sheet,
    "Sheet > Insert Sheet at End...": insert_sheet_at_end,
    "Format > Text > Bold": bold,
    "Format > Number Format > Percent": _number_format("%"),
    "Format > Number Format > Currency": _number_format("$"),
    "Format > Number Format > Scientific": _number_format("E+"),
    "Format > Number Format > Thousands Separator": _number_format("#,##0"),
    "Format > Columns > Width...": column_width,
    "Format > Columns": columns_menu_width,
    "Data > Sort Ascending": _sort(False, dialog=False),
    "Data > Sort Descending": _sort(True, dialog=False),
    "Data > Sort...": _sort(False, dialog=True),
    "Insert > Chart...": chart,
}.items()}
