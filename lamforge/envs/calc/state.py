"""A workbook's state over UNO, as Calc's checks and canvas read it."""

from __future__ import annotations

from typing import Any

from lamforge.envs.writer.office import Office

MAX_ROWS, MAX_COLS = 200, 40
"""The part of a sheet read (from A1): checks and canvas look at small tables."""


def column_name(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def read_state(office: Office, doc: Any) -> dict[str, Any]:
    """{sheets: [{name, rows, cols, cells: {A1: {text, value, formula, format}}, widths_cm,
    charts}], active, selection}: every cell of each sheet's used area (up to `MAX_ROWS` x
    `MAX_COLS`), as shown (text), as a number (value), its formula and number format code."""

    def run() -> dict[str, Any]:
        formats = doc.NumberFormats
        codes: dict[int, str] = {}
        sheets = []
        for i in range(doc.Sheets.Count):
            sheet = doc.Sheets.getByIndex(i)
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            end = cursor.RangeAddress
            rows, cols = min(end.EndRow + 1, MAX_ROWS), min(end.EndColumn + 1, MAX_COLS)
            area = sheet.getCellRangeByPosition(0, 0, cols - 1, rows - 1)
            formulas = area.getFormulaArray()
            cells: dict[str, dict[str, Any]] = {}
            for r in range(rows):
                for c in range(cols):
                    formula = formulas[r][c]
                    if formula == "":
                        continue
                    cell = sheet.getCellByPosition(c, r)
                    key = cell.NumberFormat
                    if key not in codes:
                        codes[key] = formats.getByKey(key).FormatString
                    kind = cell.Type.value  # EMPTY, VALUE, TEXT or FORMULA
                    # a formula's result: FormulaResult VALUE = 1 (STRING 2, ERROR 4)
                    numeric = kind == "VALUE" or (kind == "FORMULA" and
                                                  cell.FormulaResultType2 == 1)
                    cells[f"{column_name(c)}{r + 1}"] = {
                        "text": cell.getString(), "value": cell.getValue() if numeric else None,
                        "formula": formula if formula.startswith("=") else None,
                        "format": codes[key], "bold": cell.CharWeight > 100}
            widths = {column_name(c): round(sheet.Columns.getByIndex(c).Width / 1000, 2)
                      for c in range(cols)}
            sheets.append({"name": sheet.Name, "rows": rows, "cols": cols, "cells": cells,
                           "widths_cm": widths, "charts": sheet.Charts.Count})
        controller = doc.CurrentController
        selection = ""
        if controller is not None:
            sel = controller.Selection
            if hasattr(sel, "AbsoluteName"):
                selection = sel.AbsoluteName
        return {"sheets": sheets, "selection": selection,
                "active": controller.ActiveSheet.Name if controller is not None else ""}

    return office.call(run)


def render(state: dict[str, Any], max_rows: int = 30, width: int = 18) -> str:
    """The active sheet as a text grid (row numbers, column letters), then the other sheets'
    names: what a user sees of the workbook."""
    sheets = state["sheets"]
    active = next((s for s in sheets if s["name"] == state["active"]), sheets[0])
    lines = [f"sheet '{active['name']}' (of {', '.join(repr(s['name']) for s in sheets)}); "
             f"selected: {state['selection'].split('.')[-1].replace('$', '') or 'none'}"
             + (f"; charts: {active['charts']}" if active["charts"] else "")]
    cols = [column_name(c) for c in range(active["cols"])]
    lines.append("    | " + " | ".join(cols))
    for r in range(1, min(active["rows"], max_rows) + 1):
        row = []
        for col in cols:
            cell = active["cells"].get(f"{col}{r}")
            text = "" if cell is None else cell["text"][:width]
            if cell and cell["formula"]:  # whole: a model reads what the cell computes
                text += f" [{cell['formula']}]"
            row.append(text)
        lines.append(f"{r:>3} | " + " | ".join(row))
    if active["rows"] > max_rows:
        lines.append(f"... {active['rows'] - max_rows} more rows")
    return "\n".join(lines)
