"""Grounding a control name on live controls: exact, contains, fuzzy, regex."""

from __future__ import annotations

import pytest

from lamforge.core import Control
from lamforge.envs.match import match_control

CONTROLS = [
    Control(label="1", name="Format", type="MenuItem", group="menubar"),
    Control(label="0", name="Insert", type="MenuItem", group="menubar"),
    Control(label="2", name="Bold", type="MenuItem", group="menu"),
    Control(label="3", name="Page Style...", type="MenuItem", group="menu"),
    Control(label="4", name="Bold", type="Button", group="toolbar"),
    Control(label="5", name="Insert Table...", type="Button", group="toolbar"),
    Control(label="6", name="Character Highlighting Color", type="SplitButton",
            group="toolbar"),
]


@pytest.mark.parametrize(("text", "mode", "label"), [
    ("bold", "exact", "2"),  # the open menu's item wins over the toolbar button
    ("Insert Table", "exact", "5"),  # a trailing ellipsis does not matter
    ("Page", "exact", None),
    ("Page", "contains", "3"),
    ("Highlighting Color", "contains", "6"),
    ("Insert Table", "contains", "5"),  # closer than the menu bar's "Insert" would be
    ("Insert Tabel", "fuzzy", "5"),
    ("Formt", "fuzzy", "1"),
    ("Zebra", "fuzzy", None),
    (r"Page\s+Style\.*", "regex", "3"),
    ("([", "regex", None),  # a broken pattern matches nothing
])
def test_modes(text: str, mode: str, label: str | None) -> None:
    hit = match_control(text, CONTROLS, mode)  # type: ignore[arg-type]
    assert (hit.label if hit else None) == label


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown match mode"):
        match_control("Bold", CONTROLS, "telepathy")  # type: ignore[arg-type]


def test_a_submenu_and_its_item_of_the_same_name_are_told_apart_by_the_ellipsis() -> None:
    """Writer's Insert > Frame holds "Frame..."; both are "frame" once compared: the one
    written as asked wins, and either alone still matches without its ellipsis."""
    menu = [Control(label="7", name="Frame", type="MenuItem", group="menu"),
            Control(label="8", name="Frame...", type="MenuItem", group="menu")]
    assert [match_control(t, menu).label for t in ("Frame...", "Frame…", "Frame")] == \
        ["8", "8", "7"]
    assert match_control("Frame", menu[1:]).label == "8"
