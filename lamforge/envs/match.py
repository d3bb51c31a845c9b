"""Match a prefilled action's `control_text` to a live control, as the paper's execution does.

Modes: `exact` (case-insensitive, ignoring a trailing ellipsis), `contains` (either way round,
the closest length wins), `fuzzy` (rapidfuzz WRatio ≥ threshold) and `regex` (full match).
Where several controls match, the innermost wins: an open dialog's fields, then the open menu,
then the menu bar, then the toolbars — "Bold" after opening Format > Text is the menu item.
"""

from __future__ import annotations

import re
from typing import Literal

from lamforge.core import Control

MatchMode = Literal["exact", "contains", "fuzzy", "regex"]
MODES: tuple[str, ...] = ("exact", "contains", "fuzzy", "regex")
_GROUP_RANK = {"dialog": 0, "menu": 1, "menubar": 2, "toolbar": 3}


def normalize(text: str) -> str:
    """A control name as compared: no mnemonic tilde, no trailing ellipsis, any case."""
    return re.sub(r"\s+", " ", text.replace("~", "")).strip().rstrip(".…").strip().lower()


def _written(text: str) -> str:
    """A name as written, ellipsis kept ("..." and "…" alike), any case."""
    return normalize(text.replace("…", "...")) + ("..." if re.search(r"(\.\.\.|…)\s*$", text)
                                                  else "")


def pick_name(part: str, names: list[str]) -> str | None:
    """The name among `names` that a help page's path part means: the same words, or else
    the shortest name holding all of the part's words ("Down" -> "Fill Down")."""
    want = normalize(part)
    for name in names:
        if normalize(name) == want:
            return name
    words = set(re.findall(r"\w+", want))
    close = [n for n in names if words and words <= set(re.findall(r"\w+", normalize(n)))]
    return min(close, key=len) if close else None


def _rank(c: Control) -> tuple[int, int]:
    return (_GROUP_RANK.get(c.group or "", 4), 0 if c.enabled else 1)


def match_control(text: str, controls: list[Control], mode: MatchMode = "exact",
                  threshold: float = 85.0) -> Control | None:
    """The control `text` names under `mode`, or None."""
    want = normalize(text)
    if not want:
        return None
    if mode == "exact":
        hits = [c for c in controls if normalize(c.name) == want]
        if len(hits) > 1:  # a submenu "Frame" and its item "Frame...": the one asked for
            hits = [c for c in hits if _written(c.name) == _written(text)] or hits
    elif mode == "contains":
        hits = [c for c in controls if want in normalize(c.name) or (normalize(c.name) and
                                                                  normalize(c.name) in want)]
        if hits:  # the closest length wins first; the innermost breaks ties
            return min(hits, key=lambda c: (abs(len(normalize(c.name)) - len(want)), _rank(c)))
    elif mode == "regex":
        try:
            pattern = re.compile(text, re.IGNORECASE)
        except re.error:
            return None
        hits = [c for c in controls if pattern.fullmatch(c.name)]
    elif mode == "fuzzy":
        from rapidfuzz import fuzz

        scored = [(fuzz.WRatio(want, normalize(c.name)), c) for c in controls]
        best = max((s for s, _ in scored), default=0)
        if best < threshold:
            return None
        hits = [c for s, c in scored if s == best]
    else:
        raise ValueError(f"unknown match mode '{mode}' (use {', '.join(MODES)})")
    if not hits:
        return None
    return min(hits, key=_rank)  # stable: first in display order among the innermost
