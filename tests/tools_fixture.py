"""Python callables as a toolset (`python:tests.tools_fixture:calculator`), with state."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

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


class Parcel(BaseModel):
    """A parcel to ship: where to and how heavy."""

    city: str
    kg: float


def shipping(task: Task) -> Toolset:
    """Functions whose arguments are a nested model (a JSON schema `$ref` into `$defs`), a
    choice and a list, for constrained decoding to follow."""
    sent: list[dict[str, Any]] = []

    def ship(parcel: Parcel, speed: Literal["slow", "fast"], tags: list[str]) -> str:
        """Ship a parcel."""
        sent.append({"parcel": parcel.model_dump(), "speed": speed, "tags": tags})
        return f"shipment {len(sent)}"

    def count_shipments() -> int:
        """How many parcels were shipped."""
        return len(sent)

    return Toolset(from_callables([ship, count_shipments]), state=lambda: {"sent": sent})
