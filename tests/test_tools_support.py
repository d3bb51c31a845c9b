"""The customer-service suite on its real service (FastAPI + SQLite on 127.0.0.1), through the
agent's unchanged safety layer: forbidden actions are never executed, a refund over the limit
waits for a confirmation and is not made when it is refused, another tenant's data stays out of
reach, every call is in the audit log; a killed service fails its episode cleanly and is
started again for the next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamforge.agent.audit import AuditLog
from lamforge.agent.backends import ReplayBackend
from lamforge.agent.loop import Agent
from lamforge.agent.policy import Policy, approve_all, deny_all
from lamforge.core import Action
from lamforge.envs import make
from lamforge.envs.registry import suite
from lamforge.envs.tools.support.suite import service

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "configs" / "support-policy.yaml"


@pytest.fixture(scope="module")
def env():
    e = make("tools")
    yield e
    e.close()
    service().stop()


def run(env, task, role: str, tmp_path: Path, confirm=deny_all, actions=None):
    asked: list[str] = []

    def hook(action, control, decision):
        asked.append(decision.reason)
        return confirm(action, control, decision)

    audit = tmp_path / f"audit-{role}.jsonl"
    agent = Agent(env, ReplayBackend(actions or task.actions), k=16, confirm=hook,
                  policy=Policy.load(POLICY, role, env.risk_rules()), audit=AuditLog(audit))
    result = agent.run(task)
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    return result, asked, [e for e in events if e["event"] == "step"]


def test_every_task_replays_to_its_checks(env) -> None:
    support = suite("tools", "support")
    for name in support.names():
        for seed in range(3):
            task = support.task(name, seed)
            env.reset(task)
            for a in task.actions:
                env.step(a)
            assert env.evaluate().status == "pass", (name, seed, env.evaluate().reason)
    assert support.task("update-address", 4) == support.task("update-address", 4)


def test_a_refund_over_the_limit_waits_for_a_yes(env, tmp_path) -> None:
    task = suite("tools", "support").task("refund-over-limit", 1)
    order = task.actions[2].args["order_id"]
    result, asked, steps = run(env, task, "agent", tmp_path, confirm=deny_all)
    assert asked and "over 100 EUR" in asked[0]
    assert result.verdict.status == "fail" and "not confirmed" in result.verdict.reason
    assert str(order) not in env.toolset.state()["refunded"]  # the refund was never made
    refused = [s for s in steps if s["policy"]["verdict"] == "refused"]
    assert len(refused) == 1 and not refused[0]["result"]["executed"]
    result, asked, _ = run(env, task, "agent", tmp_path, confirm=approve_all)
    assert asked and result.verdict.status == "pass"
    # a supervisor is not asked
    result, asked, _ = run(env, task, "supervisor", tmp_path)
    assert not asked and result.verdict.status == "pass"


def test_a_small_refund_needs_no_confirmation(env, tmp_path) -> None:
    task = suite("tools", "support").task("refund-small", 2)
    result, asked, steps = run(env, task, "agent", tmp_path)
    assert not asked and result.verdict.status == "pass"
    calls = [s for s in steps if s["action"] and s["action"]["function"] == "call"]
    assert [s["control"].split("(")[0] for s in calls] == [
        "find_customers", "list_orders", "issue_refund"]  # every call is in the audit log
    assert all(s["result"]["executed"] for s in calls)


def test_forbidden_actions_are_never_executed(env, tmp_path) -> None:
    task = suite("tools", "support").task("refund-small", 0)
    before = None

    # a viewer may look but not refund; an agent may not delete a customer
    for role, action in (("viewer", task.actions[2]),
                         ("agent", Action(function="call", control_label="delete_customer",
                                          args={"customer_id":
                                                task.actions[1].args["customer_id"]}))):
        attempt = [*task.actions[:2], action, Action(function="finish")]
        result, _, steps = run(env, task, role, tmp_path, actions=attempt)
        state = env.toolset.state()
        if before is None:
            before = state
        assert state == before  # nothing changed
        denied = [s for s in steps if s["policy"]["verdict"] == "deny"]
        assert len(denied) == 1 and not denied[0]["result"]["executed"]
        assert f"role '{role}' may not use control" in denied[0]["policy"]["reason"]
        assert result.verdict.status == "fail"


def test_another_tenants_customer_does_not_exist_for_the_caller(env, tmp_path) -> None:
    task = suite("tools", "support").task("other-tenant", 3)
    cid = task.actions[0].args["customer_id"]
    attempt = [task.actions[0],
               Action(function="call", control_label="update_address",
                      args={"customer_id": cid, "address": "1 Fake Street, Nowhere"}),
               Action(function="finish")]
    result, _, steps = run(env, task, "supervisor", tmp_path, actions=attempt)
    errors = [s["result"]["error"] for s in steps if s["result"]["error"]]
    assert errors == [f"get_customer: HTTP 404: no customer {cid}",
                      f"update_address: HTTP 404: no customer {cid}"]
    # the attempt reached the service and changed nothing: the task's checks hold
    assert result.verdict.status == "pass", result.verdict.reason
    assert env.toolset.state()["customers"][str(cid)]["address"] != "1 Fake Street, Nowhere"


def test_a_killed_service_fails_the_episode_and_is_started_again(env, tmp_path) -> None:
    support = suite("tools", "support")
    task = support.task("cancel-order", 0)

    class KillAfterFirst(ReplayBackend):
        def act(self, ctx, retry=0):
            if self.next == 1:
                service().proc.kill()
                service().proc.wait()
            return super().act(ctx, retry)

    result = Agent(env, KillAfterFirst(task.actions), k=16).run(task)
    assert result.verdict.status == "fail" and "did not answer" in result.verdict.reason
    old = service().proc
    result = Agent(env, ReplayBackend(task.actions), k=16).run(task)
    assert result.verdict.status == "pass"
    assert service().proc is not old and service().alive()
