"""The LLM prefill and template choice, against a real HTTP server on 127.0.0.1.

The server (tests/llm_server.py) stands in for a model, since none can be reached here; the
flow test executes what it prefills in real LibreOffice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lamforge.core import TaskPlan, Trajectory, read_jsonl
from lamforge.envs.writer.prefill import Rejected
from lamforge.envs.writer.prefill_llm import LLMPrefill, LLMSelector, surface_context
from lamforge.llm.client import LLMConfig, OpenAIClient

from .llm_server import LLMServer

TEMPLATES = {"report": "A titled quarterly report.", "line": "A single line of text.",
             "table": "A document with a table."}
PAIR = TaskPlan(id="p1", app="writer", task="Make the text bold",
                plan=["Select the text.", "Click Bold on the Formatting bar."],
                source="swriter/guide/bold.html#h")


@pytest.fixture(scope="module")
def server():
    with LLMServer() as s:
        yield s


def client(server, model: str) -> OpenAIClient:
    return OpenAIClient(LLMConfig(base_url=server.base_url, model=model, api_key="k",
                                  retries=0, max_tokens=2048))


def test_llm_prefill_makes_validated_instances(server) -> None:
    tasks = LLMPrefill(client(server, "prefiller"), TEMPLATES).prefill(
        PAIR, instances=2, templates=["line", "report"])
    assert [t.template for t in tasks] == ["line", "report"]
    t = tasks[0]
    assert [(a.function, a.control_text) for a in t.actions] == [
        ("select_text", None), ("click", "Bold"), ("finish", None)]
    assert [(c.kind, c.params["text"]) for c in t.checks] == [("bold", "quick brown fox")]
    assert t.meta["prefill"] == "llm" and t.meta["model"] == "prefiller"
    assert t.meta["plan_step"] == [0, 0, 1]
    # the request carried the surface: menus close to the plan, dialogs, check kinds
    sent = json.loads(server.app.state.last_body["messages"][-1]["content"])
    assert sent["templates"][0]["name"] == "line" and sent["instances"] == 2
    assert "Character" in sent["surface"]["dialogs"] and "bold" in sent["surface"]["checks"]


def test_llm_prefill_rejects_with_the_reason(server) -> None:
    with pytest.raises(Rejected, match="LLM: needs a database"):
        LLMPrefill(client(server, "rejecter"), TEMPLATES).prefill(PAIR)
    before = server.requests("prefiller-bad")
    with pytest.raises(Rejected, match="unknown action function 'press'"):
        LLMPrefill(client(server, "prefiller-bad"), TEMPLATES, attempts=2).prefill(PAIR)
    assert server.requests("prefiller-bad") - before == 2  # asked again, bounded


def test_llm_selector_keeps_only_library_templates(server) -> None:
    ranks = LLMSelector(client(server, "prefiller"), TEMPLATES, top_k=2).rank([PAIR, PAIR])
    assert ranks == [["table", "line"], ["table", "line"]]


def test_surface_context_puts_the_plans_menus_first() -> None:
    ctx = surface_context(["Choose Insert - Field - Page Count."])
    assert "Insert > Field > Page Count" in ctx["menus"][:5]
    assert "Bold" in ctx["toolbar"]


@pytest.mark.writer
def test_flow_with_llm_selector_and_prefill_runs_in_writer(server, tmp_path) -> None:
    src = tmp_path / "pairs.jsonl"
    src.write_text(PAIR.model_dump_json() + "\n" + PAIR.model_copy(update={
        "id": "p2", "task": "Embolden a phrase", "source": "swriter/guide/b2.html"}
    ).model_dump_json() + "\n")
    home = tmp_path / "home"
    env = {**os.environ, "COLUMNS": "200", "LAMFORGE_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "lamforge", "data", "flow", "--in", str(src), "--out-dir", "run",
         "--instances", "1", "--selector", "llm", "--prefill", "llm", "--base-url",
         server.base_url, "--model", "prefiller", "--api-key", "k"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    passed = read_jsonl(tmp_path / "run" / "execution" / "pass.jsonl", Trajectory)
    assert {t.task.meta["pair"] for t in passed} == {"p1", "p2"}
    # the selector's best template (the library's last, reversed) is the one used
    (library,) = (home / "templates").iterdir()
    names = [t["name"] for t in json.loads((library / "description.json").read_text())]
    assert {t.task.template for t in passed} == {names[-1]}
    assert json.loads((tmp_path / "run" / "flow.json").read_text())["prefill"] == "llm"
