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


def test_tool_argument_schemas_compile_and_keep_their_own_meaning(tmp_path: Path) -> None:
    """Tools' own schemas in one grammar: two models of one name stay apart (`$defs` and
    draft-07 `definitions`), a format the grammar cannot enforce or a minimum above the caps
    does not make a function uncallable, and a schema that cannot compile at all (a
    look-ahead) leaves that step's arguments open instead of ending the run."""
    import json

    from lamforge.agent.constrained import JsonConstraint, open_calls
    from lamforge.envs.base import ActionSpec
    from lamforge.train.tiny import TinySpec, build_tiny

    call = ActionSpec(name="call", description="", needs_control=True, args={},
                      control_args=True)
    item = {"type": "object", "properties": {"item": {"$ref": "#/$defs/Item"}},
            "required": ["item"]}
    schemas = {
        "f": item | {"$defs": {"Item": {"type": "object", "required": ["name"],
                                        "properties": {"name": {"type": "string"}}}}},
        "g": {"type": "object", "properties": {"item": {"$ref": "#/definitions/Item"}},
              "required": ["item"], "definitions": {"Item": {
                  "type": "object", "required": ["size"],
                  "properties": {"size": {"type": "integer"}}}}},
        "h": {"type": "object", "required": ["path", "code"], "properties": {
            "path": {"type": "string", "format": "path"},
            "code": {"type": "string", "minLength": 300}}},
        "any": {"type": "object", "properties": {}},
    }
    tok_dir = build_tiny(["{}" * 50, json.dumps(schemas)], tmp_path / "tok",
                         TinySpec(vocab_size=400, hidden_size=16, layers=1, heads=2))
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tok_dir)
    schema = action_schema([call], list(schemas), schemas, {k: f"{k}()" for k in schemas})

    def accepts(grammar: dict, label: str, args: dict) -> bool:
        text = " " + json.dumps({"control_label": label, "control_name": f"{label}()",
                                 "function": "call", "args": args, "status": "CONTINUE",
                                 "advance": 0})
        matcher = JsonConstraint(tok, grammar, 0).matcher
        ids = tok(text)["input_ids"]
        return matcher.validate_tokens(ids) == len(ids) and matcher.consume_tokens(ids) \
            and matcher.is_accepting()

    assert accepts(schema, "f", {"item": {"name": "x"}})
    assert accepts(schema, "g", {"item": {"size": 2}})
    assert not accepts(schema, "f", {"item": {"size": 2}})  # g's Item is not f's
    assert not accepts(schema, "g", {"item": {"name": "x"}})
    assert accepts(schema, "h", {"path": "/tmp/a", "code": "x" * 300})
    assert accepts(schema, "any", {"anything": [1, 2]})
    assert not accepts(schema, "f", {"item": {"name": "x"}, "extra": 1})
    bad = schemas | {"h": {"type": "object", "properties": {
        "code": {"type": "string", "pattern": "^(?!x).*$"}}}}
    broken = action_schema([call], list(bad), bad, {k: f"{k}()" for k in bad})
    with pytest.raises(ValueError, match="bad action grammar"):
        JsonConstraint(tok, broken, 0)
    assert accepts(open_calls(broken), "h", {"code": "anything"})


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


def test_a_circle_is_an_action_taken_again_after_the_run_left_its_screen_and_came_back() -> None:
    from lamforge.agent.context import Memory

    fmt = Action(function="click", control_label="m3")
    esc = Action(function="keyboard", args={"keys": "escape"})
    down = Action(function="keyboard", args={"keys": "shift+down"})
    memory = Memory(request="r")
    memory.remember(fmt, None, True, None, 0, state="document")
    memory.remember(esc, None, True, None, 0, state="menu open")
    assert memory.circles("document", fmt)  # opened, closed, about to open again
    assert not memory.circles("document", down) and not memory.circles("menu open", fmt)
    # the same key again and again while the observation does not change is not a circle:
    # it may change what the observation does not show (a selection past the canvas's cut)
    memory = Memory(request="r")
    for _ in range(3):
        memory.remember(down, None, True, None, 0, state="selection")
    assert not memory.circles("selection", down)
    assert memory.futile("selection", down) is None


def test_a_click_that_changed_nothing_is_not_made_again_on_the_same_screen() -> None:
    """An Impress ranker clicked the Background tab it had just chosen five times in a row
    instead of the Color button under it: a click that left the screen as it was is refused
    from that screen, and only from it."""
    from lamforge.agent.context import Memory

    tab = Action(function="click", control_label="105")
    color = Action(function="click", control_label="112")
    memory = Memory(request="r")
    memory.remember(tab, None, True, None, 0, state="dialog, first tab")
    assert memory.futile("dialog, background tab", tab) is None  # it changed the screen
    memory.remember(tab, None, True, None, 0, state="dialog, background tab")
    assert "changed nothing" in memory.futile("dialog, background tab", tab)
    assert memory.futile("dialog, background tab", color) is None
    assert memory.futile("dialog, other", tab) is None
    # a click that failed is another rule's (the loop ends a run repeating a failing action)
    memory = Memory(request="r")
    memory.remember(color, None, False, "disabled", 0, state="s")
    assert memory.futile("s", color) is None


def test_the_rules_baseline_acts_with_the_functions_the_environment_has() -> None:
    """A request with a quoted text makes the baseline select it where the app can (Writer);
    a web page has no select_text, so it clicks the control nearest the request; an action
    space without click gets one clear error, not a run of invalid answers."""
    import json

    from lamforge.agent.backends import RuleBackend
    from lamforge.agent.context import Memory, build_context
    from lamforge.core import FatalError
    from lamforge.envs.base import ActionSpec
    from lamforge.envs.web.env import ACTIONS as WEB

    obs = Observation(controls=[Control(label="1", name="Cancel", type="Button"),
                                Control(label="2", name="Submit", type="Button")],
                      canvas="", focus="document")
    memory = Memory(request="Make 'quick' bold and press submit")
    rules = RuleBackend()
    writer = json.loads(rules.act(build_context(memory, obs, ACTIONS, 16)).text)
    assert writer["function"] == "select_text" and writer["args"] == {"text": "quick"}
    web = json.loads(rules.act(build_context(memory, obs, WEB, 16)).text)
    assert web["function"] == "click" and web["control_name"] == "Submit"
    tools = [ActionSpec("call", "Call a function.", True, {}, control_args=True)]
    with pytest.raises(FatalError, match="no click"):
        rules.act(build_context(memory, obs, tools, 16))
