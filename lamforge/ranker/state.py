"""What a ranker LAM reads at one step, built the same way offline and live.

`RankState` holds the request, the whole plan, every previous action with its result, the
controls on screen and the document's canvas. It comes from a step sample (training, offline
evaluation) or from the agent's step context (live), and it travels as the served model's
prompt (`to_prompt`/`from_prompt`), so a ranker behind `lamforge serve` sees exactly what the
local one sees.

`context_text` is the model's view of it: the request, which of its values were used, what is
on screen, where the cursor is, what was done (latest first) and the plan. The plan is the
whole plan, not what is left of it: the model works out from what was done how far it is (a
step sample's own `plan` is the plan after the expert's step, which would give the answer
away).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lamforge.core import Control, Observation, StepSample
from lamforge.core.text import quoted
from lamforge.envs.base import Env
from lamforge.envs.match import normalize

PROMPT_MARK = "lamforge-rank-state"
"""The served ranker's prompt is a JSON object with this key (its format version)."""
HISTORY = 8
"""Previous actions shown, latest first."""
CONTEXT_TOKENS = 128
"""A context is read up to here, in training and at run time alike (a model trained on 128
tokens and run on 256 read plan text it never learnt from: 13 points of test_family task
success lost offline)."""
CANDIDATE_TOKENS = 40
"""A candidate's text is read up to here."""


@dataclass
class RankState:
    request: str
    controls: list[Control]
    previous: list[dict[str, Any]] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    canvas: str = ""
    focus: str = ""
    """Where input goes (candidates such as a key press in the focused field depend on it)."""

    @classmethod
    def from_sample(cls, sample: StepSample, plan: list[str] | None = None) -> RankState:
        """A step sample's state; `plan` is its task's whole plan (the first step's
        `previous_plan` when not given)."""
        return cls(request=sample.request, controls=list(sample.controls),
                   previous=list(sample.previous_actions),
                   plan=list(sample.previous_plan if plan is None else plan),
                   canvas=sample.canvas, focus=sample.focus)

    @property
    def observation(self) -> Observation:
        return Observation(controls=self.controls, canvas=self.canvas, focus=self.focus)

    def to_prompt(self, rank: int = 0) -> str:
        """The state as a served ranker's prompt; `rank` > 0 asks for the rank-th best
        candidate instead of the best (a retry after a rejected answer)."""
        return json.dumps({PROMPT_MARK: 1, "rank": rank, "request": self.request,
                           "plan": self.plan,
                           "previous": self.previous, "canvas": self.canvas,
                           "focus": self.focus,
                           "controls": [c.model_dump(exclude_none=True) for c in self.controls]},
                          ensure_ascii=False)

    @classmethod
    def from_prompt(cls, text: str) -> tuple[RankState, int] | None:
        """The state a `to_prompt` text holds and the rank asked for, or None when the text
        is not one."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            return None
        if not isinstance(data, dict) or data.get(PROMPT_MARK) != 1:
            return None
        try:
            state = cls(request=str(data["request"]), plan=list(data.get("plan") or []),
                        previous=list(data.get("previous") or []),
                        canvas=str(data.get("canvas") or ""),
                        focus=str(data.get("focus") or ""),
                        controls=[Control.model_validate(c) for c in data.get("controls") or []])
            return state, max(0, int(data.get("rank") or 0))
        except (KeyError, TypeError, ValueError):
            return None


def _cursor(canvas: str) -> str:
    """The canvas's selection or cursor line (the last line that says where input goes)."""
    for line in reversed(canvas.splitlines()):
        if line.startswith(("selection", "cursor")):
            return line
    return "unknown"


def _done(a: dict[str, Any]) -> str:
    args = " ".join(f"'{v}'" for v in (a.get("args") or {}).values())
    text = " ".join(x for x in (a.get("function"), a.get("control_name") and
                                f"'{a['control_name']}'", args) if x)
    if a.get("result"):
        text += f" = {str(a['result'])[:80]}"
    return text + ("" if a.get("ok", True) else " (failed)")


_FIELD = re.compile(r"(?:^|[(;]\s*)([A-Z][\w ]{0,30}?):\s*([^;()]+)")
_FILE = re.compile(r"(?<![\w.])[\w-]+\.(?:odt|docx?|pdf|rtf|txt|html?|csv|xlsx?|ods|odp|pptx?)\b",
                   re.I)
_SWITCH = {"on", "off", "yes", "no", "true", "false"}


def _norm(text: str) -> str:
    return re.sub(r"[\s.]+", "", str(text).lower())


def request_values(request: str) -> list[tuple[str | None, str]]:
    """The values a request gives: `Field: value` pairs, quoted texts and file names, as
    (field, value)."""
    out: list[tuple[str | None, str]] = []
    for name, value in _FIELD.findall(request):
        if value.strip():
            out.append((name.strip(), value.strip()))
    for value in [*quoted(request), *_FILE.findall(request)]:
        if all(_norm(value) != _norm(v) for _, v in out):
            out.append((None, value))
    return out


_WORDS = re.compile(r"[a-z]+")


def _says(words: list[str], phrase: list[str]) -> bool:
    """Whether `words` hold `phrase`, each word as it is or with a short ending ("italics"
    says 'Italic', "doubled" says 'Double')."""
    n = len(phrase)
    return any(all(w.startswith(p) and len(w) - len(p) <= 2
                   for w, p in zip(words[i:i + n], phrase, strict=True))
               for i in range(len(words) - n + 1))


def named_options(state: RankState) -> list[tuple[Control, str]]:
    """Options of an open dialog's fields that the request names in its own words ("in
    italics" names the Style box's 'Italic'): a value it asks for as surely as a `Style:
    Italic` detail, though not written as one. Only a dialog's: a toolbar's style box would
    read "make the title bold" as asking for the Title style."""
    words = _WORDS.findall(state.request.lower())
    out: dict[str, tuple[Control, str]] = {}
    for c in state.controls:
        if c.group != "dialog":
            continue
        for option in c.options or []:
            phrase = _WORDS.findall(option.lower())
            if 0 < len(phrase) <= 3 and all(len(w) > 2 for w in phrase) \
                    and _says(words, phrase):
                out.setdefault(option.lower(), (c, option))
    return list(out.values())


def values_progress(state: RankState) -> str | None:
    """Which of the request's values an action has used so far and which not yet: a request
    is rarely done while one of its values is unused, and often done when all are (the
    choice to finish was the ranker's commonest mistake)."""
    values = request_values(state.request)
    values += [(c.name, o) for c, o in named_options(state)
               if all(_norm(o) != _norm(v) for _, v in values)]
    if not values:
        return None
    done = [(_norm(a.get("control_name") or ""),
             [_norm(v) for v in (a.get("args") or {}).values()])
            for a in state.previous if a.get("ok", True)]

    def used(label: str | None, value: str) -> bool:
        v = _norm(value)
        for name, args in done:
            if v and (v == name or any(v in arg for arg in args)):
                return True
            if label and name and _norm(label) in name and v in _SWITCH:
                return True
        return False

    flags = [used(f, v) for f, v in values]
    yes = [v for (_, v), u in zip(values, flags, strict=True) if u]
    no = [v for (_, v), u in zip(values, flags, strict=True) if not u]
    return (f"values used: {', '.join(yes) or 'none'}; not yet used: "
            f"{', '.join(no) or 'none'}")


PLAN_SKIP = 40
"""An action moves the plan on only past a mention this close ahead (an OK clicked in a first
dialog must not consume the last step's "click OK")."""


def plan_rest(state: RankState) -> str:
    """The plan from where the actions so far have brought it: each action that worked moves
    past the next close mention of a value it entered, then of its control ("Choose Insert -
    Field - Time" after Insert and Field: "Time"). A plan read whole at
    every step did not say which of its steps was next (taking the next menu item and when
    to finish were the ranker's commonest mistakes), and its end fell past the context's
    cut."""
    text = " | ".join(state.plan)
    low, pos = text.lower(), 0
    for a in state.previous:
        if not a.get("ok", True):
            continue
        for key in [*(a.get("args") or {}).values(), a.get("control_name")]:
            key = normalize(str(key or ""))
            m = re.compile(r"(?<!\w)" + re.escape(key) + r"(?!\w)").search(low, pos) \
                if len(key) > 1 else None
            if m and m.start() - pos <= PLAN_SKIP:
                pos = m.end()
    return text[pos:].lstrip(" .,;:|-") or "nothing left"


def context_text(state: RankState, with_plan: bool = True, env_cls: type[Env] = Env) -> str:
    """The step as the ranker reads it (the first tokens matter most: a long plan is cut
    at the end, never the request or the screen); `env_cls` says what is on screen
    (`Env.screen`)."""
    done = [_done(a) for a in reversed(state.previous[-HISTORY:])]
    progress = values_progress(state)
    lines = [f"request: {state.request}", *([progress] if progress else []),
             *([f"plan, next: {plan_rest(state)}"] if with_plan and state.plan else []),
             f"screen: {env_cls.screen(state.observation)}",
             f"cursor: {_cursor(state.canvas)}",
             f"step {len(state.previous) + 1}; done, latest first: " + ("; ".join(done) or
                                                                        "nothing yet")]
    return "\n".join(lines)
