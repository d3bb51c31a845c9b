"""Parameter dialogs of Writer, described by us.

Headless soffice shows no dialog, and dispatching a dialog command without its arguments
kills it or cancels the dialog. So a click on such a command opens one of these dialogs
instead: its fields and buttons become controls, and its OK button applies the values
through the real dispatcher (`.uno:InsertTable` with `Rows`/`Columns`, `.uno:FontHeight`
…) or the document model where no command takes the value. Field names follow the labels of
LibreOffice's own dialogs so that help-page plans ("set Size to 14") ground onto them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lamforge.core import InvalidAction
from lamforge.envs.writer.colors import PALETTE

if TYPE_CHECKING:
    from lamforge.envs.writer.env import WriterEnv

ALIGNMENTS = ["Left", "Center", "Right", "Justified"]
LINE_SPACINGS = {"Single": 100, "1.15 Lines": 115, "1.5 Lines": 150, "Double": 200}
FONTS = ["Liberation Serif", "Liberation Sans", "Liberation Mono", "DejaVu Sans", "DejaVu Serif",
         "DejaVu Sans Mono"]
STYLES = ["Default Paragraph Style", "Text Body", "Title", "Subtitle", "Heading 1", "Heading 2",
          "Heading 3", "Quotations", "Preformatted Text", "List Bullet", "List Number"]
FONT_STYLES = ["Regular", "Bold", "Italic", "Bold Italic"]
UNDERLINES = ["(Without)", "Single", "Double"]
COLORS = ["Automatic", *PALETTE]
HIGHLIGHTS = ["None", *PALETTE]


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Edit | ComboBox | CheckBox
    options: list[str] | None = None
    free: bool = False  # ComboBox that also accepts values outside `options` (font names)
    color: bool = False  # also accepts #RRGGBB
    numeric: bool = False  # a measure or count: OK refuses text that is not a number
    init: Callable[[dict[str, Any]], str] = lambda state: ""


@dataclass(frozen=True)
class Dialog:
    command: str
    title: str
    fields: list[Field]
    buttons: list[str]
    apply: Callable[[WriterEnv, str, OpenDialog], bool]
    """apply(env, button, dialog) -> whether the dialog closes."""


@dataclass
class OpenDialog:
    spec: Dialog
    values: dict[str, str] = field(default_factory=dict)
    initial: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, spec: Dialog, state: dict[str, Any]) -> OpenDialog:
        values = {f.name: f.init(state) for f in spec.fields}
        return cls(spec, values, dict(values))

    def changed(self) -> dict[str, str]:
        """Only the fields the user changed: OK must not touch what nobody asked to change."""
        return {k: v for k, v in self.values.items() if v != self.initial.get(k)}


def parse_number(text: str) -> float | None:
    """A field's text as a number ("14 pt", "3,5 cm", "2"), or None when it is not one."""
    raw = text.strip().lower()
    for unit in ("cm", "pt", "%", "″", '"'):
        raw = raw.removesuffix(unit).strip()
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


def number(values: dict[str, str], name: str, lo: float, hi: float) -> float:
    v = parse_number(values.get(name, ""))
    if v is None:
        raise InvalidAction(f"field '{name}' needs a number, got '{values.get(name)}'")
    if not lo <= v <= hi:
        raise InvalidAction(f"field '{name}' must be between {lo:g} and {hi:g}, got {v:g}")
    return v


def _sel(state: dict[str, Any]) -> dict[str, Any]:
    return state["selection"].get("attrs", {})


def _font_style(state: dict[str, Any]) -> str:
    a = _sel(state)
    if a.get("bold") is None or a.get("italic") is None:
        return ""  # mixed selection
    return {(False, False): "Regular", (True, False): "Bold", (False, True): "Italic",
            (True, True): "Bold Italic"}[(bool(a["bold"]), bool(a["italic"]))]


def _flag(value: Any) -> str:
    return "" if value is None else "on" if value else "off"


# ---- appliers --------------------------------------------------------------------------------
def _apply_character(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    ops = env.ops
    v = dialog.changed()
    if v.get("Font"):
        ops.dispatch(".uno:CharFontName", {"CharFontName.FamilyName": v["Font"]})
    if v.get("Size"):
        ops.dispatch(".uno:FontHeight", {"FontHeight.Height": number(v, "Size", 2, 96)})
    style = v.get("Style", "")
    if style:
        ops.set_selection(CharWeight=150.0 if "Bold" in style else 100.0,
                     CharPosture=ops.enum("com.sun.star.awt.FontSlant",
                                          "ITALIC" if "Italic" in style else "NONE"))
    if v.get("Underline"):
        ops.set_selection(CharUnderline={"(Without)": 0, "Single": 1, "Double": 2}[v["Underline"]])
    if v.get("Strikethrough"):
        ops.set_selection(CharStrikeout=1 if v["Strikethrough"] == "on" else 0)
    color = v.get("Font color")
    if color:
        ops.set_selection(CharColor=-1 if color == "Automatic" else ops.color(color))
    hl = v.get("Highlighting")
    if hl:
        ops.set_selection(CharBackColor=-1 if hl == "None" else ops.color(hl),
                     CharBackTransparent=hl == "None")
    return True


def _apply_paragraph(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    ops = env.ops
    v = dialog.changed()
    if v.get("Alignment"):
        cmd = {"Left": ".uno:LeftPara", "Center": ".uno:CenterPara", "Right": ".uno:RightPara",
               "Justified": ".uno:JustifyPara"}[v["Alignment"]]
        ops.dispatch(cmd)
    props: dict[str, Any] = {}
    if v.get("Above paragraph"):
        props["ParaTopMargin"] = int(number(v, "Above paragraph", 0, 10) * 1000)
    if v.get("Below paragraph"):
        props["ParaBottomMargin"] = int(number(v, "Below paragraph", 0, 10) * 1000)
    if v.get("Before text"):
        props["ParaLeftMargin"] = int(number(v, "Before text", 0, 20) * 1000)
    if v.get("First line"):
        props["ParaFirstLineIndent"] = int(number(v, "First line", -10, 10) * 1000)
    if props:
        ops.set_selection(**props)
    if v.get("Line spacing"):
        ops.line_spacing(LINE_SPACINGS[v["Line spacing"]])
    return True


def _apply_table(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "Insert":
        return True
    v = dialog.values
    cols = int(number(v, "Columns", 1, 64))
    rows = int(number(v, "Rows", 1, 1000))
    args: dict[str, Any] = {"Columns": cols, "Rows": rows}
    if v.get("Name"):
        args["TableName"] = v["Name"]
    env.ops.dispatch(".uno:InsertTable", args)
    return True


def _apply_page(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    v = dialog.changed()
    props: dict[str, Any] = {}
    for name, prop in (("Left", "LeftMargin"), ("Right", "RightMargin"), ("Top", "TopMargin"),
                       ("Bottom", "BottomMargin")):
        if v.get(name):
            props[prop] = int(number(v, name, 0, 10) * 1000)
    env.ops.set_page(orientation=v.get("Orientation") or None, background=v.get("Background"),
                     **props)
    return True


def _apply_find_replace(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button == "Close":
        return True
    v = dialog.values
    find = v.get("Find", "")
    if not find:
        raise InvalidAction("field 'Find' is empty")
    case = v.get("Match case") == "on"
    if button == "Replace All":
        n = env.ops.replace_all(find, v.get("Replace", ""), case)
        env.note(f"replaced {n} occurrence(s)")
        return False
    if button == "Find Next":
        if not env.ops.find_next(find, case):
            env.note(f"search key '{find}' not found")
        return False
    raise InvalidAction(f"unknown button '{button}'")


def _apply_comment(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    v = dialog.values
    if not v.get("Text"):
        raise InvalidAction("field 'Text' is empty")
    env.ops.insert_comment(v["Text"], v.get("Author") or "lamforge")
    return True


def _apply_save_as(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "Save":
        return True
    v = dialog.values
    env.ops.save_as(v.get("File name") or "document.docx")
    return True


def _apply_index(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    v = dialog.values
    kind = {"Table of Contents": "toc", "Alphabetical Index": "alphabetical"}[v["Type"]]
    env.ops.insert_index(kind, v.get("Title", ""))
    return True


def _apply_bullets(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    kind = dialog.changed().get("Type")
    if kind:
        env.ops.dispatch({"Bullet": ".uno:DefaultBullet", "Number": ".uno:DefaultNumbering",
                          "None": ".uno:RemoveBullets"}[kind])
    return True


def _apply_section(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "Insert":
        return True
    v = dialog.values
    env.ops.insert_section(v.get("Name", "").strip(), int(number(v, "Columns", 1, 10)))
    return True


def _apply_break(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    env.ops.dispatch({"Page break": ".uno:InsertPagebreak", "Line break": ".uno:InsertLinebreak",
                      "Column break": ".uno:InsertColumnBreak"}[dialog.values["Type"]])
    return True


def _apply_line_numbering(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    v = dialog.values
    env.ops.set_line_numbering(v.get("Show numbering") == "on", int(number(v, "Interval", 1, 100)))
    return True


def _apply_properties(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    changed = {k.lower(): v for k, v in dialog.changed().items()}
    if changed:
        env.ops.set_properties(**changed)
    return True


def _apply_bookmark(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "Insert":
        return True
    name = dialog.values.get("Name", "").strip()
    if not name:
        raise InvalidAction("field 'Name' is empty")
    env.ops.insert_bookmark(name)
    return True


def _apply_note(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "OK":
        return True
    env.ops.dispatch(".uno:InsertEndnote" if dialog.values.get("Type") == "Endnote"
                     else ".uno:InsertFootnote")
    return True


def _apply_symbol(env: WriterEnv, button: str, dialog: OpenDialog) -> bool:
    if button != "Insert":
        return True
    chars = dialog.values.get("Characters", "")
    if not chars:
        raise InvalidAction("field 'Characters' is empty")
    env.ops.type_text(chars)
    return True


def _props(s: dict[str, Any], key: str) -> str:
    value = s.get("properties", {}).get(key, "")
    return ", ".join(value) if isinstance(value, list) else value or ""


DIALOGS: dict[str, Dialog] = {d.command: d for d in [
    Dialog(".uno:FontDialog", "Character", [
        Field("Font", "ComboBox", FONTS, free=True, init=lambda s: _sel(s).get("font") or ""),
        Field("Style", "ComboBox", FONT_STYLES, init=_font_style),
        Field("Size", "Edit", numeric=True, init=lambda s: f"{_sel(s)['size']:g} pt" if _sel(s).get("size")
              else ""),
        Field("Font color", "ComboBox", COLORS, color=True),
        Field("Highlighting", "ComboBox", HIGHLIGHTS, color=True),
        Field("Underline", "ComboBox", UNDERLINES,
              init=lambda s: {True: "Single", False: "(Without)"}.get(_sel(s).get("underline"), "")),
        Field("Strikethrough", "CheckBox", init=lambda s: _flag(_sel(s).get("strike"))),
    ], ["OK", "Cancel"], _apply_character),
    Dialog(".uno:ParagraphDialog", "Paragraph", [
        Field("Alignment", "ComboBox", ALIGNMENTS),
        Field("Before text", "Edit", numeric=True), Field("First line", "Edit", numeric=True),
        Field("Above paragraph", "Edit", numeric=True),
        Field("Below paragraph", "Edit", numeric=True),
        Field("Line spacing", "ComboBox", list(LINE_SPACINGS)),
    ], ["OK", "Cancel"], _apply_paragraph),
    Dialog(".uno:InsertTable", "Insert Table", [
        Field("Name", "Edit"), Field("Columns", "Edit", numeric=True, init=lambda s: "2"),
        Field("Rows", "Edit", numeric=True, init=lambda s: "2"),
    ], ["Insert", "Cancel"], _apply_table),
    Dialog(".uno:PageDialog", "Page Style", [
        Field("Orientation", "ComboBox", ["Portrait", "Landscape"],
              init=lambda s: s["page"]["orientation"].capitalize()),
        Field("Left", "Edit", numeric=True,
              init=lambda s: f"{s['page']['margins_cm']['left']:g} cm"),
        Field("Right", "Edit", numeric=True,
              init=lambda s: f"{s['page']['margins_cm']['right']:g} cm"),
        Field("Top", "Edit", numeric=True,
              init=lambda s: f"{s['page']['margins_cm']['top']:g} cm"),
        Field("Bottom", "Edit", numeric=True,
              init=lambda s: f"{s['page']['margins_cm']['bottom']:g} cm"),
        Field("Background", "ComboBox", ["None", *PALETTE], color=True),
    ], ["OK", "Cancel"], _apply_page),
    Dialog(".uno:SearchDialog", "Find and Replace", [
        Field("Find", "Edit"), Field("Replace", "Edit"), Field("Match case", "CheckBox"),
    ], ["Find Next", "Replace All", "Close"], _apply_find_replace),
    Dialog(".uno:InsertAnnotation", "Comment", [
        Field("Text", "Edit"), Field("Author", "Edit"),
    ], ["OK", "Cancel"], _apply_comment),
    Dialog(".uno:SaveAs", "Save As", [
        Field("File name", "Edit", init=lambda s: "document.docx"),
    ], ["Save", "Cancel"], _apply_save_as),
    Dialog(".uno:InsertMultiIndex", "Table of Contents, Index or Bibliography", [
        Field("Type", "ComboBox", ["Table of Contents", "Alphabetical Index"],
              init=lambda s: "Table of Contents"),
        Field("Title", "Edit", init=lambda s: "Table of Contents"),
    ], ["OK", "Cancel"], _apply_index),
    Dialog(".uno:OutlineBullet", "Bullets and Numbering", [
        Field("Type", "ComboBox", ["Bullet", "Number", "None"]),
    ], ["OK", "Cancel"], _apply_bullets),
    Dialog(".uno:InsertSection", "Insert Section", [
        Field("Name", "Edit", init=lambda s: f"Section{len(s.get('sections', [])) + 1}"),
        Field("Columns", "Edit", numeric=True, init=lambda s: "1"),
    ], ["Insert", "Cancel"], _apply_section),
    Dialog(".uno:InsertBreak", "Insert Break", [
        Field("Type", "ComboBox", ["Page break", "Line break", "Column break"],
              init=lambda s: "Page break"),
    ], ["OK", "Cancel"], _apply_break),
    Dialog(".uno:LineNumberingDialog", "Line Numbering", [
        Field("Show numbering", "CheckBox",
              init=lambda s: "on" if s.get("line_numbering") else "off"),
        Field("Interval", "Edit", numeric=True, init=lambda s: "5"),
    ], ["OK", "Cancel"], _apply_line_numbering),
    Dialog(".uno:SetDocumentProperties", "Properties", [
        Field("Title", "Edit", init=lambda s: _props(s, "title")),
        Field("Subject", "Edit", init=lambda s: _props(s, "subject")),
        Field("Keywords", "Edit", init=lambda s: _props(s, "keywords")),
        Field("Comments", "Edit", init=lambda s: _props(s, "comments")),
    ], ["OK", "Cancel"], _apply_properties),
    Dialog(".uno:InsertBookmark", "Bookmark", [
        Field("Name", "Edit", init=lambda s: f"Bookmark{len(s.get('bookmarks', [])) + 1}"),
    ], ["Insert", "Close"], _apply_bookmark),
    Dialog(".uno:InsertFootnoteDialog", "Insert Footnote/Endnote", [
        Field("Type", "ComboBox", ["Footnote", "Endnote"], init=lambda s: "Footnote"),
    ], ["OK", "Cancel"], _apply_note),
    Dialog(".uno:InsertSymbol", "Special Characters", [
        Field("Characters", "Edit"),
    ], ["Insert", "Cancel"], _apply_symbol),
]}
# The same dialogs reached by other commands of the UI.
DIALOGS[".uno:FormatPageDialog"] = DIALOGS[".uno:PageDialog"]
DIALOGS[".uno:PageFormatDialog"] = DIALOGS[".uno:PageDialog"]
DIALOGS[".uno:InsertTableDialog"] = DIALOGS[".uno:InsertTable"]
DIALOGS[".uno:CommentChangeTracking"] = DIALOGS[".uno:InsertAnnotation"]
DIALOGS[".uno:CharmapControl"] = DIALOGS[".uno:InsertSymbol"]
NUMERIC_FIELDS = frozenset(f.name for d in DIALOGS.values() for f in d.fields if f.numeric)
"""Names of the dialog fields that take a number (a field's name means one thing in every
dialog: "Columns" is a count in Insert Table and in Insert Section)."""
