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
    """The task as the real Writer says and does it (`WriterGuiEnv`'s tables):

    - a choice its request names by a headless name (`renamed`: "Type: Number" after
      Format > Bullets and Numbering…) named as the real dialog has it ("Number: 1, 2, 3,
      ...");
    - a click the real Writer needs after a headless one (`followed`: Insert > Header and
      Footer > Header is a submenu of page styles);
    - a headless dialog the real Writer does not show (`typed`: Insert > Comment opens the
      comment's own box): its field's text typed where the cursor is, its button not
      pressed."""
    request, dialog, command = task.request, "", ""
    steps = list(task.meta.get("plan_step") or [0])  # each action's plan step; the last
    steps += steps[-1:] * (len(task.actions) - len(steps))  # repeated if the list is short
    out: list[tuple[Action, int]] = []  # each action with its plan step
    skip = None
    for k, (a, step) in enumerate(zip(task.actions, steps, strict=False)):
        after = task.actions[k + 1].control_text if k + 1 < len(task.actions) else None
        if a.function == "click" and a.control_text == skip:
            skip = None
            continue
        name = a.control_text or ""
        if a.function == "set_edit_text" and (field := WriterGuiEnv.typed.get(command)) and \
                field[0] == name:
            out.append((Action(function="type_text", args={"text": a.args.get("text", "")}),
                        step))
            skip = field[1]
            continue
        out.append((a, step))
        if a.function == "click" and name:
            if name.endswith(("...", "…")):  # a menu item that opens a dialog
                dialog = name.rstrip(".…")
            if (item := WriterGuiEnv.followed.get((command, name))) not in (None, after):
                out.append((Action(function="click", control_text=item), step))
            command = name
        elif a.function == "select_option" and (renamed := _renamed(dialog, name)) is not None:
            real, values, _ = renamed
            value = str(a.args.get("option", ""))
            if value in values:
                request = request.replace(f"{name}: {value}", f"{real or name}: {values[value]}")
    actions = [a for a, _ in out]
    if request == task.request and actions == task.actions:
        return task
    meta = task.meta | ({"plan_step": [k for _, k in out]} if "plan_step" in task.meta else {})
    return task.model_copy(update={"request": request, "actions": actions, "meta": meta})


def _renamed(dialog: str, field: str) -> tuple[str | None, dict[str, str], tuple[str, ...]] | None:
    """`WriterGuiEnv.renamed`'s entry for a field of the dialog a menu item opened: its title
    is the item's name or starts with it (Insert > Special Character… opens "Special
    Characters", Format > Page Style… "Page Style: Default Page Style")."""
    return next((v for (d, f), v in WriterGuiEnv.renamed.items()
                 if f == field and dialog and d.startswith(dialog)), None)
