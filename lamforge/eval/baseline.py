"""The rule baseline the LAMs are compared with: follow the plan's words on the visible controls.

For the current plan step it clicks the deepest part of a menu path ("Choose Format -
Character") that is on screen (an open submenu shows its items), or the control the step
names ("Click Bold"); with no plan left it finishes. It reads exactly what the model reads:
the request, the ranked top-k controls and the remaining plan.
"""

from __future__ import annotations

import json
import re

from lamforge.core import StepSample
from lamforge.envs.match import normalize
from lamforge.train.formats import rank_controls


def rule_action(sample: StepSample, k: int = 16) -> dict:
    shown = rank_controls(sample, k)
    if not sample.previous_plan:
        return {"control_label": None, "control_name": None, "function": "finish", "args": {},
                "status": "FINISH"}
    step = sample.previous_plan[0]
    parts = [p.strip(" .") for p in re.split(r"\s[->]\s", re.sub(
        r"^.*?\b(?:choose|go to|click|select)\s+", "", step, flags=re.I).split(",")[0])]
    by_name = {normalize(c["name"]): c for c in shown}
    for part in reversed(parts):
        c = by_name.get(normalize(part))
        if c is None:
            c = next((c for n, c in by_name.items() if normalize(part) and normalize(part) in n), None)
        if c is not None:
            return {"control_label": c["label"], "control_name": c["name"], "function": "click",
                    "args": {}, "status": "CONTINUE"}
    if re.match(r"(?i)^(select|highlight|click in|place the cursor)", step):
        return {"control_label": None, "control_name": None, "function": "select_text",
                "args": {}, "status": "CONTINUE"}
    return {"control_label": None, "control_name": None, "function": "finish", "args": {},
            "status": "FINISH"}


def rule_answers(samples: list[StepSample], k: int = 16) -> list[str]:
    return [json.dumps(rule_action(s, k)) for s in samples]
