"""Evolve task-plan pairs into harder variants, as the paper does with a strong LLM.

Two providers behind one interface (`Evolver.evolve(pairs) -> variants`):

- `RulesEvolver` needs no model. It adds a constraint drawn from the app's vocabulary (fonts,
  sizes, colours, alignments, styles, table shapes, page set-up, file names), chosen to fit the
  task's topic, with the plan step that satisfies it; or it composes two tasks of the same app
  ("X, then Y", plans concatenated). Seeded per pair, so a rerun gives the same output.
- `LLMEvolver` asks any OpenAI-compatible model (through `LLMClient`) for a harder variant in
  JSON and validates it.

Every variant keeps its provenance (`evolved_from`, `meta.evolution`), differs from its parent
in task and plan, and is at most `max_extra_words` longer than its parent's task.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, Field, field_validator

from lamforge.core import TaskPlan
from lamforge.llm.client import LLMClient, complete_json, map_concurrent

MAX_EXTRA_WORDS = 20

FONTS = ["Liberation Sans", "Liberation Serif", "Liberation Mono", "DejaVu Sans"]
SIZES = [10, 11, 14, 16, 18, 20, 24]
COLOURS = ["Red", "Blue", "Green", "Dark Red 2", "Orange", "Purple"]
STYLES = ["Heading 1", "Heading 2", "Title", "Subtitle", "Quotations"]
ALIGN = {"center": "Center", "right-align": "Right", "justify": "Justified"}
WORDS = ["Draft", "Confidential", "Summary", "Budget", "Review", "Final"]
NAMES = ["report", "notes", "minutes", "plan", "summary", "draft"]


class Evolver(Protocol):
    name: str

    def evolve(self, pairs: list[TaskPlan], on_done: Callable[[], None] | None = None
               ) -> list[TaskPlan]:
        """Harder variants of `pairs`, each traceable to its parent; on_done ticks progress."""


@dataclass(frozen=True)
class Constraint:
    """One parameterised constraint: what the task gains and the step that satisfies it.

    A `before` constraint sets where the task happens ("starting in cell D5", "on slide 3"):
    its step goes first; the others finish the task, so their step goes last.
    """

    name: str
    topics: tuple[str, ...]  # task keywords it fits; () = any task
    apps: tuple[str, ...]
    make: Callable[[random.Random], tuple[str, str, dict[str, Any]]]
    before: bool = False


def _c(name: str, topics: tuple[str, ...], apps: tuple[str, ...],
       make: Callable[[random.Random], tuple[str, str, dict[str, Any]]],
       before: bool = False) -> Constraint:
    return Constraint(name, topics, apps, make, before)


def _font(r: random.Random):
    f = r.choice(FONTS)
    return (f"using the {f} font", f"Choose Format - Character, select {f} in the Font box and "
            "click OK.", {"font": f})


def _size(r: random.Random):
    s = r.choice(SIZES)
    return (f"with the text at {s} pt", f"Choose Format - Character, set Size to {s} pt and "
            "click OK.", {"size": s})


def _colour(r: random.Random):
    c = r.choice(COLOURS)
    return (f"with the text coloured {c.lower()}", f"On the Formatting bar, open Font Color and "
            f"choose {c}.", {"color": c})


def _bold(r: random.Random):
    return ("and make the text bold", "Click Bold on the Formatting bar.", {})


def _align(r: random.Random):
    how, button = r.choice(list(ALIGN.items()))
    return (f"and {how} the paragraph", f"Click {button} on the Formatting bar.", {"align": button})


def _style(r: random.Random):
    s = r.choice(STYLES)
    return (f"and apply the {s} style to the first paragraph", "Click in the first paragraph and "
            f"choose {s} in the Paragraph Style box.", {"style": s})


def _table(r: random.Random):
    rows, cols = r.randint(2, 8), r.randint(2, 6)
    return (f"with {rows} rows and {cols} columns", f"Choose Table - Insert Table, set Columns to "
            f"{cols} and Rows to {rows}, and click Insert.", {"rows": rows, "cols": cols})


def _landscape(r: random.Random):
    return ("and switch the page to landscape", "Choose Format - Page Style, select Landscape "
            "under Orientation and click OK.", {"orientation": "landscape"})


def _margins(r: random.Random):
    m = r.choice([1.5, 2.5, 3.0])
    return (f"with {m:g} cm page margins", f"Choose Format - Page Style and set Left, Right, Top "
            f"and Bottom margins to {m:g} cm.", {"margin_cm": m})


def _spacing(r: random.Random):
    s = r.choice(["1.5 Lines", "Double"])
    return (f"with {s.lower()} line spacing", f"Choose Format - Paragraph and set Line spacing to "
            f"{s}.", {"line_spacing": s})


def _header(r: random.Random):
    w = r.choice(WORDS)
    return (f"and add a header that reads '{w}'", f"Choose Insert - Header and Footer - Header "
            f"and type {w}.", {"header": w})


def _save(ext: str):
    def make(r: random.Random):
        n = r.choice(NAMES)
        return (f"then save the file as {n}.{ext}", f"Choose File - Save As, enter {n}.{ext} as "
                "File name and click Save.", {"file": f"{n}.{ext}"})
    return make


def _cell(r: random.Random):
    cell = f"{r.choice('ABCDE')}{r.randint(1, 20)}"
    return (f"starting in cell {cell}", f"Click cell {cell}.", {"cell": cell})


def _col_width(r: random.Random):
    w = r.choice([2, 3, 4])
    return (f"then set the width of column A to {w} cm", f"Click a cell in column A, choose "
            f"Format - Columns - Width, enter {w} cm and click OK.", {"column_width_cm": w})


def _slide(r: random.Random):
    n = r.randint(2, 5)
    return (f"on slide {n}", f"In the Slide pane, click slide {n}.", {"slide": n})


TEXT = ("text", "font", "character", "paragraph", "format", "word", "heading", "style", "title",
        "line", "caption", "letter", "bold", "italic", "underline", "highlight")
PAGE = ("page", "margin", "header", "footer", "border", "background", "orientation", "column")
TABLE = ("table",)
CONSTRAINTS = [
    _c("font", TEXT, ("writer", "calc", "impress", "draw", "shared"), _font),
    _c("size", TEXT, ("writer", "calc", "impress", "draw", "shared"), _size),
    _c("colour", TEXT, ("writer", "calc", "impress", "draw", "shared"), _colour),
    _c("bold", TEXT, ("writer", "calc", "impress", "shared"), _bold),
    _c("align", TEXT, ("writer", "shared"), _align),
    _c("style", TEXT + PAGE, ("writer",), _style),
    _c("line_spacing", TEXT, ("writer",), _spacing),
    _c("table_shape", TABLE, ("writer", "shared"), _table),
    _c("landscape", PAGE, ("writer", "calc"), _landscape),
    _c("margins", PAGE, ("writer", "calc"), _margins),
    _c("header", PAGE, ("writer", "calc"), _header),
    _c("cell", (), ("calc",), _cell, before=True),
    _c("column_width", ("column", "cell", "row", "sheet"), ("calc",), _col_width),
    _c("slide", (), ("impress",), _slide, before=True),
    _c("save_odt", (), ("writer",), _save("odt")),
    _c("save_ods", (), ("calc",), _save("ods")),
    _c("save_odp", (), ("impress",), _save("odp")),
    _c("save_odg", (), ("draw",), _save("odg")),
]


_STOP = {"a", "an", "the", "to", "of", "in", "on", "and", "or", "for", "with", "into", "from",
         "your", "you", "that", "this", "it", "as", "by", "at", "is", "are", "be", "can", "use",
         "using", "current", "selected", "document", "text", "new", "one", "all", "open",
         "insert", "set", "change", "create", "select", "define", "show", "display"}


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP and len(w) > 2}


def _words(text: str) -> int:
    return len(text.split())


def _fits(c: Constraint, pair: TaskPlan) -> bool:
    if pair.app not in c.apps:
        return False
    task = pair.task.lower()
    if c.name == "table_shape" and (not re.search(r"\binsert\w*\b.*\btable\b", task)
                                    or re.search(r"\btables? of\b", task)):
        return False  # a table of contents or of figures is not a table with rows
    return not c.topics or any(re.search(rf"\b{t}", task) for t in c.topics)


class RulesEvolver:
    """Offline evolution: parameterised constraints and composition, seeded per pair."""

    name = "rules"

    def __init__(self, per_pair: int = 2, seed: int = 0,
                 max_extra_words: int = MAX_EXTRA_WORDS) -> None:
        self.per_pair = per_pair
        self.seed = seed
        self.max_extra_words = max_extra_words

    def evolve(self, pairs: list[TaskPlan], on_done: Callable[[], None] | None = None
               ) -> list[TaskPlan]:
        by_app: dict[str, list[TaskPlan]] = {}
        for p in pairs:
            by_app.setdefault(p.app, []).append(p)
        out: list[TaskPlan] = []
        for pair in pairs:
            rng = random.Random(f"{self.seed}:{pair.id}")
            fitting = [c for c in CONSTRAINTS if _fits(c, pair)]
            rng.shuffle(fitting)
            made: list[TaskPlan] = []
            partner = self._partner(pair, by_app[pair.app], rng)
            plan = ["compose"] if partner else []
            plan += [c.name for c in fitting]
            # one constraint first, then a composition, then more constraints
            order = ([p for p in plan if p != "compose"][:1] + [p for p in plan if p == "compose"]
                     + [p for p in plan if p != "compose"][1:])
            for kind in order:
                if len(made) >= self.per_pair:
                    break
                if kind == "compose":
                    variant = self._compose(pair, partner, len(made))  # type: ignore[arg-type]
                else:
                    c = next(x for x in fitting if x.name == kind)
                    variant = self._constrain(pair, c, rng, len(made))
                if variant is not None:
                    made.append(variant)
            out.extend(made)
            if on_done:
                on_done()
        return out

    def _constrain(self, pair: TaskPlan, c: Constraint, rng: random.Random, n: int
                   ) -> TaskPlan | None:
        phrase, step, params = c.make(rng)
        task = f"{pair.task}, {phrase}"
        if _words(task) - _words(pair.task) > self.max_extra_words:
            return None
        plan = [step, *pair.plan] if c.before else [*pair.plan, step]
        return self._variant(pair, task, plan, n,
                             {"kind": "constraint", "constraint": c.name, **params})

    def _partner(self, pair: TaskPlan, pool: list[TaskPlan], rng: random.Random
                 ) -> TaskPlan | None:
        """A short task of the same app about the same thing (shared content words) if any."""
        page = pair.source.split("#")[0]
        fits = [p for p in pool if p.id != pair.id and p.source.split("#")[0] != page
                and _words(p.task) <= self.max_extra_words - 1 and len(p.plan) <= 6]
        if not fits:
            return None
        mine = _content_words(pair.task)
        scored = [(len(mine & _content_words(p.task)), p) for p in fits]
        best = max(score for score, _ in scored)
        return rng.choice([p for score, p in scored if score == best])

    def _compose(self, pair: TaskPlan, partner: TaskPlan, n: int) -> TaskPlan | None:
        second = partner.task[:1].lower() + partner.task[1:]
        task = f"{pair.task}, then {second}"
        if _words(task) - _words(pair.task) > self.max_extra_words:
            return None
        return self._variant(pair, task, [*pair.plan, *partner.plan], n,
                             {"kind": "compose", "partner": partner.id,
                              "partner_source": partner.source})

    def _variant(self, pair: TaskPlan, task: str, plan: list[str], n: int,
                 evolution: dict[str, Any]) -> TaskPlan:
        return TaskPlan(id=f"{pair.id}-e{n + 1}", app=pair.app, task=task, plan=plan,
                        source=pair.source, evolved_from=pair.id,
                        meta={**pair.meta, "evolution": {"provider": self.name, **evolution}})


class _Evolved(BaseModel):
    task: str = Field(min_length=3)
    plan: list[str] = Field(min_length=1)

    @field_validator("plan")
    @classmethod
    def _steps(cls, v: list[str]) -> list[str]:
        steps = [s.strip() for s in v if isinstance(s, str) and s.strip()]
        if not steps:
            raise ValueError("plan has no steps")
        return steps


SYSTEM = (
    "You make desktop-application tasks harder for training an action model. Given a task and "
    "its plan for {app}, write ONE harder variant: add a concrete constraint (a value, a "
    "format, a place) or a second related step, so it stays executable in {app} step by step. "
    "The new task may be at most {extra} words longer. Update the plan so it achieves the new "
    "task, keeping menu paths in the form 'Choose Menu - Item'. Answer with JSON only: "
    '{{"task": "...", "plan": ["...", "..."]}}')


class LLMEvolver:
    """Evolution by any OpenAI-compatible model, validated and bounded."""

    name = "llm"

    def __init__(self, client: LLMClient, per_pair: int = 2, concurrency: int = 4,
                 max_extra_words: int = MAX_EXTRA_WORDS, attempts: int = 2) -> None:
        self.client = client
        self.per_pair = per_pair
        self.concurrency = concurrency
        self.max_extra_words = max_extra_words
        self.attempts = attempts

    def evolve(self, pairs: list[TaskPlan], on_done: Callable[[], None] | None = None
               ) -> list[TaskPlan]:
        jobs = [(pair, n) for pair in pairs for n in range(self.per_pair)]
        return map_concurrent(lambda job: self._one(*job), jobs, self.concurrency, on_done)

    def _one(self, pair: TaskPlan, n: int) -> TaskPlan:
        messages = [
            {"role": "system", "content": SYSTEM.format(app=pair.app, extra=self.max_extra_words)},
            {"role": "user", "content": json.dumps({"task": pair.task, "plan": pair.plan,
                                                    "variant": n + 1})},
        ]

        def validate(data: Any) -> _Evolved:
            ev = _Evolved.model_validate(data)
            if _words(ev.task) - _words(pair.task) > self.max_extra_words:
                raise ValueError(f"task grew by more than {self.max_extra_words} words")
            if ev.task.strip().lower() == pair.task.strip().lower() or ev.plan == pair.plan:
                raise ValueError("variant is not different from its parent")
            return ev

        ev = complete_json(self.client, messages, validate=validate, attempts=self.attempts)
        return TaskPlan(id=f"{pair.id}-l{n + 1}", app=pair.app, task=ev.task, plan=ev.plan,
                        source=pair.source, evolved_from=pair.id,
                        meta={**pair.meta, "evolution": {"provider": self.name,
                                                         "model": self.client.model}})
