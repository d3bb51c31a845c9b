"""The environment protocol: gymnasium's shape, for applications instead of simulators.

An environment owns its application session (a LibreOffice process, a browser) and never
leaks it: use it as a context manager or call `close()`. A failed action does not raise; its
error comes back in the next observation (`last_action_error`) so an agent can recover. Only
fatal problems (the app cannot start, a template is missing) raise.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lamforge.core import Action, LamforgeError, Observation, StepResult, Task, Verdict


@dataclass(frozen=True)
class ActionSpec:
    """One function of an action space, documented once: prompt text and JSON schema."""

    name: str
    description: str
    needs_control: bool
    args: dict[str, dict[str, Any]]

    @property
    def required(self) -> list[str]:
        """Arguments without a default."""
        return [k for k, v in self.args.items() if "default" not in v]

    def json_schema(self) -> dict[str, Any]:
        props: dict[str, Any] = {"function": {"const": self.name}}
        required = ["function"]
        if self.needs_control:
            props["control_label"] = {"type": "string"}
            required.append("control_label")
        props["args"] = {
            "type": "object",
            "properties": self.args,
            "required": self.required,
            "additionalProperties": False,
        }
        return {"type": "object", "description": self.description, "properties": props,
                "required": required}


@dataclass
class EnvStatus:
    """Whether an environment can start here, and why not."""

    ok: bool
    details: list[tuple[str, bool, str]]


class Env(ABC):
    """Base class of every environment."""

    name: str = ""

    @abstractmethod
    def reset(self, task: Task) -> Observation:
        """Start an episode on `task` (fresh copy of its template) and return the observation."""

    @abstractmethod
    def step(self, action: Action) -> StepResult:
        """Execute one action. Errors caused by the action come back in the result."""

    @abstractmethod
    def evaluate(self) -> Verdict:
        """Judge the current episode by the task's checks."""

    @abstractmethod
    def action_space(self) -> list[ActionSpec]:
        """The functions this environment accepts."""

    def risk_rules(self) -> list[dict[str, Any]]:
        """This app's risky actions for the agent's policy (`lamforge.agent.policy.RiskRule`
        fields: level, reason, function, control, args); none by default."""
        return []

    def save(self, path: Path) -> Path:
        """Save the current document/state to `path` (the agent's `--out`)."""
        raise LamforgeError(f"environment '{self.name}' cannot save its state to a file")

    def abort(self) -> None:
        """End the application at once (a step hangs); the next `reset` starts it again."""
        self.close()

    def close(self) -> None:  # noqa: B027 (optional hook, as in gymnasium)
        """Release the application session. Idempotent."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
