"""Impress's real GUI (impress-gui-v0): LibreOffice Impress's windows on Xvfb, through AT-SPI.

A user picks a slide in the slide pane or with Page Down / Page Up, edits a placeholder by
clicking into the slide and typing, and uses the menus, the sidebar and the real dialogs
(Slide Properties, Slide Transition…). The canvas (each slide's layout, title and text) and
the checks read the presentation through UNO, inside LibreOffice (`state.INPROC_READER`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from lamforge.envs.gui.env import OfficeGuiEnv
from lamforge.envs.impress import checks, state
from lamforge.envs.impress.templates import LIBRARY


class ImpressGuiEnv(OfficeGuiEnv):
    name = "impress-gui-v0"
    service = "com.sun.star.presentation.PresentationDocument"
    save_filter = "impress8"  # .odp: the .pptx filter loses slide layouts (templates.py)
    suffix = ".odp"
    library = LIBRARY
    checks = checks.KINDS
    inproc: ClassVar[tuple[Path, ...]] = (state.INPROC_READER,)

    def read_state(self, doc: Any) -> dict[str, Any]:
        return state.read_state(self.office, doc)

    def render(self, st: dict[str, Any]) -> str:
        return state.render(st)
