"""The agent's parts that need no application: validation and repair, the answer grammar's
schema, plans, the policy's decisions and file errors, the session store."""

from __future__ import annotations

from pathlib import Path

import pytest

from lamforge.agent.backends import parse_plan
from lamforge.agent.constrained import action_schema
from lamforge.agent.loop import validate
from lamforge.agent.policy import Policy, PolicyFile
from lamforge.agent.sessions import SessionStore
from lamforge.core import Action, Control, DataError, Observation
from lamforge.envs.writer.env import ACTIONS

SPECS = {s.name: s for s in ACTIONS}
OBS = Observation(controls=[Control(label="1", name="Bold", type="Button"),
                            Control(label="2", name="Size", type="ComboBox"),
                            Control(label="3", name="Italic", type="Button", enabled=False)])


def test_validate_repairs_what_is_safe_and_names_what_is_not() -> None:
    action, why = validate(Action(function="select_text", control_label="1",
                                  args={"text": "quick", "colour": "red"}), OBS, SPECS)
    assert why is None and action.control_label is None and action.args == {"text": "quick"}
    action, why = validate(Action(function="set_edit_text", control_label="2",
                                  args={"text": 12}), OBS, SPECS)
    assert why is None and action.args == {"text": "12"}
    cases = {
        "unknown function 'press'": Action(function="press"),
        "select_text needs text": Action(function="select_text"),
        "click needs a control_label": Action(function="click"),
        "no control labelled '9' is on screen": Action(function="click", control_label="9"),
        "control 'Italic' is disabled": Action(function="click", control_label="3"),
        "argument 'text' must be text": Action(function="type_text", args={"text": ["a"]}),
    }
    for expected, bad in cases.items():
        assert validate(bad, OBS, SPECS)[1].startswith(expected), expected


def test_answer_schema_limits_labels_and_follows_the_trained_key_order() -> None:
    schema = action_schema(ACTIONS, ["1", "2"])
    click = next(b for b in schema["anyOf"] if b["properties"]["function"]["const"] == "click")
    assert click["properties"]["control_label"] == {"enum": ["1", "2"]}
    assert list(click["properties"]) == ["control_label", "control_name", "function", "args",
                                         "status", "advance"]
    finish = next(b for b in schema["anyOf"] if b["properties"]["function"]["const"] == "finish")
    assert finish["properties"]["status"] == {"const": "FINISH"}
    # with no control on screen, only functions that need none remain
    names = {b["properties"]["function"]["const"] for b in action_schema(ACTIONS, [])["anyOf"]}
    assert names == {"type_text", "select_text", "keyboard", "finish"}


def test_plans_are_parsed_and_action_json_is_not_a_plan() -> None:
    assert parse_plan(" Select 'quick'. | Click Bold.") == ["Select 'quick'.", "Click Bold."]
    assert parse_plan(' {"control_label": "1", "function": "click"}') is None
    assert parse_plan("  ") is None


def test_policy_globs_thresholds_and_file_errors(tmp_path: Path) -> None:
    spec = PolicyFile.model_validate({
        "roles": {"fmt": {"apps": ["writer"], "controls": {"deny": ["save*"]},
                          "confirm_at": "medium", "max_risk": "medium"}},
        "risks": [{"level": "medium", "function": "type_text", "reason": "types"},
                  {"level": "high", "control": "Bold", "reason": "test"}]})
    policy = Policy(spec, "fmt")
    bold = Control(label="1", name="Bold", type="Button")
    save = Control(label="2", name="Save As...", type="MenuItem")
    assert policy.decide("web", Action(function="finish"), None).verdict == "deny"
    assert "control 'Save As...'" in policy.decide("writer", Action(function="click"), save).reason
    assert policy.decide("writer", Action(function="type_text", args={"text": "x"}), None
                         ).verdict == "ask"
    high = policy.decide("writer", Action(function="click"), bold)
    assert high.verdict == "deny" and "above role 'fmt''s limit" in high.reason
    assert policy.decide("writer", Action(function="finish"), None).verdict == "allow"

    bad = tmp_path / "p.yaml"
    bad.write_text("roles:\n  a: {confirm_at: sometimes}\n")
    with pytest.raises(DataError, match=r"p\.yaml: roles\.a\.confirm_at"):
        Policy.load(bad)
    bad.write_text("roles: [\n")
    with pytest.raises(DataError, match=r"p\.yaml:2: not valid YAML"):
        Policy.load(bad)
    with pytest.raises(DataError, match="does not exist"):
        Policy.load(tmp_path / "none.yaml")


def test_session_store_keeps_sessions_and_steps(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite")
    sid = store.start(env="writer-v0", model="m", role="editor", who="me", request="r",
                      document="d", plan=["a"])
    store.step(sid, 0, prompt="p", output="o", action={"function": "finish"}, policy="allow",
               ok=True, error=None, plan=[], model_s=0.1, other_s=0.02)
    store.end(sid, "pass", "all checks hold", 1)
    store.close()
    again = SessionStore(tmp_path / "s.sqlite")  # persisted
    assert again.sessions()[0]["status"] == "pass"
    assert again.steps(sid)[0]["action"] == '{"function": "finish"}'
