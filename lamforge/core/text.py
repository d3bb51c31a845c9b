"""Reading quoted texts out of what people write: one rule for every env and the ranker."""

from __future__ import annotations

import re

_QUOTED = re.compile(r"(?<!\w)'([^\n]+?)'(?!\w)|\"([^\"\n]+)\"|“([^”\n]+)”|`([^`\n]+)`")
"""A single quote opens only where no letter precedes it and closes only where none follows:
an apostrophe inside a word ("d'importance", "s'il", "don't") is not a quote."""


def quoted(text: str) -> list[str]:
    """The texts quoted in `text`, in order: 'single', "double", “curly” or `backticked`."""
    return [next(g for g in groups if g) for groups in _QUOTED.findall(text)]
