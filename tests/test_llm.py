"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

from lamforge.core import TaskPlan, read_jsonl
from lamforge.dataflow.evolve import LLMEvolver
from lamforge.llm.client import LLMConfig, LLMError, OpenAIClient, complete_json, parse_json

from .llm_server import LLMServer

PAIRS = [TaskPlan(id=f"p{i}", app="writer", task=f"Insert a table number {i}",
                  plan=["Choose Table - Insert Table.", "Click Insert."]) for i in range(3)]


@pytest.fixture(scope="module")
def server():
    with LLMServer() as s:
        yield s


def client(server, model: str, **kw) -> OpenAIClient:
    return OpenAIClient(LLMConfig(base_url=server.base_url, model=model, api_key="test", **kw))


def test_llm_evolver_makes_valid_traceable_variants(server) -> None:
    variants = LLMEvolver(client(server, "evolver"), per_pair=2, concurrency=3).evolve(PAIRS)
    assert len(variants) == 6
    assert [v.evolved_from for v in variants] == ["p0", "p0", "p1", "p1", "p2", "p2"]
    for v in variants:
        parent = next(p for p in PAIRS if p.id == v.evolved_from)
        assert v.task != parent.task and v.plan[-1] == "Click Bold on the Formatting bar."
        assert v.meta["evolution"] == {"provider": "llm", "model": "evolver"}


def test_fenced_json_with_trailing_comma_is_repaired(server) -> None:
    variants = LLMEvolver(client(server, "fenced"), per_pair=1).evolve(PAIRS[:1])
    assert variants[0].task.endswith("in bold (variant 1)")


def test_non_json_answers_fail_after_bounded_attempts(server) -> None:
    before = server.requests("garbage")
    with pytest.raises(LLMError, match="no usable JSON in 2 attempt"):
        LLMEvolver(client(server, "garbage"), per_pair=1, attempts=2).evolve(PAIRS[:1])
    assert server.requests("garbage") - before == 2
    # the second request carried the first answer and what was wrong with it
    retry = server.app.state.last_body["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[2]["content"].startswith("I am sorry") and "not usable" in retry[3]["content"]


def test_server_errors_are_retried_a_bounded_number_of_times(server) -> None:
    before = server.requests("error500")
    with pytest.raises(LLMError, match="HTTP 500 after 2 retries"):
        client(server, "error500", retries=2).complete([{"role": "user", "content": "hi"}])
    assert server.requests("error500") - before == 3  # first try + 2 retries


def test_requests_run_concurrently_and_carry_the_seed(server) -> None:
    server.app.state.in_flight_max = 0
    cfg = LLMConfig(base_url=server.base_url, model="wait", api_key="k", seed=7)
    variants = LLMEvolver(OpenAIClient(cfg), per_pair=2, concurrency=3).evolve(PAIRS)
    assert len(variants) == 6
    assert server.app.state.in_flight_max >= 2
    assert server.app.state.last_body["seed"] == 7


def test_client_errors_are_not_retried_and_say_so(server) -> None:
    before = server.requests("error400")
    with pytest.raises(LLMError, match=r"answered HTTP 400: "):
        client(server, "error400", retries=3).complete([{"role": "user", "content": "hi"}])
    assert server.requests("error400") - before == 1


def test_a_non_completion_answer_is_an_llm_error(server) -> None:
    with pytest.raises(LLMError, match="not a chat completion"):
        client(server, "html200", retries=0).complete([{"role": "user", "content": "hi"}])


def test_a_cut_off_answer_is_never_repaired_into_a_record(server) -> None:
    before = server.requests("truncated")
    with pytest.raises(LLMError, match="cut off at max_tokens"):
        LLMEvolver(client(server, "truncated"), per_pair=1, attempts=2).evolve(PAIRS[:1])
    assert server.requests("truncated") - before == 2


def test_timeouts_are_bounded(server) -> None:
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="cannot reach"):
        client(server, "slow", timeout_s=0.5, retries=0).complete(
            [{"role": "user", "content": json.dumps({"task": "t", "plan": ["a"]})}])
    assert time.monotonic() - t0 < 3


def test_unreachable_endpoint_is_a_clear_error() -> None:
    cfg = LLMConfig(base_url="http://127.0.0.1:9/v1", model="x", retries=1, timeout_s=2)
    with pytest.raises(LLMError, match=re.escape("cannot reach http://127.0.0.1:9/v1 after 1 retries")):
        OpenAIClient(cfg).complete([{"role": "user", "content": "hi"}])


def test_parse_json_repairs_and_rejects() -> None:
    assert parse_json('```json\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}
    assert parse_json('{"a": "b"') == {"a": "b"}
    with pytest.raises(ValueError):
        parse_json("no json here")

    class Fixed:
        model = "fixed"

        def complete(self, messages, *, json_mode=False):
            return '{"task": "x"}'

    with pytest.raises(LLMError):
        complete_json(Fixed(), [], validate=lambda d: d["plan"], attempts=1)


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamforge", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "COLUMNS": "200"}, timeout=120)


def test_cli_evolve_with_llm_provider(server, tmp_path) -> None:
    src = tmp_path / "m.jsonl"
    src.write_text("".join(p.model_dump_json() + "\n" for p in PAIRS))
    proc = _cli("data", "evolve", "--in", str(src), "--out", "e.jsonl", "--provider", "llm",
                "--base-url", server.base_url, "--model", "evolver", "--api-key", "k",
                "--per-pair", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [v.evolved_from for v in read_jsonl(tmp_path / "e.jsonl", TaskPlan)] == ["p0", "p1",
                                                                                     "p2"]


def test_cli_failing_endpoint_writes_nothing_and_says_why(server, tmp_path) -> None:
    src = tmp_path / "m.jsonl"
    src.write_text("".join(p.model_dump_json() + "\n" for p in PAIRS))
    proc = _cli("data", "evolve", "--in", str(src), "--out", "e.jsonl", "--provider", "llm",
                "--base-url", server.base_url, "--model", "error500", "--retries", "1",
                cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1
    assert "HTTP 500 after 1 retries" in proc.stderr
    assert not (tmp_path / "e.jsonl").exists()
