"""The template library: documents every Writer episode starts from.

Built by LibreOffice itself through UNO and saved as .docx, with a `description.json` that
says what each template contains (the dataflow matches tasks to templates by it). The library
is built once per machine into the cache (`lamforge env templates`) and rebuilt when
`LIBRARY_VERSION` changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lamforge.envs.doclib import TemplateLibrary
from lamforge.envs.writer.office import Office

LIBRARY_VERSION = 3
LOREM = ("Our team reviewed the figures for the period and found steady growth in every "
         "region. Costs stayed within budget while new customers signed up each month.")


class _Writer:
    """A tiny document builder on the UNO text API."""

    def __init__(self, office: Office) -> None:
        self.office = office
        self.doc = office.new_document()
        self.text = office.call(lambda: self.doc.Text)
        self.first = True

    def par(self, text: str, style: str = "Standard", **props: Any) -> Any:
        def run() -> Any:
            t = self.text
            if not self.first:
                t.insertControlCharacter(t.End, 0, False)  # PARAGRAPH_BREAK
            self.first = False
            cur = t.createTextCursorByRange(t.End)
            cur.ParaStyleName = style
            cur.NumberingStyleName = ""  # do not continue a list from the paragraph before
            for k, v in props.items():
                cur.setPropertyValue(k, v)
            t.insertString(cur, text, False)
            return cur

        return self.office.call(run)

    def table(self, rows: list[list[str]]) -> None:
        def run() -> None:
            t = self.text
            table = self.doc.createInstance("com.sun.star.text.TextTable")
            table.initialize(len(rows), len(rows[0]))
            t.insertTextContent(t.End, table, False)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.getCellByPosition(c, r).setString(value)

        self.office.call(run)

    def save(self, path: Path) -> None:
        self.office.save_docx(self.doc, path)
        self.office.close_document(self.doc)


def _blank(w: _Writer) -> None:
    w.par("")


def _line(w: _Writer) -> None:
    w.par("The quick brown fox jumps over the lazy dog.")


def _report(w: _Writer) -> None:
    w.par("Quarterly Report", "Title")
    w.par("Summary", "Heading 1")
    w.par(LOREM)
    w.par("Results", "Heading 1")
    w.par("Revenue rose by twelve percent compared with the previous quarter.")
    w.par("The north region grew fastest, followed by the coastal offices.")
    w.par("Outlook", "Heading 1")
    w.par("We expect demand to remain strong through the end of the year.")


def _table(w: _Writer) -> None:
    w.par("Inventory", "Heading 1")
    w.par("The table below lists the stock counted on Monday.")
    w.table([["Item", "Quantity", "Price"], ["Apples", "12", "0.50"], ["Pears", "8", "0.75"],
             ["Plums", "20", "0.30"]])
    w.par("Prices are per piece.")


def _bullets(w: _Writer) -> None:
    w.par("Shopping list")
    for item in ("Milk", "Bread", "Eggs", "Coffee"):
        w.par(item, NumberingStyleName="List 1")
    w.par("Buy everything before Friday.")


def _shape(w: _Writer) -> None:
    w.par("Project notes")
    w.par("The box on this page holds a reminder for the team.")

    def run() -> None:
        doc, t = w.doc, w.text
        frame = doc.createInstance("com.sun.star.text.TextFrame")
        size = frame.Size
        size.Width, size.Height = 6000, 2000
        frame.Size = size
        t.insertTextContent(t.End, frame, False)
        frame.getText().setString("Reminder: submit the draft")
        shape = doc.createInstance("com.sun.star.drawing.RectangleShape")
        size = shape.Size
        size.Width, size.Height = 3000, 1500
        shape.Size = size
        t.insertTextContent(t.End, shape, False)

    w.office.call(run)


def _comments(w: _Writer) -> None:
    w.par("Meeting minutes")
    first = w.par("The budget was approved after a short discussion.")
    w.par("The launch date moves to the second week of May.")

    def run() -> None:
        doc, t = w.doc, w.text
        for text, rng in (("Check the final figure", first),):
            field = doc.createInstance("com.sun.star.text.textfield.Annotation")
            field.Content = text
            field.Author = "Reviewer"
            cur = t.createTextCursorByRange(rng.getStart())
            cur.gotoEndOfParagraph(True)
            t.insertTextContent(cur, field, True)

    w.office.call(run)


def _multipage(w: _Writer) -> None:
    from lamforge.envs.writer.office import import_uno

    uno = import_uno()
    for chapter in (1, 2, 3):
        cur = w.par(f"Chapter {chapter}", "Heading 1")
        if chapter > 1:
            w.office.call(lambda c=cur: c.setPropertyValue(
                "BreakType", uno.Enum("com.sun.star.style.BreakType", "PAGE_BEFORE")))
        w.par(f"Section {chapter}.1", "Heading 2")
        w.par(f"This chapter describes part {chapter} of the plan.")
        for _ in range(2):
            w.par(LOREM)
        w.par(f"Section {chapter}.2", "Heading 2")
        w.par(LOREM)


TEMPLATES: dict[str, tuple[str, Callable[[_Writer], None]]] = {
    "blank": ("An empty document with one empty paragraph.", _blank),
    "line": ("A single line of text: a sentence about a quick brown fox.", _line),
    "report": ("A titled quarterly report with headings Summary, Results and Outlook and several "
               "paragraphs of text.", _report),
    "table": ("A document with a heading, a paragraph and a 4x3 inventory table of items, "
              "quantities and prices.", _table),
    "bullets": ("A shopping list: a paragraph followed by a bulleted list of four items.",
                _bullets),
    "shape": ("Project notes with a text box holding a reminder and a rectangle shape.", _shape),
    "comments": ("A document with comments: meeting minutes where a reviewer added a comment "
                 "to a paragraph.", _comments),
    "multipage": ("A multi-page document with three chapters, Heading 1 and Heading 2 "
                  "headings and page breaks.", _multipage),
}


def build_library(out_dir: Path, office: Office) -> list[dict[str, str]]:
    """Build every template into out_dir; their index entries."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    for name, (description, build) in TEMPLATES.items():
        w = _Writer(office)
        build(w)
        path = out_dir / f"{name}.docx"
        w.save(path)
        index.append({"name": name, "file": path.name, "description": description})
    return index


LIBRARY = TemplateLibrary("writer", LIBRARY_VERSION, (".docx", ".odt", ".doc", ".rtf"),
                          build_library)


def default_dir() -> Path:
    return LIBRARY.default_dir()


def library(templates_dir: Path | None = None, office: Office | None = None) -> Path:
    """The library directory, built first if it does not exist yet."""
    return LIBRARY.library(templates_dir, office)


def resolve_template(name: str, templates_dir: Path | None = None,
                     office: Office | None = None) -> Path:
    """A template name from the library or a path to a document -> an existing file."""
    return LIBRARY.resolve(name, templates_dir, office)
