"""Declarative checks on a Writer document's final state (see docs/checks.md).

A check is `{"kind": ..., **params}`. Each kind is a function of the document state (the JSON
that the in-process extractor reads from the document saved as .docx and opened again) and
its parameters, returning whether it holds and a short explanation. Checks about text apply to
every occurrence of that text in the body: "bold(text='Summary')" holds when each occurrence
is bold throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lamforge.core import Check, CheckResult
from lamforge.envs.checkset import CheckFn, CheckSet
from lamforge.envs.writer.colors import name_of, to_hex

State = dict[str, Any]
KINDS = CheckSet(
    "Writer", nonempty=("text", "name", "style", "color", "field"),
    # checks whose parameters are all optional but that mean nothing without one of them
    needs_one_of={"paragraph_count": ("count", "min"),
                  "page_margins": ("left", "right", "top", "bottom"),
                  "paragraph_spacing": ("above", "below")})
CHECKS: dict[str, CheckFn] = KINDS.kinds

# LibreOffice's programmatic style names for the names users see
_STYLE_ALIASES = {"default paragraph style": "standard", "default": "standard", "normal": "standard",
                  "body text": "text body", "text body": "text body"}


check = KINDS.check


def _body(state: State) -> list[dict[str, Any]]:
    return [p for p in state["paragraphs"] if p.get("where") == "body" and "table" not in p]


def _text_paragraphs(state: State) -> list[dict[str, Any]]:
    """Body paragraphs and the paragraphs inside table cells: where formatting can be."""
    return _body(state) + list(state.get("cell_paragraphs", []))


def _occurrences(state: State, text: str) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Yield (paragraph, runs covering one occurrence of text)."""
    for p in _text_paragraphs(state):
        runs = p.get("runs", [])
        joined = "".join(r["text"] for r in runs)
        start = joined.find(text)
        while start != -1 and text:
            end = start + len(text)
            covered, pos = [], 0
            for r in runs:
                r_end = pos + len(r["text"])
                if r_end > start and pos < end:
                    covered.append(r)
                pos = r_end
            yield p, covered
            start = joined.find(text, end)


def _paragraphs_with(state: State, text: str) -> list[dict[str, Any]]:
    return [p for p in _text_paragraphs(state) if text in p.get("text", "")]


def _char_check(state: State, text: str, attr: str, want: Any, show: str) -> tuple[bool, str]:
    found = list(_occurrences(state, text))
    if not found:
        return False, f"'{text}' not found"
    bad = [r for _, runs in found for r in runs if r.get(attr) != want]
    if bad:
        return False, f"'{text}': {show} is {bad[0].get(attr)!r}, expected {want!r}"
    return True, f"'{text}': {show} {want!r} ({len(found)} occurrence(s))"


def _para_check(state: State, text: str, describe: str,
                test: Callable[[dict[str, Any]], bool], got: Callable[[dict[str, Any]], Any]
                ) -> tuple[bool, str]:
    pars = _paragraphs_with(state, text)
    if not pars:
        return False, f"no paragraph contains '{text}'"
    bad = [p for p in pars if not test(p)]
    if bad:
        return False, f"paragraph with '{text}': {describe} is {got(bad[0])!r}"
    return True, f"paragraph with '{text}': {describe} ok"


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol


# ---- text ------------------------------------------------------------------------------------
def _all_text(state: State) -> str:
    parts = [p.get("text", "") for p in _body(state)]
    for t in state["tables"]:
        parts += [c for row in t["cells"] for c in row]
    return "\n".join(parts)


@check
def text_present(state: State, text: str) -> tuple[bool, str]:
    """The text occurs in the body or a table."""
    ok = text in _all_text(state)
    return ok, f"'{text}' {'found' if ok else 'not found'}"


@check
def text_absent(state: State, text: str) -> tuple[bool, str]:
    """The text occurs nowhere in the body or tables."""
    ok = text not in _all_text(state)
    return ok, f"'{text}' {'absent' if ok else 'still present'}"


@check
def text_count(state: State, text: str, count: int) -> tuple[bool, str]:
    """The text occurs exactly `count` times (e.g. after find & replace)."""
    n = _all_text(state).count(text)
    return n == count, f"'{text}' occurs {n} time(s), expected {count}"


@check
def paragraph_count(state: State, count: int | None = None, min: int | None = None
                    ) -> tuple[bool, str]:
    """Number of body paragraphs (tables excluded): exactly `count` or at least `min`."""
    n = len(_body(state))
    ok = (count is None or n == count) and (min is None or n >= min)
    return ok, f"{n} paragraph(s)"


@check
def paragraph_starts_with(state: State, index: int, text: str) -> tuple[bool, str]:
    """Body paragraph `index` (0-based, tables excluded) starts with the text."""
    body = _body(state)
    if index >= len(body):
        return False, f"only {len(body)} paragraph(s)"
    got = body[index].get("text", "")
    return got.startswith(text), f"paragraph {index} is '{got[:60]}'"


# ---- character formatting -----------------------------------------------------------------
@check
def bold(state: State, text: str, value: bool = True) -> tuple[bool, str]:
    """Every occurrence of the text is bold (or not, with value=false)."""
    return _char_check(state, text, "bold", value, "bold")


@check
def italic(state: State, text: str, value: bool = True) -> tuple[bool, str]:
    """Every occurrence of the text is italic."""
    return _char_check(state, text, "italic", value, "italic")


@check
def underline(state: State, text: str, value: bool = True) -> tuple[bool, str]:
    """Every occurrence of the text is underlined."""
    return _char_check(state, text, "underline", value, "underline")


@check
def strikethrough(state: State, text: str, value: bool = True) -> tuple[bool, str]:
    """Every occurrence of the text is struck through."""
    return _char_check(state, text, "strike", value, "strikethrough")


@check
def font_name(state: State, text: str, name: str) -> tuple[bool, str]:
    """Every occurrence of the text uses the font family."""
    return _char_check(state, text, "font", name, "font")


@check
def font_size(state: State, text: str, size: float) -> tuple[bool, str]:
    """Every occurrence of the text has the point size."""
    return _char_check(state, text, "size", float(size), "size")


@check
def font_color(state: State, text: str, color: str) -> tuple[bool, str]:
    """Every occurrence of the text has the colour (palette name or #RRGGBB)."""
    return _char_check(state, text, "color", to_hex(color), "colour")


@check
def highlight(state: State, text: str, color: str | None = None) -> tuple[bool, str]:
    """Every occurrence of the text is highlighted (in `color`, if given)."""
    found = list(_occurrences(state, text))
    if not found:
        return False, f"'{text}' not found"
    for _, runs in found:
        for r in runs:
            got = r.get("highlight")
            if got is None or (color is not None and got != to_hex(color)):
                return False, f"'{text}': highlight is {name_of(got)}"
    return True, f"'{text}' highlighted"


@check
def superscript(state: State, text: str) -> tuple[bool, str]:
    """Every occurrence of the text is raised (superscript)."""
    found = list(_occurrences(state, text))
    ok = bool(found) and all(r.get("escapement", 0) > 0 for _, rs in found for r in rs)
    return ok, f"'{text}' {'is' if ok else 'is not'} superscript"


@check
def subscript(state: State, text: str) -> tuple[bool, str]:
    """Every occurrence of the text is lowered (subscript)."""
    found = list(_occurrences(state, text))
    ok = bool(found) and all(r.get("escapement", 0) < 0 for _, rs in found for r in rs)
    return ok, f"'{text}' {'is' if ok else 'is not'} subscript"


# ---- paragraph formatting -------------------------------------------------------------------
@check
def alignment(state: State, text: str, align: str) -> tuple[bool, str]:
    """Paragraphs containing the text are aligned left, center, right or justify."""
    want = {"centre": "center", "centered": "center", "justified": "justify"}.get(align, align)
    return _para_check(state, text, "alignment", lambda p: p["align"] == want,
                       lambda p: p["align"])


@check
def paragraph_spacing(state: State, text: str, above: float | None = None,
                      below: float | None = None, tol: float = 0.05) -> tuple[bool, str]:
    """Spacing above/below (cm) of paragraphs containing the text."""
    return _para_check(
        state, text, "spacing (above, below)",
        lambda p: (above is None or _close(p["above_cm"], above, tol))
        and (below is None or _close(p["below_cm"], below, tol)),
        lambda p: (p["above_cm"], p["below_cm"]))


@check
def line_spacing(state: State, text: str, percent: int) -> tuple[bool, str]:
    """Proportional line spacing (100 = single, 150, 200 = double) of paragraphs with the text."""
    return _para_check(
        state, text, "line spacing",
        lambda p: p["line_spacing"]["mode"] == 0 and abs(p["line_spacing"]["value"] - percent) <= 1,
        lambda p: p["line_spacing"])


@check
def indent(state: State, text: str, left: float, tol: float = 0.05) -> tuple[bool, str]:
    """Left indent (cm) of paragraphs containing the text."""
    return _para_check(state, text, "indent", lambda p: _close(p["indent_cm"], left, tol),
                       lambda p: p["indent_cm"])


@check
def list_type(state: State, text: str, list: str) -> tuple[bool, str]:
    """Paragraphs containing the text are in a bullet list, a numbered list, or none."""
    want = None if list == "none" else list
    return _para_check(state, text, "list", lambda p: p.get("list") == want,
                       lambda p: p.get("list") or "none")


@check
def paragraph_style(state: State, text: str, style: str) -> tuple[bool, str]:
    """Paragraphs containing the text have the paragraph style (e.g. 'Heading 1')."""
    def norm(s: str) -> str:
        s = s.lower().strip()
        return _STYLE_ALIASES.get(s, s)

    return _para_check(state, text, "style", lambda p: norm(p["style"]) == norm(style),
                       lambda p: p["style"])


@check
def page_break_before(state: State, text: str) -> tuple[bool, str]:
    """The paragraph containing the text starts a new page."""
    return _para_check(state, text, "page break before", lambda p: p["page_break_before"],
                       lambda p: p["page_break_before"])


# ---- tables ---------------------------------------------------------------------------------
def _on_table(state: State, index: int,
              test: Callable[[dict[str, Any]], tuple[bool, str]]) -> tuple[bool, str]:
    """A check of table `index`; it fails, saying so, when there is no such table."""
    tables = state["tables"]
    if index >= len(tables):
        return False, f"no table {index} ({len(tables)} table(s))"
    return test(tables[index])


@check
def table_count(state: State, count: int) -> tuple[bool, str]:
    """Number of tables in the body."""
    n = len(state["tables"])
    return n == count, f"{n} table(s), expected {count}"


@check
def table_shape(state: State, rows: int, cols: int, index: int = 0) -> tuple[bool, str]:
    """Table `index` has rows x cols."""
    return _on_table(state, index, lambda t: ((t["rows"], t["cols"]) == (rows, cols),
                                              f"table {index} is {t['rows']}x{t['cols']}"))


@check
def table_cell(state: State, row: int, col: int, text: str, index: int = 0) -> tuple[bool, str]:
    """Cell (row, col) of table `index` contains the text (0-based)."""
    if index >= len(state["tables"]):
        return False, f"no table {index}"
    cells = state["tables"][index]["cells"]
    try:
        got = cells[row][col]
    except IndexError:
        return False, f"table {index} has no cell ({row}, {col})"
    return text in got, f"cell ({row}, {col}) is '{got}'"


@check
def table_cell_count(state: State, count: int, index: int = 0) -> tuple[bool, str]:
    """Table `index` has `count` cells (merging cells lowers it, splitting raises it)."""
    return _on_table(state, index, lambda t: (t["cell_count"] == count,
                                              f"table {index} has {t['cell_count']} cells"))


@check
def table_alignment(state: State, align: str, index: int = 0) -> tuple[bool, str]:
    """Table `index` is aligned left, center, right, from left, manual or automatic (as wide
    as the text area)."""
    return _on_table(state, index, lambda t: (t["align"] == align.lower(),
                                              f"table {index} is aligned {t['align']}"))


@check
def table_repeat_heading(state: State, value: bool = True, index: int = 0) -> tuple[bool, str]:
    """Table `index` repeats its heading row on each page (or not, with value=false)."""
    return _on_table(state, index, lambda t: (
        t["repeat_heading"] == value,
        f"table {index} {'repeats' if t['repeat_heading'] else 'does not repeat'} its heading"))


# ---- page -----------------------------------------------------------------------------------
@check
def page_count(state: State, min: int = 1, max: int | None = None) -> tuple[bool, str]:
    """Number of pages is at least `min` (and at most `max`)."""
    n = state["page_count"]
    return n >= min and (max is None or n <= max), f"{n} page(s)"


@check
def page_orientation(state: State, orientation: str, text: str | None = None
                     ) -> tuple[bool, str]:
    """The page style of the body (or of the pages of the paragraphs containing `text`) is
    portrait or landscape."""
    if text is None:
        got = state["page"]["orientation"]
        return got == orientation, f"orientation {got}"
    styles = state.get("page_styles", {})
    return _para_check(state, text, "page orientation",
                       lambda p: styles.get(p.get("page_style")) == orientation,
                       lambda p: f"{styles.get(p.get('page_style'))} ({p.get('page_style')})")


@check
def page_margins(state: State, left: float | None = None, right: float | None = None,
                 top: float | None = None, bottom: float | None = None, tol: float = 0.05
                 ) -> tuple[bool, str]:
    """Page margins in cm (any subset)."""
    m = state["page"]["margins_cm"]
    want = {"left": left, "right": right, "top": top, "bottom": bottom}
    bad = {k: m[k] for k, v in want.items() if v is not None and not _close(m[k], v, tol)}
    return not bad, f"margins {m}" if bad else "margins ok"


@check
def page_background(state: State, color: str) -> tuple[bool, str]:
    """Page background colour ('none' for no background)."""
    got = state["page"]["background"]
    want = None if color.lower() == "none" else to_hex(color)
    return got == want, f"background {name_of(got)}"


@check
def header_text(state: State, text: str) -> tuple[bool, str]:
    """The header is on and contains the text."""
    h = state["page"]["header"]
    return h["on"] and text in h["text"], f"header {'on' if h['on'] else 'off'}: '{h['text']}'"


@check
def footer_text(state: State, text: str) -> tuple[bool, str]:
    """The footer is on and contains the text."""
    f = state["page"]["footer"]
    return f["on"] and text in f["text"], f"footer {'on' if f['on'] else 'off'}: '{f['text']}'"


# ---- fields, indexes, sections, notes, bookmarks, document settings --------------------------
@check
def field_present(state: State, field: str, min: int = 1) -> tuple[bool, str]:
    """At least `min` text fields of a kind: date, time, page number, page count, title,
    subject, author, file name, conditional text."""
    n = state["fields"].count(field.lower())
    return n >= min, f"{n} '{field}' field(s); fields: {', '.join(state['fields']) or 'none'}"


@check
def index_present(state: State, index: str = "toc", title: str | None = None
                  ) -> tuple[bool, str]:
    """An index of a type (toc, alphabetical, …) exists, with `title` if given."""
    found = [i for i in state["indexes"] if i["kind"] == index.lower()]
    if title is not None:
        found = [i for i in found if i["title"] == title]
    shown = ", ".join(f"{i['kind']} '{i['title']}'" for i in state["indexes"]) or "none"
    return bool(found), f"indexes: {shown}"


@check
def section_present(state: State, columns: int | None = None) -> tuple[bool, str]:
    """A text section exists (with that many columns, if given)."""
    found = [s for s in state["sections"] if columns is None or s["columns"] == columns]
    shown = ", ".join(f"{s['name']} ({s['columns']} col)" for s in state["sections"]) or "none"
    return bool(found), f"sections: {shown}"


@check
def bookmark_present(state: State, name: str) -> tuple[bool, str]:
    """A bookmark of that name exists."""
    return name in state["bookmarks"], f"bookmarks: {', '.join(state['bookmarks']) or 'none'}"


@check
def note_count(state: State, note: str = "footnote", min: int = 1) -> tuple[bool, str]:
    """At least `min` footnotes (note='footnote') or endnotes (note='endnote')."""
    n = state["footnotes" if note.lower() == "footnote" else "endnotes"]
    return n >= min, f"{n} {note}(s)"


@check
def line_numbering(state: State, on: bool = True) -> tuple[bool, str]:
    """Line numbering is on (or off)."""
    got = state["line_numbering"]
    return got == on, f"line numbering {'on' if got else 'off'}"


@check
def document_property(state: State, name: str, value: str) -> tuple[bool, str]:
    """A document property (title, subject, keywords, comments) has the value; for keywords,
    the value is one of them."""
    got = state["properties"].get(name.lower())
    ok = value in got if isinstance(got, list) else got == value
    return ok, f"{name} is {got!r}"


# ---- comments and shapes --------------------------------------------------------------------
@check
def comment_present(state: State, text: str | None = None, anchor: str | None = None
                    ) -> tuple[bool, str]:
    """A comment exists whose text contains `text` and whose anchor contains `anchor`."""
    for c in state["comments"]:
        if (text is None or text in c["text"]) and (anchor is None or anchor in c["anchor"]):
            return True, f"comment '{c['text']}' on '{c['anchor']}'"
    return False, f"no matching comment among {len(state['comments'])}"


@check
def comment_count(state: State, count: int) -> tuple[bool, str]:
    """Number of comments."""
    n = len(state["comments"])
    return n == count, f"{n} comment(s), expected {count}"


@check
def shape_count(state: State, count: int, shape: str | None = None) -> tuple[bool, str]:
    """Number of shapes/text frames (of type `shape`, e.g. 'TextFrame', 'RectangleShape').

    The parameter is not called `kind`: that name is the check's own kind."""
    shapes = [s for s in state["shapes"] if shape is None or shape.lower() in s["kind"].lower()]
    return len(shapes) == count, f"{len(shapes)} shape(s), expected {count}"


@check
def file_saved(state: State, name: str | None = None) -> tuple[bool, str]:
    """The document was saved during the episode (as `name`, if given)."""
    saved = state.get("saved_files", [])
    ok = bool(saved) if name is None else any(Path(f).name == name for f in saved)
    return ok, f"saved: {', '.join(saved) or 'nothing'}"


# ---- running and validating ------------------------------------------------------------------
def validate(c: Check) -> dict[str, Any]:
    """Kind and typed parameters of a Writer check (`CheckSet.validate`)."""
    return KINDS.validate(c)


def run(c: Check, state: State) -> CheckResult:
    return KINDS.run(c, state)
