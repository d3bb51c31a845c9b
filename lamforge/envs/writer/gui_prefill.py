"""The rules prefill of writer-gui-v0: the headless prefill first, then Writer's live menus.

A pair the headless prefill instantiates keeps its instances; at execution the GUI reads the
real dialog for any name that differs (`gui.reground`). A pair it rejects because no check
can verify its commands, or because a step names nothing in Writer's hand-written surface, is
read against the menus of the running Writer instead (`gui.prefill`): if the plan's menu path
is a real command with a known effect (`effects`), the pair becomes tasks after all. The reason
filed for a pair rejected by both says both.
"""

from __future__ import annotations

from functools import cache

from lamforge.core import Rejected, Task, TaskPlan
from lamforge.envs.gui.menus import Menu, live_menus
from lamforge.envs.gui.prefill import GuiPrefill
from lamforge.envs.writer import prefill as headless
from lamforge.envs.writer.effects import EFFECTS

RETRIED = ("no check can verify", "cannot ground step")
"""The headless rejections the live menus may overturn; the others (a database, macros,
printing…) hold in the real GUI too."""


@cache
def menus() -> Menu:
    return live_menus("writer", "report")


PREFILL = GuiPrefill("writer", menus, EFFECTS, list(headless.TARGETS))


def prefill(pair: TaskPlan, instances: int = 2, seed: int = 0,
            templates: list[str] | None = None) -> list[Task]:
    """Up to `instances` task instances of `pair` (the dataflow's prefill contract)."""
    try:
        return headless.prefill(pair, instances, seed, templates)
    except Rejected as e:
        if not str(e).startswith(RETRIED):
            raise
        try:
            return PREFILL.prefill(pair, list(range(seed, seed + instances)))
        except Rejected as live:
            raise Rejected(f"{e} (live menus: {live})") from None
