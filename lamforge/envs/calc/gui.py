"""Calc's real GUI (calc-gui-v0): LibreOffice Calc's windows on Xvfb, through AT-SPI.

The grid is never walked: it reports 2^31 cells, and a query that reaches it makes soffice
build an object for each. A user selects cells with the Name Box (set it to 'B2' or 'A1:C7')
or the keyboard, types into the cell under the cursor, and uses the menus, toolbars and real
dialogs. The canvas (the sheet as a text grid) and the checks read the workbook through UNO,
inside LibreOffice (`state.INPROC_READER`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import reduce
from pathlib import Path
from typing import Any, ClassVar

from lamforge.core import Control
from lamforge.envs.calc import checks, state
from lamforge.envs.calc.state import column_name
from lamforge.envs.calc.templates import LIBRARY
from lamforge.envs.gui.env import OfficeGuiEnv

CELLS = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?")
"""A cell or range of the current sheet, as typed into the Name Box ('C8', 'A1:C7')."""
MAX_COLUMN, MAX_ROW = 16_384, 1_048_576
"""A sheet's size in LibreOffice 7.4 (XFD1048576): a cell past it is an error, not a move."""


def _plain(ref: str) -> str:
    """'$Sheet1.$A$1:$A$1' -> 'A1': without sheet, dollars or a range of one cell."""
    parts = [p.rsplit(".", 1)[-1] for p in ref.replace("$", "").upper().split(":")]
    return parts[0] if len(parts) == 2 and parts[0] == parts[1] else ":".join(parts)


def _corner(letters: str, digits: str) -> tuple[int, int]:
    """('AB', '12') -> (28, 12): a cell's column and row, from 1."""
    return reduce(lambda n, ch: n * 26 + ord(ch) - 64, letters, 0), int(digits)


def _target(text: str) -> str | None:
    """The cells Name Box text selects, as the sheet's selection will read ('C7:A1' ->
    'A1:C7', 'B2:B2' -> 'B2'); None for text that is no cell or range of the sheet."""
    match = CELLS.fullmatch(text)
    if match is None:
        return None
    first = _corner(match[1], match[2])
    last = first if match[3] is None else _corner(match[3], match[4])
    (c1, r1), (c2, r2) = first, last
    if not all(1 <= c <= MAX_COLUMN and 1 <= r <= MAX_ROW for c, r in (first, last)):
        return None
    top = f"{column_name(min(c1, c2) - 1)}{min(r1, r2)}"
    bottom = f"{column_name(max(c1, c2) - 1)}{max(r1, r2)}"
    return top if top == bottom else f"{top}:{bottom}"


class CalcGuiEnv(OfficeGuiEnv):
    name = "calc-gui-v0"
    service = "com.sun.star.sheet.SpreadsheetDocument"
    save_filter = "Calc MS Excel 2007 XML"
    suffix = ".xlsx"
    library = LIBRARY
    checks = checks.KINDS
    boxes: ClassVar[dict[tuple[str, int], str]] = {("Formula Tool Bar", 0): "Name Box"}
    inproc: ClassVar[tuple[Path, ...]] = (state.INPROC_READER,)

    def read_state(self, doc: Any) -> dict[str, Any]:
        return state.read_state(self.office, doc)

    def box_taken(self, control: Control, text: str) -> Callable[[], bool] | None:
        """The Name Box has taken a cell or range when the sheet's selection has become it.
        Other text (a named range, another sheet's cell, a cell past the sheet's end, which
        Calc answers with an error), or the cells already selected, keep the session's wait
        for the focus."""
        want = _target(text.strip().upper()) if control.name == "Name Box" else None
        if want is None or self._selection() == want:
            return None
        return lambda: self._selection() == want

    def _selection(self) -> str:
        """The selected cell or range of the sheet shown ('C2:C7'), read over UNO."""
        doc = self._doc
        selection = self.office.call(lambda: doc.getCurrentController().Selection)
        return _plain(getattr(selection, "AbsoluteName", "") or "")

    def render(self, st: dict[str, Any]) -> str:
        return state.render(st)
