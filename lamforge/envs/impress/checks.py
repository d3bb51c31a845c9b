"""Declarative checks on a presentation's final state (docs/checks.md, Impress).

The state is read from the presentation saved as .odp and opened again. Slides are numbered
from 1, as Impress shows them.
"""

from __future__ import annotations

from typing import Any

from lamforge.envs.checkset import CheckSet
from lamforge.envs.writer.colors import to_hex

State = dict[str, Any]
KINDS = CheckSet("Impress", nonempty=("text", "layout", "color", "name"),
                 needs_one_of={"slide_count": ("count", "min")})
check = KINDS.check


def _slide(state: State, slide: int) -> dict[str, Any]:
    if not 1 <= slide <= len(state["slides"]):
        raise IndexError(f"no slide {slide} (the presentation has {len(state['slides'])})")
    return state["slides"][slide - 1]


@check
def slide_count(state: State, count: int | None = None, min: int | None = None
                ) -> tuple[bool, str]:
    """The presentation has exactly `count` slides, or at least `min`."""
    n = len(state["slides"])
    ok = (count is None or n == count) and (min is None or n >= min)
    return ok, f"{n} slide(s)"


@check
def slide_layout(state: State, slide: int, layout: str) -> tuple[bool, str]:
    """The slide's layout has this name as Impress's Layout menu says it ('Title, Content',
    'Title Only', 'Blank Slide', …; case-insensitive)."""
    got = _slide(state, slide)["layout_name"]
    return got.lower() == layout.lower(), f"slide {slide} layout {got or 'other'!r}"


@check
def slide_title(state: State, slide: int, text: str) -> tuple[bool, str]:
    """The slide's title placeholder says exactly this (case and outer spaces ignored)."""
    got = _slide(state, slide)["title"]
    return got.strip().lower() == text.strip().lower(), f"slide {slide} title {got!r}"


@check
def slide_name(state: State, slide: int, name: str) -> tuple[bool, str]:
    """The slide is called this (Slide > Rename Slide; case-sensitive, as Impress keeps it)."""
    got = _slide(state, slide)["name"]
    return got == name, f"slide {slide} is called {got!r}"


@check
def slide_text(state: State, slide: int, text: str) -> tuple[bool, str]:
    """A text box or content placeholder of the slide (not its title) contains this text."""
    texts = _slide(state, slide)["texts"]
    ok = any(text.lower() in t.lower() for t in texts)
    return ok, f"slide {slide} texts {texts!r}"


@check
def transition(state: State, slide: int, present: bool = True) -> tuple[bool, str]:
    """The slide has a transition effect (or none, with present=false)."""
    kind = _slide(state, slide)["transition"]
    return bool(kind) == present, f"slide {slide} transition type {kind}"


@check
def slide_background(state: State, slide: int, color: str) -> tuple[bool, str]:
    """The slide's background is filled with this colour (a palette name or #RRGGBB)."""
    got = _slide(state, slide)["background"]
    return got is not None and got.upper() == to_hex(color).upper(), \
        f"slide {slide} background {got or 'none'}"
