"""A presentation's state, as Impress's checks and canvas read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamforge.envs.writer.office import Office

LAYOUTS = {0: "Title Slide", 1: "Title, Content", 3: "Title and 2 Content", 19: "Title Only",
           20: "Blank Slide", 32: "Centered Text"}
"""AutoLayout numbers and the names Impress's Layout menu gives them."""
INPROC_READER = Path(__file__).with_name("inproc") / "lamforge_impress.py"
"""Impress's in-process reader (`read_state`), installed in the profile
(`OfficeGuiEnv.inproc`)."""


def read_state(office: Office, doc: Any) -> dict[str, Any]:
    """{slides: [{layout, layout_name, title, texts, transition, transition_subtype,
    background, name}], current}. Read inside LibreOffice (`INPROC_READER`, which the office
    must have been given): over the socket it was ~30 ms a step."""
    out = office.script("state", doc, module=INPROC_READER.stem)
    for slide in out["slides"]:
        slide["layout_name"] = LAYOUTS.get(slide["layout"], "")
    return out


def render(state: dict[str, Any]) -> str:
    """Each slide: its number, layout, title and text (the current one marked)."""
    lines = []
    for n, s in enumerate(state["slides"], 1):
        mark = "*" if n == state["current"] else " "
        body = " / ".join(t.replace("\n", "; ") for t in s["texts"])[:200]
        extra = []
        if s["transition"]:
            extra.append("transition")
        if s["background"]:
            extra.append(f"background {s['background']}")
        lines.append(f"{mark}slide {n} [{s['layout_name'] or s['layout']}] "
                     f"title: {s['title']!r}" + (f" | {body}" if body else "")
                     + (f" ({', '.join(extra)})" if extra else ""))
    return "\n".join(lines)
