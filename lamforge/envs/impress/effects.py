"""What Impress's menu commands do to a template, for the GUI prefill (`gui.prefill`): which
slide the user goes to first, the dialog's or the sidebar's choices, and the checks that prove
the effect on the saved presentation.

A presentation opens on its first slide; an instance may first move on with Slide > Navigate >
To Next Slide, so the same command varies in the slide it acts on.
"""

from __future__ import annotations

from lamforge.core import Action, Check
from lamforge.envs.gui.prefill import Effect, Instance, Outcome, act, key
from lamforge.envs.impress.templates import TEMPLATES

LAYOUTS = ("Title Only", "Title, Content", "Centered Text", "Title and 2 Content",
           "Blank Slide", "Title Slide")
"""Layouts as the Slide > Layout menu names them (layout 0 is 'Title Slide', 1 'Title,
Content')."""
_LAYOUT_OF = {0: "Title Slide", 1: "Title, Content"}
TRANSITIONS = ("Wipe", "Uncover", "Bars", "Checkers", "Box", "Wedge", "Fade", "Cover")
"""Effects the deck shows without scrolling at 1280x800 (one further down, such as Push,
has no box to click, and selecting it does not apply it)."""
COLORS = ("Yellow", "Light Blue 2", "Orange", "Red", "Gold", "Lime", "Teal")
_NAMES = ("Cover", "Agenda", "Intro", "Overview", "Summary", "Next steps")


def _slides(inst: Instance) -> list[tuple[int, str, str]]:
    return TEMPLATES[inst.template][1]


def _go(inst: Instance, last: int | None = None) -> tuple[int, list[Action]]:
    """A slide (1-based, at most `last`) and the actions that reach it from the first."""
    n = len(_slides(inst)) if last is None else last
    slide = inst.rng.randrange(1, n + 1)
    steps = [act("click", "Slide"), act("click", "Navigate"), act("click", "To Next Slide")]
    return slide, [a for _ in range(slide - 1) for a in steps]


def _on(slide: int) -> str:
    return f"on slide {slide}"


def new_slide(inst: Instance) -> Outcome:
    slide, before = _go(inst)
    n = len(_slides(inst))
    return Outcome(before=before, details=[f"after slide {slide}"],
                   checks=[Check(kind="slide_count", count=n + 1),
                           Check(kind="slide_title", slide=slide, text=_slides(inst)[slide - 1][1])])


def duplicate_slide(inst: Instance) -> Outcome:
    slide, before = _go(inst)
    title = _slides(inst)[slide - 1][1]
    return Outcome(before=before, details=[_on(slide)],
                   checks=[Check(kind="slide_count", count=len(_slides(inst)) + 1),
                           Check(kind="slide_title", slide=slide + 1, text=title)])


def delete_slide(inst: Instance) -> Outcome | None:
    slides = _slides(inst)
    slide, before = _go(inst, last=len(slides) - 1)
    return Outcome(before=before, details=[_on(slide)],
                   checks=[Check(kind="slide_count", count=len(slides) - 1),
                           Check(kind="slide_title", slide=slide, text=slides[slide][1])])


def rename_slide(inst: Instance) -> Outcome:
    slide, before = _go(inst)
    name = inst.rng.choice(_NAMES)
    return Outcome(before=before, details=[_on(slide), f"name: {name}"],
                   after=[act("set_edit_text", "Name", text=name), act("click", "OK")],
                   checks=[Check(kind="slide_name", slide=slide, name=name)])


def layout(inst: Instance) -> Outcome:
    """Slide > Layout (the help page of the submenu): one of its layouts."""
    slide, before = _go(inst)
    current = _LAYOUT_OF.get(_slides(inst)[slide - 1][0])
    name = inst.rng.choice([x for x in LAYOUTS if x != current])
    return Outcome(before=before, then=(name,), details=[_on(slide), f"layout: {name}"],
                   checks=[Check(kind="slide_layout", slide=slide, layout=name)])


def transition(inst: Instance) -> Outcome:
    """Slide > Slide Transition opens the sidebar's deck; its effects are icons."""
    slide, before = _go(inst)
    effect = inst.rng.choice(TRANSITIONS)
    return Outcome(before=before, after=[act("click", effect)],
                   details=[_on(slide), f"effect: {effect}"],
                   checks=[Check(kind="transition", slide=slide)])


def background(inst: Instance) -> Outcome:
    """Slide > Slide Properties..., its Background tab: a colour of the palette."""
    slide, before = _go(inst)
    color = inst.rng.choice(COLORS)
    return Outcome(before=before, details=[_on(slide), f"background colour: {color}"],
                   after=[act("click", "Background"), act("click", "Color"),
                          act("click", color), act("click", "OK")],
                   checks=[Check(kind="slide_background", slide=slide, color=color)])


EFFECTS: dict[str, Effect] = {key(path.split(" > ")): fn for path, fn in {
    "Slide > New Slide": new_slide,
    "Slide > Duplicate Slide": duplicate_slide,
    "Slide > Delete Slide": delete_slide,
    "Slide > Rename Slide...": rename_slide,
    "Slide > Layout": layout,
    "Slide > Slide Transition": transition,
    "View > Slide Transition": transition,
    "Slide > Slide Properties...": background,
}.items()}
