"""What Writer's menu commands do to a template, for the live-menu prefill of writer-gui-v0
(`gui.prefill`, wired in `gui_prefill`): the text a user selects first, the submenu item or
the dialog's button, and the checks that prove the effect on the saved document.

The headless prefill (`prefill`) instantiates a pair first. It knows Writer only through
hand-written dialog descriptions and rejects a plan that ends in "Choose Format - Align Text."
with no values: no check can verify it. Read against the live menus, such a plan names a real
submenu, and the effect here picks one of its items and the text it applies to. A command not
listed stays rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lamforge.core import Action, Check
from lamforge.envs.gui.prefill import Effect, Instance, Outcome, act, key
from lamforge.envs.writer.prefill import TARGETS

_BODY = ("report", "line", "multipage")
"""Templates whose phrases are plain body text, left-aligned and single-spaced."""
_TABLE = {"rows": 4, "cols": 3, "cells": ("Apples", "Pears", "Plums", "Quantity", "0.75")}
"""The `table` template's inventory table."""


def _phrase(inst: Instance) -> str | None:
    if inst.template not in _BODY:
        return None
    return inst.rng.choice(TARGETS[inst.template])


def _select(text: str) -> Action:
    return act("select_text", text=text)


def _on(text: str) -> str:
    return f"on the text '{text}'"


def _on_text(text: str, item: str | None, choice: str, check: Check) -> Outcome:
    """A submenu item applied to a selected phrase. `item` is the item the pair's own path
    ends at (None when it ends at the submenu, and the instance chose `choice`: the request
    then says which)."""
    return Outcome(before=[_select(text)], then=() if item else (choice,),
                   details=[_on(text), *([] if item else [f"choose {choice}"])],
                   checks=[check])


# ---- paragraphs ----------------------------------------------------------------------------
_ALIGN = {"Centered": "center", "Right": "right", "Justified": "justify"}


def _align(item: str | None) -> Effect:
    """Format > Align Text > item on a body phrase (left-aligned to begin with); Left on the
    report's centred title."""
    def effect(inst: Instance) -> Outcome | None:
        choice = item or inst.pick([*_ALIGN, "Left"])
        if choice == "Left":
            if inst.template != "report":
                return None
            text = "Quarterly Report"
        else:
            text = _phrase(inst)
            if text is None:
                return None
        return _on_text(text, item, choice,
                        Check(kind="alignment", text=text, align=_ALIGN.get(choice, "left")))
    return effect


def _line_spacing(percent: int) -> Callable[[str], Check]:
    return lambda t: Check(kind="line_spacing", text=t, percent=percent)


_SPACING: dict[str, Callable[[str], Check]] = {
    "Line Spacing: 1.15": _line_spacing(115), "Line Spacing: 1.5": _line_spacing(150),
    "Line Spacing: 2": _line_spacing(200)}
"""Format > Spacing's items that change a single-spaced paragraph, and their checks."""

_CHAR: dict[str, Callable[[str], Check]] = {
    "Bold": lambda t: Check(kind="bold", text=t),
    "Italic": lambda t: Check(kind="italic", text=t),
    "Single Underline": lambda t: Check(kind="underline", text=t),
    "Strikethrough": lambda t: Check(kind="strikethrough", text=t),
    "Superscript": lambda t: Check(kind="superscript", text=t),
    "Subscript": lambda t: Check(kind="subscript", text=t),
    "UPPERCASE": lambda t: Check(kind="text_present", text=t.upper()),
    "Capitalize Every Word": lambda t: Check(kind="text_present", text=t.title()),
}
"""Format > Text's items and their checks (a case change is checked on the new words)."""


def _on_phrase(items: dict[str, Callable[[str], Check]]) -> Callable[[str | None], Effect]:
    """A submenu whose items act on a selected body phrase (Format > Spacing, Format > Text):
    the effect of one item, or of the submenu (an item chosen per instance)."""
    def make(item: str | None) -> Effect:
        def effect(inst: Instance) -> Outcome | None:
            text = _phrase(inst)
            if text is None:
                return None
            choice = item or inst.pick(list(items))
            check = items[choice](text)
            if check.kind == "text_present" and check.params["text"] == text:
                return None  # already in that case
            return _on_text(text, item, choice, check)
        return effect
    return make


# ---- editing and sections -------------------------------------------------------------------
_REPLACEMENTS = ["modest growth", "the new plan", "next quarter", "a later date"]


def replace_text(inst: Instance) -> Outcome | None:
    """Edit > Find and Replace…: a phrase of the body replaced everywhere (Replace All), then
    Close. Only for pairs about replacing: finding alone leaves nothing on the document."""
    text = _phrase(inst)
    words = re.sub(r"find\W+(and\W+)?replace", "", inst.words)  # the menu's own name
    if text is None or "replac" not in words:
        return None
    new = inst.rng.choice(_REPLACEMENTS)
    return Outcome(after=[act("set_edit_text", "Find", text=text),
                          act("set_edit_text", "Replace", text=new),
                          act("click", "Replace All"), act("click", "Close")],
                   details=[f"Find: {text}", f"Replace: {new}"],
                   checks=[Check(kind="text_absent", text=text),
                           Check(kind="text_present", text=new)])


def new_section(inst: Instance) -> Outcome | None:
    """Insert > Section…, Insert: a section at the cursor, one column. Not for pairs about
    linking a file into it or hiding it (no file to link, nothing a check sees)."""
    if any(w in inst.words for w in ("link", "hide", "hidden", "protect")):
        return None
    return Outcome(after=[act("click", "Insert")],
                   checks=[Check(kind="section_present", columns=1)])


# ---- fields and indexes ---------------------------------------------------------------------
_FIELDS = {"Page Number": "page number", "Page Count": "page count", "Date": "date",
           "Time": "time", "Title": "title", "First Author": "author", "Subject": "subject"}


def _field(item: str | None) -> Effect:
    """Insert > Field > item at the cursor (the document's start)."""
    def effect(inst: Instance) -> Outcome | None:
        choice = item or inst.pick(list(_FIELDS))
        return Outcome(then=() if item else (choice,),
                       details=[] if item else [f"choose {choice}"],
                       checks=[Check(kind="field_present", field=_FIELDS[choice])])
    return effect


_MORE_FIELDS = {"Author": "author", "Date": "date", "File name": "file name", "Time": "time"}
"""Types of the Fields dialog's Document tab whose field the checks tell apart (Chapter
inserts nothing without a heading numbering)."""


_OTHER_FIELD_TABS = ("cross-reference", "functions", "docinformation", "variables", "database")


def more_fields(inst: Instance) -> Outcome | None:
    """Insert > Field > More Fields…: the Document tab, a type in its list, Insert, Close. A
    pair about another tab of the dialog (Variables, Functions…) is not made one of these."""
    if any(tab in inst.words for tab in _OTHER_FIELD_TABS):
        return None
    choice = inst.pick(list(_MORE_FIELDS))
    return Outcome(after=[act("click", "Document"), act("click", choice),
                          act("click", "Insert"), act("click", "Close")],
                   details=[f"Type: {choice}"],
                   checks=[Check(kind="field_present", field=_MORE_FIELDS[choice])])


def _contents(leaf: bool) -> Effect:
    """Insert > Table of Contents and Index > Table of Contents, Index or Bibliography…,
    then OK: a table of contents of the document's headings."""
    def effect(inst: Instance) -> Outcome | None:
        if inst.template not in ("report", "multipage"):
            return None
        item = "Table of Contents, Index or Bibliography..."
        return Outcome(then=() if leaf else (item,), after=[act("click", "OK")],
                       details=[] if leaf else ["choose Table of Contents, Index or Bibliography"],
                       checks=[Check(kind="index_present", index="toc")])
    return effect


# ---- tables ---------------------------------------------------------------------------------
def _in_table(inst: Instance) -> str | None:
    return inst.rng.choice(_TABLE["cells"]) if inst.template == "table" else None


def _table_dialog(rows: int, cols: int) -> Effect:
    """A Table command whose dialog's defaults do the work (Insert Columns…, Insert Rows…:
    one, before the selection): the cursor in a cell, then the dialog's OK."""
    def effect(inst: Instance) -> Outcome | None:
        cell = _in_table(inst)
        if cell is None:
            return None
        return Outcome(before=[_select(cell)], after=[act("click", "OK")],
                       details=[_on(cell)],
                       checks=[Check(kind="table_shape", rows=rows, cols=cols)])
    return effect


def split_table(inst: Instance) -> Outcome | None:
    """Table > Split Table…, OK: two tables, the second from the cursor's row."""
    cell = _in_table(inst)
    if cell is None or cell == "Quantity":  # the header row cannot be split off
        return None
    return Outcome(before=[_select(cell)], after=[act("click", "OK")], details=[_on(cell)],
                   checks=[Check(kind="table_count", count=2)])


def _leaves(path: tuple[str, ...], make: Callable[[str | None], Effect],
            items: list[str]) -> dict[str, Effect]:
    """The submenu's own key (an item chosen per instance) and each item's."""
    return {key(path): make(None), **{key((*path, i)): make(i) for i in items}}


EFFECTS: dict[str, Effect] = {
    **_leaves(("Format", "Align Text"), _align, [*_ALIGN, "Left"]),
    **_leaves(("Format", "Spacing"), _on_phrase(_SPACING), list(_SPACING)),
    **_leaves(("Format", "Text"), _on_phrase(_CHAR), list(_CHAR)),
    **_leaves(("Insert", "Field"), _field, list(_FIELDS)),
    key(("Insert", "Field", "More Fields...")): more_fields,
    key(("Edit", "Find and Replace...")): replace_text,
    key(("Insert", "Section...")): new_section,
    key(("Insert", "Table of Contents and Index")): _contents(leaf=False),
    key(("Insert", "Table of Contents and Index",
         "Table of Contents, Index or Bibliography...")): _contents(leaf=True),
    key(("Table", "Insert", "Columns...")): _table_dialog(_TABLE["rows"], _TABLE["cols"] + 1),
    key(("Table", "Insert", "Rows...")): _table_dialog(_TABLE["rows"] + 1, _TABLE["cols"]),
    key(("Table", "Split Table...")): split_table,
}
