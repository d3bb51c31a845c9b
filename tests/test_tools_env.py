"""The tools environment: typed functions as actions, validated against their JSON schemas
before they run; BFCL's multi-turn back ends judged by BFCL's own checker (its ground truth
replays to success, a wrong call fails); an MCP server's tools (a real stdio server built with
the `mcp` package) and Python callables as action spaces with no code specific to them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lamforge.core import Action, Check, Task
from lamforge.envs import make
from lamforge.envs.registry import suite

HERE = Path(__file__).resolve().parent


def call(fn: str, **args) -> Action:
    return Action(function="call", control_label=fn, args=args)


def replay(task: Task, actions: list[Action] | None = None):
    env = make("tools")
    env.reset(task)
    results = [env.step(a) for a in (task.actions if actions is None else actions)]
    return env, results, env.evaluate()


def test_bfcl_ground_truth_replays_to_bfcls_verdict_on_every_back_end() -> None:
    bfcl = suite("tools", "bfcl")
    names = bfcl.names()
    assert len(names) == 200
    assert set(bfcl.subsets) == {"GorillaFileSystem", "MathAPI", "MessageAPI", "TwitterAPI",
                                 "TicketAPI", "TradingBot", "TravelAPI", "VehicleControlAPI"}
    failed = {}
    for name in names:
        _, results, verdict = replay(bfcl.task(name, 0))
        if verdict.status != "pass":
            failed[name] = [r.error for r in results if not r.ok]
    # BFCL's own answer for entry 173 passes the string 'ticket_001' to close_ticket, whose
    # documented ticket_id is an integer: the schema check refuses it before the call
    assert failed == {"multi_turn_base_173": [
        "close_ticket: argument 'ticket_id': 'ticket_001' is not of type 'integer' "
        "(signature: close_ticket(ticket_id: integer))"]}


def test_a_wrong_call_or_a_missing_turn_fails_bfcls_check() -> None:
    task = suite("tools", "bfcl").task("multi_turn_base_0", 0)
    first = task.actions[0]
    assert first.control_label == "cd" and first.args == {"folder": "document"}
    wrong = [call("cd", folder="temp"), *task.actions[1:]]
    _, _, verdict = replay(task, wrong)
    assert verdict.status == "fail" and "BFCL" in verdict.reason
    last_turn = max(i for i, a in enumerate(task.actions[:-1]) if a.function == "finish")
    _, _, verdict = replay(task, task.actions[:last_turn + 1])
    assert verdict.status == "fail" and "turn 3" in verdict.reason


def test_turns_advance_on_finish_and_the_canvas_keeps_the_conversation() -> None:
    task = suite("tools", "bfcl").task("multi_turn_base_0", 0)
    env = make("tools")
    obs = env.reset(task)
    assert env.instruction() == task.meta["turns"][0] and obs.focus == "turn 1 of 4"
    names = {c.label for c in obs.controls}
    assert {"cd", "mkdir", "mv", "grep", "post_tweet"} <= names
    assert next(c for c in obs.controls if c.label == "mv").name == \
        "mv(source: string, destination: string)"
    r = env.step(call("cd", folder="document"))
    assert r.ok and "Call cd(folder='document') -> " in r.observation.canvas
    r = env.step(Action(function="finish"))
    assert r.ok and not r.done and r.info["next_turn"] == task.meta["turns"][1]
    assert env.instruction() == task.meta["turns"][1]
    assert r.observation.focus == "turn 2 of 4"


def test_bad_arguments_and_unknown_functions_are_refused_before_the_call() -> None:
    task = Task(id="calc", app="tools", request="Add 2, then double it",
                template="python:tests.tools_fixture:calculator", meta={"start": 1},
                checks=[Check(kind="state", path="memory.value", equals=6.0),
                        Check(kind="called", function="scale", args={"factor": 2})])
    env = make("tools")
    env.reset(task)
    for action, says in ((call("add", amount="two"), "argument 'amount': 'two' is not of "
                                                     "type 'number'"),
                         (call("add"), "'amount' is a required property"),
                         (call("add", amount=2, extra=1), "Additional properties"),
                         (call("divide", by=2), "unknown function 'divide' (known: add, "
                                                "scale)")):
        r = env.step(action)
        assert not r.ok and says in r.error and r.observation.last_action_error == r.error
    assert env.toolset.state() == {"memory": {"value": 1.0}}  # nothing ran
    assert env.evaluate().status == "fail"
    assert env.step(call("add", amount=2)).ok
    assert env.step(call("scale", factor=2, round_to=0)).ok
    assert env.evaluate().status == "pass"


def test_an_mcp_servers_tools_are_an_action_space() -> None:
    server = [sys.executable, str(HERE / "mcp_server.py")]
    task = Task(id="notes", app="tools", request="Save a note 'todo' saying 'buy milk'",
                template="mcp", meta={"mcp": {"command": server}},
                checks=[Check(kind="called", function="add_note", args={"title": "todo"})])
    with make("tools") as env:
        obs = env.reset(task)
        assert {c.label for c in obs.controls} == {"add_note", "read_note", "count",
                                                   "executed"}
        note = next(c for c in obs.controls if c.label == "add_note")
        assert note.name == "add_note(title: string, text: string, pinned?: boolean)"
        assert "Add a note" in (note.value or "")
        r = env.step(call("count", times="three"))  # refused here: the server never sees it
        assert not r.ok and "is not of type 'integer'" in r.error
        r = env.step(call("read_note", title="todo"))  # the server's own error, fed back
        assert not r.ok and "no note titled 'todo'" in r.error
        assert env.step(call("add_note", title="todo", text="buy milk")).ok
        r = env.step(call("read_note", title="todo"))
        assert r.ok and r.info["result"] == "buy milk"
        r = env.step(call("executed"))
        assert r.info["result"] == "3"  # count was never executed
        assert env.evaluate().status == "pass"
        process = env.toolset
    assert env.toolset is None and process is not None  # closed with the environment


def test_a_server_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    from lamforge.core import EnvironmentUnavailable

    task = Task(id="x", app="tools", request="r", template="mcp",
                meta={"mcp": {"command": [sys.executable, str(tmp_path / "missing.py")]}})
    with pytest.raises(EnvironmentUnavailable, match="did not start"):
        make("tools").reset(task)


def test_the_agent_carries_a_multi_turn_conversation_to_bfcls_verdict() -> None:
    """The unchanged agent loop (grounding, validation, policy, audit) on a BFCL entry: each
    `finish` ends a user turn and the next turn becomes the request; the expert's calls reach
    BFCL's pass, and the same run with one wrong call does not."""
    from lamforge.agent.backends import ReplayBackend
    from lamforge.agent.loop import Agent, Budget

    task = suite("tools", "bfcl").task("multi_turn_base_0", 0)
    env = make("tools")
    result = Agent(env, ReplayBackend(task.actions), k=12,
                   budget=Budget(max_steps=40)).run(task)
    assert result.verdict.status == "pass", result.verdict.reason
    assert len(result.records) == len(task.actions)
    wrong = [call("cd", folder="temp"), *task.actions[1:]]
    result = Agent(env, ReplayBackend(wrong), k=12, budget=Budget(max_steps=40)).run(task)
    assert result.verdict.status == "fail" and "BFCL" in result.verdict.reason


def test_training_samples_carry_results_and_each_turns_request() -> None:
    """A function's answer is what the next call needs (an id, a total): the steps keep it and
    the prompt's "Done:" line shows it; in a conversation each step's request is its turn's."""
    from lamforge.dataflow.flow import step_samples
    from lamforge.envs.episode import run_actions
    from lamforge.train.formats import step_prompt

    task = suite("tools", "bfcl").task("multi_turn_base_0", 0)
    with make("tools") as env:
        traj = run_actions(env, task)
    assert traj.verdict.status == "pass"
    assert traj.steps[0].result and "current_working_directory" in traj.steps[0].result
    samples = step_samples(traj)
    turns = task.meta["turns"]
    finishes = [i for i, a in enumerate(task.actions) if a.function == "finish"]
    assert samples[0].request == turns[0] and samples[finishes[0] + 1].request == turns[1]
    assert samples[-1].request == turns[-1]
    prompt = step_prompt(samples[1], 12)
    assert "Done: call cd(folder: string) document = {\"current_working_directory\"" in prompt


def test_eval_online_runs_a_bfcl_back_end_end_to_end(tmp_path: Path) -> None:
    """`lamforge eval online --env tools --suite bfcl --subset …`: the expert's calls through
    the whole agent (parse, ground, validate, policy) reach BFCL's pass on every entry of a
    back end: the harness lets right answers through."""
    import json
    import os
    import subprocess

    out = tmp_path / "bfcl.json"
    proc = subprocess.run([sys.executable, "-m", "lamforge", "eval", "online", "--env", "tools",
                           "--suite", "bfcl", "--subset", "VehicleControlAPI", "--seeds", "0",
                           "--model", "expert", "--max-steps", "40", "--json", str(out)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert (row["tasks"], row["passed"]) == (50, 50), row


def test_function_docs_are_mined_into_task_plan_pairs(tmp_path: Path) -> None:
    """`lamforge data mine --functions bfcl`: each documented function whose description
    states a task is a pair (task from the description, plan = the call with its required
    parameters), cleaned and deduplicated like mined help pages."""
    import json
    import os
    import subprocess

    from lamforge.envs.tools.mine import task_of

    out = tmp_path / "functions.jsonl"
    proc = subprocess.run([sys.executable, "-m", "lamforge", "data", "mine", "--functions",
                           "bfcl", "--out", str(out)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pairs) >= 120 and {p["app"] for p in pairs} == {"tools"}
    by_fn = {p["meta"]["function"]: p for p in pairs}
    cd = by_fn["cd"]
    assert cd["task"] == "Change the current working directory to the specified folder"
    assert cd["plan"][0].startswith("Call cd with folder (") and \
        cd["source"] == "bfcl:GorillaFileSystem#cd"
    for p in pairs:  # every required parameter is named in the plan
        assert all(f" {n}" in p["plan"][0] for n in p["meta"]["parameters"]["required"])
    assert task_of("Changes the current directory.") == "Change the current directory"
    assert task_of("") is None
    bad = subprocess.run([sys.executable, "-m", "lamforge", "data", "mine", "--functions",
                          "nope", "--out", str(tmp_path / "x.jsonl")], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0 and bad.stderr.strip().splitlines() == [
        "error: unknown function documentation 'nope' (use bfcl or support)"]


def test_mined_pairs_are_instantiated_executed_and_verified(tmp_path: Path) -> None:
    """`lamforge data flow --env tools --in pairs.jsonl`: each mined function pair gets a real
    back end (a BFCL entry's start state) and argument values from that state that the function
    accepts; the call is executed again and verified (`called`), successes become step
    samples, a pair no value works for is filed with why; a suite run afterwards adds its
    demonstrated tasks (replayed, not explored) to the same run."""
    import json
    import os
    import subprocess

    from lamforge.core import TaskPlan
    from lamforge.envs.tools.instantiate import NotInstantiable, instantiate

    def lamforge(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                              text=True, timeout=600, env={**os.environ, "COLUMNS": "200"})

    pairs = tmp_path / "functions.jsonl"
    assert lamforge("data", "mine", "--functions", "bfcl", "--out", str(pairs)).returncode == 0
    fs = [line for line in pairs.read_text().splitlines()
          if '"bfcl:GorillaFileSystem#' in line]
    pairs.write_text("\n".join(fs) + "\n")
    run = tmp_path / "flow"
    proc = lamforge("data", "flow", "--env", "tools", "--in", str(pairs), "--seeds", "0",
                    "--out-dir", str(run))
    assert proc.returncode == 0, proc.stderr[-2000:]
    tasks = [json.loads(x) for x in (run / "instantiation" / "pass.jsonl").read_text()
             .splitlines()]
    failed = [json.loads(x) for x in (run / "instantiation" / "fail.jsonl").read_text()
              .splitlines()]
    assert len(tasks) + len(failed) == len(fs) and len(tasks) >= len(fs) // 2
    assert all(f["reason"] for f in failed)
    cd = next(t for t in tasks if t["actions"][0]["control_label"] == "cd")
    folder = cd["actions"][0]["args"]["folder"]
    assert cd["request"].endswith(f"folder {folder!r}") and cd["checks"] == [
        {"kind": "called", "function": "cd", "args": {"folder": folder}}]
    passed = (run / "execution" / "pass.jsonl").read_text().splitlines()
    assert len(passed) == len(tasks)  # every instance found by trying runs again and passes
    assert sum(1 for _ in (run / "samples").rglob("*.jsonl")) and \
        "step samples: {'train': " in proc.stdout

    # the found call is what passes: another folder fails the instance's check
    task = Task.model_validate(cd)
    _, _, verdict = replay(task, [call("cd", folder="no-such-folder"), Action(function="finish")])
    assert verdict.status == "fail"
    # a function no back end state can give arguments to is filed, not guessed
    ticket = TaskPlan(id="t", app="tools", task="Edit a ticket", plan=["Call edit_ticket."],
                      source="bfcl:TicketAPI#edit_ticket",
                      meta={"function": "edit_ticket", "parameters": {
                          "type": "dict", "required": ["ticket_id", "updates"], "properties": {
                              "ticket_id": {"type": "integer"},
                              "updates": {"type": "dict", "properties": {}}}}})
    with pytest.raises(NotInstantiable, match="'updates'"):
        instantiate(ticket, 0)

    proc = lamforge("data", "flow", "--env", "tools", "--suite", "bfcl", "--task",
                    "multi_turn_base_0", "--seeds", "0", "--out-dir", str(run))
    assert proc.returncode == 0, proc.stderr[-2000:]
    ids = [json.loads(x)["id"] for x in (run / "instantiation" / "pass.jsonl").read_text()
           .splitlines()]
    assert len(ids) == len(tasks) + 1 and "multi_turn_base_0" in ids
    assert len((run / "execution" / "pass.jsonl").read_text().splitlines()) == len(tasks) + 1


def test_phase1_holds_out_the_functions_of_held_out_tasks(tmp_path: Path) -> None:
    """A tools family is one documented function: phase 1 leaves out the pairs of functions
    whose tasks are held out (test_family), and a held-out suite task (no family) holds none
    out, so the pairs of every other function are learnt."""
    from lamforge.core import TaskPlan, write_jsonl
    from lamforge.train.config import TrainConfig
    from lamforge.train.phases import plan_rows

    def pair(fn: str) -> TaskPlan:
        return TaskPlan(id=fn, app="tools", task=f"Do {fn}", plan=[f"Call {fn}."],
                        source=f"bfcl:GorillaFileSystem#{fn}", meta={"function": fn})

    flow = tmp_path / "flow"
    (flow / "tasks").mkdir(parents=True)
    write_jsonl(flow / "tasks" / "test_family.jsonl", [
        Task(id="cd-0", app="tools", request="Change directory", template="bfcl",
             meta={"family": "bfcl:GorillaFileSystem#cd"}),
        suite("tools", "bfcl").task("multi_turn_base_0", 0)])
    write_jsonl(tmp_path / "pairs.jsonl", [pair("cd"), pair("ls"), pair("mkdir")])
    cfg = TrainConfig.load(HERE.parent / "configs" / "tiny-tools.yaml").model_copy(deep=True)
    cfg.data.flow_dir, cfg.data.plans = flow, [tmp_path / "pairs.jsonl"]
    prompts = " ".join(r["prompt"] for r in plan_rows(cfg))
    assert "Do ls" in prompts and "Do mkdir" in prompts and "Do cd" not in prompts


def test_constrained_decoding_calls_only_shown_functions_with_arguments_they_accept(
        tmp_path: Path) -> None:
    """Constrained decoding on a tools action space follows each function's own schema (a
    nested model through `$defs`, a choice, a list; BFCL's back ends): even an untrained
    model can then only write a call the environment's validation accepts, while the same
    model unconstrained writes no action at all."""
    from lamforge.agent.backends import HFBackend
    from lamforge.agent.context import Memory, build_context
    from lamforge.train.formats import parse_action
    from lamforge.train.tiny import TinySpec, build_tiny

    tasks = [suite("tools", "bfcl").task("multi_turn_base_0", 0),
             Task(id="ship", app="tools", request="Ship a parcel of 2 kg to Oslo, fast",
                  template="python:tests.tools_fixture:shipping")]
    env = make("tools")
    contexts = []
    for task in tasks:
        obs = env.reset(task)
        contexts.append((build_context(Memory(request=task.request), obs, env.action_space(),
                                       40, env.control_args_schema), dict(env.toolset.tools)))
    model = build_tiny([c.prompt for c, _ in contexts] * 4, tmp_path / "tiny",
                       TinySpec(vocab_size=600, hidden_size=32, layers=1, heads=2,
                                max_length=2048))
    free = HFBackend(model, max_new_tokens=40)
    assert parse_action(free.act(contexts[1][0]).text) is None
    backend = HFBackend(model, constrained=True, max_new_tokens=600)
    called = set()
    for ctx, tools in contexts:
        assert set(ctx.arg_schemas) == set(tools)
        for retry in range(4):  # a retry samples (temperature): other functions, other args
            answer = parse_action(backend.act(ctx, retry).text)
            assert answer is not None and answer["function"] in {"call", "finish"}
            if answer["function"] == "call":
                tool = tools[answer["control_label"]]
                tool.validate(answer["args"])  # raises ToolError on any schema violation
                assert answer["control_name"] == tool.signature()
                called.add(tool.name)
    assert called
    ship = tools["ship"]
    answer = None
    for retry in range(12):  # the nested model, the choice and the list, written validly
        answer = parse_action(backend.act(contexts[1][0], retry + 1).text)
        if answer and answer.get("control_label") == "ship":
            break
    assert answer is not None and answer["control_label"] == "ship", answer
    ship.validate(answer["args"])
    assert answer["args"]["speed"] in ("slow", "fast") and set(answer["args"]["parcel"]) == {
        "city", "kg"}
