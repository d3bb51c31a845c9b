"""Safety and governance: who may do what, and which actions need a human's yes.

A policy file (YAML) names roles; each role lists the apps, functions and controls (glob
patterns on control names, case-insensitive) it may use, and two risk thresholds: actions at
or above `confirm_at` need a confirmation, actions above `max_risk` are denied outright.
Risk levels come from rules: the environment's own (e.g. Writer's: deleting content, saving
over a file, running macros) plus the file's `risks`. The first matching deny wins; the risk
of an action is the highest of the rules it matches.

```yaml
default_role: editor
roles:
  editor:   {confirm_at: high}
  formatter:
    apps: [writer]
    functions: [click, select_text, select_option, set_edit_text, finish]
    controls: {deny: ["Delete*", "Cut", "Save*"]}
    confirm_at: medium
risks:
  - {level: high, control: "Replace All", reason: replaces every match at once}
  - {level: high, control: "issue_refund*", above: {amount: 100}, reason: over the limit}
```
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lamforge.core import Action, Control, DataError

Level = Literal["low", "medium", "high"]
LEVELS: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "never": 3}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RiskRule(_Strict):
    """An action matching every given field has this risk level."""

    level: Level
    reason: str
    function: str = "*"
    control: str = "*"
    """Glob on the control's name ("Save*"); '*' matches actions without a control too."""
    args: dict[str, str] = Field(default_factory=dict)
    """Regular expressions on argument values, e.g. {keys: "(?i)ctrl\\+s"}."""
    above: dict[str, float] = Field(default_factory=dict)
    """Numbers an argument must exceed, e.g. {amount: 100} (a refund over 100)."""

    def matches(self, action: Action, control: Control | None) -> bool:
        if not _glob(self.function, action.function):
            return False
        if self.control != "*" and (control is None or not _glob(self.control, control.name)):
            return False
        return all(re.search(pattern, str(action.args.get(key, ""))) for key, pattern
                   in self.args.items()) and all(_number(action.args.get(key)) > limit
                                                 for key, limit in self.above.items())


class ControlRules(_Strict):
    allow: list[str] = Field(default_factory=lambda: ["*"])
    deny: list[str] = Field(default_factory=list)


class Role(_Strict):
    apps: list[str] = Field(default_factory=lambda: ["*"])
    functions: list[str] = Field(default_factory=lambda: ["*"])
    controls: ControlRules = Field(default_factory=ControlRules)
    confirm_at: Literal["low", "medium", "high", "never"] = "high"
    max_risk: Level = "high"


class PolicyFile(_Strict):
    default_role: str = "editor"
    roles: dict[str, Role] = Field(default_factory=lambda: {"editor": Role()})
    risks: list[RiskRule] = Field(default_factory=list)


class Decision(BaseModel):
    """The policy's verdict on one action: allow, deny, or ask (needs a confirmation)."""

    verdict: Literal["allow", "deny", "ask"]
    risk: Level = "low"
    reason: str = ""


Confirm = Callable[[Action, Control | None, Decision], bool]
"""A confirmation hook: shown the action, its control and why it is risky; True approves."""


def deny_all(action: Action, control: Control | None, decision: Decision) -> bool:
    """The batch hook: nobody is there to say yes."""
    return False


def approve_all(action: Action, control: Control | None, decision: Decision) -> bool:
    return True


class Policy:
    """A loaded policy for one role, with the environment's risk rules added."""

    def __init__(self, spec: PolicyFile | None = None, role: str | None = None,
                 env_risks: list[dict[str, Any]] | None = None) -> None:
        spec = spec or PolicyFile()
        self.role_name = role or spec.default_role
        if self.role_name not in spec.roles:
            raise DataError(f"unknown role '{self.role_name}' (roles in the policy: "
                            f"{', '.join(spec.roles)})")
        self.role = spec.roles[self.role_name]
        self.rules = [RiskRule.model_validate(r) for r in env_risks or []] + spec.risks

    @classmethod
    def load(cls, path: Path | None, role: str | None = None,
             env_risks: list[dict[str, Any]] | None = None) -> Policy:
        if path is None:
            return cls(None, role, env_risks)
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise DataError(f"policy file {path} does not exist") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise DataError(f"{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
        try:
            spec = PolicyFile.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise DataError(f"{path}: {loc}: {first['msg']}") from None
        return cls(spec, role, env_risks)

    def risk(self, action: Action, control: Control | None) -> tuple[Level, str]:
        hits = [r for r in self.rules if r.matches(action, control)]
        if not hits:
            return "low", ""
        top = max(hits, key=lambda r: LEVELS[r.level])
        return top.level, top.reason

    def decide(self, app: str, action: Action, control: Control | None) -> Decision:
        role, name = self.role, self.role_name
        if not any(_glob(p, app) for p in role.apps):
            return Decision(verdict="deny", reason=f"role '{name}' may not use app '{app}'")
        if not any(_glob(p, action.function) for p in role.functions):
            return Decision(verdict="deny", reason=f"role '{name}' may not use function "
                                                   f"'{action.function}'")
        if control is not None and (
                not any(_glob(p, control.name) for p in role.controls.allow)
                or any(_glob(p, control.name) for p in role.controls.deny)):
            return Decision(verdict="deny", reason=f"role '{name}' may not use control "
                                                   f"'{control.name}'")
        level, why = self.risk(action, control)
        if LEVELS[level] > LEVELS[role.max_risk]:
            return Decision(verdict="deny", risk=level, reason=f"{level} risk ({why}) is above "
                                                               f"role '{name}''s limit")
        if LEVELS[level] >= LEVELS[role.confirm_at]:
            return Decision(verdict="ask", risk=level, reason=f"{level} risk: {why}")
        return Decision(verdict="allow", risk=level, reason=why)


def _number(value: Any) -> float:
    """An argument as a number; anything else is no number (never above a limit)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("-inf")


def _glob(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())
