"""`lamforge serve`: a trained LAM behind the OpenAI chat-completions protocol (FastAPI).

Any agent framework that speaks OpenAI (the `openai` package, LangChain, smolagents, the
project's own `LLMClient`) can then call the LAM. The prompt is built with the tokenizer's chat
template when it has one; a LAM trained by lamforge (a checkpoint with lamforge.json) reads
its state prompt verbatim whatever its base's template, so the last user message is its prompt
and system messages are ignored.
`response_format` `json_object` / `json_schema` is honoured by constrained decoding. Requests are
served one at a time (one model, one CPU); streaming is not offered.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
             max_tokens: int | None = None) -> Any:
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import JSONResponse

    from lamforge.train.sft import PROMPT_FILE, Generator

    generator = Generator(model_dir)
    # a request without a limit gets the checkpoint's own answer budget (at least 128)
    max_tokens = max_tokens or max(128, generator.answer_tokens)
    # a checkpoint lamforge trained read its prompts verbatim, even if its base (a Qwen,
    # a Llama) brought a chat template along; any other model gets its own template
    verbatim = (Path(model_dir) / PROMPT_FILE).is_file()
    lock = threading.Lock()
    app = FastAPI(title="lamforge serve", version="1")

    def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": {
            "message": message, "type": kind, "code": status}})

    # what an operator (and the tests) need to see how a client uses the server: requests
    # answered, and the most that were in flight at once (a client's concurrency)
    load = {"requests": 0, "in_flight": 0, "max_in_flight": 0}

    @app.middleware("http")
    async def auth(request: Request, call_next: Any) -> Any:
        if api_key and request.url.path.startswith("/v1") and \
                request.headers.get("authorization") != f"Bearer {api_key}":
            return error(401, "invalid or missing API key", "authentication_error")
        if request.url.path != "/v1/chat/completions":
            return await call_next(request)
        load["in_flight"] += 1
        load["max_in_flight"] = max(load["max_in_flight"], load["in_flight"])
        try:
            return await call_next(request)
        finally:
            load["in_flight"] -= 1
            load["requests"] += 1

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": name, **load}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0,
                                            "owned_by": "lamforge"}]}

    @app.post("/v1/chat/completions", response_model=ChatResponse)
    def chat(req: ChatRequest) -> ChatResponse:
        if req.model != name:
            raise HTTPException(404, f"model '{req.model}' does not exist (served: '{name}')")
        if req.stream:
            raise HTTPException(400, "streaming is not supported by lamforge serve")
        if req.n != 1:
            raise HTTPException(400, "only n=1 is supported")
        prompt = _prompt(generator.tokenizer, req.messages, verbatim)
        limit = req.max_completion_tokens or req.max_tokens or max_tokens
        processors = _constraint(generator, prompt, req.response_format)
        with lock:
            if req.seed is not None:
                import torch

                torch.manual_seed(req.seed)
            text, tokens = generator.answer(prompt, limit, req.temperature or 0.0, processors)
        prompt_tokens = generator.prompt_length(prompt)
        return ChatResponse(
            id=f"chatcmpl-{uuid.uuid4().hex[:16]}", created=int(time.time()), model=name,
            choices=[Choice(index=0, message={"role": "assistant", "content": text},
                            finish_reason="length" if tokens >= limit else "stop")],
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": tokens,
                   "total_tokens": prompt_tokens + tokens})

    return app


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
