"""A presentation's state over UNO, as Impress's checks and canvas read it."""

from __future__ import annotations

from typing import Any

from lamforge.envs.writer.office import Office

LAYOUTS = {0: "Title Slide", 1: "Title, Content", 3: "Title and 2 Content", 19: "Title Only",
           20: "Blank Slide", 32: "Centered Text"}
"""AutoLayout numbers and the names Impress's Layout menu gives them."""


def read_state(office: Office, doc: Any) -> dict[str, Any]:
    """{slides: [{layout, layout_name, title, texts, transition, background}], current}."""

    def run() -> dict[str, Any]:
        slides = []
        pages = doc.DrawPages
        for i in range(pages.Count):
            page = pages.getByIndex(i)
            title, texts = "", []
            for k in range(page.Count):
                shape = page.getByIndex(k)
                if not hasattr(shape, "getString"):
                    continue
                text = shape.getString()
                if shape.ShapeType == "com.sun.star.presentation.TitleTextShape" and not title:
                    title = text
                elif text:
                    texts.append(text)
            background = None
            if page.Background is not None:
                bg = page.Background
                if bg.FillStyle.value == "SOLID":
                    background = f"#{bg.FillColor & 0xFFFFFF:06X}"
            slides.append({"layout": page.Layout, "layout_name": LAYOUTS.get(page.Layout, ""),
                           "title": title, "texts": texts,
                           "transition": page.TransitionType, "transition_subtype":
                           page.TransitionSubtype, "background": background,
                           "name": page.Name})
        controller = doc.CurrentController
        current = controller.CurrentPage.Number if controller is not None else 1
        return {"slides": slides, "current": current}

    return office.call(run)


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
