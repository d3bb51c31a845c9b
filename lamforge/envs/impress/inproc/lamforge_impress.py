"""Runs inside LibreOffice (its Python script provider), not in lamforge's interpreter.

Impress's state, as its checks and canvas read it (`lamforge.envs.impress.state`). Read over
the UNO socket it cost about 30 ms at every step and reset, a few remote calls per shape; here
they take microseconds. lamforge installs this file in the instance's profile and calls
`state` once per observation, which returns JSON. Only the standard library and
LibreOffice's own `uno` are available here.
"""

import json


def _slide(page):
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
    return {"layout": page.Layout, "title": title, "texts": texts,
            "transition": page.TransitionType, "transition_subtype": page.TransitionSubtype,
            "background": background, "name": page.Name}


def state(doc, *args):
    """{slides: [{layout, title, texts, transition, transition_subtype, background, name}],
    current} as JSON. The document is passed in: a saved copy opened hidden is never
    current."""
    pages = doc.DrawPages
    slides = [_slide(pages.getByIndex(i)) for i in range(pages.Count)]
    # no controller, or one of a view without a current page: the first slide
    page = getattr(doc.CurrentController, "CurrentPage", None)
    current = page.Number if page is not None else 1
    return json.dumps({"slides": slides, "current": current})


g_exportedScripts = (state,)
