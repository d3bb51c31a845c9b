"""What a generic web explorer tries in a state: a user's moves on the controls shown, ranked
by how much the control or the text has to do with the instruction.

No per-task knowledge: every control may be clicked, every text field may get a string taken
from the instruction (quoted strings first, then words that look like values), every drop-down
an option the instruction names. The reward, not this ranking, decides what is right; the
ranking only decides what is tried first.
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
    order = 0
    for c in obs.controls:
        if not c.enabled:
            continue
        order += 1
        dropdown = c.options is not None  # a <select>: its options are controls too
        if c.type in TEXT_FIELDS and not dropdown:  # (a read-only field's type says so)
            for rank, text in enumerate(strings[:5]):
                if c.value == text:
                    continue
                owned = owners.get(text) == c.name
                scored.append((1.5 + owned - 0.1 * rank, order,
                               Action(function="fill", control_label=c.label,
                                      args={"text": text})))
        if dropdown:
            continue  # a click on one of its options chooses it
        score = relevance(c.name, request)
        if c.label.isdigit() and any(0 < int(c.label) - a <= 12 for a in anchors):
            score += 0.5
        if c.type == "StaticText" and score < 1:
            continue  # plain text nobody named: rarely what a task wants clicked
        if c.value == "checked" and score > 0:
            score -= 0.5  # already as the instruction wants, most likely
        scored.append((score, order, Action(function="click", control_label=c.label)))
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
