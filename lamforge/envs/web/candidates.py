"""What a generic web explorer tries in a state: a user's moves on the controls shown, ranked
by how much the control or the text has to do with the instruction.

No per-task knowledge: every control may be clicked, every text field may get a string taken
from the instruction (quoted strings first, then words that look like values), every drop-down
an option the instruction names. Beyond those, the moves of widgets any page may have: keys in
the focused field, ctrl-click in a multi-select list, a scroll in what scrolls, a drag of what
the page lets a user drag, a date picker's month and day toward the instruction's date, and a
number field's guesses that follow the page's last answer ("higher than 4"). The reward, not
this ranking, decides what is right; the ranking only decides what is tried first.
"""

from __future__ import annotations

import re

from lamforge.core import Action, Observation

TEXT_FIELDS = {"textbox", "searchbox", "spinbutton", "Date", "InputTime", "combobox"}
"""Roles that take typed text (a combobox of an autocomplete field too)."""
STOP = {"the", "a", "an", "and", "or", "to", "of", "in", "on", "into", "as", "with", "from",
        "for", "then", "by", "is", "it", "that", "this", "at", "press", "click", "select",
        "enter", "type", "hit", "find", "field", "text", "button", "submit"}


def words(text: str) -> list[str]:
    return [w.strip(".:") for w in re.findall(r"[\w'/:.-]+", text.lower()) if w.strip(".:")]


def strings_in(request: str) -> list[str]:
    """Candidate texts to type: quoted strings, then value-like words (with a digit, a
    capital inside the sentence, a slash or colon), then the other content words."""
    quoted = re.findall(r'"([^"]+)"', request)
    rest = re.sub(r'"[^"]*"', " ", request)
    tokens = [t.strip(".,;!?()") for t in rest.split()]
    valued, plain = [], []
    for i, t in enumerate(tokens):
        if not t or t.lower() in STOP:
            continue
        if re.search(r"\d|[/:]", t) or (i > 0 and t[0].isupper()):
            valued.append(t)
        elif len(t) > 2:
            plain.append(t)
    # a time is written with its AM/PM: "8:04 PM"
    times = re.findall(r"\b\d{1,2}:\d{2}\s*[AP]M\b", rest, flags=re.I)
    out: list[str] = []
    for t in [*quoted, *times, *valued, *plain]:
        if t not in out:
            out.append(t)
    return out


def relevance(name: str, request: str) -> float:
    """How much a control's name is named by the instruction: whole name quoted (3), whole
    name present (2), else the share of its words that occur in it."""
    n = name.strip().lower().rstrip(".:")
    if not n:
        return 0.0
    r = request.lower()
    if f'"{n}"' in r or f'"{n}.' in r:
        return 3.0
    if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", r):
        return 2.0
    ws = [w for w in words(n) if w not in STOP]
    if not ws:
        return 0.0
    req = set(words(request))
    return sum(w in req for w in ws) / len(ws)


def _position(text: str, request: str) -> int:
    """Where `text` is in the instruction: its quoted occurrence, else a whole-word one."""
    r = request.lower()
    quoted = r.find(f'"{text.lower()}"')
    found = re.search(rf"(?<![\w]){re.escape(text.lower())}(?![\w])", r)
    return quoted if quoted >= 0 else found.start() if found else -1


def _owner(text: str, fields: list[str], request: str) -> str | None:
    """The field a string goes to: the one named last before it ('the username "vina" and
    the password "US"': "US" goes to the password)."""
    at = _position(text, request)
    best, where = None, -1
    for name in fields:
        for w in words(name):
            if w in STOP:
                continue
            i = request.lower().rfind(w, 0, max(0, at))
            if i > where:
                best, where = name, i
    return best


MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
BACK = {"prev", "previous", "back", "<", "‹", "«", "earlier"}
AHEAD = {"next", "forward", ">", "›", "»", "later"}


def date_in(request: str) -> tuple[int, int, int] | None:
    """The date an instruction names, as (year, month, day): "12/02/2016" (as US forms
    write it) or "December 2, 2016"."""
    m = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", request)
    if m:
        return int(m[3]), int(m[1]), int(m[2])
    m = re.search(rf"\b({'|'.join(MONTHS)})\s+(\d{{1,2}}),?\s+(\d{{4}})\b", request.lower())
    return (int(m[3]), MONTHS.index(m[1]) + 1, int(m[2])) if m else None


def date_moves(obs: Observation, request: str) -> dict[str, float]:
    """A calendar on the page (a month and year shown, day numbers to click): the moves
    toward the instruction's date — back or ahead a month until it shows, then its day."""
    want = date_in(request)
    shown = re.search(rf"\b({'|'.join(MONTHS)})\s+(\d{{4}})\b", obs.canvas.lower())
    if want is None or shown is None:
        return {}
    gap = (want[0] - int(shown[2])) * 12 + want[1] - (MONTHS.index(shown[1]) + 1)
    moves: dict[str, float] = {}
    for c in obs.controls:
        name = c.name.strip().lower()
        day = gap == 0 and name == str(want[2]) and c.type in ("link", "button", "gridcell")
        if day or (gap < 0 and name in BACK) or (gap > 0 and name in AHEAD):
            moves[c.label] = 3.5
    return moves


def guesses(obs: Observation, request: str) -> list[str]:
    """Numbers to try in a number field when the instruction gives a range ("between 0-9")
    and the page answers each try ("higher than 4"): the ones the last answer leaves, the
    nearest to it first (the middle of the range before any answer)."""
    m = re.search(r"\b(-?\d+)\s*(?:-|to|and)\s*(-?\d+)\b", request)
    if not m or int(m[2]) - int(m[1]) > 1000:
        return []
    low, high = int(m[1]), int(m[2])
    said = re.search(r"\b(higher|greater|larger|more|lower|smaller|less)\s+than\s+(-?\d+)",
                     obs.canvas, flags=re.I)
    if said is None:
        middle = (low + high) // 2
        return [str(n) for n in sorted(range(low, high + 1), key=lambda n: abs(n - middle))]
    n = int(said[2])
    up = said[1].lower() in ("higher", "greater", "larger", "more")
    return [str(k) for k in (range(n + 1, high + 1) if up else range(n - 1, low - 1, -1))]


def quoted_parts(name: str, request: str) -> float:
    """How much of a control's name the instruction quotes in pieces ('starts with "An"
    and ends with "ica"' for "Antarctica"): 0.5 a piece it begins with, ends with or holds."""
    n = name.strip().lower()
    if not n:
        return 0.0
    pieces = [q.lower() for q in re.findall(r'"([^"]{2,})"', request)]
    return min(1.0, 0.5 * sum(q in n and q != n for q in pieces))


def scroll_moves(obs: Observation, request: str) -> list[tuple[float, Action]]:
    """A page's worth down or up in each thing that scrolls and has room that way; the way
    the instruction names ("to the bottom", "up") first."""
    down = bool(re.search(r"\b(bottom|down|end|below)\b", request, flags=re.I))
    up = bool(re.search(r"\b(top|up|beginning|above)\b", request, flags=re.I))
    named = bool(re.search(r"\bscroll", request, flags=re.I))
    moves = []
    for label, top, most, page in re.findall(r"^Scroll (\S+): (\d+) of (\d+) px "
                                            r"\(a page is (\d+) px\)$", obs.canvas, re.M):
        target = None if label == "page" else label
        top, most, page = int(top), int(most), int(page)
        step = max(40, page - 20)  # a page's worth, or the rest when not much more is left
        if top < most:
            dy = most - top if most - top <= 1.5 * page else step
            moves.append((-0.15 + 1.8 * named + 0.5 * down,
                          Action(function="scroll", control_label=target, args={"dy": dy})))
        if top > 0:
            dy = top if top <= 1.5 * page else step
            moves.append((-0.15 + 1.8 * named + 0.5 * up,
                          Action(function="scroll", control_label=target, args={"dy": -dy})))
    return moves


def drag_moves(obs: Observation, request: str, most: int = 12) -> list[tuple[float, Action]]:
    """Drags of what the page lets a user drag onto the other things shown (other draggable
    items, boxes, shapes, named controls), the pairs the instruction names most first; a pair
    it does not name after every click (a dialog is draggable too)."""
    sources = [c for c in obs.controls if "draggable" in c.type and c.enabled]
    if not sources:
        return []
    targets = [c for c in obs.controls if c.type.split()[0] not in TEXT_FIELDS and
               c.type != "option"]
    moves = []
    for s in sources:
        for t in targets:
            if t.label == s.label:
                continue
            near = relevance(t.name, request) + quoted_parts(t.name, request)
            if "draggable" not in t.type and t.type not in ("generic", "graphics-symbol") \
                    and near < 1:
                continue
            moves.append((-0.05 + relevance(s.name, request) + 0.5 * near,
                          Action(function="drag", control_label=s.label, args={"to": t.label})))
    moves.sort(key=lambda m: -m[0])
    return moves[:most]


def propose(obs: Observation, request: str, limit: int | None = None) -> list[Action]:
    """Candidate actions, best first; all of them when `limit` is None."""
    scored: list[tuple[float, int, Action]] = []
    strings = strings_in(request)
    # text the instruction names ("@leo") marks a block of the page: the controls right
    # after it in document order (that post's buttons) are likelier than others
    anchors = [int(c.label) for c in obs.controls if c.type == "StaticText"
               and c.label.isdigit() and relevance(c.name, request) >= 2]
    fields = [c.name for c in obs.controls if c.type in TEXT_FIELDS and c.name]
    owners = {t: _owner(t, fields, request) for t in strings[:5]} if len(fields) > 1 else {}
    # options of a list that takes several: a ctrl-click adds one to what is chosen already
    several = {o for c in obs.controls if "multiselectable" in c.type for o in c.options or []}
    chosen = any(c.type == "option" and c.value == "selected" and c.name in several
                 for c in obs.controls)
    dated = date_moves(obs, request)
    # what the focused field holds: a text that begins with it is one of its suggestions (an
    # autocomplete's list), likelier than typing another of the instruction's words
    focused = obs.control(obs.focus) if obs.focus else None
    typed = (focused.value or "").strip().lower() if focused is not None and \
        focused.type.split()[0] in TEXT_FIELDS else ""
    order = 0
    for c in obs.controls:
        if not c.enabled:
            continue
        order += 1
        dropdown = c.options is not None  # a <select>: its options are controls too
        if c.type in TEXT_FIELDS and not dropdown:  # (a read-only field's type says so)
            tries = guesses(obs, request) if c.type == "spinbutton" else []
            for rank, text in enumerate(tries[:3]):  # a number the page's answer leaves
                if c.value != text:
                    scored.append((1.9 - 0.1 * rank, order, Action(
                        function="fill", control_label=c.label, args={"text": text})))
            for rank, text in enumerate(strings[:5]):
                if c.value == text:
                    continue
                owned = owners.get(text) == c.name
                scored.append((1.5 + owned - 0.1 * rank, order,
                               Action(function="fill", control_label=c.label,
                                      args={"text": text})))
        if dropdown:
            continue  # a click on one of its options chooses it
        score = max(relevance(c.name, request), quoted_parts(c.name, request),
                    dated.get(c.label, 0.0))
        if c.label.isdigit() and any(0 < int(c.label) - a <= 12 for a in anchors):
            score += 0.5
        if len(typed) > 1 and c.label != obs.focus and c.name.lower().startswith(typed) and \
                c.name.lower() != typed:
            score = max(score, 1.6 + quoted_parts(c.name, request))
        if c.type == "StaticText" and score < 1:
            continue  # plain text nobody named: rarely what a task wants clicked
        if c.value in ("checked", "selected") and score > 0:
            score -= 0.5  # already as the instruction wants, most likely
        scored.append((score, order, Action(function="click", control_label=c.label)))
        if chosen and c.type == "option" and c.name in several and c.value != "selected":
            scored.append((score + 0.1, order, Action(function="click", control_label=c.label,
                                                      args={"modifiers": "Control"})))
    # keys in the field that has the focus: ArrowDown opens an autocomplete's list, Enter
    # sends a form or takes the list's choice; after every click (a click is what most
    # pages want), unless the instruction says to press the key
    field = focused
    if field is not None and field.type in TEXT_FIELDS and field.value:
        enter = 1.7 if re.search(r"\b(enter|return) key|\b(press|hit) (enter|return)\b",
                                 request, flags=re.I) else 0.0
        scored.append((-0.1, order, Action(function="keyboard", args={"keys": "ArrowDown"})))
        scored.append((-0.2 + enter, order, Action(function="keyboard",
                                                   args={"keys": "Enter"})))
    scored += [(score, order + 1, a) for score, a in scroll_moves(obs, request)]
    scored += [(score, order + 1, a) for score, a in drag_moves(obs, request)]
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [a for _, _, a in scored[:limit]]


def html_value(role: str, text: str) -> str:
    """A date or time as the instruction writes it ("10/11/2011", "8:04 PM") in the form an
    HTML date/time input takes ("2011-10-11", "20:04"); other text unchanged."""
    if role == "Date":
        m = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", text)
        if m:
            return f"{m[3]}-{int(m[1]):02d}-{int(m[2]):02d}"
    if role == "InputTime":
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*([AP]M)?\s*", text, flags=re.I)
        if m:
            h = int(m[1]) % 12 + (12 if (m[3] or "").upper() == "PM" else 0) if m[3] \
                else int(m[1])
            return f"{h:02d}:{m[2]}"
    return text
