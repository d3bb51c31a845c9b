"""Offline prefill for Writer: turn a task-plan pair into executable task instances.

The paper's prefill asks an LLM to turn each plan step into actions on the real UI; this is the
rules provider that needs no model (`lamforge.dataflow.prefill` has the LLM one). It grounds the
step forms that LibreOffice's help and our evolution use — menu paths ("Choose Format -
Character, set Size to 14 pt and click OK."), toolbar clicks ("Click Bold on the Formatting
bar."), shortcuts ("Press Ctrl+B."), selections, typing and the fields of an open dialog ("Select
Show numbering.", "Click OK.") — into actions named by `control_text`.

Menu names are grounded in Writer's control surface (`data/surface.json`, written by
scripts/probe_commands.py from LibreOffice's own UI configuration): "Table - Delete - Rows"
becomes Table > Delete > Delete Rows. A name the surface does not have is kept as the help wrote
it, so the task fails at execution with the mismatch, as in the paper.

Each instance is a concrete request: a template, the text to act on and, where the plan opens
a dialog without saying what to set in it, the values to enter (a bookmark's name, a table of
contents' title…). The checks are derived from what the grounded commands must make true. A
step that cannot be grounded rejects the pair with the step as reason; so does a task that needs
what the environment lacks (databases, mail merge, macros, printing…).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lamforge.core import Action, Check, Rejected, Task, TaskPlan
from lamforge.dataflow.family import families_of, page_of
from lamforge.envs.match import normalize, pick_name
from lamforge.envs.writer.dialogs import DIALOGS, Dialog
from lamforge.envs.writer.ui import DATA

UNAVAILABLE = {
    "database": r"\b(database|data source|mail merge|form letter|bibliography database)\b",
    "macros": r"\b(macro|basic ide|script)\b",
    "printing": r"\b(print|printer|printing|paper tray)\b",
    "other apps": r"\b(calc spreadsheet|impress|draw document|chart|ole object|e-?mail)\b",
    "files and network": r"\b(open a document|load|hyperlink|url|internet|web page|ftp|pdf)\b",
    "images": r"\b(image|graphic|picture|photo|fontwork)\b",
    "wizards (they need Java)": r"\b(wizards?|autopilot|document converter)\b",
}

# Templates and the phrases a selection step may pick in each (the instance's values).
TARGETS: dict[str, list[str]] = {
    "report": ["Revenue rose by twelve percent", "north region", "coastal offices",
               "steady growth", "We expect demand to remain strong"],  # body text, not bold
    "line": ["quick brown fox", "lazy dog", "jumps"],
    "table": ["Apples", "Pears", "Plums", "0.75", "20"],  # body cells: the cursor is in the table
    "bullets": ["Shopping list", "Buy everything before Friday"],
    "comments": ["The budget was approved", "second week of May"],
    "multipage": ["part 1 of the plan", "part 2 of the plan", "part 3 of the plan"],
}
PAGES = {"multipage": 3}  # page count of each template (1 if not listed)
# What a header or footer says when the plan does not say (varied, so a model learns to copy it
# from the request rather than to remember one text).
PAGE_TEXTS = {"header": ["Quarterly report", "Confidential", "Draft for review", "Acme Ltd"],
              "footer": ["Page footer", "Internal use only", "Version 2", "Printed copy"]}
TABLE_SHAPE = {"table": (4, 3)}  # rows, columns of the first table
HEADINGS = ("report", "multipage")  # templates with headings (a table of contents has entries)
TOPIC_TEMPLATES = [
    (r"\btable of contents|\bindex\b", ["multipage", "report"]),
    (r"\btable\b", ["table"]),
    (r"\b(list|bullet|numbering)\b", ["bullets", "report"]),
    (r"\b(comment|note)\b", ["comments"]),
    (r"\b(heading|chapter|outline|page break|section)\b", ["multipage", "report"]),
    (r"\b(page|margin|header|footer|orientation|landscape)\b", ["report", "line"]),
]
DEFAULT_TEMPLATES = ["report", "line", "comments"]

# ---- what commands do, by UNO command -------------------------------------------------------
_TOGGLES = {".uno:Bold": "bold", ".uno:Italic": "italic", ".uno:Underline": "underline",
            ".uno:UnderlineSingle": "underline", ".uno:UnderlineDouble": "underline",
            ".uno:Strikeout": "strikethrough", ".uno:SuperScript": "superscript",
            ".uno:SubScript": "subscript"}
_ALIGN = {".uno:CenterPara": "center", ".uno:RightPara": "right", ".uno:JustifyPara": "justify",
          # Format > Align Text: in running text they align the paragraph
          ".uno:CommonAlignHorizontalCenter": "center", ".uno:CommonAlignRight": "right",
          ".uno:CommonAlignJustified": "justify"}
_LISTS = {".uno:DefaultBullet": "bullet", ".uno:DefaultNumbering": "number"}
_FIELDS = {".uno:InsertDateField": "date", ".uno:InsertTimeField": "time",
           ".uno:InsertPageNumberField": "page number", ".uno:InsertPageCountField": "page count",
           ".uno:InsertTitleField": "title", ".uno:InsertAuthorField": "author",
           ".uno:InsertTopicField": "subject"}
_CASES: dict[str, Callable[[str], str]] = {
    ".uno:ChangeCaseToUpper": str.upper, ".uno:ChangeCaseToLower": str.lower,
    ".uno:ChangeCaseToTitleCase": lambda s: " ".join(w[:1].upper() + w[1:] for w in s.split()),
    ".uno:ChangeCaseToToggleCase": str.swapcase,
}
_TABLE_OPS = {".uno:InsertRowsBefore": (1, 0), ".uno:InsertRowsAfter": (1, 0),
              ".uno:InsertColumnsBefore": (0, 1), ".uno:InsertColumnsAfter": (0, 1),
              ".uno:DeleteRows": (-1, 0), ".uno:DeleteColumns": (0, -1)}
_SPACING = {".uno:SpacePara1": 100, ".uno:SpacePara115": 115, ".uno:SpacePara15": 150,
            ".uno:SpacePara2": 200}
_NOTES = {".uno:InsertFootnote": "footnote", ".uno:InsertEndnote": "endnote"}
# Commands that act on the selected text: the instance selects its target first.
_ON_SELECTION = {*_TOGGLES, *_ALIGN, *_LISTS, *_CASES, *_SPACING, ".uno:FontDialog",
                 ".uno:ParagraphDialog", ".uno:OutlineBullet", ".uno:InsertBookmark",
                 ".uno:InsertSection", ".uno:ResetAttributes", *_TABLE_OPS, ".uno:DeleteTable"}

# Values an instance enters in a dialog the plan opens without saying what to set; one set of
# values per instance, in turn. Each value is a real option or a valid entry of the field.
DIALOG_VALUES: dict[str, list[dict[str, str]]] = {
    ".uno:FontDialog": [{"Size": "14 pt"}, {"Font": "Liberation Sans"}, {"Style": "Bold"},
                        {"Font color": "Dark Red 2"}, {"Size": "18 pt"}, {"Style": "Italic"}],
    ".uno:ParagraphDialog": [{"Alignment": "Center"}, {"Line spacing": "1.5 Lines"},
                             {"Alignment": "Right"}, {"Line spacing": "Double"},
                             {"Alignment": "Justified"}],
    ".uno:PageDialog": [{"Orientation": "Landscape"}, {"Left": "3 cm"}, {"Background": "Yellow"},
                        {"Top": "3.5 cm"}],
    ".uno:InsertTable": [{"Columns": "3", "Rows": "4"}, {"Columns": "2", "Rows": "5"},
                         {"Columns": "4", "Rows": "2"}],
    ".uno:InsertAnnotation": [{"Text": "Please check this"}, {"Text": "Source needed"}],
    ".uno:SaveAs": [{"File name": "report-final"}, {"File name": "draft-2"}],
    ".uno:InsertMultiIndex": [{"Title": "Contents"}, {"Title": "Table of Contents"},
                              {"Title": "Overview"}],
    ".uno:OutlineBullet": [{"Type": "Bullet"}, {"Type": "Number"}],
    # not 3 columns: LibreOffice 7.4 hangs laying out (or reopening) a 3-column section of a
    # short paragraph, so such an instance only ever fails
    ".uno:InsertSection": [{"Columns": "2"}, {"Name": "Summary"}],
    ".uno:InsertBreak": [{"Type": "Page break"}],
    ".uno:LineNumberingDialog": [{"Show numbering": "on"}, {"Show numbering": "on",
                                                            "Interval": "1"}],
    ".uno:SetDocumentProperties": [{"Title": "Quarterly report"}, {"Subject": "Sales"},
                                   {"Keywords": "sales, growth"},
                                   {"Comments": "Draft for review"}],
    ".uno:InsertBookmark": [{"Name": "Summary"}, {"Name": "Results"}, {"Name": "Start"}],
    ".uno:InsertFootnoteDialog": [{"Type": "Footnote"}, {"Type": "Endnote"}],
    ".uno:InsertSymbol": [{"Characters": "©"}, {"Characters": "€"}, {"Characters": "§"}],
    # another phrase than the instance's target, which later steps may still select
    ".uno:SearchDialog": [{"Find": "{other}", "Replace": "the revised text"}],
}
DIALOG_VALUES[".uno:CharmapControl"] = DIALOG_VALUES[".uno:InsertSymbol"]
# The button that applies each dialog (the first of its buttons unless listed).
_APPLY = {".uno:SearchDialog": ["Replace All", "Close"]}

# Writer shortcuts the help names, as the commands they run (see keys.py for the key syntax).
_KEYS = {"ctrl+b": ".uno:Bold", "ctrl+i": ".uno:Italic", "ctrl+u": ".uno:Underline",
         "ctrl+e": ".uno:CenterPara", "ctrl+r": ".uno:RightPara", "ctrl+j": ".uno:JustifyPara",
         "ctrl+enter": ".uno:InsertPagebreak", "ctrl+shift+p": ".uno:SuperScript",
         "ctrl+shift+b": ".uno:SubScript", "f12": ".uno:DefaultNumbering",
         "shift+f12": ".uno:DefaultBullet"}


# ---- the control surface --------------------------------------------------------------------
@dataclass
class _Node:
    command: str = ""
    children: dict[str, _Node] = field(default_factory=dict)


@cache
def surface() -> tuple[_Node, dict[str, str]]:
    """Writer's menu tree and toolbar items (label -> command), from data/surface.json."""
    data = json.loads((DATA / "surface.json").read_text())
    root = _Node()
    for path, command in data["menus"]:
        node = root
        for name in path:
            node = node.children.setdefault(name, _Node())
        node.command = command
    toolbar = {label: command for items in data["toolbars"].values() for label, command in items}
    return root, toolbar


def ground_path(parts: list[str]) -> tuple[list[str], str | None]:
    """Help path parts -> the surface's names and the command at the end (None if the surface
    has no such path; the unknown parts are kept as written)."""
    node, names = surface()[0], []
    for i, part in enumerate(parts):
        if node.command and not node.children and re.search(r"\bstyle$", part, re.I):
            break  # "Header - Default Page Style": LibreOffice lists page styles at run time
        name = pick_name(part, list(node.children))
        if name is None:
            return names + parts[i:], None
        names.append(name)
        node = node.children[name]
    return names, node.command or None


@cache
def _compound_names() -> list[str]:
    """Surface names that contain a path or list separator ('Footnote or Endnote...',
    'Table of Contents, Index or Bibliography...'), longest first."""
    out: set[str] = set()

    def rec(node: _Node) -> None:
        for name, child in node.children.items():
            if re.search(r", | or | - ", name):
                out.add(normalize(name))
            rec(child)

    rec(surface()[0])
    return sorted(out, key=len, reverse=True)


# ---- drafting an instance -------------------------------------------------------------------
@dataclass
class _Draft:
    template: str
    target: str
    variant: int
    actions: list[Action] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    selected: bool = False
    dialog: Dialog | None = None
    dialog_command: str = ""
    values: dict[str, str] = field(default_factory=dict)
    applied: bool = False  # a button that applies without closing (Replace All) was pressed
    filled: dict[str, int] = field(default_factory=dict)  # dialogs given values, per command
    switched: dict[str, bool] = field(default_factory=dict)  # check boxes turned on or off
    toggled: dict[str, int] = field(default_factory=dict)  # toggle commands run, per text
    table: tuple[int, int] | None = None  # the first table's shape after the task's changes

    def act(self, function: str, control: str | None = None, **args: Any) -> None:
        self.actions.append(Action(function=function, control_text=control, args=args))

    def select(self) -> None:
        if not self.selected:
            self.act("select_text", text=self.target)
            self.selected = True
            self.details.insert(0, f"on the text '{self.target}'")


def _field(d: _Draft, name: str) -> Any:
    assert d.dialog is not None
    for f in d.dialog.fields:
        if normalize(f.name) == normalize(name):
            return f
    return None


def _option(d: _Draft, value: str) -> tuple[Any, str] | None:
    """The combo-box field that offers `value` in the open dialog, and the option's name."""
    assert d.dialog is not None
    for f in d.dialog.fields:
        for o in f.options or []:
            if normalize(o) == normalize(value):
                return f, o
    return None


def _set(d: _Draft, name: str, value: str) -> bool:
    """Enter a value in a field of the open dialog; False if the dialog has no such field."""
    f = _field(d, name)
    if f is None:
        return False
    if f.type == "CheckBox":
        key = f"{d.dialog_command}:{f.name}"
        if (value == "on") != d.switched.get(key, False):  # a click toggles it
            d.act("click", f.name)
            d.switched[key] = value == "on"
    elif f.options and not f.free:
        opt = next((o for o in f.options if normalize(o) == normalize(value)), None)
        if opt is None:
            return False
        d.act("select_option", f.name, option=opt)
        value = opt
    else:
        d.act("set_edit_text", f.name, text=value)
    d.values[f.name] = value
    return True


def _open(d: _Draft, command: str) -> None:
    d.dialog, d.dialog_command, d.values, d.applied = DIALOGS[command], command, {}, False


def _close(d: _Draft, button: str | None = None) -> None:
    """Apply the open dialog: enter the instance's values if the plan set none, press the
    button, and derive the checks of what the dialog must have changed."""
    assert d.dialog is not None
    command = d.dialog_command
    applies = button not in ("Cancel", "Close") or d.applied
    if not d.values and not d.applied and applies:
        choices = DIALOG_VALUES.get(command, [])
        if choices:
            k = d.filled.get(command, 0)  # the same dialog again in one task: other values
            d.filled[command] = k + 1
            values = choices[(d.variant + k) % len(choices)]
            others = [x for x in TARGETS[d.template] if x != d.target] or [d.target]
            for name, value in values.items():
                value = value.replace("{other}", others[d.variant % len(others)])
                if not _set(d, name, value):
                    raise Rejected(f"dialog '{d.dialog.title}' has no field '{name}'")
                d.details.append(f"{name}: {value}")
    for b in [button] if button else _APPLY.get(command, d.dialog.buttons[:1]):
        d.act("click", b)
    if applies:
        _dialog_effect(d, command, d.values)
    d.dialog, d.dialog_command, d.values = None, "", {}


def _dialog_effect(d: _Draft, command: str, v: dict[str, str]) -> None:
    """The checks a dialog's values must make true once applied."""
    t = d.target
    for name, value in v.items():
        _effect_field(d, command, name, value)
    if command == ".uno:InsertTable":
        d.checks.append(Check(kind="table_count", count=_tables(d.template) + 1))
    elif command == ".uno:InsertAnnotation" and v.get("Text"):
        d.checks.append(Check(kind="comment_present", text=v["Text"]))
    elif command == ".uno:SaveAs" and v.get("File name"):
        name = v["File name"].rsplit(".", 1)[0] if v["File name"].endswith(
            (".odt", ".docx", ".doc")) else v["File name"]
        d.checks.append(Check(kind="file_saved", name=f"{name}.docx"))
    elif command == ".uno:SearchDialog" and v.get("Find"):
        d.checks.append(Check(kind="text_absent", text=v["Find"]))
        if v.get("Replace"):
            d.checks.append(Check(kind="text_present", text=v["Replace"]))
    elif command == ".uno:InsertMultiIndex" and v.get("Type", "Table of Contents") == \
            "Table of Contents":
        title = v.get("Title", "Table of Contents")
        d.checks.append(Check(kind="index_present", index="toc", title=title))
    elif command == ".uno:OutlineBullet" and v.get("Type") in ("Bullet", "Number"):
        d.checks.append(Check(kind="list_type", text=t, list=v["Type"].lower()))
    elif command == ".uno:InsertSection":
        cols = int(v.get("Columns", "1")) if v.get("Columns", "1").isdigit() else 1
        d.checks.append(Check(kind="section_present", columns=cols))
    elif command == ".uno:InsertBreak" and v.get("Type", "Page break") == "Page break":
        d.checks.append(Check(kind="page_count", min=PAGES.get(d.template, 1) + 1))
    elif command == ".uno:LineNumberingDialog" and v.get("Show numbering") == "on":
        d.checks.append(Check(kind="line_numbering", on=True))
    elif command == ".uno:SetDocumentProperties":
        for name, value in v.items():
            first = value.split(",")[0].strip() if name == "Keywords" else value
            d.checks.append(Check(kind="document_property", name=name.lower(), value=first))
    elif command == ".uno:InsertBookmark":
        d.checks.append(Check(kind="bookmark_present", name=v.get("Name", "Bookmark1")))
    elif command == ".uno:InsertFootnoteDialog":
        d.checks.append(Check(kind="note_count", note=v.get("Type", "Footnote").lower()))
    elif command in (".uno:InsertSymbol", ".uno:CharmapControl") and v.get("Characters"):
        d.checks.append(Check(kind="text_present", text=v["Characters"]))


def _effect_field(d: _Draft, command: str, name: str, value: str) -> None:
    """The check a character, paragraph or page dialog field's value must make true."""
    key, t = name.lower(), d.target
    num = re.match(r"([\d.]+)", value)
    if command == ".uno:FontDialog":
        if key == "size" and num:
            d.checks.append(Check(kind="font_size", text=t, size=float(num.group(1))))
        elif key == "font":
            d.checks.append(Check(kind="font_name", text=t, name=value))
        elif key == "style":
            d.checks.append(Check(kind="bold", text=t, value="Bold" in value))
            d.checks.append(Check(kind="italic", text=t, value="Italic" in value))
        elif key == "font color" and value != "Automatic":
            d.checks.append(Check(kind="font_color", text=t, color=value))
        elif key == "highlighting" and value != "None":
            d.checks.append(Check(kind="highlight", text=t, color=value))
        elif key == "underline":
            d.checks.append(Check(kind="underline", text=t, value=value != "(Without)"))
        elif key == "strikethrough":
            d.checks.append(Check(kind="strikethrough", text=t, value=value == "on"))
    elif command == ".uno:ParagraphDialog":
        if key == "alignment":
            d.checks.append(Check(kind="alignment", text=t, align=value.lower()))
        elif key == "line spacing":
            pct = {"single": 100, "1.15 lines": 115, "1.5 lines": 150, "double": 200}.get(
                value.lower())
            if pct:
                d.checks.append(Check(kind="line_spacing", text=t, percent=pct))
        elif key == "before text" and num:
            d.checks.append(Check(kind="indent", text=t, left=float(num.group(1))))
        elif key in ("above paragraph", "below paragraph") and num:
            d.checks.append(Check(kind="paragraph_spacing", text=t,
                                  **{key.split()[0]: float(num.group(1))}))
    elif command == ".uno:PageDialog":
        if key == "orientation":
            d.checks.append(Check(kind="page_orientation", orientation=value.lower()))
        elif key in ("left", "right", "top", "bottom") and num:
            d.checks.append(Check(kind="page_margins", **{key: float(num.group(1))}))
        elif key == "background":
            d.checks.append(Check(kind="page_background", color=value))


def _tables(template: str) -> int:
    return 1 if template in TABLE_SHAPE else 0


def _command_effect(d: _Draft, command: str) -> None:
    """The check a dispatched command must make true, for the commands we know the effect of."""
    t = d.target
    if command in _TOGGLES:
        key = f"{_TOGGLES[command]}:{t}"  # a toggle twice on the same text turns it off again
        d.toggled[key] = d.toggled.get(key, 0) + 1
        on = d.toggled[key] % 2 == 1
        d.checks.append(Check(kind=_TOGGLES[command], text=t, **({} if on else {"value": False})))
    elif command in _ALIGN:
        d.checks.append(Check(kind="alignment", text=t, align=_ALIGN[command]))
    elif command in _LISTS:
        d.checks.append(Check(kind="list_type", text=t, list=_LISTS[command]))
    elif command in _CASES:
        d.checks.append(Check(kind="text_present", text=_CASES[command](t)))
    elif command in _SPACING:
        d.checks.append(Check(kind="line_spacing", text=t, percent=_SPACING[command]))
    elif command in _FIELDS:
        d.checks.append(Check(kind="field_present", field=_FIELDS[command]))
    elif command in _NOTES:
        d.checks.append(Check(kind="note_count", note=_NOTES[command]))
    elif command in _TABLE_OPS:
        rows, cols = d.table or TABLE_SHAPE[d.template]  # after the task's earlier changes
        dr, dc = _TABLE_OPS[command]
        d.table = (rows + dr, cols + dc)
        d.checks.append(Check(kind="table_shape", rows=rows + dr, cols=cols + dc))
    elif command == ".uno:DeleteTable":
        d.checks.append(Check(kind="table_count", count=_tables(d.template) - 1))
    elif command == ".uno:InsertPagebreak":
        d.checks.append(Check(kind="page_count", min=PAGES.get(d.template, 1) + 1))
    elif command in (".uno:InsertPageHeader", ".uno:InsertPageFooter"):
        part = "header" if command.endswith("Header") else "footer"
        text = PAGE_TEXTS[part][d.variant % len(PAGE_TEXTS[part])]
        d.act("type_text", text=text)
        d.checks.append(Check(kind=f"{part}_text", text=text))
    elif style := _paragraph_style(command):
        d.checks.append(Check(kind="paragraph_style", text=t, style=style))


def _paragraph_style(command: str) -> str | None:
    """'.uno:StyleApply?Style:string=Heading 1&FamilyName:string=ParagraphStyles' -> 'Heading 1'
    (the Styles menu's aliases are resolved to these by the surface's labels)."""
    m = re.match(r"\.uno:StyleApply\?Style:string=([^&]+)&FamilyName:string=ParagraphStyles$",
                 command)
    if m:
        return m.group(1)
    m = re.match(r"\.uno:(Heading[1-6]|Title|Subtitle|TextBody|Quote)ParaStyle$", command)
    if m:
        return {"TextBody": "Text Body", "Quote": "Quotations"}.get(
            m.group(1), re.sub(r"(\d)", r" \1", m.group(1)))
    return None


def _requirements(command: str, d: _Draft) -> None:
    """Commands that need something the template lacks reject the instance's template."""
    if (command in _TABLE_OPS or command == ".uno:DeleteTable") and d.template not in TABLE_SHAPE:
        raise _WrongTemplate(next(iter(TABLE_SHAPE)))
    if command == ".uno:InsertSection" and (d.template in TABLE_SHAPE or d.template == "line"):
        # not inside a table cell, and not over a document's only paragraph (the .docx then
        # has no section to reopen)
        raise _WrongTemplate("report")
    if command == ".uno:InsertMultiIndex" and d.template not in HEADINGS:
        raise _WrongTemplate(HEADINGS[d.variant % len(HEADINGS)])
    if command in (".uno:ChangeCaseToLower", ".uno:ChangeCaseToToggleCase") and \
            d.target == d.target.lower():
        raise _WrongTarget(lambda s: s != s.lower())
    if command == ".uno:ChangeCaseToUpper" and d.target == d.target.upper():
        raise _WrongTarget(lambda s: s != s.upper())
    if command == ".uno:ChangeCaseToTitleCase" and d.target == _CASES[command](d.target):
        raise _WrongTarget(lambda s: s != _CASES[command](s))


class _WrongTemplate(Exception):
    def __init__(self, template: str) -> None:
        self.template = template


class _WrongTarget(Exception):
    def __init__(self, ok: Callable[[str], bool]) -> None:
        self.ok = ok


def _run(d: _Draft, command: str | None) -> None:
    """After clicking a command: open its dialog, or derive the check of its effect."""
    if command is None:
        return  # the surface does not have it: execution will fail on the name
    _requirements(command, d)
    if command in _ON_SELECTION:
        d.select()
    if command in DIALOGS:
        _open(d, command)
    else:
        _command_effect(d, command)


# ---- grounding plan steps -------------------------------------------------------------------
_PATH = re.compile(r"^(?:from the menu bar,? )?(?:choose|go to|select menu|select|open menu|"
                   r"menu)\s+(.+)$", re.IGNORECASE)


def _split_path(body: str) -> tuple[list[str], str]:
    """'Insert - Section - Section tab or choose …, set X' -> (['Insert', 'Section'], ' set X')."""
    kept: list[str] = []
    for name in _compound_names():  # such a name is one part, whatever its separators
        i = body.lower().find(name)
        if i >= 0:
            kept.append(body[i:i + len(name)])
            body = f"{body[:i]}\0{len(kept) - 1}\0{body[i + len(name):]}"

    def restore(text: str) -> str:
        return re.sub(r"\0(\d+)\0", lambda m: kept[int(m.group(1))], text)

    path_text, _, tail = body.partition(",")
    # "… - Paragraph and set Line spacing to 1.5 Lines": the rest is for the dialog
    m = re.search(r"\s+and\s+(?=(?:then\s+)?(?:set|select|enter|type|click|mark)\b)", path_text)
    if m:
        path_text, tail = path_text[:m.start()], path_text[m.end():] + ("," + tail if tail else "")
    path_text = re.split(r"\s+or\s+(?:choose\s+)?|\s+\(|\.\s", path_text)[0]
    parts = [restore(p) for p in re.split(r"\s+[->]\s+|\s*>\s*", path_text.rstrip("."))]
    # "… - Font tab": a tab of a dialog; our dialogs show every field at once
    parts = [re.sub(r"\(.*?\)", "", p).strip(" .'\"…") for p in parts
             if not re.search(r"\btab\b", p, re.I)]
    return parts, restore(tail)


def _ground_path(d: _Draft, body: str) -> bool:
    parts, tail = _split_path(body)
    if not parts or any(not p for p in parts) or len(parts) > 4:
        return False
    if d.dialog is not None:
        _close(d)
    names, command = ground_path(parts)
    if command in _ON_SELECTION or (command is None and any(
            k in body.lower() for k in ("character", "paragraph", "text -", "lists"))):
        d.select()
    for name in names:
        d.act("click", name)
    _run(d, command)
    return _dialog_tail(d, tail) if tail.strip() else True


def _dialog_tail(d: _Draft, tail: str) -> bool:
    """', set Size to 14 pt and click OK' and similar instructions after a path."""
    if d.dialog is None:
        m = re.match(r"^\s*(?:and\s+)?(?:then\s+)?type\s+\"?([^\".,]+?)\"?\.?\s*$", tail, re.I)
        if m:
            return _type_after(d, m.group(1).strip())
        return not re.search(r"\b(set|select|enter|type|click)\b", tail, re.I)
    # after the button that applies the dialog, instructions are top-level again
    return all(_ground_dialog_step(d, s) if d.dialog is not None else _ground_clause(s, d)
               for s in _clauses(tail))


def _type_after(d: _Draft, text: str) -> bool:
    """'… - Header and type Confidential': the typed text replaces the header's default."""
    last = d.actions[-1] if d.actions else None
    if last and last.function == "type_text" and d.checks and \
            d.checks[-1].kind in ("header_text", "footer_text"):
        last.args["text"] = text
        d.checks[-1] = Check(kind=d.checks[-1].kind, text=text)
        return True
    d.act("type_text", text=text)
    d.checks.append(Check(kind="text_present", text=text))
    return True


def _clauses(text: str) -> list[str]:
    parts = re.split(r",\s*(?:and\s+)?(?:then\s+)?|\s+and\s+(?:then\s+)?(?=click|select|set|"
                     r"enter|type|mark|[A-Z][\w ]*? to )|;\s*|\.\s+", text.strip())
    return [p.strip(" .") for p in parts if p.strip(" .")]


def _ground_dialog_step(d: _Draft, step: str) -> bool:
    """One instruction inside an open dialog."""
    if d.dialog is None:  # an earlier instruction of the step closed it
        return False
    s = re.sub(r"^(?:and\s+)?(?:then\s+)?", "", step.strip(" ."), flags=re.I)
    s = re.sub(r"^(on|in) the [\w &/-]+ tab(?: page)?,?\s*", "", s, flags=re.I)
    low = s.lower()
    if not s or re.match(r"^(click|select|open) the [\w &/-]+ tab$", low) or re.match(
            r"^(select|set|choose|specify) (the |any )?(options|settings|format) (that )?you "
            r"want", low):
        return True  # tabs are not controls here; "the options you want" keeps the defaults
    m = re.match(r"^click (ok|insert|save|close|cancel|replace all)\b", low)
    if m:
        button = next((b for b in d.dialog.buttons if b.lower() == m.group(1)), None)
        if button is None:
            return False
        if button == "Replace All":
            d.act("click", button)
            d.applied = True
            return True
        _close(d, button)
        return True
    m = re.match(r"^(?:set )?(?:the )?(.+?) to (.+)$", s, re.I)
    if m and _set(d, m.group(1).strip(), m.group(2).strip()):
        return True
    m = re.match(r"^(?:select|choose|click) (.+?) (?:in|under|from) (?:the )?(.+?)(?: box| list)?$",
                 s, re.I)
    if m and _set(d, m.group(2).strip(), m.group(1).strip(' "')):
        return True
    m = re.match(r"^(?:enter|type) (.+?) (?:in|into|as) (?:the )?(.+?)(?: box| field)?$", s, re.I)
    if m and _set(d, m.group(2).strip(), m.group(1).strip(' "')):
        return True
    m = re.match(r"^in the (.+?) box, (?:type|enter|select) (.+)$", s, re.I)
    if m and _set(d, m.group(1).strip(), m.group(2).strip(' "')):
        return True
    m = re.match(r"^(?:select|mark|check|click) (?:the )?(.+?)(?: check ?box| option)?$", s, re.I)
    if m:
        name = m.group(1).strip(' "')
        f = _field(d, name)
        if f is not None and f.type == "CheckBox":
            return _set(d, f.name, "on")
        found = _option(d, name)
        if found:
            return _set(d, found[0].name, found[1])
    return False


_PATH_START = re.compile(r"(?:^|\s)(?:choose|go to|select menu|open menu|menu)\s+\S[^.]*?\s[->]\s",
                         re.IGNORECASE)
_THEN = re.compile(r",?\s+and\s+then\s+|,\s*then\s+|\s+then\s+|;\s*|\.\s+(?=[A-Z])|\s+and\s+"
                   r"(?=(?:press|click|choose|select|type|go to)\b)", re.IGNORECASE)


def _ground_step(step: str, d: _Draft) -> bool:
    """Append the actions and checks of one plan step; False if the step cannot be grounded.

    A step may hold several instructions ("Select the text and press Ctrl+B."): each is
    grounded, and every one must be; a menu path keeps its dialog instructions after it."""
    s = step.strip()
    m = _PATH_START.search(s)
    head, path = (s[:m.start()], s[m.start():].strip()) if m else (s, "")
    clauses = [c.strip(" ,.") for c in _THEN.split(head) if c.strip(" ,.")]
    if path:
        clauses.append(path)
    if len(clauses) == 1:
        return _ground_clause(clauses[0], d)
    saved = copy.deepcopy(d)
    if all(_ground_clause(c, d) for c in clauses):
        return True
    d.__dict__.update(saved.__dict__)  # one instruction after all ("open X and choose Y")
    return _ground_clause(s.rstrip(" ."), d)


def _ground_clause(s: str, d: _Draft) -> bool:
    low = s.lower()
    m = _PATH.match(s)
    if m and re.search(r"\s[->]\s", m.group(1)) and (
            not low.startswith("select") or pick_name(re.split(r"\s[->]\s", m.group(1))[0],
                                                  list(surface()[0].children))):
        return _ground_path(d, m.group(1))
    if d.dialog is None and re.match(r"^(?:and )?(?:then )?click (close|cancel)$", low):
        return True  # the dialog was applied by an earlier button
    if d.dialog is not None:
        saved = copy.deepcopy(d)
        if all(_ground_dialog_step(d, c) for c in _clauses(s)):
            return True
        # not an instruction for the dialog: undo what part of it grounded, apply the dialog
        # as the instance would (its OK button) and read the step as a top-level one
        d.__dict__.update(saved.__dict__)
        _close(d)
    m = re.match(r"^(?:on the formatting bar, )?open (font color|character highlighting color) "
                 r"and choose ([\w ]+?)$", low)
    if m:
        d.select()
        name = "Font Color" if m.group(1) == "font color" else "Character Highlighting Color"
        value = s[m.start(2):m.end(2)]
        d.act("select_option", name, option=value)
        kind = "font_color" if name == "Font Color" else "highlight"
        d.checks.append(Check(kind=kind, text=d.target, color=value))
        return True
    m = re.match(r"^click in the first paragraph and choose ([\w ]+?) in the paragraph style box",
                 low)
    if m:
        first = TARGETS[d.template][0]
        d.act("select_text", text=first)
        value = s[m.start(1):m.end(1)]
        d.act("select_option", "Paragraph Style", option=value)
        d.checks.append(Check(kind="paragraph_style", text=first, style=value))
        return True
    m = re.match(r"^[Cc]lick (?:the )?([A-Z][\w ]*?)(?: icon| button)?(?i: on the (?:formatting|"
                 r"standard) (?:bar|toolbar))?$", s)
    if m and not re.match(r"^click (in|on|the|a|an|outside)\b", low):
        toolbar = surface()[1]
        name = pick_name(m.group(1), list(toolbar))
        if name is None:
            return False
        command = toolbar[name]
        if command in _ON_SELECTION:
            d.select()
        d.act("click", name)
        _run(d, command)
        return True
    m = re.match(r"^press ((?:ctrl|shift|alt)\+[\w+]+|f\d+)$", low)
    if m:
        keys = m.group(1)
        command = _KEYS.get(keys)
        if command:
            _requirements(command, d)
            if command in _ON_SELECTION:
                d.select()
        d.act("keyboard", keys=keys)
        if command:
            _command_effect(d, command)
        return True
    if re.match(r"^(select|highlight) (the|a|some|all|one or more|at least)\b.*"
                r"(text|word|words|characters|paragraph|paragraphs|selection)", low) or \
            re.match(r"^(click|place the cursor|put the cursor|position the cursor) "
                     r"(in|into|at|where|in front of)\b", low):
        d.select()
        return True
    m = re.match(r'^type "([^"]+)"$', s)
    if m:
        d.act("type_text", text=m.group(1))
        d.checks.append(Check(kind="text_present", text=m.group(1)))
        return True
    return False


# ---- instances ------------------------------------------------------------------------------
def _templates_for(task: str, rng: random.Random) -> list[str]:
    low = task.lower()
    for pattern, names in TOPIC_TEMPLATES:
        if re.search(pattern, low):
            return names
    names = list(DEFAULT_TEMPLATES)
    rng.shuffle(names)
    return names


def keyword_templates(pair: TaskPlan, seed: int = 0) -> list[str]:
    """Templates that fit the task by keywords (the offline fallback of template choice)."""
    return _templates_for(pair.task, random.Random(f"{seed}:{pair.id}"))


def _draft(pair: TaskPlan, template: str, target: str, variant: int) -> tuple[_Draft, list[int]]:
    d = _Draft(template=template, target=target, variant=variant)
    plan_step: list[int] = []
    for k, step in enumerate(pair.plan, 1):
        if not _ground_step(step, d):
            raise Rejected(f"cannot ground step {k}: {step[:80]}")
        plan_step += [k - 1] * (len(d.actions) - len(plan_step))
    if d.dialog is not None:
        _close(d)
        plan_step += [len(pair.plan) - 1] * (len(d.actions) - len(plan_step))
    return d, plan_step


def prefill(pair: TaskPlan, instances: int = 2, seed: int = 0,
            templates: list[str] | None = None) -> list[Task]:
    """Up to `instances` distinct task instances of `pair` (templates, targets and dialog
    values vary), or `Rejected` with the reason.

    `templates` is the order of preference from a template selector (MiniLM similarity or an
    LLM); instance n uses the n-th, cycling. Without it, keyword rules choose.
    """
    if pair.app not in ("writer", "shared"):
        raise Rejected(f"not a Writer task (app {pair.app})")
    text = (pair.task + " " + " ".join(pair.plan)).lower()
    for what, pattern in UNAVAILABLE.items():
        if re.search(pattern, text):
            raise Rejected(f"needs what the environment does not have: {what}")
    rng = random.Random(f"{seed}:{pair.id}")
    templates = [t for t in (templates or _templates_for(pair.task, rng)) if t in TARGETS] or \
        ["report"]
    offset = rng.randrange(1000)
    tasks: list[Task] = []
    seen: set[str] = set()
    for n in range(instances * 3):  # a few extra tries for instances that repeat another
        if len(tasks) == instances:
            break
        template = templates[n % len(templates)]
        target = TARGETS[template][(offset + n) % len(TARGETS[template])]
        for _ in range(3):
            try:
                d, plan_step = _draft(pair, template, target, offset + n)
                break
            except _WrongTemplate as e:
                template = e.template
                target = TARGETS[template][(offset + n) % len(TARGETS[template])]
            except _WrongTarget as e:
                fits = [x for x in TARGETS[template] if e.ok(x)] or \
                    [x for ts in TARGETS.values() for x in ts if e.ok(x)]
                target = fits[(offset + n) % len(fits)]
                if target not in TARGETS[template]:
                    template = next(k for k, v in TARGETS.items() if target in v)
        else:
            raise Rejected("no template fits the commands of this task")
        if not d.actions:
            raise Rejected("no actions")
        if not d.checks:
            raise Rejected("no check can verify the effect of these commands")
        d.act("finish")
        key = json.dumps([template, [a.model_dump() for a in d.actions]], sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        request = _request(pair.task, d)
        digest = hashlib.sha1(f"{pair.id}:{key}".encode()).hexdigest()[:8]
        tasks.append(Task(
            id=f"{pair.id}-i{len(tasks) + 1}-{digest}", app="writer", request=request,
            plan=pair.plan, template=template, checks=dedup_checks(d.checks), actions=d.actions,
            meta={"pair": pair.id, "source": pair.source, "target": d.target,
                  "family": page_of(pair.source) or pair.id, "families": families_of(pair),
                  "plan_step": [*plan_step, len(pair.plan) - 1],
                  # the paper's {step, subtask}: the plan step each action grounds
                  "subtasks": [pair.plan[k] for k in plan_step],
                  "evolved_from": pair.evolved_from, "prefill": "rules"}))
    return tasks


def _request(task: str, d: _Draft) -> str:
    """The task with the instance's details, naming every value the actions type or enter that
    the words do not: a request that leaves out what must be typed cannot be done (the agent's
    grounding would replace such a value by one the request names, and rightly)."""
    details = list(d.details)
    for a in d.actions:
        value = a.args.get("option" if a.function == "select_option" else "text")
        if a.function not in ("type_text", "set_edit_text", "select_option", "select_text") or \
                not isinstance(value, str) or not value.strip():
            continue
        said = (task + " " + "; ".join(details)).lower()
        if value.lower() in said:
            continue
        details.append({"type_text": f"type '{value}'", "select_text": f"on the text '{value}'"}
                       .get(a.function, f"{a.control_text}: {value}"))
    return task + (f" ({'; '.join(details)})" if details else "")


# Checks of one property: a later one for the same text replaces an earlier one (a task that
# centres and then right-aligns a paragraph ends right-aligned).
_PARAGRAPH_FORMAT = {"alignment", "line_spacing", "indent", "paragraph_spacing"}
_EXCLUSIVE = {*_PARAGRAPH_FORMAT, "list_type", "paragraph_style", "font_name", "font_size",
              "font_color", "highlight", "bold", "italic", "underline", "strikethrough",
              "page_orientation", "page_background", "document_property", "table_shape"}


def dedup_checks(checks: list[Check]) -> list[Check]:
    """Drop repeated checks and those a later step overrides: a later check of the same
    property, and direct paragraph formatting of a paragraph that later gets a paragraph
    style (applying a style resets it)."""
    out: list[Check] = []
    for c in checks:
        p = c.params
        if c.kind in _EXCLUSIVE:
            scope = (p.get("text"), p.get("name") if c.kind == "document_property" else None)
            out = [o for o in out if not (o.kind == c.kind and (o.params.get("text"), o.params.get(
                "name") if o.kind == "document_property" else None) == scope)]
        if c.kind == "paragraph_style":
            out = [o for o in out if not (o.kind in _PARAGRAPH_FORMAT
                                          and o.params.get("text") == p.get("text"))]
        if c.model_dump_json() not in {o.model_dump_json() for o in out}:
            out.append(c)
    return out
