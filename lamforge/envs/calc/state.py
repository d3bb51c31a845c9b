"""A workbook's state, as Calc's checks and canvas read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamforge.envs.calc.inproc.lamforge_calc import column_name
from lamforge.envs.writer.office import Office

INPROC_READER = Path(__file__).with_name("inproc") / "lamforge_calc.py"
"""Calc's in-process reader (`read_state`), installed in the profile (`OfficeGuiEnv.inproc`)."""


def read_state(office: Office, doc: Any) -> dict[str, Any]:
    """{sheets: [{name, rows, cols, cells: {A1: {text, value, formula, format, bold}},
    widths_cm, charts}], active, selection}: every cell of each sheet's used area (up to the
    reader's `MAX_ROWS` x `MAX_COLS` from A1), as shown (text), as a number (value), its
    formula and number format code. Read inside LibreOffice (`INPROC_READER`, which the
    office must have been given): over the socket it was seven calls a cell, 66-69 ms a
    step."""
    return office.script("state", doc, module=INPROC_READER.stem)


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
