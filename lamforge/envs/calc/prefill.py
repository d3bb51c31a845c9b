"""Calc's instantiation of mined task-plan pairs: help paths grounded in Calc's live menus,
effects from `effects` (the flow's `EnvEntry.instantiate` for calc-gui-v0)."""

from __future__ import annotations

from functools import cache

from lamforge.core import Task, TaskPlan
from lamforge.envs.calc.effects import EFFECTS
from lamforge.envs.calc.templates import TEMPLATES
from lamforge.envs.gui.menus import Menu, live_menus
from lamforge.envs.gui.prefill import GuiPrefill


@cache
def menus() -> Menu:
    return live_menus("calc", "budget")


PREFILL = GuiPrefill("calc", menus, EFFECTS, list(TEMPLATES))


def instantiate_all(pairs: list[TaskPlan], seeds: list[int]) -> tuple[list[Task], list[dict]]:
    return PREFILL.instantiate_all(pairs, seeds)
