"""Calc's template library: workbooks built by LibreOffice and saved as .xlsx."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from lamforge.envs.doclib import TemplateLibrary, build_document
from lamforge.envs.writer.office import Office

Row = list[str | float]

BUDGET: list[Row] = [
    ["Item", "Category", "Amount"], ["Rent", "Housing", 950], ["Groceries", "Food", 320.5],
    ["Electricity", "Utilities", 64.2], ["Internet", "Utilities", 35], ["Bus pass", "Transport", 58],
    ["Cinema", "Leisure", 24]]
GRADES: list[Row] = [
    ["Name", "Score"], ["Maya", 71], ["Tom", 88], ["Ines", 64], ["Omar", 93], ["Lena", 79],
    ["Ravi", 55], ["Chloe", 82]]
SALES: list[Row] = [
    ["Region", "Q1", "Q2", "Q3", "Q4"], ["North", 1200, 1350, 1410, 1600],
    ["South", 980, 1020, 1100, 1180], ["East", 1500, 1480, 1620, 1710],
    ["West", 870, 910, 950, 1030]]

TEMPLATES: dict[str, tuple[str, str, list[Row]]] = {
    "budget": ("A household budget: six items with a category and a monthly amount, no total.",
               "Budget", BUDGET),
    "grades": ("Test scores of seven students in two columns, Name and Score, unsorted.",
               "Scores", GRADES),
    "sales": ("Quarterly sales of four regions (North, South, East, West) over Q1-Q4.",
              "Sales", SALES),
}


def _fill(doc: Any, sheet_name: str, rows: list[Row]) -> None:
    sheet = doc.Sheets.getByIndex(0)
    sheet.Name = sheet_name
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = sheet.getCellByPosition(c, r)
            if isinstance(value, str):
                cell.setString(value)
            else:
                cell.setValue(value)


def build_library(out_dir: Path, office: Office) -> list[dict[str, str]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    for name, (description, sheet_name, rows) in TEMPLATES.items():
        path = out_dir / f"{name}.xlsx"
        build_document(office, "private:factory/scalc",
                       partial(_fill, sheet_name=sheet_name, rows=rows), path,
                       "Calc MS Excel 2007 XML")
        index.append({"name": name, "file": path.name, "description": description})
    return index


LIBRARY = TemplateLibrary("calc", 1, (".xlsx", ".ods", ".xls", ".csv"), build_library)
