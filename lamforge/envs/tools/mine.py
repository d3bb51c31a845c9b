"""Task-plan pairs from function documentation, as `lamforge.dataflow.mine` takes them from
help pages: a function's description is a task ("Display the contents of a file" or, in the
third person, "Changes the directory" -> "Change the directory"), its call with the required
parameters the plan ("Call cat with file_name (the name of the file…)").

The pairs are phase 1's material and `lamforge data evolve`'s seeds (evolution combines two
into a harder task), exactly as mined help pages are. Sources: BFCL's back ends (the function
docs `bfcl-eval` ships), the support service (its OpenAPI document), any toolset.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from lamforge.core import DataError, TaskPlan
from lamforge.dataflow.mine import first_sentence, imperative_from_description
from lamforge.envs.tools.functions import Tool


def task_of(description: str) -> str | None:
    """The task a function's description states, as an imperative sentence; None when it
    does not state one (a description of what the function is, not what it does)."""
    text = re.sub(r"\s+", " ", description).strip()
    if not text:
        return None
    first = first_sentence(text).rstrip(". ")
    task = imperative_from_description(first)
    if task:
        return task.rstrip(".")
    verb = first.split(" ", 1)[0]
    if verb[:1].isupper() and verb.isalpha() and not verb.endswith("s"):
        return first  # already imperative: "Display the contents of a file"
    return None


def _param(name: str, schema: dict[str, Any]) -> str:
    about = re.sub(r"\s+", " ", schema.get("description", "")).strip().rstrip(". ")
    return f"{name} ({about[:80]})" if about else name


def pairs_from_tools(tools: Iterable[Tool], source: str) -> list[TaskPlan]:
    """One pair per function whose description states a task."""
    out = []
    for t in tools:
        task = task_of(t.description)
        if task is None:
            continue
        props = t.parameters.get("properties", {})
        required = [n for n in t.parameters.get("required", []) if n in props]
        plan = [f"Call {t.name} with " + ", ".join(_param(n, props[n]) for n in required)
                if required else f"Call {t.name}"]
        ref = f"{source}#{t.name}"
        out.append(TaskPlan(id=hashlib.sha1(ref.encode()).hexdigest()[:12], app="tools",
                            task=task, plan=plan, source=ref,
                            meta={"function": t.name, "parameters": t.parameters,
                                  "optional": [n for n in props if n not in required]}))
    return out


def bfcl_tools() -> dict[str, list[Tool]]:
    """Every BFCL multi-turn back end's documented functions (no instance: docs only)."""
    from lamforge.envs.tools.bfcl import func_docs, json_schema

    classes = ("GorillaFileSystem", "MathAPI", "MessageAPI", "TwitterAPI", "TicketAPI",
               "TradingBot", "TravelAPI", "VehicleControlAPI")

    def never(args: dict[str, Any]) -> Any:
        raise DataError("a mined function is documentation, not a call")

    return {cls: [Tool(name=d["name"], description=d["description"].split(
        "Tool description: ")[-1], parameters=json_schema(d["parameters"]), call=never)
        for d in func_docs(cls)] for cls in classes}


def mine_source(source: str) -> list[TaskPlan]:
    """Pairs from a named source: `bfcl` (all eight back ends) or `support`."""
    if source == "bfcl":
        return [p for cls, tools in bfcl_tools().items()
                for p in pairs_from_tools(tools, f"bfcl:{cls}")]
    if source == "support":
        from lamforge.core import Task
        from lamforge.envs.tools.support.suite import toolset

        ts = toolset(Task(id="mine", app="tools", request="-", template="support"))
        try:
            return pairs_from_tools(ts.tools.values(), "support")
        finally:
            ts.close()
    raise DataError(f"unknown function documentation '{source}' (use bfcl or support)")
