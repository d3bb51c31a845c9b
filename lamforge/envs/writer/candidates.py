"""Every action a Writer user could take in one state, for a model that chooses among them.

A ranker LAM does not write an action; it picks one of these. So the list must hold the
expert's action in every state the dataflow saw, and nothing the environment would refuse:
click an enabled menu item, button or check box; choose an option a drop-down offers; enter
into a field a value the request gives (a quoted text, a `Field: value` of its details, a
measure such as "14 pt" or a number); select or type a text the request quotes, or a short
paragraph the document shows; press a shortcut Writer knows; finish. Values are always text
that exists in the request, the document or the control's own options, never invented.

The list depends on the observation and the request only, so offline evaluation (a step sample)
and the live agent see the same candidates.
"""

from __future__ import annotations

import re

from lamforge.core import Action, Control, Observation
from lamforge.envs.describe import control_moves, describe_action
from lamforge.envs.grounding import request_values
from lamforge.envs.match import normalize
from lamforge.envs.writer.dialogs import NUMERIC_FIELDS, parse_number

CLICKABLE = {"MenuItem", "Button", "CheckBox", "SplitButton", "ListItem", "TabItem",
             "RadioButton"}
"""Controls a click acts on (a split button's click applies its current choice)."""
FIELDS = {"Edit", "ComboBox", "SpinField"}
"""Controls that take typed text."""

KEYS: dict[str, str] = {
    "ctrl+b": "bold", "ctrl+i": "italic", "ctrl+u": "underline",
    "ctrl+e": "centre the paragraph", "ctrl+l": "align left", "ctrl+r": "align right",
    "ctrl+j": "justify", "ctrl+enter": "page break", "shift+enter": "line break",
    "enter": "new paragraph", "escape": "close the menu or dialog", "ctrl+z": "undo",
    "ctrl+y": "redo", "ctrl+a": "select all", "ctrl+home": "go to the start of the document",
    "ctrl+end": "go to the end of the document", "home": "go to the start of the line",
    "end": "go to the end of the line", "delete": "delete the selection",
    "backspace": "delete before the cursor", "ctrl+s": "save", "f12": "numbered list",
    "shift+f12": "bulleted list", "ctrl+shift+p": "superscript", "ctrl+shift+b": "subscript",
    "up": "cursor up a line", "down": "cursor down a line", "left": "cursor left",
    "right": "cursor right", "tab": "next field or cell, or indent",
    "shift+down": "extend the selection down a line", "shift+up": "extend the selection up a line",
    "shift+end": "select to the end of the line", "shift+home": "select to the start of the line",
    "ctrl+shift+down": "select to the end of the paragraph",
    "ctrl+shift+up": "select to the start of the paragraph",
    "ctrl+shift+end": "select to the end of the document",
    "ctrl+shift+home": "select to the start of the document",
}
"""The shortcuts offered, with what each does (read by the model with the keys)."""

_MEASURE = re.compile(r"-?\d+(?:[.,]\d+)?\s*(?:pt|cm|mm|in|inch|inches|%|x)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)?(?![\w.])")
_FILE = re.compile(r"\b[\w-]+\.(?:odt|docx|doc|rtf|txt|pdf)\b", re.I)
_PATTERNS = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.]+"                  # an e-mail address
    r"|[$€£]\s?\d[\d,]*(?:\.\d+)?"                # an amount of money
    r"|\+?\d[\d ()-]{6,}\d"                      # a phone number
    r"|\b[A-Z]{2,}[-/]?\d[\w-]*")                  # a code such as INV-2041 or Q3
_CUE = re.compile(r"(?:\b(?:with|to|says?|saying|reads?|read|called|named|as)\b|:)\s+"
                  r"(?:the\s+(?:words?|text|line)\s+)?([^,;.!?()]{2,60})", re.I)
_WORD = re.compile(r"[\w'’$€£%@.+/-]+")
STOP = frozenset([
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "with", "by", "from",
    "it", "its", "is", "be", "this", "that", "these", "those", "my", "our", "your", "please",
    "can", "could", "would", "you", "me", "us", "i", "make", "set", "put", "change", "add",
    "remove", "delete", "give", "turn"])
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
     "ten", "eleven", "twelve"])}
"""Counts users spell out ("two columns"); a field takes the digits."""
SHORT_PARAGRAPH = 60
"""A paragraph this short (a heading, a list item) may be selected whole by its text."""
OPENING_WORDS = 5
"""A longer paragraph is offered by its opening words (select them, then extend)."""
MAX_SPAN = 10
"""The longest run of request words looked up in the document."""


def values(request: str) -> list[str]:
    """Values a request gives, in order: its `Field: value` details, quoted texts, measures
    ("14 pt", "3.5 cm") and their numbers, file names, e-mail addresses, amounts, phone
    numbers and codes, the words after a cue ("with …", "to …", "says …", ": …"), then bare
    numbers. Each is text of the request itself."""
    quoted, fields = request_values(request)
    measures = _MEASURE.findall(request)
    numbers = [n for m in measures for n in _NUMBER.findall(re.sub(r"[^\d.,-]", " ", m))]
    tails = [m.strip() for m in _CUE.findall(request)]
    spelled = [NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", request.lower())
               if w in NUMBER_WORDS]
    out: list[str] = []
    for v in [*fields.values(), *quoted, *measures, *numbers, *_FILE.findall(request),
              *_PATTERNS.findall(request), *tails, *_NUMBER.findall(request),
              *spelled]:
        v = v.strip()
        if v and v not in out:
            out.append(v)
    return out


def _paragraphs(canvas: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r'^p\d+ \[[^\]]*\] "([^"\n]*)"', canvas, re.M)
            if m.group(1)]


def _canvas_texts(canvas: str) -> list[str]:
    """Texts of the document to select: short paragraphs whole (`p3 [Heading 1] "Summary"`),
    longer ones by their opening words."""
    out = []
    for text in _paragraphs(canvas):
        if len(text) <= SHORT_PARAGRAPH and not text.endswith("…"):
            out.append(text)
        else:
            words = text.split()
            if len(words) > OPENING_WORDS:
                out.append(" ".join(words[:OPENING_WORDS]))
    return out


def _may_hold(canvas: str, text: str) -> bool:
    """Whether the document may hold `text`: the canvas shows it, or cuts something short (a
    long paragraph, a table, "… 3 more paragraphs"), so a quote there cannot be ruled out."""
    return text.lower() in canvas.lower() or "…" in canvas


def document_spans(request: str, canvas: str) -> list[str]:
    """Runs of the request's words that the document holds (as the document writes them,
    longest first and none inside a longer one): "cross out Book the van" → "Book the van".
    A run must carry a word that is not a stop word."""
    doc = "\n".join(_paragraphs(canvas))
    low = doc.lower()
    words = _WORD.findall(request)
    found: list[str] = []
    for n in range(min(MAX_SPAN, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            run = words[i:i + n]
            if all(w.lower() in STOP for w in run) or run[-1].lower() in STOP:
                continue
            text = " ".join(run).strip(".,")
            if len(text) < 3 or any(text.lower() in f.lower() for f in found):
                continue
            m = re.search(r"(?<!\w)" + re.escape(text.lower()) + r"(?!\w)", low)
            if m:
                found.append(doc[m.start():m.end()])
    return found


def _field_values(c: Control, vals: list[str], fields: dict[str, str],
                  request: str) -> list[str]:
    """What may go into a field: the request's value for it by name ("Find: Apples"), an
    option of the field the request names ("using the Liberation Sans font"), then the
    request's values, except one the request gives another field by name ("Apples" is not
    for Replace). A field that takes a number is offered numbers only (OK refuses the rest)."""
    name = normalize(c.name)
    own = fields.get(name)
    named = [o for o in c.options or [] if o.lower() in request.lower()]
    others = {v for field, v in fields.items() if field != name}
    out = [*([own] if own else []), *named, *(v for v in vals if v not in others)]
    if c.name in NUMERIC_FIELDS:
        out = [v for v in out if parse_number(v) is not None]
    return list(dict.fromkeys(out))


def propose(obs: Observation, request: str) -> list[Action]:
    """The candidate actions of this state, in a stable order (display order, then texts)."""
    quoted, fields = request_values(request)
    spans = document_spans(request, obs.canvas)
    given = values(request)
    vals = list(dict.fromkeys([*given, *spans]))
    out = control_moves(obs, CLICKABLE, FIELDS,
                        lambda c: _field_values(c, vals, fields, request))
    held = [q for q in quoted if _may_hold(obs.canvas, q)]
    texts = list(dict.fromkeys([*held, *spans, *_canvas_texts(obs.canvas)]))
    out += [Action(function="select_text", args={"text": t}) for t in texts]
    typed = [v for v in given if not _NUMBER.fullmatch(v)]
    out += [Action(function="type_text", args={"text": t}) for t in typed]
    out += [Action(function="keyboard", args={"keys": k}) for k in KEYS]
    out.append(Action(function="finish"))
    return out


def describe(action: Action, control: Control | None) -> str:
    """The candidate as the model reads it: what it does, on what, where."""
    return describe_action(action, control, KEYS)
