"""Mined function pairs made executable: a back end to run against, and argument values it
accepts, found by trying them (the tools counterpart of Writer's template choice and prefill).

A pair mined from a function's documentation names the function and its required parameters
but no values ("Call cat with file_name"). A value only means something in a back end's
state: a file that exists, an order of this tenant. So the instance starts from a real state
(a BFCL entry's initial configuration, or the support service seeded at the seed), and takes
its values from that state: strings and numbers found in it, a parameter's enum, both
booleans. Each combination is called on a fresh back end until one returns without an error;
that call is the task's action and its check (`called`), and the flow executes it again and
verifies it like any task. A pair no value works for is filed as failed, with why.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from typing import Any

from lamforge.core import Action, Check, Task, TaskPlan
from lamforge.envs.tools.functions import ToolError, Toolset

TRIES = 40
"""Argument combinations tried at most per instance."""
_MAX_VALUE_CHARS = 60


class NotInstantiable(Exception):
    """No back end state gives the pair's function arguments it accepts (the reason)."""


def values_in(state: Any, depth: int = 0) -> tuple[list[str], list[int | float]]:
    """The strings and numbers a back end's state holds (dict keys too: a file system keeps
    its files by name), in order of appearance, each once."""
    strings: dict[str, None] = {}
    numbers: dict[int | float, None] = {}

    def walk(x: Any, d: int) -> None:
        if d > 8:
            return
        if isinstance(x, bool):
            return
        if isinstance(x, str):
            if 0 < len(x) <= _MAX_VALUE_CHARS and "\n" not in x:
                strings.setdefault(x)
        elif isinstance(x, int | float):
            numbers.setdefault(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k, d + 1)
                walk(v, d + 1)
        elif isinstance(x, list | tuple | set):
            for v in list(x)[:50]:
                walk(v, d + 1)
        elif hasattr(x, "__dict__"):
            walk({k: v for k, v in vars(x).items() if not k.startswith("_")}, d + 1)

    walk(state, depth)
    return list(strings), list(numbers)


def _choices(schema: dict[str, Any], strings: list[str], numbers: list[int | float],
             rng: random.Random) -> list[Any]:
    if "enum" in schema:
        return list(schema["enum"])
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "string":
        out = list(strings)
    elif kind == "integer":
        out = [n for n in numbers if isinstance(n, int)] or [1]
    elif kind == "number":
        out = list(numbers) or [1.0]
    elif kind == "boolean":
        return [True, False]
    elif kind == "array" and isinstance(schema.get("items"), dict):
        items = _choices(schema["items"], strings, numbers, rng)
        return [items[i:i + 2] for i in range(0, min(len(items), 12), 2)]
    else:
        return []  # objects: no value in a state stands for one
    rng.shuffle(out)
    return out[:12]


def _failed(result: str) -> bool:
    """A back end that answers an error instead of raising (BFCL's return {"error": …})."""
    try:
        data = json.loads(result)
    except ValueError:
        return result.lower().startswith("error")
    return isinstance(data, dict) and "error" in data


def find_call(pair: TaskPlan, make: Any, seed: int) -> dict[str, Any]:
    """Arguments for the pair's function that a fresh back end (`make()`, a Toolset) runs
    without an error."""
    fn = pair.meta.get("function")
    params = pair.meta.get("parameters") or {}
    props = params.get("properties", {})
    required = [n for n in params.get("required", []) if n in props]
    rng = random.Random(f"{pair.id}:{seed}")
    probe: Toolset = make()
    try:
        if fn not in probe.tools:
            raise NotInstantiable(f"the back end has no function '{fn}'")
        strings, numbers = values_in(probe.state())
    finally:
        probe.close()
    choices = {n: _choices(props[n], strings, numbers, rng) for n in required}
    empty = [n for n, c in choices.items() if not c]
    if empty:
        raise NotInstantiable(f"no value in the back end's state for {fn}'s parameter "
                              f"'{empty[0]}' ({props[empty[0]].get('type', 'any')})")
    combos = list(itertools.islice(itertools.product(*choices.values()), TRIES * 20))
    rng.shuffle(combos)
    last = "no combination tried"
    for combo in combos[:TRIES]:
        args = dict(zip(choices, combo, strict=True))
        ts: Toolset = make()
        try:
            result = ts.get(fn)(args)
        except ToolError as e:
            last = str(e)
            continue
        finally:
            ts.close()
        if not _failed(result):
            return args
        last = result[:120]
    raise NotInstantiable(f"no arguments {fn} accepts in {min(len(combos), TRIES)} tries "
                          f"(last: {last})")


def request_of(task: str, args: dict[str, Any]) -> str:
    """The instance's request: the pair's task and the values it is about."""
    if not args:
        return task
    return f"{task}: " + ", ".join(f"{k} {v!r}" for k, v in args.items())


def _bfcl_template(pair: TaskPlan, seed: int) -> tuple[str, dict[str, Any]]:
    """A BFCL entry whose back ends include the pair's class, chosen by the seed."""
    from lamforge.envs.tools.bfcl import entries

    cls = pair.source.split(":", 1)[1].split("#")[0]
    fn = pair.meta.get("function")
    ids = sorted(eid for eid, e in entries().items() if cls in e["involved_classes"]
                 and fn not in e.get("excluded_function", []))
    if not ids:
        raise NotInstantiable(f"no BFCL entry uses {cls}.{fn}")
    pick = int(hashlib.sha1(f"{pair.id}:{seed}".encode()).hexdigest()[:8], 16) % len(ids)
    return "bfcl", {"bfcl": {"entry": ids[pick]}}


def instantiate(pair: TaskPlan, seed: int) -> Task:
    """One executable instance of a mined function pair (`bfcl:Class#fn` or `support#fn`)."""
    from lamforge.envs.tools.env import load_toolset

    source = pair.source.split("#")[0]
    if source.startswith("bfcl:"):
        template, meta = _bfcl_template(pair, seed)
    elif source == "support":
        template, meta = "support", {"support": {"seed": seed, "tenant": "acme"}}
    else:
        raise NotInstantiable(f"no back end for pairs mined from '{source}' (bfcl:CLASS or "
                              "support)")
    base = Task(id=f"{pair.id}-{seed}", app="tools", request=pair.task, template=template,
                meta=meta)
    args = find_call(pair, lambda: load_toolset(base), seed)
    fn = pair.meta["function"]
    request = request_of(pair.task, args)
    return base.model_copy(update={
        "request": request, "plan": pair.plan,
        "actions": [Action(function="call", control_label=fn, args=args),
                    Action(function="finish")],
        "checks": [Check(kind="called", function=fn, args=args)],
        "meta": {**meta, "turns": [request], "pair": pair.id, "family": pair.source,
                 "seed": seed}})


def instantiate_all(pairs: list[TaskPlan], seeds: list[int]) -> tuple[list[Task], list[dict]]:
    """Every pair at every seed: the tasks, and the failures as the flow files them."""
    tasks, failed = [], []
    for pair in pairs:
        for seed in seeds:
            try:
                tasks.append(instantiate(pair, seed))
            except NotInstantiable as e:
                failed.append({"pair": pair.id, "task": pair.task, "reason": str(e)})
    return tasks, failed
