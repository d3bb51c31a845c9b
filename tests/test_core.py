"""Contracts: JSON round trip, schema export, JSONL errors that name file:line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lamforge.core import (
    CONTRACTS,
    Action,
    Check,
    Control,
    DataError,
    Observation,
    Step,
    StepSample,
    Task,
    TaskPlan,
    Trajectory,
    Verdict,
    append_jsonl,
    read_jsonl,
    write_jsonl,
)


def _sample_trajectory() -> Trajectory:
    obs = Observation(controls=[Control(label="1", name="Bold", type="Button", value="off")],
                      canvas="p0 [Standard] \"Hello\"", focus="document")
    task = Task(id="t1", app="writer", request="Make Hello bold", template="line",
                checks=[Check(kind="bold", text="Hello")],
                actions=[Action(function="select_text", args={"text": "Hello"})])
    step = Step(observation=obs, action=Action(function="click", control_label="1"),
                plan=["click Bold"], latency_s=0.01)
    return Trajectory(task=task, steps=[step], verdict=Verdict(status="pass", reason="ok"))


def test_every_contract_round_trips_through_json() -> None:
    traj = _sample_trajectory()
    again = Trajectory.model_validate_json(traj.model_dump_json())
    assert again == traj
    assert again.task.checks[0].params == {"text": "Hello"}
    plan = TaskPlan(id="p", app="writer", task="Insert a table", plan=["Choose Table - Insert"])
    assert TaskPlan.model_validate_json(plan.model_dump_json()) == plan
    sample = StepSample(id="s", task_id="t1", step=0, request="r", controls=[], function="click",
                        control_label="1", status="FINISH")
    assert StepSample.model_validate_json(sample.model_dump_json()) == sample


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValueError, match="extra"):
        Action.model_validate({"function": "click", "control": "1"})


def test_jsonl_round_trip_and_append(tmp_path) -> None:
    path = tmp_path / "t.jsonl"
    tasks = [Task(id=f"t{i}", app="writer", request="r", template="line") for i in range(3)]
    write_jsonl(path, tasks[:2])
    append_jsonl(path, tasks[2:])
    assert read_jsonl(path, Task) == tasks


@pytest.mark.parametrize(("line", "reason"), [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"id": "x", "app": "writer", "request": "r"}', "template: Field required"),
    ('{"id": "x", "app": "writer", "request": "r", "template": "line", "checks": [{}]}',
     "checks.0.kind"),
])
def test_malformed_jsonl_names_file_and_line(tmp_path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = Task(id="ok", app="writer", request="r", template="line").model_dump_json()
    path.write_text(good + "\n\n" + line + "\n")
    with pytest.raises(DataError) as info:
        read_jsonl(path, Task)
    assert str(info.value).startswith(f"{path}:3: ")
    assert reason in str(info.value)


def test_schema_command_prints_every_contract() -> None:
    out = subprocess.run([sys.executable, "-m", "lamforge", "schema"], capture_output=True,
                         text=True, check=True).stdout
    schemas = json.loads(out)
    assert set(schemas) == set(CONTRACTS)
    assert "request" in schemas["Task"]["properties"]
    assert "control_label" in schemas["Action"]["properties"]
