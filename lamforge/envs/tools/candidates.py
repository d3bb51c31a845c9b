"""What a model may do in the tools environment: call a shown function, or finish the turn;
and, for a call, the values each argument may take.

A ranker LAM chooses the function first, then fills its arguments slot by slot
(`lamforge.ranker.model.Ranker.fill`). A slot's values are pointers to text that exists,
never invented: the conversation's quoted strings, its clauses and runs of words, the
strings and numbers of earlier results, the values of earlier calls, the schema's enum values
and default, and the values a parameter's description quotes. An optional argument may also
be left out (`OMIT`: the function's default stands).

The lists come from the observation alone (the functions' schemas travel on their controls,
`Control.params`), so a step sample offline sees what the live agent sees.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lamforge.core import Action, Control, Observation
from lamforge.core.text import quoted
from lamforge.envs.base import OMIT, Slot

MAX_WORDS = 6
"""Runs of the request's words up to this length are string values (longer ones come as
clauses and quotes)."""
MAX_VALUES = 800
"""Values per slot at most (a long conversation has many runs of words)."""
_WORD = re.compile(r"[\w.@#/$:+-]+(?:'[a-z]+)?")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")


def propose(observation: Observation) -> list[Action]:
    """One call per function shown (its arguments still to fill), and finish."""
    calls = [Action(function="call", control_label=c.label) for c in observation.controls
             if c.group == "functions" and c.enabled]
    return [*calls, Action(function="finish")]


def describe(action: Action, control: Control | None) -> str:
    if action.function == "finish":
        return "finish: the user's request of this turn is done, answer them"
    if control is None:
        return f"{action.function} {action.control_label or ''}".strip()
    return f"call {control.name}: {control.value or ''}".strip()


def user_turns(canvas: str) -> list[str]:
    return [line.removeprefix("User: ") for line in canvas.splitlines()
            if line.startswith("User: ")]


def _leaves(value: Any, out: list[Any]) -> None:
    """Every string, number, key and list of a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(str(k))
            _leaves(v, out)
    elif isinstance(value, list):
        out.append(value)
        for v in value:
            _leaves(v, out)
    elif value is not None:
        out.append(value)


_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _results(previous: list[dict[str, Any]]) -> list[Any]:
    out: list[Any] = []
    for a in previous:
        text = a.get("result")
        if not text:
            continue
        try:
            _leaves(json.loads(text), out)
        except (json.JSONDecodeError, TypeError):
            # a result kept cut short is no JSON any more: its strings and numbers still are
            # values a later call may point at (the orders a listing began with)
            text = str(text)
            for s in _JSON_STRING.findall(text):
                try:
                    out.append(json.loads(f'"{s}"'))
                except json.JSONDecodeError:
                    out.append(s)
            out += _numbers([_JSON_STRING.sub(" ", text)])
            out.append(text)
    return out


ORIGIN_CHARS = 80
"""A value's origin is read up to here (the record it is in, in short)."""


_FLAT = re.compile(r"\{[^{}]*\}")


def _function(control_name: Any) -> str:
    return str(control_name or "").split("(")[0].strip()


def _records(value: Any, out: list[dict[str, Any]]) -> None:
    """Every JSON object in a value, nested ones too."""
    if isinstance(value, dict):
        out.append(value)
        for v in value.values():
            _records(v, out)
    elif isinstance(value, list):
        for v in value:
            _records(v, out)


def origins(previous: list[dict[str, Any]]) -> dict[str, str]:
    """Where the values of earlier calls and results came from, by `Slot.value_text`: the
    argument of a call it was given as, else the key and the record a result's value is in
    ("id in the result of list_orders: item headset, …"). The latest call's word stands. A
    record is told only by a value that tells it apart from the result's other records: a
    customer's id in each of their orders read "customer_id …: item monitor" (the first
    order's item), and the ranker cancelled order 4 for customer 4."""
    out: dict[str, str] = {}
    for a in reversed(previous):
        fn = _function(a.get("control_name"))
        for k, v in (a.get("args") or {}).items():
            out.setdefault(Slot.value_text(v), f"{k} given to {fn}")
        records: list[dict[str, Any]] = []
        try:
            _records(json.loads(a.get("result") or "null"), records)
        except (json.JSONDecodeError, TypeError):  # kept cut short: its whole flat records
            for flat in _FLAT.findall(str(a.get("result"))):
                with contextlib.suppress(json.JSONDecodeError):
                    _records(json.loads(flat), records)
        # a value under the same key in more than one record (counted once: a cut result
        # still holds a few hundred records)
        counts = Counter((k, Slot.value_text(v)) for k, v in _pairs(records))
        shared = {pair for pair, n in counts.items() if n > 1}
        for record in records:
            scalars = dict(_pairs([record]))
            # the record's short words first (an item, a name tell records apart best), and
            # none that every record has
            told = sorted([(k, v) for k, v in scalars.items()
                           if (k, Slot.value_text(v)) not in shared],
                          key=lambda kv: not isinstance(kv[1], str))
            for k, v in scalars.items():
                note = f"{k} in the result of {fn}"
                if (k, Slot.value_text(v)) in shared:
                    out.setdefault(Slot.value_text(v), note)
                    continue
                for k2, v2 in told:
                    part = f"{', ' if ':' in note else ': '}{k2} {v2}"
                    if k2 != k and len(str(v2)) <= 30 and len(note + part) <= ORIGIN_CHARS:
                        note += part
                out.setdefault(Slot.value_text(v), note)
    return out


def _pairs(records: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """Each record's scalar (key, value) pairs."""
    return [(k, v) for r in records for k, v in r.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)]


def _spans(text: str) -> list[str]:
    """Quoted strings, clauses (between punctuation) and runs of up to MAX_WORDS words, each
    as the text has it (a run keeps the quotes and commas inside it, not at its ends)."""
    out = quoted(text)
    out += [c.strip(" '\"") for c in re.split(r"[.!?;,:]\s+|\n", text) if c.strip(" '\"")]
    words = [m.span() for m in _WORD.finditer(text)]
    for n in range(1, MAX_WORDS + 1):
        for i in range(len(words) - n + 1):
            run = text[words[i][0]:words[i + n - 1][1]].strip(" .,:;!?'\"")
            if run:
                out.append(run)
            if run.endswith("'s"):  # "Ben Lovell's monitor": the name is "Ben Lovell"
                out.append(run[:-2])
    return out


def _numbers(texts: list[str]) -> list[float | int]:
    out: list[float | int] = []
    for t in texts:
        for m in _NUMBER.findall(t):
            out.append(float(m) if "." in m else int(m))
    return out


_LISTED = re.compile(r"(?:\[Enum\]:|Options are:|[Oo]ne of:?)\s*(\[[^\]]*\]|[^.\n]+)")
_SLASHED = re.compile(r"\(([\w ]+(?:/[\w ]+)+)\)")


def described_values(about: str) -> list[str]:
    """The values a parameter's description lists: `[Enum]: ["on", "off"]`, `[Enum]: USD, RMB`,
    `Options are: economy, business, first.`, `(Buy/Sell)`, and what it quotes."""
    out: list[str] = []
    for listed in _LISTED.findall(about):
        try:
            items = json.loads(listed) if listed.startswith("[") else None
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list):
            items = [x.strip(" '\"[]") for x in re.split(r",|\bor\b", listed)]
        out += [str(x) for x in items if str(x).strip()]
    for slashed in _SLASHED.findall(about):
        out += [x.strip() for x in slashed.split("/") if x.strip()]
    out += quoted(about)
    return list(dict.fromkeys(out))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", "string")
    return set(kind) if isinstance(kind, list) else {kind}


@dataclass(frozen=True)
class Pool:
    """The values a state offers, by kind (computed once per state: every slot of every
    function draws from it)."""

    strings: tuple[str, ...]
    numbers: tuple[int | float, ...]
    lists: tuple[Any, ...]
    quoted: tuple[str, ...]


@lru_cache(maxsize=256)
def _pool(request: str, canvas: str, previous_json: str) -> Pool:
    previous = json.loads(previous_json)
    earlier = [v for a in previous for v in (a.get("args") or {}).values()]
    results = _results(previous)
    turns = [request, *[t for t in reversed(user_turns(canvas)) if t != request]]
    texts = [*turns, *(str(v) for v in results if not isinstance(v, list))]
    numbers = _numbers(texts) + [v for v in earlier if isinstance(v, int | float)
                                 and not isinstance(v, bool)]
    strings = [v for v in earlier if isinstance(v, str)]
    strings += [v for v in results if isinstance(v, str)]
    for t in turns:
        strings += _spans(t)
    lists = [v for v in earlier + results if isinstance(v, list)]
    return Pool(tuple(_unique(strings)), tuple(_unique(numbers)), tuple(_unique(lists)),
                tuple(quoted(request)))


def slot_values(schema: dict[str, Any], required: bool, request: str, canvas: str,
                previous: list[dict[str, Any]]) -> list[Any]:
    """The values an argument of this schema may take here, the likeliest kinds first."""
    pool = _pool(request, canvas, json.dumps(previous, sort_keys=True, default=str))
    types = _types(schema)
    found: list[Any] = []
    if not required:
        found.append(OMIT)
    if "default" in schema:
        found.append(schema["default"])
    if schema.get("enum"):  # nothing else is accepted
        return _unique([*found, *schema["enum"]])
    about = str(schema.get("description") or "")
    listed = described_values(about)
    if types & {"integer", "number"}:
        nums = list(pool.numbers) + _numbers([about])
        if "integer" in types and "number" not in types:
            nums = [int(v) for v in nums if float(v).is_integer()]
        found += nums
    if "boolean" in types:
        found += [True, False]
    if "string" in types:
        found += listed
        found += pool.strings
    if "array" in types:
        item = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        singles = [v for v in slot_values(item, True, request, canvas, previous)
                   if v is not OMIT]
        found += pool.lists
        if item.get("enum") or listed:
            found.append(list(item.get("enum") or listed))
        if len(pool.quoted) > 1:
            found.append(list(pool.quoted))
        found += [[v] for v in singles]
    if "object" in types:
        found.append({})
    if not [v for v in found if v is not OMIT]:  # a required argument always gets a value:
        found += [[]] if "array" in types else [0] if types & {"integer", "number"} else []
    return _unique(found)[:MAX_VALUES]


def _unique(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for v in values:
        key = ("s:" + v) if isinstance(v, str) else "\0omit" if v is OMIT else \
            json.dumps(v, sort_keys=True, default=str)
        if key not in seen and v != "":
            seen.add(key)
            out.append(v)
    return out


def slots(control: Control | None, observation: Observation, request: str,
          previous: list[dict[str, Any]]) -> list[Slot]:
    """A call's arguments in the schema's order, required ones first."""
    schema = (control.params if control else None) or {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    order = [k for k in props if k in required] + [k for k in props if k not in required]
    found = origins(previous)
    out = []
    for name in order:
        prop = props[name] if isinstance(props[name], dict) else {}
        kind = prop.get("type", "any")
        about = f"{name} ({'|'.join(kind) if isinstance(kind, list) else kind}"
        about += ")" if name in required else ", optional)"
        if prop.get("description"):
            about += f": {str(prop['description'])[:160]}"
        out.append(Slot(name=name, about=about, values=slot_values(
            prop, name in required, request, observation.canvas, previous), origins=found))
    return out
