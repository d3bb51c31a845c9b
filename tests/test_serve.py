"""`lamforge serve` under a hostile or heavy load (issue 11): one oversized request, a generation
that would run for minutes, SIGTERM in the middle of one. Real server subprocesses on
127.0.0.1, real HTTP.

The models are the tiny preset's architecture (lamforge.train.tiny), built untrained in
seconds instead of trained through LibreOffice: what is under test is the server, and an
untrained model whose end-of-sequence token can never win greedy decoding generates exactly
as long as it is allowed to, which makes "a long generation" reproducible. `small` has the
trained tiny LAM's size and a 1,024-token context (the issue's); `slow` is big enough that
thousands of tokens take minutes on a CPU.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .test_cli import lamforge, one_error_line

CORPUS = [f"Task: make item {i} bold\nControls:\n[1] Bold\n[2] Italic\nAction: "
          f'{{"function": "click", "control_label": "Bold"}}' for i in range(100)]


def build(out: Path, hidden: int, layers: int, context: int) -> Path:
    """An untrained tiny-preset model whose end-of-sequence token never wins (its tied
    embedding row is zero, so its logit is 0 against hundreds of random ones)."""
    import torch
    from transformers import AutoModelForCausalLM

    from lamforge.train.tiny import TinySpec, build_tiny

    build_tiny(CORPUS, out, TinySpec(vocab_size=400, hidden_size=hidden, layers=layers,
                                     heads=4, max_length=context))
    model = AutoModelForCausalLM.from_pretrained(out)
    with torch.no_grad():
        model.get_input_embeddings().weight[model.config.eos_token_id] = 0
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("small") / "lam", 64, 2, 1024)


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("slow") / "lam", 512, 8, 8192)


@contextmanager
def serving(model: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`lamforge serve` on a free port: its base URL, its process and its log (a file, as a
    pipe nobody reads would block it). Killed at the end whatever happened."""
    log = model.parent / f"serve-{time.monotonic_ns()}.log"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "lamforge", "serve", "--model",
                                 str(model), "--port", str(port), *options],
                                stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "COLUMNS": "200"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()[-2000:]) from None
                time.sleep(0.3)
        yield url, proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def chat(url: str, content: str, max_tokens: int, timeout: float = 60
         ) -> tuple[int, dict, float]:
    """Status, JSON body and seconds of one chat completion."""
    start = time.monotonic()
    r = httpx.post(url + "/v1/chat/completions", timeout=timeout,
                   json={"model": "lam", "max_tokens": max_tokens,
                         "messages": [{"role": "user", "content": content}]})
    return r.status_code, r.json(), time.monotonic() - start


def wait_until(url: str, key: str) -> None:
    """Until the server's /health reports `key` (generating, in_flight) at 1 or more."""
    deadline = time.monotonic() + 30
    while httpx.get(url + "/health", timeout=5).json().get(key, 0) < 1:
        assert time.monotonic() < deadline, f"/health never reported {key}"
        time.sleep(0.05)


def test_an_oversized_request_is_refused_at_once_while_the_others_are_answered(
        small: Path) -> None:
    """The issue's request: a 200,000-character message to a model of 1,024 positions was
    accepted and held the server for minutes. Now, with the default limits: 400 (it fits the
    1 MiB body limit, not the context); a 2 MB one 413 (refused unread); both in well under a
    second, while eight normal requests beside them are answered. A max_tokens beyond the
    context is a cap, as clients send it: that answer stops at the context's end."""
    with serving(small) as (url, _, log), ThreadPoolExecutor(11) as pool:
        normal = [pool.submit(chat, url, f"Task: make item {i} bold\nAction:", 16)
                  for i in range(8)]
        capped = pool.submit(chat, url, "x" * 800, 5000)  # 800 tokens: room for 224 more
        huge = pool.submit(chat, url, "x" * 200_000, 16, 30)
        huger = pool.submit(chat, url, "x" * 2_000_000, 16, 30)
        status, body, seconds = huge.result()
        assert status == 400, body
        message = body["error"]["message"]
        assert re.fullmatch(
            r"This model's maximum context length is 1024 tokens and 16 of them are kept for "
            r"the answer \(max_tokens, at most the server's --max-tokens\): the messages may "
            r"take 1008 tokens and take \d{6}\. Shorten the messages\.", message), message
        assert seconds < 5, seconds
        status, body, seconds = huger.result()
        assert status == 413, body
        assert body["error"]["message"].startswith("request body too large: 2,000,0"), body
        assert "limit of 1,048,576 bytes (lamforge serve --max-body-bytes)" in \
            body["error"]["message"]
        assert seconds < 5, seconds
        for f in normal:
            status, body, _ = f.result()
            assert status == 200, body
            assert body["usage"]["completion_tokens"] == 16, body
        status, body, _ = capped.result()
        assert status == 200 and body["choices"][0]["finish_reason"] == "length", body
        assert body["usage"] == {"prompt_tokens": 800, "completion_tokens": 224,
                                 "total_tokens": 1024}, body
        health = httpx.get(url + "/health").json()
        assert health["requests"] == 10 and health["waiting"] == 0, health  # 413: not read
        text = log.read_text()
        assert "Traceback" not in text and "indexing errors" not in text, text


def test_a_generation_is_cut_at_max_time_and_a_waiting_request_gets_503(slow: Path) -> None:
    """A request for 4,000 tokens (minutes on this model) ends after --max-time with what it
    has, finish_reason "length"; a request that cannot get the model within --queue-timeout
    is told so (503) instead of hanging; the server then answers normally."""
    with serving(slow, "--max-time", "3", "--queue-timeout", "0.5") as (url, _, log):
        with ThreadPoolExecutor(1) as pool:
            long = pool.submit(chat, url, "Task: write a novel\nAction:", 4000)
            wait_until(url, "generating")
            status, body, seconds = chat(url, "Task: make it bold\nAction:", 4)
            assert status == 503, body
            assert "the model is busy: no turn within 0.5 s" in body["error"]["message"]
            assert seconds < 5, seconds
            status, body, seconds = long.result()
        assert status == 200, body
        assert body["choices"][0]["finish_reason"] == "length", body
        assert 0 < body["usage"]["completion_tokens"] < 4000, body
        assert seconds < 15, seconds
        status, body, _ = chat(url, "Task: make it bold\nAction:", 4)
        assert status == 200 and body["usage"]["completion_tokens"] == 4, body
        assert "a generation was cut at --max-time 3 s" in log.read_text()


def test_sigterm_during_a_generation_ends_the_server_within_seconds(slow: Path) -> None:
    """uvicorn waits for the requests in flight before it exits; without an interruptible
    generation SIGTERM would wait for all of it (minutes here). The generating request and
    the one waiting behind it get 503."""
    with serving(slow) as (url, proc, _), ThreadPoolExecutor(2) as pool:
        long = pool.submit(chat, url, "Task: write a novel\nAction:", 4000)
        wait_until(url, "in_flight")
        time.sleep(1)  # its prompt is a few tokens: it is generating by now
        waiting = pool.submit(chat, url, "Task: make it bold\nAction:", 4)
        time.sleep(0.5)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("lamforge serve still runs 15 s after SIGTERM") from None
        assert time.monotonic() - start < 15
        for f in (long, waiting):
            status, body, _ = f.result()
            assert status == 503, body
            assert "shutting down" in body["error"]["message"], body


def test_a_default_answer_budget_beyond_the_context_is_one_clear_line(
        small: Path, tmp_path: Path) -> None:
    line = one_error_line(lamforge("serve", "--model", str(small), "--max-tokens", "2000",
                                   "--port", "0", home=tmp_path))
    assert "--max-tokens 2000 leaves no room for a prompt in the model's context of 1024 " \
           "tokens" in line, line
