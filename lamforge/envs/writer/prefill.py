"""Offline prefill for Writer: turn a task-plan pair into executable task instances.

The paper's prefill asks an LLM to turn each plan step into actions on the real UI; this is the
rules provider that needs no model. It grounds the step forms that LibreOffice's help and our
evolution use — menu paths ("Choose Format - Character, set Size to 14 pt and click OK."),
toolbar clicks ("Click Bold on the Formatting bar."), shortcuts ("Press Ctrl+B."), selections
("Select the text…") and typing — into actions named by `control_text`, picks a template and
concrete values (which text to select) per instance, and derives the checks that the grounded
commands must make true. A step it cannot ground rejects the pair with the step as reason; so
does a task that needs what the environment lacks (databases, mail merge, macros, printing…).

Control names are matched to the live controls at execution time (exact/contains/fuzzy/regex),
so a name here that Writer does not show fails the task there, as in the paper.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import Any

from lamforge.core import Action, Check, Task, TaskPlan

UNAVAILABLE = {
    "database": r"\b(database|data source|mail merge|form letter|bibliography database)\b",
    "macros": r"\b(macro|basic ide|script)\b",
    "printing": r"\b(print|printer|printing|paper tray)\b",
    "other apps": r"\b(calc spreadsheet|impress|draw document|chart|ole object|e-?mail)\b",
    "files and network": r"\b(open a document|load|hyperlink|url|internet|web page|ftp|pdf)\b",
    "images": r"\b(image|graphic|picture|photo|fontwork)\b",
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
TOPIC_TEMPLATES = [
    (r"\btable\b", ["table"]),
    (r"\b(list|bullet|numbering)\b", ["bullets", "report"]),
    (r"\b(comment|note)\b", ["comments"]),
    (r"\b(heading|chapter|outline|page break|section)\b", ["multipage", "report"]),
    (r"\b(page|margin|header|footer|orientation|landscape)\b", ["report", "line"]),
]
DEFAULT_TEMPLATES = ["report", "line", "comments"]

_TOGGLES = {"bold": "bold", "italic": "italic", "underline": "underline",
            "strikethrough": "strikethrough", "superscript": "superscript"}
_KEY_TOGGLES = {"ctrl+b": "bold", "ctrl+i": "italic", "ctrl+u": "underline"}
_ALIGN = {"center": "center", "centered": "center", "right": "right", "justified": "justify",
          "left": "left", "align left": "left", "align right": "right", "justify": "justify"}
_LISTS = {"unordered list": "bullet", "ordered list": "number", "bullets": "bullet",
          "numbering": "number"}


class Rejected(Exception):
    """The pair cannot be instantiated; the message is the reason filed with it."""


@dataclass
class _Draft:
    template: str
    target: str
    actions: list[Action] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    selected: bool = False

    def act(self, function: str, control: str | None = None, **args: Any) -> None:
        self.actions.append(Action(function=function, control_text=control, args=args))

    def select(self) -> None:
        if not self.selected:
            self.act("select_text", text=self.target)
            self.selected = True


def _clean_path_part(part: str) -> str:
    part = re.sub(r"\(.*?\)", "", part)
    part = re.sub(r"\s+tab$", "", part.strip(), flags=re.IGNORECASE)
    return part.strip(" .'\"")


def _dialog_tail(d: _Draft, tail: str) -> None:
    """', set Size to 14 pt and click OK' and similar dialog instructions after a path."""
    for m in re.finditer(r"set ([A-Z][\w ]*?|Left, Right, Top and Bottom margins) to "
                         r"([\w.# ]+?)(?=,| and |\.(?:\s|$)|$)", tail):
        name, value = m.group(1).strip(), m.group(2).strip()
        if name.startswith("Left, Right"):
            for side in ("Left", "Right", "Top", "Bottom"):
                d.act("set_edit_text", side, text=value)
                _effect_field(d, side, value)
            continue
        d.act("set_edit_text", name, text=value)
        _effect_field(d, name, value)
    for m in re.finditer(r"select ([\w .]+?) (?:in|under) the ([A-Z][\w ]*?)(?: box)?(?=,| and |\.|$)",
                         tail):
        value, name = m.group(1).strip(), m.group(2).strip()
        d.act("select_option", name, option=value)
        _effect_field(d, name, value)
    for m in re.finditer(r"(?:enter|type) ([\w.]+) as File name", tail):
        d.act("set_edit_text", "File name", text=m.group(1))
        d.checks.append(Check(kind="file_saved", name=m.group(1) if m.group(1).endswith(".docx")
                              else f"{m.group(1).rsplit('.', 1)[0]}.docx"))
    m = re.search(r"click (OK|Insert|Save|Close|Replace All)\b", tail)
    if m:
        d.act("click", m.group(1))


def _effect_field(d: _Draft, name: str, value: str) -> None:
    """The check a dialog field's value must make true."""
    key = name.lower()
    num = re.match(r"([\d.]+)", value)
    if key == "size" and num:
        d.checks.append(Check(kind="font_size", text=d.target, size=float(num.group(1))))
    elif key == "font":
        d.checks.append(Check(kind="font_name", text=d.target, name=value))
    elif key == "columns" and num:
        d.checks.append(Check(kind="table_count", count=_tables(d.template) + 1))
    elif key == "orientation" or value.lower() == "landscape":
        d.checks.append(Check(kind="page_orientation", orientation=value.lower()))
    elif key in ("left", "right", "top", "bottom") and num:
        d.checks.append(Check(kind="page_margins", **{key: float(num.group(1))}))
    elif key == "line spacing":
        pct = {"single": 100, "1.15 lines": 115, "1.5 lines": 150, "double": 200}.get(
            value.lower())
        if pct:
            d.checks.append(Check(kind="line_spacing", text=d.target, percent=pct))


def _tables(template: str) -> int:
    return 1 if template == "table" else 0


def _ground_step(step: str, d: _Draft) -> bool:
    """Append the actions and checks of one plan step; False if the step cannot be grounded."""
    s = step.strip()
    low = s.lower()
    m = re.match(r"^(?:choose|go to|from the menu bar,? select|select menu)\s+(.+)$", s,
                 re.IGNORECASE)
    if m and " - " in m.group(1):
        body = m.group(1)
        path_text, _, tail = body.partition(",")
        parts = path_text.rstrip(".").split(" - ")
        # "… - Font tab": a tab of a dialog, not a control of ours; the dialog's fields are
        path = [_clean_path_part(p) for p in parts if not re.search(r"\btab\b", p, re.I)]
        if not path or any(not p for p in path) or len(path) > 4:
            return False
        if any(k in low for k in ("character", "paragraph", "text -", "lists")):
            d.select()
        for part in path:
            d.act("click", part)
        _effect_command(d, path[-1])
        _dialog_tail(d, tail)
        return True
    m = re.match(r"^(?:on the formatting bar, )?open (font color|character highlighting color) "
                 r"and choose ([\w ]+?)\.?$", low)
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
    m = re.match(r"^[Cc]lick ([A-Z][\w ]*?)(?i: on the (?:formatting|standard) (?:bar|toolbar))?"
                 r"\.?$", s)
    if m and not re.match(r"^click (in|on|the|a|an|outside)\b", low):
        name = m.group(1)
        if name.lower() in _TOGGLES or name.lower() in _ALIGN or name.lower() in _LISTS:
            d.select()
        d.act("click", name)
        _effect_command(d, name)
        return True
    m = re.match(r"^press ((?:ctrl|shift|alt)\+[\w+]+)\.?", low)
    if m:
        keys = m.group(1)
        if keys in _KEY_TOGGLES:
            d.select()
            d.checks.append(Check(kind=_KEY_TOGGLES[keys], text=d.target))
        d.act("keyboard", keys=keys)
        return True
    if re.match(r"^(select|highlight) (the|a|some|all|one or more|at least)\b.*"
                r"(text|word|words|characters|paragraph|paragraphs|selection)", low) or \
            re.match(r"^(click|place the cursor|put the cursor|position the cursor) "
                     r"(in|into|at|where)\b", low):
        d.select()
        return True
    m = re.match(r'^type "([^"]+)"', s)
    if m:
        d.act("type_text", text=m.group(1))
        d.checks.append(Check(kind="text_present", text=m.group(1)))
        return True
    return False


def _effect_command(d: _Draft, name: str) -> None:
    """The check a clicked command must make true, for the commands we know the effect of."""
    key = _clean_path_part(name).lower()
    if key in _TOGGLES:
        d.checks.append(Check(kind=_TOGGLES[key], text=d.target))
    elif key in _ALIGN and key != "left":
        d.checks.append(Check(kind="alignment", text=d.target, align=_ALIGN[key]))
    elif key in _LISTS:
        d.checks.append(Check(kind="list_type", text=d.target, list=_LISTS[key]))
    elif key == "page break":
        d.checks.append(Check(kind="page_count", min=2 if d.template != "multipage" else 4))
    elif key in ("header", "footer"):
        d.checks.append(Check(kind=f"{key}_text", text=f"{key.capitalize()} text"))
        d.act("type_text", text=f"{key.capitalize()} text")


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


def prefill(pair: TaskPlan, instances: int = 2, seed: int = 0,
            templates: list[str] | None = None) -> list[Task]:
    """Task instances of `pair` (different templates/targets), or `Rejected` with the reason.

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
    tasks: list[Task] = []
    for n in range(instances):
        template = templates[n % len(templates)]
        targets = TARGETS.get(template, TARGETS["report"])
        d = _Draft(template=template, target=targets[rng.randrange(len(targets))])
        plan_step: list[int] = []
        for k, step in enumerate(pair.plan, 1):
            if not _ground_step(step, d):
                raise Rejected(f"cannot ground step {k}: {step[:80]}")
            plan_step += [k - 1] * (len(d.actions) - len(plan_step))
        if not d.actions:
            raise Rejected("no actions")
        if not d.checks:
            raise Rejected("no check can verify the effect of these commands")
        d.act("finish")
        request = pair.task if not d.selected else f"{pair.task} (on the text '{d.target}')"
        digest = hashlib.sha1(f"{pair.id}:{n}:{template}:{d.target}".encode()).hexdigest()[:8]
        tasks.append(Task(
            id=f"{pair.id}-i{n + 1}-{digest}", app="writer", request=request, plan=pair.plan,
            template=template, checks=_dedup(d.checks), actions=d.actions,
            meta={"pair": pair.id, "source": pair.source, "target": d.target,
                  "family": _page(pair.source) or pair.id, "families": _families(pair),
                  "plan_step": [*plan_step, len(pair.plan) - 1],
                  "evolved_from": pair.evolved_from}))
    return tasks


def _page(source: str) -> str:
    return source.split("#")[0]


def _families(pair: TaskPlan) -> list[str]:
    """The help pages a task draws on: its own and, if composed, its partner's."""
    pages = [_page(pair.source) or pair.id]
    partner = pair.meta.get("evolution", {}).get("partner_source")
    if partner:
        pages.append(_page(partner))
    return pages


def _dedup(checks: list[Check]) -> list[Check]:
    seen, out = set(), []
    for c in checks:
        key = c.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
