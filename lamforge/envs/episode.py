"""Run a task's action list in an environment and judge it: the core of replay and execute.

Generic over environments. As in the paper's execution stage, the first action that fails
(an unknown control, an error from the app) ends the episode and the task fails; a crash of the
application ends it too and is reported, never hung.
"""

from __future__ import annotations

import time

from lamforge.core import (
    Action,
    DataError,
    EnvironmentCrashed,
    Step,
    Task,
    TemplateError,
    Trajectory,
    Verdict,
    step_result,
)
from lamforge.envs.base import Env
from lamforge.envs.match import MatchMode, match_control


def run_actions(env: Env, task: Task, actions: list[Action] | None = None,
                model: str = "replay", match: MatchMode | None = None,
                threshold: float = 85.0) -> Trajectory:
    """Reset, run the actions, evaluate. With `match`, an action that names its control by
    `control_text` is grounded on the live observation by that mode first; no match fails the
    task at that step (the paper's execution rule)."""
    actions = task.actions if actions is None else actions
    t0 = time.perf_counter()
    try:
        obs = env.reset(task)
    except (TemplateError, EnvironmentCrashed, DataError) as e:
        # one task's bad template or a crash on start must not end a batch of tasks
        crashed = isinstance(e, EnvironmentCrashed) or "crashed" in str(e)
        return Trajectory(task=task, model=model, verdict=Verdict(status="fail", reason=str(e)),
                          timings={"total_s": time.perf_counter() - t0},
                          meta={"crashed": crashed})
    timings = {"reset_s": time.perf_counter() - t0}
    steps: list[Step] = []
    verdict: Verdict | None = None
    crashed = False
    pending = list(actions)
    regrounded = reread = 0
    i = -1
    while pending:
        action = pending.pop(0)
        i += 1
        again, reread = reread > 0, max(0, reread - 1)  # an action of a re-read dialog
        t = time.perf_counter()
        if match and action.control_text and action.control_label is None:
            control = match_control(action.control_text, obs.controls, match, threshold)
            aimed_at_tab = control is not None and control.type == "TabItem" and \
                action.function in ("set_edit_text", "select_option")
            if (control is None or aimed_at_tab) and not regrounded:
                # named after another surface: the app may say it otherwise (a GUI dialog)
                instead = env.reground(action, obs)
                if instead:
                    pending[:0] = instead
                    regrounded = len(instead)
                    i -= 1
                    continue
            if control is None:
                reason = (f"step {i + 1} ({action.function}): no control matches "
                          f"'{action.control_text}' ({match})")
                steps.append(Step(observation=obs, action=action, ok=False, error=reason,
                                  latency_s=time.perf_counter() - t))
                verdict = Verdict(status="fail", reason=reason)
                break
            action = action.model_copy(update={"control_label": control.label})
        regrounded = max(0, regrounded - 1)
        result = env.step(action)
        if not result.ok and match and not again and action.control_text and \
                action.function in ("select_option", "set_edit_text") and \
                result.observation.focus.startswith("dialog"):
            # a field of that name took nothing (Paragraph's "Alignment" drop-down is the
            # text-to-text one, "Justified" a radio button): the dialog is read for it once
            instead = env.reground(action.model_copy(update={"control_label": None}),
                                   result.observation)
            if instead:
                obs = result.observation
                pending[:0] = instead
                regrounded = reread = len(instead)
                i -= 1
                continue
        steps.append(Step(observation=obs, action=action, ok=result.ok, error=result.error,
                          result=step_result(result.info),
                          status="FINISH" if action.function == "finish" else "CONTINUE",
                          latency_s=time.perf_counter() - t))
        obs = result.observation
        crashed = crashed or bool(result.info.get("crashed"))
        if not result.ok:
            verdict = Verdict(status="fail", reason=f"step {i + 1} ({action.function}) failed: "
                                                    f"{result.error}")
            break
        if result.done:
            break
    t = time.perf_counter()
    if verdict is None:
        verdict = env.evaluate()
    timings["evaluate_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    meta = {"effects": list(getattr(env, "effects", [])), "crashed": crashed}
    return Trajectory(task=task, steps=steps, verdict=verdict, model=model, timings=timings,
                      meta=meta)
