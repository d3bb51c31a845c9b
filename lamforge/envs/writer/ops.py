"""Operations on one open Writer document, each a few UNO calls through `Office.call`.

The environment's actions and the dialogs' OK buttons are built from these. Commands go through
the real dispatcher of the document's frame; values no command takes (a margin, a comment's
text) are set on the document model, as LibreOffice's own dialogs do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamforge.core import InvalidAction
from lamforge.envs.writer import colors
from lamforge.envs.writer.office import Office, import_uno


class DocOps:
    def __init__(self, office: Office, doc: Any, save_dir: Path) -> None:
        self.office = office
        self.doc = doc
        self.save_dir = save_dir
        self.controller = office.call(doc.getCurrentController)
        self.frame = office.call(self.controller.getFrame)
        self.saved_files: list[Path] = []

    # ---- primitives -----------------------------------------------------------------------
    def dispatch(self, command: str, args: dict[str, Any] | None = None) -> None:
        self.office.dispatch(self.frame, command, args)

    def enum(self, type_name: str, value: str) -> Any:
        return import_uno().Enum(type_name, value)

    def color(self, name: str) -> int:
        return colors.to_int(name)

    def _view_cursor(self) -> Any:
        return self.office.call(self.controller.getViewCursor)

    def _set(self, obj: Any, props: dict[str, Any]) -> None:
        def run() -> None:
            for k, v in props.items():
                obj.setPropertyValue(k, v)

        self.office.call(run)

    def _selected_ranges(self) -> list[Any]:
        """Text ranges of the current selection (or the view cursor if nothing is selected)."""
        def run() -> list[Any]:
            sel = self.controller.getSelection()
            if sel is not None and sel.supportsService("com.sun.star.text.TextRanges"):
                return [sel.getByIndex(i) for i in range(sel.getCount())]
            return [self.controller.getViewCursor()]

        return self.office.call(run)

    def set_selection(self, **props: Any) -> None:
        """Set character or paragraph properties on every range of the selection."""
        for rng in self._selected_ranges():
            self._set(rng, props)

    def line_spacing(self, percent: int) -> None:
        spacing = import_uno().createUnoStruct("com.sun.star.style.LineSpacing")
        spacing.Mode = 0
        spacing.Height = percent
        self.set_selection(ParaLineSpacing=spacing)

    # ---- text -----------------------------------------------------------------------------
    def type_text(self, text: str) -> None:
        """Type at the cursor, replacing a selection; newlines become paragraph breaks."""
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line:
                self.dispatch(".uno:InsertText", {"Text": line})
            if i < len(lines) - 1:
                self.dispatch(".uno:InsertPara")

    def select_text(self, text: str, match_case: bool = False, occurrence: int = 1) -> bool:
        doc = self.doc

        def run() -> bool:
            desc = doc.createSearchDescriptor()
            desc.SearchString = text
            desc.SearchCaseSensitive = match_case
            found = doc.findFirst(desc)
            n = 1
            while found is not None and n < occurrence:
                found = doc.findNext(found.getEnd(), desc)
                n += 1
            if found is None:
                return False
            self.controller.select(found)
            return True

        return self.office.call(run)

    def find_next(self, text: str, match_case: bool = False) -> bool:
        """Select the next match after the current selection, wrapping at the end (Find Next)."""
        doc = self.doc

        def run() -> bool:
            desc = doc.createSearchDescriptor()
            desc.SearchString = text
            desc.SearchCaseSensitive = match_case
            found = doc.findNext(self.controller.getViewCursor().getEnd(), desc)
            if found is None:
                found = doc.findFirst(desc)
            if found is None:
                return False
            self.controller.select(found)
            return True

        return self.office.call(run)

    def replace_all(self, find: str, replace: str, match_case: bool = False) -> int:
        doc = self.doc

        def run() -> int:
            desc = doc.createReplaceDescriptor()
            desc.SearchString = find
            desc.ReplaceString = replace
            desc.SearchCaseSensitive = match_case
            return doc.replaceAll(desc)

        return self.office.call(run)

    def insert_comment(self, text: str, author: str) -> None:
        doc = self.doc

        def run() -> None:
            field = doc.createInstance("com.sun.star.text.textfield.Annotation")
            field.Content = text
            field.Author = author
            vc = self.controller.getViewCursor()
            vc.getText().insertTextContent(vc, field, not vc.isCollapsed())

        self.office.call(run)

    # ---- document structure ----------------------------------------------------------------
    def insert_index(self, kind: str, title: str) -> None:
        """Insert a table of contents (built from the outline) or an alphabetical index at the
        cursor, and fill it, as the dialog's OK does."""
        doc = self.doc
        service = {"toc": "ContentIndex", "alphabetical": "DocumentIndex"}[kind]

        def run() -> None:
            index = doc.createInstance(f"com.sun.star.text.{service}")
            if kind == "toc":
                index.CreateFromOutline = True
            if title:
                index.Title = title
            vc = self.controller.getViewCursor()
            vc.getText().insertTextContent(vc.getStart(), index, False)
            index.update()

        self.office.call(run)

    def insert_section(self, name: str, columns: int) -> None:
        """Put the selected paragraphs (or a new empty one) into a new text section."""
        doc = self.doc

        def run() -> None:
            section = doc.createInstance("com.sun.star.text.TextSection")
            if name:
                section.Name = name
            if columns > 1:
                cols = doc.createInstance("com.sun.star.text.TextColumns")
                cols.setColumnCount(columns)
                section.TextColumns = cols
                # balanced columns over a short paragraph send LibreOffice 7.4's layout into
                # an endless loop (3 columns on the report template hang it); fill them in turn
                section.DontBalanceTextColumns = True
            vc = self.controller.getViewCursor()
            text = vc.getText()
            cur = text.createTextCursorByRange(vc.getStart())
            cur.gotoStartOfParagraph(False)
            cur.gotoRange(vc.getEnd(), True)
            cur.gotoEndOfParagraph(True)
            text.insertTextContent(cur, section, True)

        self.office.call(run)

    def insert_bookmark(self, name: str) -> None:
        doc = self.doc

        def run() -> None:
            if doc.Bookmarks.hasByName(name):
                raise InvalidAction(f"a bookmark named '{name}' already exists")
            mark = doc.createInstance("com.sun.star.text.Bookmark")
            mark.Name = name
            vc = self.controller.getViewCursor()
            vc.getText().insertTextContent(vc, mark, not vc.isCollapsed())

        self.office.call(run)

    def set_line_numbering(self, on: bool, interval: int) -> None:
        props = self.office.call(lambda: self.doc.LineNumberingProperties)
        self._set(props, {"IsOn": on, "Interval": interval})

    def set_properties(self, **values: str) -> None:
        """Title, subject, keywords (comma-separated), comments of File > Properties."""
        info = self.office.call(lambda: self.doc.DocumentProperties)

        def run() -> None:
            for key, value in values.items():
                if key == "keywords":
                    info.Keywords = tuple(k.strip() for k in value.split(",") if k.strip())
                elif key == "comments":
                    info.Description = value
                else:
                    setattr(info, key.capitalize(), value)
            self.doc.setModified(True)

        self.office.call(run)

    # ---- page -----------------------------------------------------------------------------
    def _page_style(self) -> Any:
        doc = self.doc

        def run() -> Any:
            name = self.controller.getViewCursor().PageStyleName
            return doc.StyleFamilies.getByName("PageStyles").getByName(name)

        return self.office.call(run)

    def set_page(self, orientation: str | None = None, background: str | None = None,
                 **margins: int) -> None:
        style = self._page_style()

        def run() -> None:
            if orientation:
                landscape = orientation.lower() == "landscape"
                if bool(style.IsLandscape) != landscape:
                    w, h = style.Width, style.Height
                    style.IsLandscape = landscape
                    style.Width, style.Height = h, w
            for k, v in margins.items():
                style.setPropertyValue(k, v)
            if background:
                if background == "None":
                    style.FillStyle = self.enum("com.sun.star.drawing.FillStyle", "NONE")
                    style.BackTransparent = True
                else:
                    style.FillStyle = self.enum("com.sun.star.drawing.FillStyle", "SOLID")
                    style.FillColor = colors.to_int(background)

        self.office.call(run)

    def header_footer(self, part: str) -> None:
        """Switch the header or footer on (as Insert > Header and Footer does) and go there."""
        style = self._page_style()
        self.office.call(lambda: style.setPropertyValue(f"{part}IsOn", True))
        self.dispatch(".uno:JumpToHeader" if part == "Header" else ".uno:JumpToFooter")

    # ---- files ----------------------------------------------------------------------------
    def save_as(self, name: str) -> Path:
        base = Path(name).name
        if not base or base in (".", ".."):
            raise InvalidAction(f"invalid file name '{name}'")
        stem, dot, ext = base.rpartition(".")
        if dot and ext.lower() in ("odt", "doc", "docx", "rtf", "txt"):
            base = stem  # this environment writes Word files: 'notes.odt' becomes notes.docx
        if not base.lower().endswith(".docx"):
            base += ".docx"
        path = self.save_dir / base
        self.office.save_docx(self.doc, path)
        if path not in self.saved_files:
            self.saved_files.append(path)
        return path
