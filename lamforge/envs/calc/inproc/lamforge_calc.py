"""Runs inside LibreOffice (its Python script provider), not in lamforge's interpreter.

Calc's state, as its checks and canvas read it (`lamforge.envs.calc.state`). Read over the
UNO socket, a template's sheet (21-25 cells) cost 66-69 ms at every step and reset: seven
remote calls per cell. In-process it takes about 2 ms, so lamforge installs this file in the
instance's profile and calls `state` once per observation, which returns JSON.

Only the standard library is imported here, so lamforge's side (`calc.state`) imports its
`column_name` and limits from this file: one definition of each.
"""

import json

MAX_ROWS, MAX_COLS = 200, 40
"""The part of a sheet read (from A1): checks and canvas look at small tables."""


def column_name(index):
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def _sheet(sheet, formats, codes):
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    end = cursor.RangeAddress
    rows, cols = min(end.EndRow + 1, MAX_ROWS), min(end.EndColumn + 1, MAX_COLS)
    formulas = sheet.getCellRangeByPosition(0, 0, cols - 1, rows - 1).getFormulaArray()
    cells = {}
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
            numeric = kind == "VALUE" or (kind == "FORMULA" and cell.FormulaResultType2 == 1)
            cells[f"{column_name(c)}{r + 1}"] = {
                "text": cell.getString(), "value": cell.getValue() if numeric else None,
                "formula": formula if formula.startswith("=") else None,
                "format": codes[key], "bold": cell.CharWeight > 100}
    widths = {column_name(c): round(sheet.Columns.getByIndex(c).Width / 1000, 2)
              for c in range(cols)}
    return {"name": sheet.Name, "rows": rows, "cols": cols, "cells": cells,
            "widths_cm": widths, "charts": sheet.Charts.Count}


def state(doc, *args):
    """{sheets: [{name, rows, cols, cells: {A1: {text, value, formula, format, bold}},
    widths_cm, charts}], active, selection} as JSON: every cell of each sheet's used area (up
    to MAX_ROWS x MAX_COLS), as shown (text), as a number (value), its formula and number
    format code. The document is passed in: a saved copy opened hidden is never current."""
    formats = doc.NumberFormats
    codes = {}
    sheets = [_sheet(doc.Sheets.getByIndex(i), formats, codes)
              for i in range(doc.Sheets.Count)]
    # a view that is not the sheet's (print preview) has no selection or active sheet
    controller = doc.CurrentController
    selection = getattr(getattr(controller, "Selection", None), "AbsoluteName", "")
    active = getattr(controller, "ActiveSheet", None)
    return json.dumps({"sheets": sheets, "selection": selection,
                       "active": active.Name if active is not None else ""})


g_exportedScripts = (state,)
