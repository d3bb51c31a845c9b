"""The rules prefill of writer-gui-v0: the headless prefill first, then Writer's live menus.

A pair the headless prefill instantiates keeps its instances; at execution the GUI reads the
real dialog for any name that differs (`gui.reground`). A pair it rejects because no check
can verify its commands, or because a step names nothing in Writer's hand-written surface, is
read against the menus of the running Writer instead (`gui.prefill`): if the plan's menu path
is a real command with a known effect (`effects`), the pair becomes tasks after all. The reason
filed for a pair rejected by both says both.

A headless instance whose request names a choice by its headless name ("Type: Number") is
reworded in the real dialog's words ("Number: 1, 2, 3, ..."): the agent's grounding keeps only
options the request names, so a trajectory that chose "1, 2, 3, ..." would not replay.
"""

from __future__ import annotations

from functools import cache

from lamforge.core import Action, Rejected, Task, TaskPlan
from lamforge.envs.gui.menus import Menu, live_menus
from lamforge.envs.gui.prefill import GuiPrefill
from lamforge.envs.writer import prefill as headless
from lamforge.envs.writer.effects import EFFECTS
from lamforge.envs.writer.gui import WriterGuiEnv

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
        return [in_real_words(t) for t in headless.prefill(pair, instances, seed, templates)]
    except Rejected as e:
        if not str(e).startswith(RETRIED):
            raise
        try:
            return PREFILL.prefill(pair, list(range(seed, seed + instances)))
        except Rejected as live:
            raise Rejected(f"{e} (live menus: {live})") from None


def in_real_words(task: Task) -> Task:
    """The task as the real Writer says it: each choice its request names by a headless name
    (`WriterGuiEnv.renamed`, e.g. "Type: Number" after Format > Bullets and Numbering…) named
    as the real dialog has it ("Number: 1, 2, 3, ..."), and a click on a command that is a
    submenu in the real menus followed by a click on its item (`WriterGuiEnv.submenus`)."""
    request, dialog, actions, menu = task.request, None, [], None
    steps = list(task.meta.get("plan_step") or [])  # the plan step of each action
    for k, a in enumerate(task.actions):
        actions.append(a)
        if a.function == "click" and a.control_text:
            if a.control_text.endswith(("...", "…")):  # a menu item that opens a dialog
                dialog = a.control_text.rstrip(".…")
            item = WriterGuiEnv.submenus.get((menu or "", a.control_text))
            after = task.actions[k + 1] if k + 1 < len(task.actions) else None
            if item and (after is None or after.control_text != item):
                actions.append(Action(function="click", control_text=item))
                steps[len(actions) - 1:len(actions) - 1] = steps[len(actions) - 2:][:1]
            menu = a.control_text
            continue
        if a.function != "select_option" or dialog is None:
            continue
        renamed = WriterGuiEnv.renamed.get((dialog, a.control_text or ""))
        option = str(a.args.get("option", ""))
        if renamed is None or option not in renamed[1]:
            continue
        real, options, _ = renamed
        request = request.replace(f"{a.control_text}: {option}",
                                  f"{real or a.control_text}: {options[option]}")
    if request == task.request and actions == task.actions:
        return task
    meta = task.meta | ({"plan_step": steps} if steps else {})
    return task.model_copy(update={"request": request, "actions": actions, "meta": meta})
