"""`lamforge run`, `lamforge audit verify` and `lamforge serve` as a user runs them: real
LibreOffice, a real HTTP server, the official `openai` package against it, and bad input as
one clear line with a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lamforge.core import Task, read_jsonl

from .conftest import SAMPLE_TASKS, SERVE_KEY
from .llm_server import LLMServer
from .test_cli import lamforge, one_error_line

pytestmark = pytest.mark.writer

BOLD_CHECK = '{"kind": "bold", "text": "quick"}'


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


def is_bold(path: Path, text: str) -> bool:
    import docx

    return any(text in run.text and run.bold for p in docx.Document(str(path)).paragraphs
               for run in p.runs)


def test_run_saves_the_document_logs_and_audit_verifies_then_detects_an_edit(
        home: Path, tmp_path: Path) -> None:
    audit, out = tmp_path / "audit.jsonl", tmp_path / "out.docx"
    proc = lamforge("run", "Make 'quick' bold", "--model", "rules", "--doc", "line",
                    "--out", str(out), "--check", BOLD_CHECK, "--audit", str(audit),
                    "--sessions", str(tmp_path / "s.sqlite"), "--json",
                    str(tmp_path / "r.json"), home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "step  2  click 'Bold'" in proc.stdout and "pass: all checks hold" in proc.stdout
    assert "model" in proc.stdout and " ms" in proc.stdout
    assert is_bold(out, "quick")
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["status"] == "pass" and result["steps"] == 3

    ok = lamforge("audit", "verify", str(audit), home=home)
    assert ok.returncode == 0 and "intact: 5 records" in ok.stdout, ok.stdout
    assert result["audit_hash"] in ok.stdout.replace("\n", "")

    lines = audit.read_text().splitlines(keepends=True)
    assert '"verdict": "allow"' in lines[2]
    audit.write_text("".join([*lines[:2], lines[2].replace('"allow"', '"deny"'), *lines[3:]]))
    bad = lamforge("audit", "verify", str(audit), home=home)
    assert bad.returncode == 2, bad.stdout
    assert f"{audit}:3: record was edited" in bad.stdout.replace("\n", "")

    listed = lamforge("sessions", "--db", str(tmp_path / "s.sqlite"), home=home)
    assert listed.returncode == 0 and "pass" in listed.stdout


def test_dry_run_executes_and_saves_nothing(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.docx"
    proc = lamforge("run", "Make 'quick' bold", "--model", "rules", "--doc", "line",
                    "--out", str(out), "--dry-run", "--audit", str(tmp_path / "a.jsonl"),
                    "--sessions", str(tmp_path / "s.sqlite"), home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "click 'Bold'" in proc.stdout and "dry run: nothing was executed" in proc.stdout
    assert not out.exists()
    steps = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()
             if '"event": "step"' in x]
    assert steps and not any(s["result"]["executed"] for s in steps)


def test_batch_run_denies_a_risky_action_that_needs_confirmation(home: Path,
                                                                tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles:\n  editor: {confirm_at: high}\nrisks:\n"
                      "  - {level: high, control: Bold, reason: bold is risky here}\n")
    out = tmp_path / "out.docx"
    proc = lamforge("run", "Make 'quick' bold", "--model", "rules", "--doc", "line",
                    "--policy", str(policy), "--out", str(out), "--audit",
                    str(tmp_path / "a.jsonl"), "--sessions", str(tmp_path / "s.sqlite"),
                    home=home)  # stdin is not a terminal: nobody can say yes
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "not confirmed (high risk: bold is risky here)" in proc.stdout.replace("\n", "")
    assert not out.exists()


def test_bad_input_is_one_clear_line(home: Path, tmp_path: Path) -> None:
    base = ["--audit", str(tmp_path / "a.jsonl"), "--sessions", str(tmp_path / "s.sqlite")]
    broken = tmp_path / "broken.docx"
    broken.write_text("this is not a Word document")
    cases = {
        "the request is empty": ["run", "  ", "--model", "rules", "--doc", "line"],
        "unknown environment 'nosuch'": ["run", "x", "--model", "rules", "--doc", "line",
                                         "--env", "nosuch"],
        "does not exist": ["run", "x", "--model", "rules", "--doc", str(tmp_path / "no.docx")],
        "is not a valid .docx file": ["run", "x", "--model", "rules", "--doc", str(broken)],
        "model '/no/such/model' does not exist": ["run", "x", "--model", "/no/such/model",
                                                  "--doc", "line"],
        "unknown role 'boss'": ["run", "x", "--model", "rules", "--doc", "line", "--role",
                                "boss"],
        "is not a check": ["run", "x", "--model", "rules", "--doc", "line", "--check", "{"],
    }
    for expected, args in cases.items():
        line = one_error_line(lamforge(*args, *(base if args[0] == "run" else []), home=home))
        assert expected in line, (expected, line)
    policy = tmp_path / "bad.yaml"
    policy.write_text("roles:\n  editor: {functions: click}\n")
    line = one_error_line(lamforge("run", "x", "--model", "rules", "--doc", "line",
                                   "--policy", str(policy), *base, home=home))
    assert f"{policy}: roles.editor.functions" in line
    assert "does not exist" in one_error_line(lamforge("audit", "verify",
                                                       str(tmp_path / "none.jsonl"), home=home))


def test_an_endpoint_that_times_out_is_one_clear_line(home: Path, tmp_path: Path) -> None:
    with LLMServer() as server:
        proc = lamforge("run", "Make 'quick' bold", "--model", "slow", "--endpoint",
                        server.base_url, "--timeout", "0.5", "--doc", "line", "--audit",
                        str(tmp_path / "a.jsonl"), "--sessions", str(tmp_path / "s.sqlite"),
                        home=home)
    line = one_error_line(proc)
    assert "cannot reach" in line and "Timeout" in line, line
    end = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[-1])
    assert end["event"] == "end" and end["status"] == "error"


# ---- lamforge serve --------------------------------------------------------------------------
def trained_state(trained: Path) -> tuple[str, list[str]]:
    """The prompt of a step the LAM was trained on (the first click) and its shown labels."""
    from lamforge.core import StepSample
    from lamforge.train.formats import rank_controls, step_prompt

    samples = read_jsonl(trained.parent / "flow" / "samples" / "train.jsonl", StepSample)
    s = next(x for x in samples if x.function == "click")
    return step_prompt(s, 12), [c["label"] for c in rank_controls(s, 12)]


def test_served_lam_answers_the_projects_client(served: str, trained: Path) -> None:
    from lamforge.llm.client import LLMConfig, OpenAIClient
    from lamforge.train.formats import parse_action

    client = OpenAIClient(LLMConfig(base_url=served, model="lam3", temperature=0.0,
                                    api_key=SERVE_KEY))
    text = client.complete([{"role": "user", "content": trained_state(trained)[0]}])
    assert parse_action(text) is not None, text


def test_served_lam_answers_the_openai_package(served: str, trained: Path) -> None:
    import openai

    prompt, labels = trained_state(trained)
    client = openai.OpenAI(base_url=served, api_key=SERVE_KEY)
    assert [m.id for m in client.models.list()] == ["lam3"]
    schema = {"type": "object", "properties": {"control_label": {"enum": labels},
                                               "function": {"enum": ["click"]}},
              "required": ["control_label", "function"], "additionalProperties": False}
    resp = client.chat.completions.create(
        model="lam3", temperature=0, max_tokens=60,
        messages=[{"role": "system", "content": "ignored by a LAM"},
                  {"role": "user", "content": prompt}],
        response_format={"type": "json_schema", "json_schema": {"name": "a",
                                                                "schema": schema}})
    answer = json.loads(resp.choices[0].message.content)
    assert answer["control_label"] in labels and answer["function"] == "click"
    assert resp.usage.completion_tokens > 0 and resp.usage.prompt_tokens > 0
    with pytest.raises(openai.AuthenticationError, match="API key"):
        openai.OpenAI(base_url=served, api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user",
                                                                  "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="streaming"):
        client.chat.completions.create(model="lam3", stream=True,
                                       messages=[{"role": "user", "content": "hi"}])


def test_agent_completes_a_task_through_the_served_lam(served: str, writer_env) -> None:
    from lamforge.agent.backends import OpenAIBackend
    from lamforge.agent.loop import Agent
    from lamforge.llm.client import LLMConfig, OpenAIClient

    task = next(t for t in read_jsonl(SAMPLE_TASKS, Task) if t.id == "bold-word")
    client = OpenAIClient(LLMConfig(base_url=served, model="lam3", temperature=0.0,
                                    api_key=SERVE_KEY, max_tokens=96))
    result = Agent(writer_env, OpenAIBackend(client), k=12).run(
        task.model_copy(update={"actions": []}))
    assert result.verdict.status == "pass", result.summary()


def test_a_lam_reads_its_prompt_verbatim_even_under_a_chat_template(trained: Path) -> None:
    """A LAM on a base that brought a chat template (a Qwen, a Llama) was trained on bare
    prompts: `lamforge serve` gives it the last user message as is, and so does vLLM with
    --chat-template configs/serving/lam-chat-template.jinja; a model lamforge did not train
    keeps its own template."""
    from transformers import AutoTokenizer

    from lamforge.serve.app import Message, _prompt

    tok = AutoTokenizer.from_pretrained(trained / "lam3" / "model")
    tok.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}"
                         "{% endfor %}<|assistant|>")
    state = "Task: make it bold\nControls:\n[1] Bold\nAction:"
    messages = [Message(role="system", content="You operate an application."),
                Message(role="user", content="an earlier turn"),
                Message(role="user", content=state)]
    assert _prompt(tok, messages, verbatim=True) == state
    assert _prompt(tok, messages).startswith("<|system|>You operate")
    tok.chat_template = (SAMPLE_TASKS.parents[2] / "configs" / "serving"
                         / "lam-chat-template.jinja").read_text()
    rendered = tok.apply_chat_template([m.model_dump() for m in messages], tokenize=False,
                                       add_generation_prompt=True)
    assert rendered == state
