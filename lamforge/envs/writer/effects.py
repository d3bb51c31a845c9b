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
from lamforge.envs.gui.prefill import Effect, Instance, Outcome, act, key, sequence
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
    "lowercase": lambda t: Check(kind="text_present", text=t.lower()),
    "Capitalize Every Word": lambda t: Check(kind="text_present", text=t.title()),
}
"""Format > Text's items and their checks (a case change is checked on the new words)."""


def _changes(check: Check, text: str) -> bool:
    """Whether the check can fail on the untouched phrase (a case change to the case the
    phrase already has cannot)."""
    return not (check.kind == "text_present" and check.params["text"] == text)


def _on_phrase(items: dict[str, Callable[[str], Check]]) -> Callable[[str | None], Effect]:
    """A submenu whose items act on a selected body phrase (Format > Spacing, Format > Text):
    the effect of one item, or of the submenu (an item chosen per instance)."""
    def make(item: str | None) -> Effect:
        def effect(inst: Instance) -> Outcome | None:
            if inst.template not in _BODY:
                return None
            choice = item or inst.pick(list(items))
            texts = [t for t in TARGETS[inst.template] if _changes(items[choice](t), t)]
            if not texts:
                return None
            text = inst.rng.choice(texts)
            return _on_text(text, item, choice, items[choice](text))
        return effect
    return make


# ---- dialogs the headless descriptions lack the tab of ---------------------------------------
def character(inst: Instance) -> Outcome | None:
    """Format > Character…, for a pair about a background or highlighting: the Highlighting
    tab, its Color button, a colour of the palette, OK."""
    text = _phrase(inst)
    if text is None or not any(w in inst.words for w in ("highlight", "background")):
        return None
    color = inst.pick(["Yellow", "Lime", "Light Blue 2"])  # named in `colors.PALETTE`
    return Outcome(before=[_select(text)],
                   after=[act("click", "Highlighting"), act("click", "Color"),
                          act("click", color), act("click", "OK")],
                   details=[_on(text), f"Highlighting: {color}"],
                   checks=[Check(kind="highlight", text=text, color=color)])


def paragraph(inst: Instance) -> Outcome | None:
    """Format > Paragraph…, for a pair about its Text Flow tab's breaks: Insert (a page break
    before the paragraph), OK."""
    if "text flow" not in inst.words or "break" not in inst.words \
            or inst.template not in _STARTS:
        return None
    text = inst.rng.choice(_STARTS[inst.template])
    return Outcome(before=[_select(text)],
                   after=[act("click", "Text Flow"), act("click", "Insert"), act("click", "OK")],
                   details=[_on(text), "Breaks: Insert"],
                   checks=[Check(kind="page_break_before", text=text)])


def page_style(inst: Instance) -> Outcome | None:
    """Format > Page Style…, for a pair about the orientation: the Page tab, Landscape, OK
    (every template is portrait)."""
    if not any(w in inst.words for w in ("orientation", "landscape")):
        return None
    return Outcome(after=[act("click", "Page"), act("click", "Landscape"), act("click", "OK")],
                   details=["Orientation: Landscape"],
                   checks=[Check(kind="page_orientation", orientation="landscape")])


def _frame(leaf: bool) -> Effect:
    """Insert > Frame > Frame…, OK: the selected phrase moved into a frame of its own (the
    body templates have no shape). Saved as .docx and opened again, the frame is a text box
    shape: the check counts shapes of any kind."""
    def effect(inst: Instance) -> Outcome | None:
        text = _phrase(inst)
        if text is None:
            return None
        return Outcome(before=[_select(text)], then=() if leaf else ("Frame...",),
                       after=[act("click", "OK")],
                       details=[_on(text), *([] if leaf else ["choose Frame"])],
                       checks=[Check(kind="shape_count", count=1)])
    return effect


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


_STARTS = {"report": ["Revenue rose by twelve percent", "The north region grew fastest",
                      "We expect demand to remain strong"],
           "multipage": ["This chapter describes part 2", "This chapter describes part 3"]}
"""Body paragraphs' first words (a paragraph a page break can go before: not the first)."""


def page_break(inst: Instance) -> Outcome | None:
    """Insert > More Breaks > Manual Break…: a page break before a body paragraph (the phrase
    found, then Home: the cursor at the paragraph's start), its pages in the Landscape page
    style, OK. The help pages' pairs about this command are all about a page style after
    the break."""
    if inst.template not in _STARTS:
        return None
    text = inst.rng.choice(_STARTS[inst.template])
    return Outcome(before=[_select(text), act("keyboard", keys="Home")],
                   after=[act("click", "Page break"),
                          act("select_option", "Page Style", option="Landscape"),
                          act("click", "OK")],
                   details=[f"before the paragraph '{text}'", "Page Style: Landscape"],
                   checks=[Check(kind="page_break_before", text=text),
                           Check(kind="page_orientation", orientation="landscape",
                                 text=text)])


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


_OUTCOMES = [("There is only one page", "There are several pages"),
             ("Draft", "Final"), ("Target is met", "Target is not met")]
"""Then and Else texts of a conditional text. Its condition, page == 1, reads the document's
page count: the Then text shows in a one-page template, the Else text in `multipage`."""
_LONG = ("multipage",)
"""Templates of more than one page."""


def conditional_text(inst: Instance) -> Outcome | None:
    """The Fields dialog's Functions tab: Conditional text, a condition, its Then and Else
    texts, Insert, Close. Only for a pair whose condition needs no variable of the document:
    a variable (Set variable) and hidden text or paragraphs are not kept by the .docx the
    checks read (measured), and Insert on an Input field opens a modal dialog that blocks
    the accessibility call pressing it."""
    if "variable" in inst.words:
        return None
    then, other = inst.rng.choice(_OUTCOMES)
    shown, hidden = (other, then) if inst.template in _LONG else (then, other)
    return Outcome(after=[act("click", "Functions"), act("click", "Conditional text"),
                          act("set_edit_text", "Condition", text="page == 1"),
                          act("set_edit_text", "Then", text=then),
                          act("set_edit_text", "Else", text=other),
                          act("click", "Insert"), act("click", "Close")],
                   details=["Condition: page == 1", f"Then: {then}", f"Else: {other}"],
                   checks=[Check(kind="field_present", field="conditional text"),
                           Check(kind="text_present", text=shown),
                           Check(kind="text_absent", text=hidden)])


def more_fields(inst: Instance) -> Outcome | None:
    """Insert > Field > More Fields…: the Document tab, a type in its list, Insert, Close; for
    a pair about conditional text, the Functions tab's (`conditional_text`). A pair about
    another tab of the dialog (Variables, Cross-references…) is not made one of these."""
    if "conditional text" in inst.words:
        return conditional_text(inst)
    if any(tab in inst.words for tab in _OTHER_FIELD_TABS):
        return None
    choice = inst.pick(list(_MORE_FIELDS))
    return Outcome(after=[act("click", "Document"), act("click", choice),
                          act("click", "Insert"), act("click", "Close")],
                   details=[f"Type: {choice}"],
                   checks=[Check(kind="field_present", field=_MORE_FIELDS[choice])])


def footer_page_number(inst: Instance) -> Outcome | None:
    """Insert > Header and Footer > Footer, its Default Page Style (the footer is switched on
    and the cursor goes into it), then Insert > Field > Page Number: the footer reads 1, in a
    one-page template (the reader sees a longer document's footer as its last page's)."""
    if inst.template in _LONG:
        return None
    return Outcome(then=("Default Page Style",),
                   after=[act("click", "Insert"), act("click", "Field"),
                          act("click", "Page Number")],
                   checks=[Check(kind="footer_text", text="1"),
                           Check(kind="field_present", field="page number")])


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


def insert_table(inst: Instance) -> Outcome | None:
    """Table > Insert Table…: columns and rows typed into the dialog, Insert (at the cursor, the
    document's start), in a template with no table."""
    if inst.template == "table":
        return None
    cols, rows = inst.rng.randint(2, 5), inst.rng.randint(2, 6)
    return Outcome(after=[act("set_edit_text", "Columns", text=str(cols)),
                          act("set_edit_text", "Rows", text=str(rows)), act("click", "Insert")],
                   details=[f"{cols} columns", f"{rows} rows"],
                   checks=[Check(kind="table_shape", rows=rows, cols=cols)])


_CATEGORIES = ["Figure", "Illustration", "Drawing"]


def caption(inst: Instance) -> Outcome | None:
    """Insert > Caption… with the cursor in the table: a category typed for the one offered
    ("Table"), OK; the caption paragraph reads "<category> 1". (The dialog's caption text box
    has no accessible name, so the category is what the request sets.)"""
    cell = _in_table(inst)
    if cell is None:
        return None
    category = inst.pick(_CATEGORIES)
    return Outcome(before=[_select(cell)],
                   after=[act("set_edit_text", "Category", text=category), act("click", "OK")],
                   details=[_on(cell), f"Category: {category}"],
                   checks=[Check(kind="text_present", text=f"{category} 1")])


def split_table(inst: Instance) -> Outcome | None:
    """Table > Split Table…, OK: two tables, the second from the cursor's row."""
    cell = _in_table(inst)
    if cell is None or cell == "Quantity":  # the header row cannot be split off
        return None
    return Outcome(before=[_select(cell)], after=[act("click", "OK")], details=[_on(cell)],
                   checks=[Check(kind="table_count", count=2)])


def _cells(merge: bool) -> Effect:
    """Table > Merge Cells on a cell and the one right of it (selected with Shift+Right), or
    Table > Split Cells…, OK (the dialog's default: into 2, horizontally) on a cell."""
    def effect(inst: Instance) -> Outcome | None:
        if inst.template != "table":
            return None
        cells = _TABLE["rows"] * _TABLE["cols"]
        if merge:  # not the last column's 0.75: nothing is right of it
            cell = inst.rng.choice([c for c in _TABLE["cells"] if c != "0.75"])
            return Outcome(before=[_select(cell), act("keyboard", keys="shift+Right")],
                           details=[f"the cell '{cell}' and the one right of it"],
                           checks=[Check(kind="table_cell_count", count=cells - 1)])
        cell = inst.rng.choice(_TABLE["cells"])
        return Outcome(before=[_select(cell)], after=[act("click", "OK")],
                       details=[f"the cell '{cell}'"],
                       checks=[Check(kind="table_cell_count", count=cells + 1)])
    return effect


_TABLE_ALIGNS = {"Left": "left", "Center": "center", "Right": "right"}


def table_properties(inst: Instance) -> Outcome | None:
    """Table > Properties…: on its Table tab an alignment (the table is as wide as the text
    area to begin with), or, for a pair about its Text Flow tab, Repeat heading. A pair about
    another tab (Columns, Borders, Background) is not made one of these."""
    cell = _in_table(inst)
    if cell is None or any(f"{t} tab" in inst.words for t in ("columns", "borders", "background")):
        return None
    if "text flow" in inst.words:
        return Outcome(before=[_select(cell)],
                       after=[act("click", "Text Flow"), act("click", "Repeat heading"),
                              act("click", "OK")],
                       details=[_on(cell), "Repeat heading"],
                       checks=[Check(kind="table_repeat_heading")])
    choice = inst.pick(list(_TABLE_ALIGNS))
    return Outcome(before=[_select(cell)],
                   after=[act("click", "Table"), act("click", choice), act("click", "OK")],
                   details=[_on(cell), f"Alignment: {choice}"],
                   checks=[Check(kind="table_alignment", align=_TABLE_ALIGNS[choice])])


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
    key(("Insert", "More Breaks", "Manual Break...")): page_break,
    key(("Format", "Character...")): character,
    key(("Format", "Paragraph...")): paragraph,
    key(("Format", "Page Style...")): page_style,
    key(("Table", "Insert Table...")): insert_table,
    key(("Insert", "Caption...")): caption,
    key(("Insert", "Frame")): _frame(leaf=False),
    key(("Insert", "Frame", "Frame...")): _frame(leaf=True),
    key(("Table", "Merge Cells")): _cells(merge=True),
    key(("Table", "Split Cells...")): _cells(merge=False),
    key(("Table", "Properties...")): table_properties,
    sequence(("Insert", "Header and Footer", "Footer"),
             ("Insert", "Field", "Page Number")): footer_page_number,
}
