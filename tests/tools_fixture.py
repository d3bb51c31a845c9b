"""Python callables as a toolset (`python:tests.tools_fixture:calculator`), with state."""

from __future__ import annotations

from typing import Any

from lamforge.core import Task
from lamforge.envs.tools.functions import Toolset, from_callables


def calculator(task: Task) -> Toolset:
    memory: dict[str, float] = {"value": float(task.meta.get("start", 0))}

    def add(amount: float) -> float:
        """Add an amount to the memory."""
        memory["value"] += amount
        return memory["value"]

    def scale(factor: float, round_to: int | None = None) -> float:
        """Multiply the memory by a factor, optionally rounded."""
        memory["value"] *= factor
        if round_to is not None:
            memory["value"] = round(memory["value"], round_to)
        return memory["value"]

    def state() -> dict[str, Any]:
        return {"memory": dict(memory)}

    return Toolset(from_callables([add, scale]), state=state)
