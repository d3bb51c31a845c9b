"""The agent runtime in real LibreOffice: a trained tiny LAM completes sample tasks; garbage
answers end a run cleanly; roles, confirmations, dry runs, budgets and time-outs hold; the
audit log detects tampering; the session history is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamforge.agent.audit import AuditLog, verify
from lamforge.agent.backends import HFBackend, OpenAIBackend, RuleBackend
from lamforge.agent.loop import Agent, Budget, Executor, make_task
from lamforge.agent.policy import Policy, PolicyFile, approve_all
from lamforge.agent.sessions import SessionStore
from lamforge.core import Action, Check, EnvironmentCrashed, Task, read_jsonl
from lamforge.llm.client import LLMConfig, OpenAIClient

from .conftest import SAMPLE_TASKS
from .llm_server import LLMServer

pytestmark = pytest.mark.writer

BOLD = make_task("Make 'quick' bold", "line", checks=[Check(kind="bold", text="quick")])


def sample(task_id: str) -> Task:
    return next(t for t in read_jsonl(SAMPLE_TASKS, Task) if t.id == task_id)


def audit_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def document_text_bold(env, text: str) -> bool:
    from lamforge.envs.writer import checks

    return checks.run(Check(kind="bold", text=text), env.final_state()).passed


@pytest.mark.parametrize("task_id", ["bold-word", "center-line"])
def test_trained_tiny_lam_completes_sample_tasks(trained: Path, writer_env, tmp_path: Path,
                                                 task_id: str) -> None:
    task = sample(task_id).model_copy(update={"actions": []})
    backend = HFBackend(trained / "lam3" / "model")
    store = SessionStore(tmp_path / "s.sqlite")
    agent = Agent(writer_env, backend, audit=AuditLog(tmp_path / "audit.jsonl"),
                  sessions=store, k=12)
    result = agent.run(task)
    assert result.verdict.status == "pass", (result.verdict, result.summary())
    assert result.finished and result.records[-1].action.function == "finish"
    assert all(r.model_s > 0 for r in result.records)
    steps = store.steps(result.session)
    assert len(steps) == len(result.records) and steps[0]["prompt"].startswith("Request: ")
    assert store.sessions()[0]["status"] == "pass"
    assert verify(tmp_path / "audit.jsonl").ok


def test_constrained_decoding_always_gives_a_valid_action_on_a_shown_control(
        trained: Path, writer_env) -> None:
    from lamforge.agent.context import Memory, build_context
    from lamforge.train.formats import parse_action

    # LAM1 was trained to write plans, not actions: unconstrained it cannot act at all
    backend = HFBackend(trained / "lam1" / "model", constrained=True)
    obs = writer_env.reset(BOLD)
    for request in ("Make 'quick' bold", "Center the sentence.", "Insert a table"):
        ctx = build_context(Memory(request=request), obs, writer_env.action_space(), 12)
        for retry in (0, 1):
            answer = parse_action(backend.act(ctx, retry).text)
            assert answer is not None
            assert answer["function"] in {s.name for s in writer_env.action_space()}
            if answer["control_label"] is not None:
                assert answer["control_label"] in ctx.labels


def test_garbage_backend_ends_cleanly_after_bounded_retries(writer_env, tmp_path: Path) -> None:
    with LLMServer() as server:
        client = OpenAIClient(LLMConfig(base_url=server.base_url, model="garbage",
                                        api_key="x", retries=0))
        agent = Agent(writer_env, OpenAIBackend(client), audit=AuditLog(tmp_path / "a.jsonl"),
                      budget=Budget(retries=2))
        result = agent.run(BOLD)
        assert server.requests("garbage") == 3
    assert result.verdict.status == "fail"
    assert "no valid action after 3 answers" in result.verdict.reason
    assert "malformed answer" in result.verdict.reason
    assert len(result.records) == 1 and result.records[0].action is None
    step = next(e for e in audit_events(tmp_path / "a.jsonl") if e["event"] == "step")
    assert len(step["outputs"]) == 3 and len(step["rejected"]) == 3
    assert step["result"]["executed"] is False


def test_a_role_never_executes_a_function_it_may_not_use(writer_env, tmp_path: Path) -> None:
    spec = PolicyFile.model_validate({"roles": {"reader": {
        "functions": ["select_text", "finish"]}}})
    policy = Policy(spec, "reader", writer_env.risk_rules())
    agent = Agent(writer_env, RuleBackend(), policy=policy,
                  audit=AuditLog(tmp_path / "a.jsonl"))
    result = agent.run(BOLD)
    assert result.verdict.status == "fail"
    denied = [r for r in result.records if r.decision == "deny"]
    assert denied and all(r.action.function == "click" for r in denied)
    assert "may not use function 'click'" in denied[0].error
    assert not any(e["command"] for e in writer_env.effects), writer_env.effects
    assert not document_text_bold(writer_env, "quick")
    logged = [e for e in audit_events(tmp_path / "a.jsonl") if e["event"] == "step"
              and e["policy"]["verdict"] == "deny"]
    assert len(logged) == len(denied)
    assert all(e["result"]["executed"] is False and e["role"] == "reader" for e in logged)


def test_a_refused_confirmation_stops_the_action(writer_env, tmp_path: Path) -> None:
    spec = PolicyFile.model_validate({
        "roles": {"editor": {"confirm_at": "high"}},
        "risks": [{"level": "high", "control": "bold", "reason": "test: bold is risky"}]})
    asked = []

    def refuse(action: Action, control, decision) -> bool:
        asked.append((action.function, control.name, decision.reason))
        return False

    agent = Agent(writer_env, RuleBackend(), policy=Policy(spec), confirm=refuse,
                  audit=AuditLog(tmp_path / "a.jsonl"))
    result = agent.run(BOLD)
    assert asked == [("click", "Bold", "high risk: test: bold is risky")]
    assert result.verdict.status == "fail" and "not confirmed" in result.verdict.reason
    assert result.records[-1].decision == "refused"
    assert not document_text_bold(writer_env, "quick")
    # the same run with a yes executes the action and passes
    agent = Agent(writer_env, RuleBackend(), policy=Policy(spec), confirm=approve_all)
    result = agent.run(BOLD)
    assert result.verdict.status == "pass", result.verdict
    assert [r.decision for r in result.records] == ["allow", "confirmed", "allow"]


def test_writer_risk_rules_mark_saving_and_deleting_high() -> None:
    from lamforge.core import Control
    from lamforge.envs.writer.env import WriterEnv

    policy = Policy(env_risks=WriterEnv.risk_rules(None))  # type: ignore[arg-type]
    save = Control(label="1", name="Save As...", type="MenuItem")
    bold = Control(label="2", name="Bold", type="Button")
    assert policy.decide("writer", Action(function="click", control_label="1"), save
                         ).verdict == "ask"
    assert policy.decide("writer", Action(function="keyboard", args={"keys": "Delete"}),
                         None).risk == "high"
    assert policy.decide("writer", Action(function="click", control_label="2"), bold
                         ).verdict == "allow"
    assert policy.decide("writer", Action(function="type_text", args={"text": "x"}),
                         None).risk == "medium"


def test_dry_run_shows_grounded_actions_and_executes_nothing(writer_env) -> None:
    agent = Agent(writer_env, RuleBackend(), dry_run=True)
    result = agent.run(BOLD)
    assert [r.action.function for r in result.records] == ["select_text", "click", "finish"]
    assert result.records[1].control == "Bold"
    assert result.verdict.status == "unsure" and "dry run" in result.verdict.reason
    assert writer_env.effects == [] and not document_text_bold(writer_env, "quick")


def test_step_budget_ends_the_run(writer_env) -> None:
    result = Agent(writer_env, RuleBackend(), budget=Budget(max_steps=1)).run(BOLD)
    assert result.verdict.status == "fail" and "step budget of 1" in result.verdict.reason
    assert len(result.records) == 1


def test_an_execution_time_out_closes_the_app_and_the_next_episode_starts(
        writer_env) -> None:
    writer_env.reset(BOLD)
    with pytest.raises(EnvironmentCrashed, match="did not finish within"):
        Executor(writer_env, 0.0001).execute(Action(function="select_text",
                                                    args={"text": "quick"}))
    result = Agent(writer_env, RuleBackend()).run(BOLD)
    assert result.verdict.status == "pass", result.verdict


def test_audit_log_detects_edited_removed_and_reordered_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(4):
        log.record("step", step=i, action={"function": "click"}, policy={"verdict": "allow"})
    assert verify(path).ok and verify(path).records == 4
    assert AuditLog(path).record("end").get("seq") == 4  # a new writer continues the chain
    lines = path.read_text().splitlines(keepends=True)
    cases = {
        "edited": [*lines[:2], lines[2].replace('"allow"', '"deny"'), *lines[3:]],
        "removed": [*lines[:2], *lines[3:]],
        "reordered": [lines[0], lines[2], lines[1], *lines[3:]],
    }
    for name, changed in cases.items():
        path.write_text("".join(changed))
        result = verify(path)
        assert not result.ok, name
        assert f"{path}:{2 if name == 'reordered' else 3}:" in result.problem, (name, result)


def test_a_planner_model_writes_the_plan_the_agent_follows(trained: Path, writer_env,
                                                           tmp_path: Path) -> None:
    task = sample("bold-word").model_copy(update={"actions": [], "plan": []})
    planner = HFBackend(trained / "lam1" / "model")
    assert planner.plan(task.request)  # LAM1 learned task -> plan in phase 1
    agent = Agent(writer_env, RuleBackend(), planner=planner,
                  audit=AuditLog(tmp_path / "a.jsonl"))
    result = agent.run(task)
    start = audit_events(tmp_path / "a.jsonl")[0]
    assert start["event"] == "start" and start["plan"] == planner.plan(task.request)
    assert result.records[0].action.function == "select_text"


def test_an_action_already_taken_on_the_same_screen_is_not_taken_again(
        writer_env, tmp_path: Path) -> None:
    """A model that opens a menu, closes it and would open it again goes round in a circle
    until its budget ends; the agent asks it again instead (a ranker: its next best)."""
    from lamforge.agent.backends import Answer

    class Circling:
        name = "circling"

        def act(self, ctx, retry=0):
            menu_open = any(c.group == "menu" for c in ctx.observation.controls)
            if retry:
                answer = {"function": "finish"}
            elif menu_open:
                answer = {"function": "keyboard", "args": {"keys": "escape"}}
            else:
                fmt = next(c for c in ctx.observation.controls
                           if c.group == "menubar" and c.name == "Format")
                answer = {"function": "click", "control_label": fmt.label}
            return Answer(text=json.dumps(answer), seconds=0.0)

    audit = tmp_path / "audit.jsonl"
    result = Agent(writer_env, Circling(), audit=AuditLog(audit),
                   budget=Budget(max_steps=10)).run(BOLD)
    assert [r.action.function for r in result.records] == ["click", "keyboard", "finish"]
    steps = [e for e in audit_events(audit) if e["event"] == "step"]
    assert steps[0]["observation"] == steps[2]["observation"]  # back where it started
    assert "round in a circle" in steps[2]["rejected"][0], steps[2]
