"""Core contracts, errors and JSONL I/O shared by every stage."""

from lamforge.core.errors import (
    DataError,
    EnvironmentCrashed,
    EnvironmentUnavailable,
    FatalError,
    InvalidAction,
    LamforgeError,
    RecoverableError,
    Rejected,
    ResetNeeded,
    TemplateError,
    UnknownControl,
)
from lamforge.core.jsonl import (
    append_jsonl,
    append_lines,
    iter_jsonl,
    read_jsonl,
    read_jsonl_lenient,
    repair_tail,
    write_jsonl,
)
from lamforge.core.models import (
    CONTRACTS,
    Action,
    Check,
    CheckResult,
    Control,
    Observation,
    Step,
    StepResult,
    StepSample,
    Task,
    TaskPlan,
    Trajectory,
    Verdict,
    previous_action,
    step_result,
)

__all__ = [
    "CONTRACTS", "Action", "Check", "CheckResult", "Control", "DataError", "EnvironmentCrashed",
    "EnvironmentUnavailable", "FatalError", "InvalidAction", "LamforgeError", "Observation",
    "RecoverableError", "Rejected", "ResetNeeded", "Step", "StepResult", "StepSample", "Task", "TaskPlan",
    "TemplateError", "Trajectory", "UnknownControl", "Verdict", "append_jsonl", "append_lines", "iter_jsonl",
    "previous_action", "read_jsonl", "read_jsonl_lenient", "repair_tail", "step_result",
    "write_jsonl",
]
