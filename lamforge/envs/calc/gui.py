"""Calc's real GUI (calc-gui-v0): LibreOffice Calc's windows on Xvfb, through AT-SPI.

The grid is never walked: it reports 2^31 cells, and a query that reaches it makes soffice
build an object for each. A user selects cells with the Name Box (set it to 'B2' or 'A1:C7')
or the keyboard, types into the cell under the cursor, and uses the menus, toolbars and real
dialogs. The canvas (the sheet as a text grid) and the checks read the workbook over UNO.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lamforge.envs.calc import checks, state
from lamforge.envs.calc.templates import LIBRARY
from lamforge.envs.gui.env import OfficeGuiEnv


class CalcGuiEnv(OfficeGuiEnv):
    name = "calc-gui-v0"
    service = "com.sun.star.sheet.SpreadsheetDocument"
    save_filter = "Calc MS Excel 2007 XML"
    suffix = ".xlsx"
    library = LIBRARY
    checks = checks.KINDS
    boxes: ClassVar[dict[tuple[str, int], str]] = {("Formula Tool Bar", 0): "Name Box"}

    def read_state(self, doc: Any) -> dict[str, Any]:
        return state.read_state(self.office, doc)

    def render(self, st: dict[str, Any]) -> str:
        return state.render(st)
