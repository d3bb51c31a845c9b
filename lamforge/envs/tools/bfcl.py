"""The Berkeley Function Calling Leaderboard's multi-turn category as a tools suite.

Tasks, function docs and the stateful back ends (file system, messaging, posting, tickets,
trading, travel booking, vehicle control, math) come from the `bfcl-eval` package, and success
is BFCL's own `multi_turn_checker`: the episode's calls and the ground truth are replayed on
fresh back ends after every turn, and both the end state and the responses must match.

`bfcl-eval` pins heavy packages it needs for running hosted models (numpy 1.26, provider SDKs,
faiss); none is needed for the multi-turn data, back ends and checker, so `scripts/setup.sh`
installs it with `--no-deps` (the back ends import only mpmath besides the standard library).
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import uuid
from functools import cache
from importlib import resources
from typing import Any

from lamforge.core import Action, Check, LamforgeError, Task
from lamforge.envs.base import Suite
from lamforge.envs.tools.functions import Tool, Toolset, call_text

CATEGORY = "multi_turn_base"
DATA = "BFCL_v4_multi_turn_base.json"


def _package() -> Any:
    try:
        import bfcl_eval
    except ImportError:
        raise LamforgeError("the BFCL suite needs the bfcl-eval package: pip install --no-deps "
                            "bfcl-eval (scripts/setup.sh does)") from None
    return bfcl_eval


@cache
def entries() -> dict[str, dict[str, Any]]:
    """BFCL's multi-turn base entries by id, each with its `ground_truth` call lists."""
    data = resources.files(_package()) / "data"
    out = {}
    for line in (data / DATA).read_text().splitlines():
        e = json.loads(line)
        out[e["id"]] = e
    for line in (data / "possible_answer" / DATA).read_text().splitlines():
        a = json.loads(line)
        out[a["id"]]["ground_truth"] = a["ground_truth"]
    return out


@cache
def func_docs(class_name: str) -> list[dict[str, Any]]:
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    path = resources.files(_package()) / "data" / "multi_turn_func_doc" / \
        MULTI_TURN_FUNC_DOC_FILE_MAPPING[class_name]
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def json_schema(doc_params: dict[str, Any]) -> dict[str, Any]:
    """BFCL's parameter docs (Python type names: dict, float, tuple, any) as JSON Schema."""
    kinds = {"dict": "object", "float": "number", "tuple": "array", "list": "array"}

    def convert(s: Any) -> Any:
        if isinstance(s, list):
            return [convert(x) for x in s]
        if not isinstance(s, dict):
            return s
        out = {k: convert(v) for k, v in s.items() if k not in ("default", "optional")}
        kind = s.get("type")
        if kind == "any":
            out.pop("type")
        elif kind == "float":
            out["type"] = "number"  # an integer is a number too, as Python takes it
        elif kind in kinds:
            out["type"] = kinds[kind]
        return out

    schema = convert(doc_params)
    schema["type"] = "object"
    schema.setdefault("properties", {})
    schema.setdefault("required", [])
    schema["additionalProperties"] = False
    return schema


def _instances(entry: dict[str, Any]) -> dict[str, Any]:
    from bfcl_eval.constants.executable_backend_config import (
        CLASS_FILE_PATH_MAPPING,
        STATELESS_CLASSES,
    )

    out = {}
    for name in entry["involved_classes"]:
        instance = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[name]), name)()
        if name not in STATELESS_CLASSES:
            instance._load_scenario(copy.deepcopy(entry["initial_config"].get(name, {})),
                                    long_context=False)
        out[name] = instance
    return out


def toolset(entry_id: str) -> Toolset:
    """Fresh back ends of one entry, their documented functions as tools (minus the entry's
    excluded ones), and their public attributes as the state."""
    entry = entries()[entry_id]
    instances = _instances(entry)
    excluded = set(entry.get("excluded_function", []))
    tools = []
    for cls, instance in instances.items():
        for doc in func_docs(cls):
            if doc["name"] in excluded:
                continue
            method = getattr(instance, doc["name"])
            tools.append(Tool(name=doc["name"], description=doc["description"].split(
                "Tool description: ")[-1], parameters=json_schema(doc["parameters"]),
                call=lambda args, m=method: m(**args)))

    def state() -> dict[str, Any]:
        return {cls: {k: v for k, v in vars(i).items() if not k.startswith("_")}
                for cls, i in instances.items()}

    return Toolset(tools, state=state)


def parse_call(text: str, params: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """`mv(source='a', destination='b')` (or positional, `sort('a.txt')`) as name and
    keyword arguments, positional ones named by the function's documented parameter order;
    the arguments in that order (the order constrained decoding writes them in)."""
    node = ast.parse(text.strip(), mode="eval").body
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise LamforgeError(f"not a function call: {text!r}")
    name = node.func.id
    args = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
    for i, value in enumerate(node.args):
        args[params[name][i]] = ast.literal_eval(value)
    return name, {**{k: args[k] for k in params.get(name, []) if k in args}, **args}


def judge(entry_id: str, turns: list[list[str]]) -> dict[str, Any]:
    """BFCL's multi-turn checker on an episode's calls (per turn, each call as Python source);
    {"valid": True} or its error type and message."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    entry = entries()[entry_id]
    # the checker keeps back-end instances in its module's globals under the model name:
    # a fresh name per judgement, removed afterwards, so no episode sees another's state
    name = f"lamforge_{uuid.uuid4().hex[:12]}"
    try:
        padded = turns + [[] for _ in range(len(entry["ground_truth"]) - len(turns))]
        result = multi_turn_checker([[[c] for c in calls] for calls in padded],
                                    entry["ground_truth"], entry, CATEGORY, name)
    finally:
        for key in [k for k in vars(multi_turn_utils) if k.startswith(name)]:
            delattr(multi_turn_utils, key)
    return {k: v for k, v in result.items() if k in ("valid", "error_type", "error_message")}


class BfclSuite(Suite):
    """BFCL v4 multi-turn base: 200 entries of 1-8 user turns over one or two back ends.
    Subsets by back end (an entry is in each of its classes' subsets)."""

    name = "bfcl"
    demonstrated = True

    @property
    def subsets(self) -> dict[str, list[str]]:  # type: ignore[override]
        out: dict[str, list[str]] = {}
        for eid, e in entries().items():
            for cls in e["involved_classes"]:
                out.setdefault(cls, []).append(eid)
        return out

    def names(self) -> list[str]:
        return sorted(entries(), key=lambda x: int(x.rsplit("_", 1)[1]))

    def task(self, name: str, seed: int = 0) -> Task:
        """The entry as a task: its turns, and its ground truth as the actions (a `call` per
        function call, a `finish` closing each turn), which replay to BFCL's verdict."""
        e = entries().get(name)
        if e is None:
            raise LamforgeError(f"suite 'bfcl' has no task '{name}'")
        turns = [" ".join(m["content"] for m in turn if m["role"] == "user")
                 for turn in e["question"]]
        params = {d["name"]: list(d["parameters"].get("properties", {}))
                  for cls in e["involved_classes"] for d in func_docs(cls)}
        actions = []
        for calls in e["ground_truth"]:
            for text in calls:
                fn, args = parse_call(text, params)
                actions.append(Action(function="call", control_label=fn, args=args))
            actions.append(Action(function="finish"))
        return Task(id=name, app="tools", request=turns[0], template="bfcl", actions=actions,
                    checks=[Check(kind="bfcl")],
                    meta={"suite": "bfcl", "seed": seed, "bfcl": {"entry": name},
                          "turns": turns, "classes": e["involved_classes"],
                          "ground_truth": e["ground_truth"]})


__all__ = ["BfclSuite", "call_text", "entries", "judge", "parse_call", "toolset"]
