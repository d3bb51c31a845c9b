"""`lamforge serve`: a trained LAM behind the OpenAI chat-completions protocol (FastAPI).

Any agent framework that speaks OpenAI (the `openai` package, LangChain, smolagents, the
project's own `LLMClient`) can then call the LAM. The prompt is built with the tokenizer's chat
template when it has one; a LAM trained by lamforge (a checkpoint with lamforge.json) reads
its state prompt verbatim whatever its base's template, so the last user message is its prompt
and system messages are ignored.
`response_format` `json_object` / `json_schema` is honoured by constrained decoding. Requests are
served one at a time (one model, one CPU); streaming is not offered.

One client must never stall the others (issue 11), so every request is bounded before it costs
anything: a body over `max_body_bytes` is refused with 413 from its Content-Length (or while it
is read) before any JSON is parsed; a prompt that does not leave room for its answer in the
model's context is refused with 400 before it queues; a request waits for the model at most
`queue_timeout` seconds (then 503); a generation stops after `max_time` seconds (finish_reason
"length", as for a token limit); and SIGTERM interrupts a running generation between two tokens
so the server exits at once instead of after it (`run`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from fastapi import Request  # here, not in make_app: FastAPI resolves the route's annotations
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MAX_BODY_BYTES = 1 << 20
"""1 MiB: a LAM's prompt fills at most its context (a few thousand tokens, tens of kB even as
escaped JSON); a body many times larger is a mistake or an attack, and is refused unread."""
DEFAULT_MAX_TIME = 30.0
"""Seconds one generation may take: a LAM's answer is one action (a hundred tokens or so), which
the tiny LAM writes in well under a second; a generation still running after 30 s went wrong.
With the queue's 30 s it stays within the default client time-out (`lamforge run --timeout`,
60 s): a client hears back, answer or error, before it gives up."""
DEFAULT_QUEUE_TIMEOUT = 30.0
"""Seconds a request may wait for the model before a 503 (which the `openai` client retries
with back-off): a busy server says so instead of holding a connection until the client
gives up."""
SHUTDOWN_GRACE = 5.0
"""uvicorn's graceful-shutdown bound (s): the shutdown flag stops a generation within one
token, so this only cuts connections that would otherwise hold the exit up."""

log = logging.getLogger("uvicorn.error")  # uvicorn's log, so the lines appear beside its own


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # unknown OpenAI options are accepted, ignored
    model: str
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = 1
    seed: int | None = None
    stream: bool = False
    response_format: dict[str, Any] | None = None


class Choice(BaseModel):
    index: int
    message: dict[str, str]
    finish_reason: Literal["stop", "length"]


class ChatResponse(BaseModel):
    id: str
    object: str = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: dict[str, int]


def make_app(model_dir: Path, name: str, api_key: str | None = None,
             max_tokens: int | None = None, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
             max_time: float = DEFAULT_MAX_TIME,
             queue_timeout: float = DEFAULT_QUEUE_TIMEOUT) -> Any:
    """The FastAPI app serving the checkpoint at `model_dir` as model `name`. Its
    `state.stopping` event, set by `run` on SIGTERM/SIGINT, interrupts the running generation
    and turns away queued requests so the server can exit at once."""
    import anyio
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from transformers import MaxTimeCriteria, StoppingCriteria

    from lamforge.core import DataError
    from lamforge.ranker.model import Ranker, is_ranker
    from lamforge.train.sft import PROMPT_FILE, Generator

    # a ranker LAM chooses among the candidates of the state its prompt holds (a
    # `RankState`, as `lamforge run --endpoint` sends it); it generates no tokens
    ranker = Ranker(model_dir) if is_ranker(model_dir) else None
    generator = None if ranker else Generator(model_dir)
    # a request without a limit gets the checkpoint's own answer budget (at least 128)
    max_tokens = max_tokens or max(128, generator.answer_tokens if generator else 0)
    context = _context_length(generator) if generator else None
    if context is not None and max_tokens >= context:
        raise DataError(f"--max-tokens {max_tokens} leaves no room for a prompt in the model's "
                        f"context of {context} tokens")
    # a checkpoint lamforge trained read its prompts verbatim, even if its base (a Qwen,
    # a Llama) brought a chat template along; any other model gets its own template
    verbatim = ranker is not None or (Path(model_dir) / PROMPT_FILE).is_file()
    # one model, one generation at a time; an asyncio lock (not a thread lock held by a
    # worker thread) so a waiting request costs no thread and can give up after queue_timeout
    lock = asyncio.Lock()
    stopping = threading.Event()
    app = FastAPI(title="lamforge serve", version="1")
    app.state.stopping = stopping

    class Interrupt(StoppingCriteria):
        """Ends a generation between two tokens when the server shuts down or its client has
        gone: nobody would read the rest, and uvicorn waits for it before exiting."""

        def __init__(self, gone: threading.Event) -> None:
            self.gone = gone

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            import torch

            return torch.full((input_ids.shape[0],), stopping.is_set() or self.gone.is_set(),
                              dtype=torch.bool, device=input_ids.device)

    def error(status: int, message: str, kind: str = "invalid_request_error",
              headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(status_code=status, headers=headers, content={"error": {
            "message": message, "type": kind, "code": status}})

    # what an operator (and the tests) need to see how a client uses the server: requests
    # answered, the most that were in flight at once (a client's concurrency), and now how
    # many wait for the model and whether it is generating
    load = {"requests": 0, "in_flight": 0, "max_in_flight": 0, "waiting": 0, "generating": 0}

    @app.middleware("http")
    async def auth(request: Request, call_next: Any) -> Any:
        if api_key and request.url.path.startswith("/v1") and \
                request.headers.get("authorization") != f"Bearer {api_key}":
            return error(401, "invalid or missing API key", "authentication_error")
        # an announced oversized body is refused unread (the route's max_body_size also
        # counts a body sent without a length while it is read); here the answer is an
        # OpenAI-style error rather than Starlette's plain text
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body_bytes:
            return error(413, _too_large(int(length), max_body_bytes))
        if request.url.path != "/v1/chat/completions":
            return await call_next(request)
        load["in_flight"] += 1
        load["max_in_flight"] = max(load["max_in_flight"], load["in_flight"])
        try:
            return await call_next(request)
        finally:
            load["in_flight"] -= 1
            load["requests"] += 1

    @app.exception_handler(StarletteHTTPException)  # FastAPI's, and Starlette's own 404/413
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = (_too_large(None, max_body_bytes) if exc.status_code == 413
                   else str(exc.detail))
        kind = "server_error" if exc.status_code >= 500 else "invalid_request_error"
        return error(exc.status_code, message, kind, exc.headers)

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": name, **load}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0,
                                            "owned_by": "lamforge",
                                            "lamforge_kind": "ranker" if ranker else
                                            "generative"}]}

    def prepare(req: ChatRequest, limit: int) -> tuple[str, int, int, list[Any]]:
        """The prompt, its length in tokens, the answer's token limit and the constraint (a
        worker thread: tokenizing a long prompt must not hold up the event loop, hence every
        other client).

        The prompt must leave room in the context for an answer of the request's max_tokens
        or the server's answer budget, whichever is smaller (a LAM's answer cut short is no
        action at all: better a clear 400 than a truncated answer); a larger max_tokens is a
        cap, as clients send it (the project's own client asks for 512), and the answer
        stops at the end of the context."""
        if ranker is not None:
            return _rank_state(req.messages), 0, limit, []
        prompt = _prompt(generator.tokenizer, req.messages, verbatim)
        # verbose=False: an oversized prompt is refused below, not warned about
        n = len(generator.tokenizer(prompt, verbose=False)["input_ids"])
        if context is None:
            return prompt, n, limit, _constraint(generator, prompt, req.response_format)
        kept = min(limit, max_tokens)
        if n + kept > context:
            raise HTTPException(400, f"This model's maximum context length is {context} "
                                     f"tokens and {kept} of them are kept for the answer "
                                     "(max_tokens, at most the server's --max-tokens): the "
                                     f"messages may take {context - kept} tokens and take "
                                     f"{n}. Shorten the messages.")
        return (prompt, n, min(limit, context - n),
                _constraint(generator, prompt, req.response_format))

    def generate(req: ChatRequest, prompt: str, limit: int, processors: list[Any],
                 gone: threading.Event) -> tuple[str, int, bool]:
        """The answer, its length, and whether max_time cut it (a worker thread, one at a
        time under the lock)."""
        import torch

        if ranker is not None:  # `prompt` is the state and the rank asked for
            state, rank = prompt
            return json.dumps(ranker.decide(state, rank=rank)[0].answer()), 0, False
        if req.seed is not None:
            torch.manual_seed(req.seed)
        timer = MaxTimeCriteria(max_time)  # started here: queueing does not count
        text, tokens = generator.answer(prompt, limit, req.temperature or 0.0, processors,
                                        [timer, Interrupt(gone)])
        timed_out = tokens < limit and time.time() - timer.initial_timestamp > max_time
        return text, tokens, timed_out

    async def watch(request: Request, gone: threading.Event) -> None:
        """Sets `gone` when the client disconnects (the body is read, so the only message
        left to receive is the disconnect)."""
        while (await request.receive())["type"] != "http.disconnect":
            await asyncio.sleep(0.05)  # never a busy loop, whatever else a server might send
        gone.set()

    @app.post("/v1/chat/completions", response_model=ChatResponse, max_body_size=max_body_bytes)
    async def chat(req: ChatRequest, request: Request) -> ChatResponse:
        if req.model != name:
            raise HTTPException(404, f"model '{req.model}' does not exist (served: '{name}')")
        if req.stream:
            raise HTTPException(400, "streaming is not supported by lamforge serve")
        if req.n != 1:
            raise HTTPException(400, "only n=1 is supported")
        prompt, prompt_tokens, limit, processors = await anyio.to_thread.run_sync(
            prepare, req, req.max_completion_tokens or req.max_tokens or max_tokens)
        load["waiting"] += 1
        try:
            async with asyncio.timeout(queue_timeout):
                await lock.acquire()
        except TimeoutError:
            raise HTTPException(503, f"the model is busy: no turn within {queue_timeout:g} s "
                                     "(lamforge serve --queue-timeout); retry later",
                                headers={"Retry-After": "1"}) from None
        finally:
            load["waiting"] -= 1
        gone = threading.Event()
        watcher = asyncio.create_task(watch(request, gone))
        try:
            await asyncio.sleep(0)  # the watcher's first look: a client that left as it queued
            if stopping.is_set():
                raise HTTPException(503, "the server is shutting down")
            if gone.is_set():  # nobody would read the answer
                raise HTTPException(400, "the client disconnected before its turn")
            load["generating"] = 1
            text, tokens, timed_out = await anyio.to_thread.run_sync(
                generate, req, prompt, limit, processors, gone)
        finally:
            load["generating"] = 0
            watcher.cancel()
            lock.release()
        if stopping.is_set():
            raise HTTPException(503, "the server is shutting down: the generation was "
                                     "interrupted")
        if timed_out:
            log.warning("a generation was cut at --max-time %g s after %d tokens", max_time,
                        tokens)
        return ChatResponse(
            id=f"chatcmpl-{uuid.uuid4().hex[:16]}", created=int(time.time()), model=name,
            choices=[Choice(index=0, message={"role": "assistant", "content": text},
                            finish_reason="length" if tokens >= limit or timed_out
                            else "stop")],
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": tokens,
                   "total_tokens": prompt_tokens + tokens})

    return app


def _rank_state(messages: list[Message]) -> Any:
    """The rank state in the last user message and the rank asked for, or a 400 that says
    what a ranker reads."""
    from fastapi import HTTPException

    from lamforge.ranker.state import RankState

    users = [m for m in messages if m.role == "user"]
    state = RankState.from_prompt(users[-1].text()) if users else None
    if state is None:
        raise HTTPException(400, "this model is a ranker LAM: the last user message must be a "
                                 "rank state (lamforge.ranker.state.RankState.to_prompt, JSON), "
                                 "as `lamforge run --endpoint` sends to it")
    return state


def run(app: Any, host: str, port: int) -> None:
    """Serve `app` with uvicorn until SIGTERM/SIGINT. uvicorn then waits for requests in
    flight, which would include a whole generation: the signal also sets the app's
    `stopping` flag, which ends the generation at its next token, so the process exits
    within about a second."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            app.state.stopping.set()
            super().handle_exit(sig, frame)

    Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                          timeout_graceful_shutdown=SHUTDOWN_GRACE)).run()


def _too_large(length: int | None, limit: int) -> str:
    size = f"{length:,} bytes, " if length is not None else ""
    return (f"request body too large: {size}over this server's limit of {limit:,} bytes "
            "(lamforge serve --max-body-bytes)")


def _context_length(generator: Any) -> int | None:
    """How many positions the model has (prompt and answer together): its config's
    max_position_embeddings (n_positions for GPT-2-style configs), else the tokenizer's
    model_max_length if it is a real one; None when neither says (no check then)."""
    config = generator.model.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        n = getattr(config, key, None)
        if isinstance(n, int) and n > 0:
            return n
    n = getattr(generator.tokenizer, "model_max_length", None)
    return n if isinstance(n, int) and 0 < n < 1_000_000_000 else None


def _prompt(tokenizer: Any, messages: list[Message], verbatim: bool = False) -> str:
    """The model's input: the chat template's rendering, or for a LAM (`verbatim`, or no
    template) the last user message as is (configs/serving/lam-chat-template.jinja does the
    same for vLLM)."""
    if not verbatim and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.text()} for m in messages], tokenize=False,
            add_generation_prompt=True)
    users = [m for m in messages if m.role == "user"]
    if not users:
        from fastapi import HTTPException

        raise HTTPException(400, "no user message: a LAM reads its prompt from the last one")
    return users[-1].text()


def _constraint(generator: Any, prompt: str, fmt: dict[str, Any] | None) -> list[Any]:
    from fastapi import HTTPException

    from lamforge.agent.constrained import JsonConstraint

    if not fmt or fmt.get("type") in (None, "text"):
        return []
    n = generator.prompt_length(prompt)
    lead = " " if prompt.endswith(":") else ""  # a LAM's answer follows "Action:" after a space
    if fmt.get("type") == "json_object":
        return [JsonConstraint(generator.tokenizer, {"type": "object"}, n, lead=lead)]
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise HTTPException(400, "response_format json_schema needs json_schema.schema")
        try:
            return [JsonConstraint(generator.tokenizer, schema, n, lead=lead)]
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
    raise HTTPException(400, f"unknown response_format type '{fmt.get('type')}'")
