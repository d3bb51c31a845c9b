"""Impress's instantiation of mined task-plan pairs: help paths grounded in Impress's live
menus, effects from `effects` (the flow's `EnvEntry.instantiate` for impress-gui-v0)."""

from __future__ import annotations

from functools import cache

from lamforge.core import Task, TaskPlan
from lamforge.envs.gui.menus import Menu, live_menus
from lamforge.envs.gui.prefill import GuiPrefill
from lamforge.envs.impress.effects import EFFECTS
from lamforge.envs.impress.templates import TEMPLATES


@cache
def menus() -> Menu:
    return live_menus("impress", "pitch")


PREFILL = GuiPrefill("impress", menus, EFFECTS, list(TEMPLATES))


def instantiate_all(pairs: list[TaskPlan], seeds: list[int]) -> tuple[list[Task], list[dict]]:
    return PREFILL.instantiate_all(pairs, seeds)
